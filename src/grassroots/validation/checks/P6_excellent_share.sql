-- P6 excellent_share: excellent ratings above 20% of those rated good or above.
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('TC'))
select checked.file_id, cast(null as integer) as row_number, 'rating' as column_name,
    cast(count(*) filter (where t.rating = 'excellent') as text) as value,
    count(*) filter (where t.rating in ('excellent', 'good')) as good_or_above
from checked inner join raw.form_tc as t on checked.file_id = t.file_id
where checked.year >= 2018
group by checked.file_id
having count(*) filter (where t.rating = 'excellent')
    > 0.2 * count(*) filter (where t.rating in ('excellent', 'good'))
