-- The 18 indicators of indicators.md per unit and year, in two geographies:
-- as_reported (the hierarchy in force that year: village, commune, district, province,
-- nation) and current (today's units through the 2025 crosswalk: commune, province,
-- nation). Components are summed first (weighted by the crosswalk share on current
-- boundaries); a percent is computed only after the roll-up, never averaged.
-- Incremental, delete+insert by build_partition: a build recomputes the reporting
-- years whose submissions changed since the last build and the two years after each
-- (change_vs_previous_year of member_growth_pct two years on still reads the changed
-- year). Within those years it rebuilds every district, province and nation row (cheap:
-- sums of the year's components), but commune and village rows only of the communes
-- whose form CB or DV changed, and of the current communes they map to: a night with a
-- few hundred resent files rewrites their rows, not the ~700,000 rows of each year.
-- The key (unit_code, indicator_code, geography, unit_level, year) is a unique index:
-- PostgreSQL enforces it on every insert, and its unit_code prefix serves analysts'
-- lookups of one unit. The table is partitioned by year (macros/year_partitions.sql):
-- a night's delete, insert and vacuum touch the partitions of its years; queries by
-- year read their partitions, so no index on year. Questions over every unit of a level
-- above the commune (all districts' series of one indicator: the analyst guide) read a
-- partial index of those levels' rows (macros/partial_index.sql), a few thousand rows
-- of each year's ~700,000. After the build, outside the
-- transaction: vacuum (analyze) of the partitions whose rows the delete+insert
-- replaced (analyze alone after a full build; see macros/maintenance_after_build.sql).
-- depends_on: {{ ref('dim_indicator') }}
-- depends_on: {{ ref('stg_received_files') }}
{{
    config(
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
        post_hook=[
            "{{ create_indicator_change_function() }}",
            "{{ partial_index(['indicator_code', 'unit_level', 'geography', 'unit_code', 'year'],"
            ~ " \"unit_level in ('district', 'province', 'nation')\") }}",
            {'sql': '{{ vacuum_after_replace() }}', 'transaction': false},
        ],
    )
}}

{%- set since = build_since() %}
{%- set build = build_years(since=since) %}
{#- A full build computes every commune; an incremental one only the changed ones. -#}
{%- set all_communes = 'true' if build is none else 'false' %}

{%- set components = [
    'dv_members_end', 'dv_members_start', 'dv_admitted', 'dv_probationary_end',
    'dv_population', 'cb_villages', 'cb_independent', 'cb_joint', 'cb_without_branch',
    'cb_without_members', 'cb_rated', 'cb_good_or_above', 'tc_members', 'tc_orgs',
    'tc_subordinate_units', 'tc_rated', 'tc_good_or_above', 'tc_excellent',
    'tc_not_completed',
] %}

with

-- Communes whose CB or DV submission changed since the last build (any year: their
-- rows are rebuilt in every year of this build, which covers the years after).
changed_communes as (
    select distinct received_files.unit_code as commune_code
    from {{ ref('stg_received_files') }} as received_files
    where
        received_files.form_code in ('CB', 'DV')
        and {{ 'false' if since is none else changed_since(since, 'received_files') }}
),

components as (
    select
        all_components.*,
        {{ all_communes }} or changed_communes.commune_code is not null
            as is_rebuilt_commune
    from {{ ref('int_indicator_components') }} as all_components
    left join changed_communes
        on all_components.commune_code = changed_communes.commune_code
    where {{ in_build_years('all_components.year', before=2, after=2, years=build) }}
),

lineage as (
    select * from {{ ref('int_unit_lineage') }}
),

-- Today's communes that a changed commune maps to in the years built.
changed_current_communes as (
    select distinct lineage.current_commune_code
    from lineage
    inner join changed_communes
        on lineage.unit_code = changed_communes.commune_code
    where
        lineage.unit_level = 'commune'
        and lineage.current_commune_code is not null
        and {{ in_build_years('lineage.year', before=2, after=2, years=build) }}
),

atoms as (
    {{ indicator_geographies(
        ['year', 'source_form', 'is_expected', 'has_reported', 'rating_scale_mapped']
        + components,
        rebuilt_commune='components.is_rebuilt_commune',
        current_communes=all_communes ~ ' or lineage.current_commune_code in ('
        ~ 'select changed_current_communes.current_commune_code'
        ~ ' from changed_current_communes)',
        lineage_years=in_build_years('lineage.year', before=2, after=2, years=build),
    ) }}
),

rolled_up as (
    select
        geography,
        unit_level,
        unit_code,
        year,
        source_form,
        {% for c in components %}sum({{ c }} * weight) as {{ c }},
        {% endfor %}count(*) filter (where is_expected) as units_expected,
        count(*) filter (where is_expected and has_reported) as units_reported,
        coalesce(bool_or(has_reported and not is_whole), false) as is_estimate,
        coalesce(bool_or(has_reported and rating_scale_mapped), false)
            as rating_scale_mapped,
        cast(null as text) as unit_name
    from atoms
    group by geography, unit_level, unit_code, year, source_form
),

-- Village level (as reported): each CB row is its own unit; counts are 0 or 1.
villages as (
    select
        'as_reported' as geography,
        'village' as unit_level,
        village_code as unit_code,
        report_year as year,
        'CB' as source_form,
        {% for c in components %}
            {% if c.startswith('cb_') %}{% else %}cast(null as numeric) as {{ c }},
            {% endif %}{% endfor %}cast(1 as numeric
        ) as cb_villages,
        cast((branch_status = 'independent') as integer) as cb_independent,
        cast((branch_status = 'joint') as integer) as cb_joint,
        cast((branch_status = 'none') as integer) as cb_without_branch,
        cast((members = 0) as integer) as cb_without_members,
        cast((branch_rating is not null) as integer) as cb_rated,
        cast((branch_rating in ('excellent', 'good')) as integer) as cb_good_or_above,
        1 as units_expected,
        1 as units_reported,
        false as is_estimate,
        rating_scale_mapped and branch_rating is not null as rating_scale_mapped,
        village_name as unit_name
    from {{ ref('int_cb_current') }}
    where
        {{ in_build_years('report_year', before=2, after=2, years=build) }}
        and (
            {{ all_communes }}
            or commune_code in (select changed_communes.commune_code from changed_communes)
        )
),

-- By name: villages lists its components in another order.
{%- set rolled_up_columns = ['geography', 'unit_level', 'unit_code', 'year', 'source_form']
    + components
    + ['units_expected', 'units_reported', 'is_estimate', 'rating_scale_mapped', 'unit_name'] %}

all_rolled_up as (
    select {{ rolled_up_columns | join(', ') }}
    from rolled_up
    union all
    select {{ rolled_up_columns | join(', ') }}
    from villages
),

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

-- Each rolled-up row named, with the members it counts: form DV at the commune, form TC
-- above it (members_total; a village has no member count of its own).
keyed as (
    select
        all_rolled_up.*,
        case
            when all_rolled_up.unit_level = 'nation' then 'VN'
            when all_rolled_up.unit_level = 'village'
                then 'village:' || all_rolled_up.unit_code || ':'
            when all_rolled_up.geography = 'current' then current_units.unit_key
            else as_reported_units.unit_key
        end as unit_key,
        case
            when all_rolled_up.unit_level = 'nation' then 'Việt Nam'
            when all_rolled_up.unit_level = 'village' then all_rolled_up.unit_name
            when all_rolled_up.geography = 'current' then current_units.unit_name
            else as_reported_units.unit_name
        end as shown_name,
        coalesce(
            (all_rolled_up.source_form = 'DV' and all_rolled_up.unit_level = 'commune')
            or (
                all_rolled_up.source_form = 'TC'
                and all_rolled_up.unit_level not in ('village', 'commune')
            ),
            false
        ) as holds_members,
        case
            when all_rolled_up.source_form = 'DV' then all_rolled_up.dv_members_end
            when all_rolled_up.source_form = 'TC' then all_rolled_up.tc_members
        end as members
    from all_rolled_up
    left join as_reported_units
        on
            all_rolled_up.geography = 'as_reported'
            and all_rolled_up.unit_level = as_reported_units.unit_level
            and all_rolled_up.unit_code = as_reported_units.unit_code
            and all_rolled_up.year = as_reported_units.year
    left join current_units
        on
            all_rolled_up.geography = 'current'
            and all_rolled_up.unit_level = current_units.unit_level
            and all_rolled_up.unit_code = current_units.unit_code
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
            {%- for form in ['CB', 'DV', 'TC'] %}
                select *
                from (
                    values
                    {%- for i in indicators if form in i[1] %}
                        {%- set this = i[3].replace('{p}', 'continuity.') %}
                        {%- set before = i[3].replace('{p}', 'continuity.previous_') %}
                        {%- set this_of = (i[4] or 'null').replace('{p}', 'continuity.') %}
                        {%- set before_of = (i[4] or 'null').replace(
                            '{p}', 'continuity.previous_'
                        ) %}
                        (
                            '{{ i[0] }}', {{ i[2].replace('{p}', 'continuity.') }},
                            {{ this }}, cast({{ this_of }} as numeric),
                            {{ before }}, cast({{ before_of }} as numeric),
                            {{ i[5] }}, {{ i[6] }}, {{ i[7].replace('{p}', 'continuity.') }},
                            {{ i[8].replace('{p}', 'continuity.') }}
                        ){{ ',' if not loop.last }}
                    {%- endfor %}
                )
                    as form_indicators (
                        indicator_code, applies, numerator, denominator,
                        previous_numerator, previous_denominator, is_percent, uses_ratings,
                        has_change, is_estimate
                    )
                -- (continuity: the lateral's outer row, which RF03 takes for a rule breach)
                where continuity.source_form = '{{ form }}'  -- noqa: RF03
                {{ 'union all' if not loop.last }}
            {%- endfor %}
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
    case
        when unit_level = 'village'
            then year || ':as_reported:' || split_part(unit_code, '-', 1)
        when unit_level = 'commune' then year || ':' || geography || ':' || unit_code
        else year || ':' || geography
    end as build_partition,
    now() as built_at
from indicator_rows
where {{ in_build_years('year', after=2, years=build) }}
