-- Form CB at its natural grain: one row per village (residential group) and year, from
-- the current version of each commune's submission, with the commune's district and
-- province as they stood that year. A view over the incremental int_cb_current.
{{ config(materialized='view') }}

with

units as (
    select
        unit_code,
        year,
        district_code,
        province_code
    from {{ ref('int_unit_years') }}
    where unit_level = 'commune' and is_primary_for_year
)

select
    cb.report_year,
    cb.village_code,
    cb.village_name,
    cb.commune_code,
    units.district_code,
    units.province_code,
    cb.branch_status,
    cb.host_village_code,
    cb.members,
    cb.branch_rating_reported,
    cb.branch_rating,
    cb.rating_scale_mapped,
    cb.file_id,
    cb.source_row_number
from {{ ref('int_cb_current') }} as cb
left join units
    on cb.commune_code = units.unit_code and cb.report_year = units.year
