{#- The two tables behind fct_indicator_values: fct_indicator_values_villages (a
    village's own rows, from int_cb_current) and fct_indicator_values_rolled_up (every
    commune, district, province and the nation, rolled up from
    int_indicator_components). Two models, so that dbt builds them at once on two
    threads: one table of 13 million rows was one statement on one core for 120 s of the
    history's build. They share this file: the components, the communes a night
    rebuilds, and every step from a rolled-up row to its indicator rows. -#}

{#- The config of both tables: incremental, delete+insert by build_partition; the key
    (unit_code, indicator_code, geography, unit_level, year) a unique index, which
    PostgreSQL enforces on every insert and whose unit_code prefix serves analysts'
    lookups of one unit; partitioned by year (macros/year_partitions.sql), so a night's
    delete, insert and vacuum touch the partitions of its years and queries by year read
    theirs (no index on year); after the build, outside the transaction, vacuum
    (analyze) of the partitions whose rows were replaced (analyze alone after a full
    build; macros/maintenance_after_build.sql). `post_hook`: the table's own hooks,
    run before that maintenance. -#}
{% macro indicator_values_config(post_hook=[]) -%}
    {{ config(
        materialized='incremental',
        unique_key='build_partition',
        indexes=[
            {'columns': ['build_partition']},
            {'columns': ['built_at']},
            {
                'columns': ['unit_code', 'indicator_code', 'geography', 'unit_level', 'year'],
                'unique': True,
            },
        ],
        meta={'partition_by_year': true},
        pre_hook=["{{ ensure_year_partitions() }}"],
        post_hook=post_hook + [
            {'sql': '{{ vacuum_after_replace() }}', 'transaction': false},
        ],
    ) }}
{%- endmacro %}

{#- The components of indicators.md: the columns int_indicator_components sums. -#}
{% macro indicator_components(prefix='') -%}
    {%- set components = [
        'dv_members_end', 'dv_members_start', 'dv_admitted', 'dv_probationary_end',
        'dv_population', 'cb_villages', 'cb_independent', 'cb_joint', 'cb_without_branch',
        'cb_without_members', 'cb_rated', 'cb_good_or_above', 'tc_members', 'tc_orgs',
        'tc_subordinate_units', 'tc_rated', 'tc_good_or_above', 'tc_excellent',
        'tc_not_completed',
    ] -%}
    {%- set chosen = [] -%}
    {%- for c in components if c.startswith(prefix) -%}
        {%- do chosen.append(c) -%}
    {%- endfor -%}
    {%- do return(chosen) -%}
{%- endmacro %}

{#- Communes whose CB or DV submission changed since the last build (any year: their
    rows are rebuilt in every year of this build, which covers the years after). -#}
{% macro changed_communes(since) -%}
    select distinct received_files.unit_code as commune_code
    from {{ ref('stg_received_files') }} as received_files
    where
        received_files.form_code in ('CB', 'DV')
        and {{ 'false' if since is none else changed_since(since, 'received_files') }}
{%- endmacro %}

{#- The CTEs from `source` (a CTE of rolled-up rows: geography, unit_level, unit_code,
    year, source_form, the `components`, units_expected, units_reported, is_estimate,
    rating_scale_mapped, unit_name) to `indicator_rows`, then the final select of the
    rows of the years built. `villages`: every source row is a village (named by its own
    row, never holding members), so no registry lookup. -#}
{% macro indicator_value_rows(source, components, build, villages=false) -%}
    {%- if not villages %}
    as_reported_units as (
        select
            unit_level,
            unit_code,
            year,
            unit_key,
            unit_name
        from {{ ref('int_unit_years') }}
        where is_primary_for_year
    ),

    -- Today's units: the latest registry row of each code.
    current_units as (
        select distinct on (unit_level, unit_code)
            unit_level,
            unit_code,
            unit_key,
            unit_name
        from {{ ref('int_registry_units') }}
        order by unit_level asc, unit_code asc, valid_from desc nulls last
    ),
    {% endif %}

    -- Each rolled-up row named, with the members it counts: form DV at the commune, form TC
    -- above it (members_total; a village has no member count of its own).
    keyed as (
        {% if villages %}
        select
            {{ source }}.*,
            'village:' || {{ source }}.unit_code || ':' as unit_key,
            {{ source }}.unit_name as shown_name,
            false as holds_members,
            cast(null as numeric) as members
        from {{ source }}
        {% else %}
        select
            {{ source }}.*,
            case
                when {{ source }}.unit_level = 'nation' then 'VN'
                when {{ source }}.geography = 'current' then current_units.unit_key
                else as_reported_units.unit_key
            end as unit_key,
            case
                when {{ source }}.unit_level = 'nation' then 'Việt Nam'
                when {{ source }}.geography = 'current' then current_units.unit_name
                else as_reported_units.unit_name
            end as shown_name,
            coalesce(
                ({{ source }}.source_form = 'DV' and {{ source }}.unit_level = 'commune')
                or ({{ source }}.source_form = 'TC' and {{ source }}.unit_level <> 'commune'),
                false
            ) as holds_members,
            case
                when {{ source }}.source_form = 'DV' then {{ source }}.dv_members_end
                when {{ source }}.source_form = 'TC' then {{ source }}.tc_members
            end as members
        from {{ source }}
        left join as_reported_units
            on
                {{ source }}.geography = 'as_reported'
                and {{ source }}.unit_level = as_reported_units.unit_level
                and {{ source }}.unit_code = as_reported_units.unit_code
                and {{ source }}.year = as_reported_units.year
        left join current_units
            on
                {{ source }}.geography = 'current'
                and {{ source }}.unit_level = current_units.unit_level
                and {{ source }}.unit_code = current_units.unit_code
        {% endif %}
    ),

    -- The same unit's row of the form a year before (and members two rows before, for
    -- member growth's own change): one sort of the rolled-up rows, about an eighth of the
    -- indicator rows, instead of a sort and a self-join of every indicator row.
    with_previous as (
        select
            *,
            lag(year) over series as previous_year,
            lag(unit_key) over series as previous_unit_key,
            lag(is_estimate) over series as previous_is_estimate,
            lag(rating_scale_mapped) over series as previous_rating_scale_mapped,
            lag(members) over series as members_before,
            lag(members) over series as previous_members,
            lag(members, 2) over series as previous_members_before,
            lag(year, 2) over series as year_before_previous,
            {% for c in components %}lag({{ c }}) over series as previous_{{ c }},
            {% endfor %}lag(unit_key, 2) over series as unit_key_before_previous
        from keyed
        window series as (
            partition by geography, unit_level, unit_code, source_form order by year
        )
    ),

    -- The change against the year before is computed when that year is the previous row of
    -- the same registry unit; member growth exists when both years count members of the
    -- same unit, and has a change when it existed the year before too.
    continuity as (
        select
            *,
            coalesce(
                previous_year = year - 1
                and coalesce(unit_key, '') = coalesce(previous_unit_key, ''),
                false
            ) as continues,
            coalesce(
                holds_members
                and members is not null
                and members_before is not null
                and previous_year = year - 1
                and unit_key is not distinct from previous_unit_key,
                false
            ) as grows,
            coalesce(
                previous_members is not null
                and previous_members_before is not null
                and year_before_previous = previous_year - 1
                and previous_unit_key is not distinct from unit_key_before_previous,
                false
            ) as grew
        from with_previous
    ),

    {#- Per indicator: code, forms (DV's and TC's count members; a CB row never
        holds members, so its rows are spared those three), applies, numerator,
        denominator, is a percent, counts ratings, has a change, is an estimate. The
        expressions are templates over the row: {p} is `continuity.` for this year and, in
        the numerator and the denominator, `continuity.previous_` for the year before. -#}
    {%- set indicators = [
        ('members_total', ('DV', 'TC'), '{p}holds_members', '{p}members', none, false, false,
            '{p}continues', '{p}is_estimate'),
        ('admissions', ('DV',), 'true', '{p}dv_admitted', none, false, false,
            '{p}continues', '{p}is_estimate'),
        ('admission_rate_pct', ('DV',), 'true', '{p}dv_admitted', '{p}dv_members_start', true, false,
            '{p}continues', '{p}is_estimate'),
        ('probationary_share_pct', ('DV',), 'true', '{p}dv_probationary_end', '{p}dv_members_end',
            true, false, '{p}continues', '{p}is_estimate'),
        ('members_per_population_pct', ('DV',), 'true', '{p}dv_members_end', '{p}dv_population',
            true, false, '{p}continues', '{p}is_estimate'),
        ('villages', ('CB',), 'true', '{p}cb_villages', none, false, false,
            '{p}continues', '{p}is_estimate'),
        ('independent_branch_ratio_pct', ('CB',), 'true', '{p}cb_independent', '{p}cb_villages',
            true, false, '{p}continues', '{p}is_estimate'),
        ('joint_branch_villages', ('CB',), 'true', '{p}cb_joint', none, false, false,
            '{p}continues', '{p}is_estimate'),
        ('villages_without_branch', ('CB',), 'true', '{p}cb_without_branch', none, false, false,
            '{p}continues', '{p}is_estimate'),
        ('villages_without_members', ('CB',), 'true', '{p}cb_without_members', none, false, false,
            '{p}continues', '{p}is_estimate'),
        ('branches_good_or_above_pct', ('CB',), 'true', '{p}cb_good_or_above', '{p}cb_rated',
            true, true, '{p}continues', '{p}is_estimate'),
        ('base_orgs', ('TC',), 'true', '{p}tc_orgs', none, false, false,
            '{p}continues', '{p}is_estimate'),
        ('subordinate_units', ('TC',), 'true', '{p}tc_subordinate_units', none, false, false,
            '{p}continues', '{p}is_estimate'),
        ('orgs_good_or_above_pct', ('TC',), 'true', '{p}tc_good_or_above', '{p}tc_rated',
            true, true, '{p}continues', '{p}is_estimate'),
        ('orgs_excellent_pct', ('TC',), 'true', '{p}tc_excellent', '{p}tc_rated', true, true,
            '{p}continues', '{p}is_estimate'),
        ('orgs_not_completed', ('TC',), 'true', '{p}tc_not_completed', none, false, true,
            '{p}continues', '{p}is_estimate'),
        ('member_net_change', ('DV', 'TC'), '{p}grows', '{p}members - {p}members_before',
            none, false, false, '{p}grew', '{p}is_estimate or {p}previous_is_estimate'),
        ('member_growth_pct', ('DV', 'TC'), '{p}grows', '{p}members - {p}members_before',
            '{p}members_before', true, false, '{p}grew',
            '{p}is_estimate or {p}previous_is_estimate'),
    ] %}
    {%- set forms = ['CB'] if villages else ['CB', 'DV', 'TC'] %}
    {#- The lateral's branches, one per form: that form's indicators as VALUES rows over
        the outer row (continuity), built as text (sqlfluff cannot lint a macro's
        loops). -#}
    {%- set branches = [] %}
    {%- for form in forms %}
        {%- set rows = [] %}
        {%- for i in indicators if form in i[1] %}
            {%- set this, before = 'continuity.', 'continuity.previous_' %}
            {%- do rows.append(
                "('" ~ i[0] ~ "', " ~ i[2].replace('{p}', this) ~ ", "
                ~ i[3].replace('{p}', this) ~ ", cast("
                ~ (i[4] or 'null').replace('{p}', this) ~ " as numeric), "
                ~ i[3].replace('{p}', before) ~ ", cast("
                ~ (i[4] or 'null').replace('{p}', before) ~ " as numeric), "
                ~ i[5] ~ ", " ~ i[6] ~ ", " ~ i[7].replace('{p}', this) ~ ", "
                ~ i[8].replace('{p}', this) ~ ")"
            ) %}
        {%- endfor %}
        {%- do branches.append(
            "select *\n                from (\n                    values\n                    "
            ~ rows | join(",\n                    ")
            ~ "\n                ) as form_indicators (\n                    indicator_code,"
            ~ " applies, numerator, denominator, previous_numerator, previous_denominator,"
            ~ " is_percent, uses_ratings, has_change, is_estimate\n                )"
            ~ "\n                where continuity.source_form = '" ~ form ~ "'"
        ) %}
    {%- endfor %}

    -- One row per indicator that applies to the row's form and level.
    indicator_rows as (
        select
            indicators.indicator_code,
            continuity.geography,
            continuity.unit_level,
            continuity.unit_code,
            continuity.unit_key,
            continuity.shown_name as unit_name,
            continuity.year,
            indicators.numerator,
            indicators.denominator,
            case
                when indicators.is_percent
                    then indicators.numerator * 100 / nullif(indicators.denominator, 0)
                else indicators.numerator
            end as value,
            case
                when indicators.is_percent
                    then
                        indicators.previous_numerator * 100
                        / nullif(indicators.previous_denominator, 0)
                else indicators.previous_numerator
            end as previous_value,
            indicators.has_change,
            continuity.previous_year,
            continuity.units_expected,
            continuity.units_reported,
            indicators.is_estimate,
            indicators.uses_ratings and continuity.rating_scale_mapped as rating_scale_mapped,
            indicators.uses_ratings and continuity.previous_rating_scale_mapped
                as previous_rating_scale_mapped,
            indicators.uses_ratings
        from continuity
        -- Each form's rows compute only that form's indicators: a branch's test of the
        -- row's form is checked once per row, before its values are (computing all 18 for
        -- every row and keeping a third took 2.6 s of a national night's 6.3 s select).
        cross join
            lateral (
                {{ branches | join('\n                union all\n                ') }}
            ) as indicators
        where indicators.applies
    )

    select
        indicator_code,
        geography,
        unit_level,
        unit_code,
        unit_key,
        unit_name,
        year,
        numerator,
        denominator,
        value,
        units_expected,
        units_reported,
        case when has_change then value - previous_value end as change_vs_previous_year,
        rating_scale_mapped,
        coalesce(
            uses_ratings
            and previous_year = year - 1
            and previous_value is not null
            and rating_scale_mapped <> previous_rating_scale_mapped,
            false
        ) as change_crosses_rating_scale,
        is_estimate,
        -- The unit of an incremental rebuild: a commune with its villages, a current
        -- commune, or the rest of a year and geography (districts, provinces, nation).
        {% if villages %}
        year || ':as_reported:' || split_part(unit_code, '-', 1) as build_partition,
        {% else %}
        case
            when unit_level = 'commune' then year || ':' || geography || ':' || unit_code
            else year || ':' || geography
        end as build_partition,
        {% endif %}
        now() as built_at
    from indicator_rows
    where {{ in_build_years('year', after=2, years=build) }}
{%- endmacro %}
