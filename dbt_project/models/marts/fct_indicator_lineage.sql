-- Lineage bridge: which submission files (current versions) feed each unit's indicator
-- values, per geography, level and year. An indicator value joins here on geography,
-- unit_level, unit_code and year, restricted to source_form in its dim_indicator
-- source_forms; rows of a file are in fct_village_branches, fct_membership_movement and
-- fct_base_organizations (file_id, source_row_number) and its versions in
-- fct_submission_versions. member_net_change, member_growth_pct and the changes against
-- earlier years also use the earlier year's rows. Village values trace through
-- fct_village_branches directly. Incremental by reporting year.
-- Built after fct_indicator_values_rolled_up, which it does not read: dbt starts the
-- models that are ready by depth, then by name, and this one (14 s of the national
-- history) would otherwise hold a thread while the two tables of fct_indicator_values,
-- the build's longest path, wait for it (dbt has no setting for the order).
-- depends_on: {{ ref('fct_indicator_values_rolled_up') }}
{{
    config(
        materialized='incremental',
        unique_key='year',
        indexes=[
            {'columns': ['year']},
            {'columns': ['unit_code']},
            {'columns': ['file_id']},
            {'columns': ['built_at']},
        ],
        post_hook=[
            {'sql': '{{ vacuum_after_replace() }}', 'transaction': false},
        ],
    )
}}

{%- set build = build_years() %}

with

components as (
    select * from {{ ref('int_indicator_components') }}
    where has_reported and {{ in_build_years('year', years=build) }}
),

lineage as (
    select * from {{ ref('int_unit_lineage') }}
),

-- Every unit each component counts in (macros/indicator_geographies.sql), as in
-- fct_indicator_values.
all_links as (
    {{ indicator_geographies(
        ['year', 'source_form', 'file_id', 'reporting_unit_code'],
        lineage_years=in_build_years('lineage.year', years=build),
        distinct_higher=true,
    ) }}
)

select
    all_links.geography,
    all_links.unit_level,
    all_links.unit_code,
    all_links.year,
    all_links.source_form,
    all_links.file_id,
    files.submission_version,
    all_links.reporting_unit_code,
    all_links.weight,
    now() as built_at
from all_links
inner join {{ ref('stg_received_files') }} as files
    on all_links.file_id = files.file_id
