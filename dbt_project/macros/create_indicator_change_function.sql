{#- marts.indicator_change_vs(base_year): every indicator value next to its value in a
    chosen base year, for the same indicator, geography, level and unit (as reported:
    the same registry row). Analysts call it, e.g.
        select * from marts.indicator_change_vs(2016)
        where indicator_code = 'independent_branch_ratio_pct' and unit_level = 'district';
    change_vs_base_year is value - base_value (percentage points for percents);
    crosses_rating_scale is true when a rating indicator compares a year before the
    2018 scale change with one from 2018 on. Created by a post-hook of
    fct_indicator_values; security invoker, so it reads what the caller may read. -#}
{% macro create_indicator_change_function() -%}
    create or replace function {{ this.schema }}.indicator_change_vs(base_year integer)
    returns table (
        indicator_code text,
        geography text,
        unit_level text,
        unit_code text,
        unit_name text,
        year integer,
        value numeric,
        base_year integer,
        base_value numeric,
        change_vs_base_year numeric,
        crosses_rating_scale boolean,
        is_estimate boolean
    )
    language sql
    stable
    as $function$
        select
            v.indicator_code,
            v.geography,
            v.unit_level,
            v.unit_code,
            v.unit_name,
            v.year,
            v.value,
            b.year,
            b.value,
            v.value - b.value,
            coalesce(i.uses_ratings, false)
            and least(v.year, b.year) < {{ var('rating_scale_change_year') }}
            and greatest(v.year, b.year) >= {{ var('rating_scale_change_year') }},
            v.is_estimate or b.is_estimate
        from {{ this }} as v
        inner join {{ this }} as b
            on b.indicator_code = v.indicator_code
            and b.geography = v.geography
            and b.unit_level = v.unit_level
            and b.unit_code = v.unit_code
            and b.year = $1
            and b.unit_key is not distinct from v.unit_key
        left join {{ this.schema }}.dim_indicator as i
            on i.indicator_code = v.indicator_code
    $function$;
    comment on function {{ this.schema }}.indicator_change_vs(integer) is
        'Every indicator value with its value in the given base year (same indicator, geography, level and unit) and the change since; crosses_rating_scale flags rating indicators compared across the 2017/2018 scale change.';
    grant execute on function {{ this.schema }}.indicator_change_vs(integer) to analyst
{%- endmacro %}
