-- Membership (forms DV and TC): fct_indicator_values pivoted wide, one row per geography, unit and
-- year, one column per indicator, with the reporting coverage. A view: always in step
-- with fct_indicator_values.
{{ config(materialized='view') }}

select
    geography,
    unit_level,
    unit_code,
    max(unit_name) as unit_name,
    year,
    max(value) filter (where indicator_code = 'members_total') as members_total,
    max(value) filter (where indicator_code = 'member_net_change') as member_net_change,
    max(value) filter (where indicator_code = 'member_growth_pct') as member_growth_pct,
    max(value) filter (where indicator_code = 'admissions') as admissions,
    max(value) filter (where indicator_code = 'admission_rate_pct') as admission_rate_pct,
    max(value) filter (where indicator_code = 'probationary_share_pct') as probationary_share_pct,
    max(value) filter (where indicator_code = 'members_per_population_pct')
        as members_per_population_pct,
    max(units_reported) filter (where indicator_code = 'admissions')
        as communes_reported,
    max(units_expected) filter (where indicator_code = 'admissions')
        as communes_expected,
    max(units_reported) filter (
        where indicator_code = 'members_total' and unit_level not in ('commune')
    ) as senders_tc_reported,
    max(units_expected) filter (
        where indicator_code = 'members_total' and unit_level not in ('commune')
    ) as senders_tc_expected,
    bool_or(is_estimate) as is_estimate
from {{ ref('fct_indicator_values') }}
where
    indicator_code in (
        'members_total',
        'member_net_change',
        'member_growth_pct',
        'admissions',
        'admission_rate_pct',
        'probationary_share_pct',
        'members_per_population_pct'
    )
group by geography, unit_level, unit_code, year
