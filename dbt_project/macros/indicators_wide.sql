{#- The mart_* tables: fct_indicator_values pivoted wide, one row per geography, unit
    and year, one column per indicator of `indicators` (its value), then the columns
    of `coverage` ({name: expression}, e.g. the units reported for one indicator).

    `sources`: the tables of fct_indicator_values the mart reads (its village rows,
    fct_indicator_values_villages, and those above, fct_indicator_values_rolled_up), each
    pivoted on its own and the two appended: no wide row takes long rows of both (the
    level is in the key). Each is partitioned by year and year is in the key, so the
    pivot runs partition by partition (enable_partitionwise_aggregate, set for the
    build's transaction by the config's pre-hook): a hash of each year's ~100,000 wide
    rows in memory instead of a sort of all 11 million long rows on disk (the village
    pivot of the national history: 8.6 s instead of 29.5 s through the view).

    Incremental with fct_indicator_values, delete+insert by its build_partition (a
    commune with its villages, a current commune, or the rest of a year and
    geography): a build pivots only the long rows written since this mart's newest
    built_at (each table's built_at index), which are whole partitions, and
    replaces those partitions here. A night with no new file reads no long row; a
    full refresh (or the first build) pivots every row. Each wide row lies in one
    partition (build_partition is a function of its geography, level, unit and year). -#}
{% macro indicators_wide(indicators, coverage, sources) -%}
    {%- set since = build_since() -%}
    {%- set columns = [] -%}
    {%- for code in indicators -%}
        {%- do columns.append(
            ["max(value) filter (where indicator_code = '" ~ code ~ "')", code]
        ) -%}
    {%- endfor -%}
    {%- for name, expression in coverage.items() -%}
        {%- do columns.append([expression, name]) -%}
    {%- endfor -%}
    {%- for source in sources %}
    select
        geography,
        unit_level,
        unit_code,
        max(unit_name) as unit_name,
        year,
        {% for expression, name in columns %}{{ expression }} as {{ name }},
        {% endfor %}bool_or(is_estimate) as is_estimate,
        build_partition,
        now() as built_at
    from {{ ref(source) }}
    where
        indicator_code in ('{{ indicators | join("', '") }}')
        and {{ 'true' if since is none else "built_at > cast('" ~ since ~ "' as timestamptz)" }}
    group by geography, unit_level, unit_code, year, build_partition
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The config of every mart_* pivot: incremental by build_partition; its key a unique
    index (PostgreSQL rejects a duplicate; the test enforced_unique checks the index),
    with unit_code first for analysts' lookups of one unit; an index on level and
    geography for the questions over all units of a level (every district, every
    province: a few thousand rows of millions). -#}
{% macro indicators_wide_config() -%}
    {{ config(
        materialized='incremental',
        unique_key='build_partition',
        indexes=[
            {'columns': ['unit_code', 'geography', 'unit_level', 'year'], 'unique': True},
            {'columns': ['unit_level', 'geography', 'unit_code', 'year']},
            {'columns': ['build_partition']},
            {'columns': ['built_at']},
        ],
        pre_hook=['set local enable_partitionwise_aggregate = on'],
        post_hook=[
            {'sql': '{{ vacuum_after_replace() }}', 'transaction': false},
        ],
    ) }}
{%- endmacro %}
