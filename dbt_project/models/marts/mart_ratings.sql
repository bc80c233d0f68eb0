-- Ratings of base organizations (form TC) and village branches (form CB):
-- fct_indicator_values pivoted wide, one row per geography, unit and year, one column
-- per indicator, with the reporting coverage. A table, incremental with
-- fct_indicator_values (macros/indicators_wide.sql).
{{ indicators_wide_config() }}

{{ indicators_wide(
    [
        'base_orgs', 'subordinate_units', 'orgs_good_or_above_pct', 'orgs_excellent_pct',
        'orgs_not_completed', 'branches_good_or_above_pct',
    ],
    {
        'senders_tc_reported': "max(units_reported) filter (where indicator_code = 'base_orgs')",
        'senders_tc_expected': "max(units_expected) filter (where indicator_code = 'base_orgs')",
        'communes_cb_reported':
            "max(units_reported) filter (where indicator_code = 'branches_good_or_above_pct')",
        'communes_cb_expected':
            "max(units_expected) filter (where indicator_code = 'branches_good_or_above_pct')",
        'rating_scale_mapped': 'bool_or(rating_scale_mapped)',
    },
    sources=['fct_indicator_values_villages', 'fct_indicator_values_rolled_up'],
) }}
