-- Ratings of base organizations (form TC) and village branches (form CB):
-- fct_indicator_values pivoted wide, one row per geography, unit and year, one column
-- per indicator, with the reporting coverage. A view: always in step
-- with fct_indicator_values.
{{ config(materialized='view') }}

select
    geography,
    unit_level,
    unit_code,
    max(unit_name) as unit_name,
    year,
    max(value) filter (where indicator_code = 'base_orgs') as base_orgs,
    max(value) filter (where indicator_code = 'subordinate_units') as subordinate_units,
    max(value) filter (where indicator_code = 'orgs_good_or_above_pct') as orgs_good_or_above_pct,
    max(value) filter (where indicator_code = 'orgs_excellent_pct') as orgs_excellent_pct,
    max(value) filter (where indicator_code = 'orgs_not_completed') as orgs_not_completed,
    max(value) filter (where indicator_code = 'branches_good_or_above_pct')
        as branches_good_or_above_pct,
    max(units_reported) filter (where indicator_code = 'base_orgs') as senders_tc_reported,
    max(units_expected) filter (where indicator_code = 'base_orgs') as senders_tc_expected,
    max(units_reported) filter (where indicator_code = 'branches_good_or_above_pct')
        as communes_cb_reported,
    max(units_expected) filter (where indicator_code = 'branches_good_or_above_pct')
        as communes_cb_expected,
    bool_or(rating_scale_mapped) as rating_scale_mapped,
    bool_or(is_estimate) as is_estimate
from {{ ref('fct_indicator_values') }}
where
    indicator_code in (
        'base_orgs',
        'subordinate_units',
        'orgs_good_or_above_pct',
        'orgs_excellent_pct',
        'orgs_not_completed',
        'branches_good_or_above_pct'
    )
group by geography, unit_level, unit_code, year
