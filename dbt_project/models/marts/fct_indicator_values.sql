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

-- One row per indicator: (code, form, applies at this level, numerator, denominator,
-- is a percent, counts ratings).
base_values as (
    select
        indicators.indicator_code,
        all_rolled_up.geography,
        all_rolled_up.unit_level,
        all_rolled_up.unit_code,
        all_rolled_up.unit_name,
        all_rolled_up.year,
        indicators.numerator,
        indicators.denominator,
        case
            when indicators.is_percent
                then indicators.numerator * 100 / nullif(indicators.denominator, 0)
            else indicators.numerator
        end as value,
        all_rolled_up.units_expected,
        all_rolled_up.units_reported,
        all_rolled_up.is_estimate,
        indicators.uses_ratings and all_rolled_up.rating_scale_mapped
            as rating_scale_mapped,
        indicators.uses_ratings
    from all_rolled_up
    cross join
        lateral (
            values
            (
                'members_total', 'DV', all_rolled_up.unit_level in ('village', 'commune'),
                all_rolled_up.dv_members_end, null, false, false
            ),
            (
                'members_total', 'TC', all_rolled_up.unit_level not in ('village', 'commune'),
                all_rolled_up.tc_members, null, false, false
            ),
            ('admissions', 'DV', true, all_rolled_up.dv_admitted, null, false, false),
            (
                'admission_rate_pct', 'DV', true,
                all_rolled_up.dv_admitted, all_rolled_up.dv_members_start, true, false
            ),
            (
                'probationary_share_pct', 'DV', true,
                all_rolled_up.dv_probationary_end, all_rolled_up.dv_members_end, true, false
            ),
            (
                'members_per_population_pct', 'DV', true,
                all_rolled_up.dv_members_end, all_rolled_up.dv_population, true, false
            ),
            ('villages', 'CB', true, all_rolled_up.cb_villages, null, false, false),
            (
                'independent_branch_ratio_pct', 'CB', true,
                all_rolled_up.cb_independent, all_rolled_up.cb_villages, true, false
            ),
            ('joint_branch_villages', 'CB', true, all_rolled_up.cb_joint, null, false, false),
            (
                'villages_without_branch', 'CB', true,
                all_rolled_up.cb_without_branch, null, false, false
            ),
            (
                'villages_without_members', 'CB', true,
                all_rolled_up.cb_without_members, null, false, false
            ),
            (
                'branches_good_or_above_pct', 'CB', true,
                all_rolled_up.cb_good_or_above, all_rolled_up.cb_rated, true, true
            ),
            ('base_orgs', 'TC', true, all_rolled_up.tc_orgs, null, false, false),
            (
                'subordinate_units', 'TC', true,
                all_rolled_up.tc_subordinate_units, null, false, false
            ),
            (
                'orgs_good_or_above_pct', 'TC', true,
                all_rolled_up.tc_good_or_above, all_rolled_up.tc_rated, true, true
            ),
            (
                'orgs_excellent_pct', 'TC', true,
                all_rolled_up.tc_excellent, all_rolled_up.tc_rated, true, true
            ),
            (
                'orgs_not_completed', 'TC', true,
                all_rolled_up.tc_not_completed, null, false, true
            )
        )
            as indicators (
                indicator_code, source_form, applies, numerator, denominator, is_percent,
                uses_ratings
            )
    where
        indicators.source_form = all_rolled_up.source_form
        and indicators.applies
        -- Village villages_without_members is kept; members_total of a village is not
        -- an indicator (DV is per commune).
        and not (
            all_rolled_up.unit_level = 'village'
            and indicators.indicator_code = 'members_total'
        )
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

named as (
    select
        base_values.indicator_code,
        base_values.geography,
        base_values.unit_level,
        base_values.unit_code,
        case
            when base_values.unit_level = 'nation' then 'VN'
            when base_values.unit_level = 'village' then 'village:' || base_values.unit_code || ':'
            when base_values.geography = 'current' then current_units.unit_key
            else as_reported_units.unit_key
        end as unit_key,
        case
            when base_values.unit_level = 'nation' then 'Việt Nam'
            when base_values.unit_level = 'village' then base_values.unit_name
            when base_values.geography = 'current' then current_units.unit_name
            else as_reported_units.unit_name
        end as unit_name,
        base_values.year,
        base_values.numerator,
        base_values.denominator,
        base_values.value,
        base_values.units_expected,
        base_values.units_reported,
        base_values.is_estimate,
        base_values.rating_scale_mapped,
        base_values.uses_ratings
    from base_values
    left join as_reported_units
        on
            base_values.geography = 'as_reported'
            and base_values.unit_level = as_reported_units.unit_level
            and base_values.unit_code = as_reported_units.unit_code
            and base_values.year = as_reported_units.year
    left join current_units
        on
            base_values.geography = 'current'
            and base_values.unit_level = current_units.unit_level
            and base_values.unit_code = current_units.unit_code
),

-- members_total of the year before, for the same unit (as reported: the same registry
-- row, so never across a merger that reused a code; current: the same unit of today).
members_previous as (
    select
        this_year.geography,
        this_year.unit_level,
        this_year.unit_code,
        this_year.unit_key,
        this_year.unit_name,
        this_year.year,
        this_year.numerator as members_now,
        previous_year.numerator as members_before,
        this_year.units_expected,
        this_year.units_reported,
        this_year.is_estimate or previous_year.is_estimate as is_estimate
    from named as this_year
    inner join named as previous_year
        on
            this_year.indicator_code = previous_year.indicator_code
            and this_year.geography = previous_year.geography
            and this_year.unit_level = previous_year.unit_level
            and this_year.unit_code = previous_year.unit_code
            and this_year.year = previous_year.year + 1
            and this_year.unit_key is not distinct from previous_year.unit_key
    where
        this_year.indicator_code = 'members_total'
        and this_year.numerator is not null
        and previous_year.numerator is not null
),

derived as (
    select
        derived_values.indicator_code,
        members_previous.geography,
        members_previous.unit_level,
        members_previous.unit_code,
        members_previous.unit_key,
        members_previous.unit_name,
        members_previous.year,
        derived_values.numerator,
        derived_values.denominator,
        derived_values.value,
        members_previous.units_expected,
        members_previous.units_reported,
        members_previous.is_estimate,
        false as rating_scale_mapped,
        false as uses_ratings
    from members_previous
    cross join lateral (
        values
        (
            'member_net_change',
            members_previous.members_now - members_previous.members_before,
            cast(null as numeric),
            members_previous.members_now - members_previous.members_before
        ),
        (
            'member_growth_pct',
            members_previous.members_now - members_previous.members_before,
            members_previous.members_before,
            (members_previous.members_now - members_previous.members_before)
            * 100 / nullif(members_previous.members_before, 0)
        )
    ) as derived_values (indicator_code, numerator, denominator, value)
),

all_values as (
    select * from named
    union all
    select * from derived
),

with_previous as (
    select
        *,
        lag(year) over series as previous_year,
        lag(value) over series as previous_value,
        lag(unit_key) over series as previous_unit_key,
        lag(rating_scale_mapped) over series as previous_rating_scale_mapped
    from all_values
    window series as (
        partition by indicator_code, geography, unit_level, unit_code order by year
    )
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
    case
        when
            previous_year = year - 1
            and coalesce(unit_key, '') = coalesce(previous_unit_key, '')
            then value - previous_value
    end as change_vs_previous_year,
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
from with_previous
where {{ in_build_years('year', after=2, years=build) }}
