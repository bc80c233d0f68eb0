-- Membership (forms DV and TC): fct_indicator_values pivoted wide, one row per geography, unit and
-- year, one column per indicator, with the reporting coverage. A table, incremental with
-- fct_indicator_values (macros/indicators_wide.sql); it reads fct_indicator_values_rolled_up
-- (no village holds members), so it is built while the village rows are.
{{ indicators_wide_config() }}

{{ indicators_wide(
    [
        'members_total', 'member_net_change', 'member_growth_pct', 'admissions',
        'admission_rate_pct', 'probationary_share_pct', 'members_per_population_pct',
    ],
    {
        'communes_reported':
            "max(units_reported) filter (where indicator_code = 'admissions')",
        'communes_expected':
            "max(units_expected) filter (where indicator_code = 'admissions')",
        'senders_tc_reported': "max(units_reported) filter ("
            ~ "where indicator_code = 'members_total' and unit_level not in ('commune'))",
        'senders_tc_expected': "max(units_expected) filter ("
            ~ "where indicator_code = 'members_total' and unit_level not in ('commune'))",
    },
    sources=['fct_indicator_values_rolled_up'],
) }}
