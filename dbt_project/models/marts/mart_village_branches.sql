-- Village branches (form CB): fct_indicator_values pivoted wide, one row per geography, unit and
-- year, one column per indicator, with the reporting coverage. A view: always in step
-- with fct_indicator_values.
{{ config(materialized='view') }}

select
    geography,
    unit_level,
    unit_code,
    max(unit_name) as unit_name,
    year,
    max(value) filter (where indicator_code = 'villages') as villages,
    max(value) filter (where indicator_code = 'independent_branch_ratio_pct')
        as independent_branch_ratio_pct,
    max(value) filter (where indicator_code = 'joint_branch_villages') as joint_branch_villages,
    max(value) filter (where indicator_code = 'villages_without_branch') as villages_without_branch,
    max(value) filter (where indicator_code = 'villages_without_members')
        as villages_without_members,
    max(value) filter (where indicator_code = 'branches_good_or_above_pct')
        as branches_good_or_above_pct,
    max(units_reported) filter (where indicator_code = 'villages') as communes_reported,
    max(units_expected) filter (where indicator_code = 'villages') as communes_expected,
    bool_or(is_estimate) as is_estimate
from {{ ref('fct_indicator_values') }}
where
    indicator_code in (
        'villages',
        'independent_branch_ratio_pct',
        'joint_branch_villages',
        'villages_without_branch',
        'villages_without_members',
        'branches_good_or_above_pct'
    )
group by geography, unit_level, unit_code, year
