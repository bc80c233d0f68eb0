-- Form DV at its natural grain: one row per commune and year (membership movement),
-- from the current version of each submission, with the commune's district and
-- province as they stood that year. A view over the incremental int_dv_current.
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
    dv.report_year,
    dv.commune_code,
    units.district_code,
    units.province_code,
    dv.population,
    dv.members_start,
    dv.admitted,
    dv.transferred_in,
    dv.transferred_out,
    dv.deceased,
    dv.expelled,
    dv.removed,
    dv.members_end,
    dv.probationary_end,
    dv.file_id,
    dv.source_row_number
from {{ ref('int_dv_current') }} as dv
left join units
    on dv.commune_code = units.unit_code and dv.report_year = units.year
