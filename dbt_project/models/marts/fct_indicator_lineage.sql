-- Lineage bridge: which submission files (current versions) feed each unit's indicator
-- values, per geography, level and year. An indicator value joins here on geography,
-- unit_level, unit_code and year, restricted to source_form in its dim_indicator
-- source_forms; rows of a file are in fct_village_branches, fct_membership_movement and
-- fct_base_organizations (file_id, source_row_number) and its versions in
-- fct_submission_versions. member_net_change, member_growth_pct and the changes against
-- earlier years also use the earlier year's rows. Village values trace through
-- fct_village_branches directly. Incremental by reporting year.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
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

with

components as (
    select * from {{ ref('int_indicator_components') }}
    where has_reported and {{ in_build_years('year') }}
),

lineage as (
    select * from {{ ref('int_unit_lineage') }}
),

as_reported as (
    select
        'as_reported' as geography,
        levels.unit_level,
        levels.unit_code,
        components.year,
        components.source_form,
        components.file_id,
        components.reporting_unit_code,
        cast(1 as numeric) as weight
    from components
    cross join
        lateral (
            values
            (
                'commune',
                case
                    when components.source_form in ('CB', 'DV')
                        then components.commune_code
                end
            ),
            ('district', components.district_code),
            ('province', components.province_code),
            ('nation', 'VN')
        ) as levels (unit_level, unit_code)
    where levels.unit_code is not null
),

current_communes as (
    select
        'current' as geography,
        'commune' as unit_level,
        lineage.current_commune_code as unit_code,
        components.year,
        components.source_form,
        components.file_id,
        components.reporting_unit_code,
        lineage.weight
    from components
    inner join lineage
        on
            components.year = lineage.year
            and components.reporting_unit_level = lineage.unit_level
            and components.reporting_unit_code = lineage.unit_code
    where
        components.source_form in ('CB', 'DV')
        and lineage.current_commune_code is not null
),

current_higher as (
    select distinct
        'current' as geography,
        levels.unit_level,
        levels.unit_code,
        components.year,
        components.source_form,
        components.file_id,
        components.reporting_unit_code,
        cast(1 as numeric) as weight
    from components
    inner join lineage
        on
            components.year = lineage.year
            and components.reporting_unit_level = lineage.unit_level
            and components.reporting_unit_code = lineage.unit_code
    cross join
        lateral (
            values
            ('province', lineage.current_province_code),
            ('nation', 'VN')
        ) as levels (unit_level, unit_code)
    where levels.unit_code is not null
),

all_links as (
    select * from as_reported
    union all
    select * from current_communes
    union all
    select * from current_higher
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
