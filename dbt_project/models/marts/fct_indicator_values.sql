-- The 18 indicators of indicators.md per unit and year, in two geographies: as_reported
-- (the hierarchy in force that year: village, commune, district, province, nation) and
-- current (today's units through the 2025 crosswalk: commune, province, nation). A view
-- over the two tables that hold the rows, built at once on dbt's two threads:
-- fct_indicator_values_villages (a village's own rows) and
-- fct_indicator_values_rolled_up (every unit above the village). Each row lies in one of
-- them; a CHECK constraint on each names its levels, so a question on a level above the
-- village reads only the second (PostgreSQL excludes the other by its constraint).
-- The post-hook creates marts.indicator_change_vs(base_year) over this view.
{{
    config(
        materialized='view',
        post_hook=["{{ create_indicator_change_function() }}"],
    )
}}

{%- set columns = [
    'indicator_code', 'geography', 'unit_level', 'unit_code', 'unit_key', 'unit_name', 'year',
    'numerator', 'denominator', 'value', 'units_expected', 'units_reported',
    'change_vs_previous_year', 'rating_scale_mapped', 'change_crosses_rating_scale',
    'is_estimate', 'build_partition', 'built_at',
] %}

select
    {{ columns | join(',\n    ') }}
from {{ ref('fct_indicator_values_villages') }}
union all
select
    {{ columns | join(',\n    ') }}
from {{ ref('fct_indicator_values_rolled_up') }}
