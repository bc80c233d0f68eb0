-- X4 villages_match_last_year: a CB file lists every village the commune reported the year before.
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('CB')),
this as (
    select checked.file_id, checked.unit_code, checked.year, c.row_number,
        c.village_code, c.village_name
    from checked inner join raw.form_cb as c on checked.file_id = c.file_id
    where {{ no_break(checked.unit_code, checked.year) }}
),
previous as materialized (
    select f.unit_code, cast(f.period as integer) + 1 as year, r.village_code, r.village_name
    from landing.received_files as f
    inner join raw.form_cb as r on f.file_id = r.file_id
    where f.status = 'loaded' and f.form_code = 'CB'
        and (f.unit_code, f.period) in (
            select unit_code, cast(year - 1 as text) from checked
        )
),
had_previous as (select distinct unit_code, year from previous),
new_villages as (
    select this.file_id, this.row_number, this.village_code, this.village_name,
        'new' as change, this.year - 1 as previous_year
    from this
    inner join had_previous
        on this.unit_code = had_previous.unit_code and this.year = had_previous.year
    where not exists (
        select 1 from previous as p
        where p.unit_code = this.unit_code and p.year = this.year
            and p.village_code = this.village_code
    )
),
missing_villages as (
    select checked.file_id, cast(null as integer) as row_number, p.village_code,
        p.village_name, 'missing' as change, checked.year - 1 as previous_year
    from previous as p
    inner join checked
        on p.unit_code = checked.unit_code and p.year = checked.year
    where {{ no_break(checked.unit_code, checked.year) }}
        and not exists (
            select 1 from this
            where this.file_id = checked.file_id and this.village_code = p.village_code
        )
)
select file_id, row_number, 'village_code' as column_name, village_code as value,
    village_name, change, previous_year
from new_villages
union all
select file_id, row_number, 'village_code' as column_name, village_code as value,
    village_name, change, previous_year
from missing_villages
