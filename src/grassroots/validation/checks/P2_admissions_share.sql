-- P2 admissions_share: admissions above 15% of members_start.
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('DV'))
select d.file_id, d.row_number, 'admitted' as column_name, cast(d.admitted as text) as value,
    d.members_start,
    round(100.0 * d.admitted / nullif(d.members_start, 0), 1) as admitted_percent
from checked inner join raw.form_dv as d on checked.file_id = d.file_id
where d.admitted > 0.15 * d.members_start
