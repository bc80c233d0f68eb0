-- One row per unit and validity period, at every level: provinces, districts and
-- communes from the national registry (one row per registry row: level, code and
-- validity start), and villages and non-commune base organizations, which have no
-- national registry, built from accepted submissions (first and last year seen, the
-- latest name reported).
-- Incremental: a night rebuilds the registry rows whose is_current changed since the
-- last build, and the villages and base organizations named in the CB and TC files
-- it loaded or superseded (old versions included: a village a resubmission left out
-- is rebuilt from its other years, or removed); everything when a newer reporting
-- year arrived (it closes the validity of units not seen in it) or the calendar year
-- changed (units built from submissions change is_current only at a year's
-- boundary). The pre-hook deletes the rows rebuilt (macros/dim_unit_incremental.sql);
-- unit_key is a unique index.
-- depends_on: {{ ref('stg_received_files') }}
-- depends_on: {{ ref('stg_form_cb') }}
-- depends_on: {{ ref('stg_form_tc') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[
            {'columns': ['unit_key'], 'unique': True},
            {'columns': ['built_at']},
        ],
        pre_hook=["{{ dim_unit_delete_rebuilt() }}"],
        post_hook=[
            {'sql': '{{ vacuum_after_replace() }}', 'transaction': false},
        ],
    )
}}

{%- set changed = dim_unit_changed_units() %}

with

registry as (
    select
        unit_key,
        unit_level,
        unit_code,
        unit_name,
        unit_type,
        parent_level,
        parent_code,
        valid_from,
        valid_to,
        'registry' as unit_source,
        cast(null as integer) as first_seen_year,
        cast(null as integer) as last_seen_year,
        cast(null as integer) as names_reported
    from {{ ref('int_registry_units') }}
    where {{ dim_unit_rebuilds(changed, 'registry') }}
),

latest_year as (
    select max(report_year) as report_year from {{ ref('int_cb_current') }}
),

villages as (
    select
        village_code,
        min(report_year) as first_seen_year,
        max(report_year) as last_seen_year,
        (array_agg(village_name order by report_year desc))[1] as unit_name,
        (array_agg(commune_code order by report_year desc))[1] as parent_code,
        count(distinct village_name) as names_reported
    from {{ ref('int_cb_current') }}
    where {{ dim_unit_rebuilds(changed, 'villages', 'village_code') }}
    group by village_code
),

base_orgs as (
    select
        org_code,
        min(report_year) as first_seen_year,
        max(report_year) as last_seen_year,
        (array_agg(org_name order by report_year desc))[1] as unit_name,
        (array_agg(org_type order by report_year desc))[1] as unit_type,
        (array_agg(sender_level order by report_year desc))[1] as parent_level,
        (array_agg(sender_code order by report_year desc))[1] as parent_code,
        count(distinct org_name) as names_reported
    from {{ ref('int_tc_current') }}
    where
        org_code ~ '-'
        and {{ dim_unit_rebuilds(changed, 'base_orgs', 'org_code') }}
    group by org_code
),

submitted as (
    select
        'village:' || villages.village_code || ':' as unit_key,
        'village' as unit_level,
        villages.village_code as unit_code,
        villages.unit_name,
        cast(null as text) as unit_type,
        'commune' as parent_level,
        villages.parent_code,
        make_date(villages.first_seen_year, 1, 1) as valid_from,
        case
            when villages.last_seen_year < latest_year.report_year
                then make_date(villages.last_seen_year, 12, 31)
        end as valid_to,
        'submissions' as unit_source,
        villages.first_seen_year,
        villages.last_seen_year,
        villages.names_reported
    from villages
    cross join latest_year

    union all

    select
        'base_org:' || base_orgs.org_code || ':' as unit_key,
        'base_org' as unit_level,
        base_orgs.org_code as unit_code,
        base_orgs.unit_name,
        base_orgs.unit_type,
        base_orgs.parent_level,
        base_orgs.parent_code,
        make_date(base_orgs.first_seen_year, 1, 1) as valid_from,
        case
            when base_orgs.last_seen_year < latest_year.report_year
                then make_date(base_orgs.last_seen_year, 12, 31)
        end as valid_to,
        'submissions' as unit_source,
        base_orgs.first_seen_year,
        base_orgs.last_seen_year,
        base_orgs.names_reported
    from base_orgs
    cross join latest_year
),

all_units as (
    select * from registry
    union all
    select * from submitted
)

select
    unit_key,
    unit_level,
    unit_code,
    unit_name,
    unit_type,
    parent_level,
    parent_code,
    valid_from,
    valid_to,
    (
        coalesce(valid_from, cast('-infinity' as date)) <= current_date
        and coalesce(valid_to, cast('infinity' as date)) >= current_date
    ) as is_current,
    unit_source,
    first_seen_year,
    last_seen_year,
    names_reported,
    now() as built_at
from all_units
