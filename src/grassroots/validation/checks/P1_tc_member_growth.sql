-- P1 tc_member_growth: TC organization member growth beyond ±20% in a year.
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('TC')),
this as (
    select checked.file_id, checked.unit_code, checked.year, t.row_number, t.org_code,
        t.members, t.rating
    from checked inner join raw.form_tc as t on checked.file_id = t.file_id
),
previous as materialized (
    select f.unit_code, cast(f.period as integer) + 1 as year, r.org_code, r.members, r.rating
    from landing.received_files as f
    inner join raw.form_tc as r on f.file_id = r.file_id
    where f.status = 'loaded' and f.form_code = 'TC'
        and (f.unit_code, f.period) in (
            select unit_code, cast(year - 1 as text) from checked
        )
)
select this.file_id, this.row_number, 'members' as column_name,
    cast(this.members as text) as value, previous.members as previous_value,
    this.year - 1 as previous_year,
    round(100.0 * (this.members - previous.members) / previous.members, 1)
        as growth_percent
from this
inner join previous
    on this.unit_code = previous.unit_code and this.year = previous.year
    and this.org_code = previous.org_code
where previous.members > 0 and abs(this.members - previous.members) > 0.2 * previous.members and {{ no_break(this.org_code, this.year) }}
