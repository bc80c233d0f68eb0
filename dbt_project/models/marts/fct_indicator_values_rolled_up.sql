-- The rows of fct_indicator_values above the village: communes (forms CB and DV),
-- districts, provinces and the nation, in two geographies: as_reported (the hierarchy in
-- force that year) and current (today's units through the 2025 crosswalk: commune,
-- province, nation). Components are summed first (weighted by the crosswalk share on
-- current boundaries); a percent is computed only after the roll-up, never averaged
-- (macros/indicator_values.sql turns each rolled-up row into its indicator rows). A
-- table of its own, built beside fct_indicator_values_villages on dbt's other thread;
-- mart_membership and mart_targets read only these rows.
-- Incremental, delete+insert by build_partition: a build recomputes the reporting
-- years whose submissions changed since the last build and the two years after each
-- (change_vs_previous_year of member_growth_pct two years on still reads the changed
-- year). Within those years it rebuilds every district, province and nation row (cheap:
-- sums of the year's components), but commune rows only of the communes whose form CB
-- or DV changed, and of the current communes they map to: a night with a few hundred
-- resent files rewrites their rows, not the ~200,000 rows of each year.
-- Key, partitions and maintenance: indicator_values_config (macros/indicator_values.sql).
-- Questions over every unit of a level above the commune (all districts' series of one
-- indicator: the analyst guide) read a partial index of those levels' rows
-- (macros/partial_index.sql), a few thousand rows of each year's ~200,000.
-- depends_on: {{ ref('dim_indicator') }}
{{ indicator_values_config(post_hook=[
    "{{ partial_index(['indicator_code', 'unit_level', 'geography', 'unit_code', 'year'],"
    ~ " \"unit_level in ('district', 'province', 'nation')\") }}",
]) }}

{%- set since = build_since() %}
{%- set build = build_years(since=since) %}
{#- A full build computes every commune; an incremental one only the changed ones. -#}
{%- set all_communes = 'true' if build is none else 'false' %}

{%- set components = indicator_components() %}

with

changed_communes as (
    {{ changed_communes(since) }}
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

{{ indicator_value_rows('rolled_up', components, build) }}
