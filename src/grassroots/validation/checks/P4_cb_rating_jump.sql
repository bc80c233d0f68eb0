-- P4 cb_rating_jump: a CB branch rating that moves two or more steps in one year.
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('CB')),
this as (
    select checked.file_id, checked.unit_code, checked.year, c.row_number, c.village_code,
        c.branch_rating
    from checked inner join raw.form_cb as c on checked.file_id = c.file_id
    where c.branch_rating is not null
),
previous as materialized (
    select f.unit_code, cast(f.period as integer) + 1 as year, r.village_code, r.branch_rating
    from landing.received_files as f
    inner join raw.form_cb as r on f.file_id = r.file_id
    where f.status = 'loaded' and f.form_code = 'CB' and r.branch_rating is not null
        and (f.unit_code, f.period) in (
            select unit_code, cast(year - 1 as text) from checked
        )
)
select this.file_id, this.row_number, 'branch_rating' as column_name,
    this.branch_rating as value, previous.branch_rating as previous_rating,
    this.year - 1 as previous_year
from this
inner join previous
    on this.unit_code = previous.unit_code and this.year = previous.year
    and this.village_code = previous.village_code
where abs({{ step(this.branch_rating) }} - {{ step(previous.branch_rating) }}) >= 2
    and {{ no_break(this.unit_code, this.year) }}
