-- The village rows of fct_indicator_values (geography as_reported, form CB): each row of
-- int_cb_current is its own unit, its counts 0 or 1, its value and change computed as
-- for every other unit (macros/indicator_values.sql). A table of its own, built beside
-- fct_indicator_values_rolled_up: the two hold 9.7 and 3.4 million rows of the national
-- history, and dbt writes them at once on its two threads.
-- Incremental, delete+insert by build_partition (a year and commune: the commune's
-- villages): a build recomputes the reporting years whose submissions changed since
-- its last build and the two years after each, and within them only the villages of
-- the communes whose form CB or DV changed. Key, partitions and maintenance:
-- indicator_values_config (macros/indicator_values.sql).
-- depends_on: {{ ref('dim_indicator') }}
{{ indicator_values_config() }}

{%- set since = build_since() %}
{%- set build = build_years(since=since) %}
{%- set components = indicator_components('cb_') %}

with

changed_communes as (
    {{ changed_communes(since) }}
),

-- Each CB row is its own unit: counts are 0 or 1.
villages as (
    select
        'as_reported' as geography,
        'village' as unit_level,
        village_code as unit_code,
        report_year as year,
        'CB' as source_form,
        cast(1 as numeric) as cb_villages,
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
            {{ 'true' if build is none else 'false' }}
            or commune_code in (select changed_communes.commune_code from changed_communes)
        )
),

{{ indicator_value_rows('villages', components, build, villages=true) }}
