{#- The mart_* views: fct_indicator_values pivoted wide, one row per geography, unit
    and year, one column per indicator of `indicators` (its value), then the columns
    of `coverage` ({name: expression}, e.g. the units reported for one indicator). -#}
{% macro indicators_wide(indicators, coverage) -%}
    {%- set columns = [] -%}
    {%- for code in indicators -%}
        {%- do columns.append(
            ["max(value) filter (where indicator_code = '" ~ code ~ "')", code]
        ) -%}
    {%- endfor -%}
    {%- for name, expression in coverage.items() -%}
        {%- do columns.append([expression, name]) -%}
    {%- endfor -%}
    select
        geography,
        unit_level,
        unit_code,
        max(unit_name) as unit_name,
        year,
        {% for expression, name in columns %}{{ expression }} as {{ name }},
        {% endfor %}bool_or(is_estimate) as is_estimate
    from {{ ref('fct_indicator_values') }}
    where indicator_code in ('{{ indicators | join("', '") }}')
    group by geography, unit_level, unit_code, year
{%- endmacro %}
