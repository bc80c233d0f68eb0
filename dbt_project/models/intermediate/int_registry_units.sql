-- The registry's provinces, districts and communes as one list of registry rows, keyed
-- by level, code and validity start (GSO codes are reused, so a code alone is no key).
-- Shared by dim_unit and int_unit_years.
{{ config(materialized='view') }}

with

registry as (
    select
        'province' as unit_level,
        code as unit_code,
        name as unit_name,
        unit_type,
        cast(null as text) as parent_level,
        cast(null as text) as parent_code,
        valid_from,
        valid_to
    from {{ ref('ref_provinces') }}

    union all

    select
        'district' as unit_level,
        code as unit_code,
        name as unit_name,
        unit_type,
        'province' as parent_level,
        province_code as parent_code,
        valid_from,
        valid_to
    from {{ ref('ref_districts') }}

    union all

    select
        'commune' as unit_level,
        code as unit_code,
        name as unit_name,
        unit_type,
        case when length(parent_code) = 2 then 'province' else 'district' end
            as parent_level,
        parent_code,
        valid_from,
        valid_to
    from {{ ref('ref_communes') }}
)

select
    unit_level
    || ':' || unit_code
    || ':' || coalesce(cast(valid_from as text), '') as unit_key,
    unit_level,
    unit_code,
    unit_name,
    unit_type,
    parent_level,
    parent_code,
    valid_from,
    valid_to
from registry
