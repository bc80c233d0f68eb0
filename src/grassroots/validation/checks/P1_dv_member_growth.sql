-- P1 dv_member_growth: DV member growth beyond ±20% in a year.
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('DV')),
this as (
    select checked.file_id, checked.unit_code, checked.year, d.row_number, d.members_end
    from checked inner join raw.form_dv as d on checked.file_id = d.file_id
),
previous as materialized (
    select f.unit_code, cast(f.period as integer) + 1 as year, r.members_end
    from landing.received_files as f
    inner join raw.form_dv as r on f.file_id = r.file_id
    where f.status = 'loaded' and f.form_code = 'DV'
        and (f.unit_code, f.period) in (
            select unit_code, cast(year - 1 as text) from checked
        )
)
select
    this.file_id, this.row_number, 'members_end' as column_name,
    cast(this.members_end as text) as value, previous.members_end as previous_value,
    this.year - 1 as previous_year,
    round(100.0 * (this.members_end - previous.members_end) / previous.members_end, 1)
        as growth_percent
from this
inner join previous on this.unit_code = previous.unit_code and this.year = previous.year
where previous.members_end > 0
    and abs(this.members_end - previous.members_end) > 0.2 * previous.members_end
    and {{ no_break(this.unit_code, this.year) }}
