-- P5 far_from_own_history: modified z-score above 3.5 on the unit's yearly series (restarting at a lineage event).
-- One row per finding: the file, the row, the column, the value and the figures the
-- message quotes. {batch} is the night's loaded files (landing.cross_check_batch).
with checked as (select file_id, form_code, unit_code, cast(period as integer) as year from {batch} where form_code in ('DV', 'TC')),
units as (select distinct form_code, unit_code from checked),
files as (
    select f.file_id, f.form_code, f.unit_code, cast(f.period as integer) as year
    from landing.received_files as f
    inner join units on f.form_code = units.form_code and f.unit_code = units.unit_code
    where f.status = 'loaded'
),
points as (
    select files.*, m.column_name, d.row_number, m.x
    from files
    inner join raw.form_dv as d on files.file_id = d.file_id
    cross join lateral (
        values ('members_end', d.members_end), ('admitted', d.admitted)
    ) as m (column_name, x)
    where files.form_code = 'DV'
    union all
    select files.*, 'members' as column_name, cast(null as integer) as row_number,
        sum(t.members) as x
    from files
    inner join raw.form_tc as t on files.file_id = t.file_id
    where files.form_code = 'TC'
    group by files.file_id, files.form_code, files.unit_code, files.year
),
segmented as (
    select points.*, coalesce(max(b.break_year), 0) as segment
    from points
    left join landing.commune_series_breaks as b
        on points.unit_code = b.commune_code and points.year >= b.break_year
    group by points.file_id, points.form_code, points.unit_code, points.year,
        points.column_name, points.row_number, points.x
),
centre as (
    select form_code, unit_code, segment, column_name, count(*) as n,
        percentile_cont(0.5) within group (order by x) as median
    from segmented
    group by form_code, unit_code, segment, column_name
),
deviations as (
    select segmented.*, centre.n, centre.median, abs(segmented.x - centre.median) as dev
    from segmented
    inner join centre using (form_code, unit_code, segment, column_name)
),
-- Each series' points ride along in arrays and come back with its MAD: joining the
-- points to the per-series MADs instead let the planner, which expects a handful of
-- rows from these CTEs, re-aggregate every series once per checked point (42 s for a
-- 4,400-file night on the national history; 0.7 s this way).
spread as (
    select form_code, unit_code, segment, column_name, n, median,
        percentile_cont(0.5) within group (order by dev) as mad,
        array_agg(file_id) as file_ids, array_agg(row_number) as row_numbers,
        array_agg(x) as xs
    from deviations
    group by form_code, unit_code, segment, column_name, n, median
),
scored as (
    select point.file_id, point.row_number, spread.column_name, point.x, spread.n,
        spread.median, spread.segment,
        0.6745 * (point.x - spread.median)
        / case
            when spread.mad > 0 then spread.mad
            else greatest(1, 0.01 * abs(spread.median))
        end as z
    from spread
    cross join lateral unnest(spread.file_ids, spread.row_numbers, spread.xs)
        as point (file_id, row_number, x)
)
select file_id, row_number, column_name, cast(x as text) as value,
    round(cast(z as numeric), 1) as z_score, round(cast(median as numeric), 1) as median,
    n as series_years, case when segment > 0 then segment end as series_start
from scored
where file_id in (select file_id from checked)
    and n >= 5 and abs(z) > 3.5
