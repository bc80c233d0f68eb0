-- P6 rating_points_band: rating_points outside the band of the rating.
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('TC'))
select t.file_id, t.row_number, 'rating_points' as column_name,
    cast(trim_scale(t.rating_points) as text) as value, t.rating
from checked inner join raw.form_tc as t on checked.file_id = t.file_id
where t.rating_points is not null
    and not case t.rating
        when 'excellent' then t.rating_points >= 90
        when 'good' then t.rating_points >= 70 and t.rating_points < 90
        when 'completed' then t.rating_points >= 50 and t.rating_points < 70
        when 'not_completed' then t.rating_points < 50
        else true
    end
