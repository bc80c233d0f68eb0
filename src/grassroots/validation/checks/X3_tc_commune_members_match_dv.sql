-- X3 tc_commune_members_match_dv: a commune-type TC row's members equal that commune's DV.members_end (within 2%).
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('TC', 'DV')),
tc_keys as (
    select distinct t.org_code as unit_code, checked.year
    from checked inner join raw.form_tc as t on checked.file_id = t.file_id
    where checked.form_code = 'TC' and t.org_type in ('commune', 'ward', 'town')
),
keys as (
    select unit_code, year from tc_keys
    union
    select unit_code, year from checked where form_code = 'DV'
),
dv as materialized (
    select f.file_id, f.unit_code, cast(f.period as integer) as year, d.row_number,
        d.members_end
    from landing.received_files as f
    inner join keys on f.unit_code = keys.unit_code and f.period = cast(keys.year as text)
    inner join raw.form_dv as d on f.file_id = d.file_id
    where f.status = 'loaded' and f.form_code = 'DV'
),
tc as materialized (
    select f.file_id, cast(f.period as integer) as year, t.row_number, t.org_code,
        t.members
    from landing.received_files as f
    inner join raw.form_tc as t on f.file_id = t.file_id
    where f.status = 'loaded' and f.form_code = 'TC'
        and t.org_type in ('commune', 'ward', 'town')
        and (t.org_code, f.period) in (select unit_code, cast(year as text) from keys)
),
pairs as (
    select
        tc.file_id as tc_file_id, tc.row_number as tc_row, tc.members,
        dv.file_id as dv_file_id, dv.row_number as dv_row, dv.members_end,
        tc.file_id in (select file_id from checked) as tc_checked
    from tc inner join dv on tc.org_code = dv.unit_code and tc.year = dv.year
    where abs(tc.members - dv.members_end) > 0.02 * dv.members_end
)
select
    case when tc_checked then tc_file_id else dv_file_id end as file_id,
    case when tc_checked then tc_row else dv_row end as row_number,
    case when tc_checked then 'members' else 'members_end' end as column_name,
    cast(case when tc_checked then members else members_end end as text) as value,
    members as tc_members, members_end
from pairs
where tc_checked or dv_file_id in (select file_id from checked)
