-- X1 cb_members_match_dv: the members of a commune's CB rows add up to its DV.members_end (within 2%).
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('CB', 'DV')),
keys as (select distinct unit_code, year from checked),
cur as (
    select f.file_id, f.form_code, f.unit_code, cast(f.period as integer) as year
    from landing.received_files as f
    inner join keys on f.unit_code = keys.unit_code and f.period = cast(keys.year as text)
    where f.status = 'loaded' and f.form_code in ('CB', 'DV')
),
dv as materialized (
    select cur.file_id, cur.unit_code, cur.year, d.row_number, d.members_end
    from cur inner join raw.form_dv as d on cur.file_id = d.file_id
    where cur.form_code = 'DV'
),
cb as materialized (
    select cur.file_id, cur.unit_code, cur.year, sum(c.members) as cb_members
    from cur inner join raw.form_cb as c on cur.file_id = c.file_id
    where cur.form_code = 'CB'
    group by cur.file_id, cur.unit_code, cur.year
),
pairs as (
    select
        dv.file_id as dv_file_id, dv.row_number as dv_row, dv.members_end,
        cb.file_id as cb_file_id, cb.cb_members,
        dv.file_id in (select file_id from checked) as dv_checked
    from dv inner join cb on dv.unit_code = cb.unit_code and dv.year = cb.year
    where abs(cb.cb_members - dv.members_end) > 0.02 * dv.members_end
)
select
    case when dv_checked then dv_file_id else cb_file_id end as file_id,
    case when dv_checked then dv_row end as row_number,
    case when dv_checked then 'members_end' else 'members' end as column_name,
    cast(case when dv_checked then members_end else cb_members end as text) as value,
    members_end, cb_members
from pairs
where dv_checked or cb_file_id in (select file_id from checked)
