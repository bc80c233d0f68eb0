-- Village branches (form CB): fct_indicator_values pivoted wide, one row per geography, unit and
-- year, one column per indicator, with the reporting coverage. A table, incremental with
-- fct_indicator_values (macros/indicators_wide.sql).
{{ indicators_wide_config() }}

{{ indicators_wide(
    [
        'villages', 'independent_branch_ratio_pct', 'joint_branch_villages',
        'villages_without_branch', 'villages_without_members', 'branches_good_or_above_pct',
    ],
    {
        'communes_reported': "max(units_reported) filter (where indicator_code = 'villages')",
        'communes_expected': "max(units_expected) filter (where indicator_code = 'villages')",
    },
    sources=['fct_indicator_values_villages', 'fct_indicator_values_rolled_up'],
) }}
