-- Form TC at its natural grain: one row per base party organization and year, from the
-- current version of the sending district's (from 2025 province's) submission, with
-- the sender's province. A view over the incremental int_tc_current.
{{ config(materialized='view') }}

with

units as (
    select
        unit_level,
        unit_code,
        year,
        province_code
    from {{ ref('int_unit_years') }}
    where unit_level in ('district', 'province') and is_primary_for_year
)

select
    tc.report_year,
    tc.org_code,
    tc.org_name,
    tc.org_type,
    tc.sender_level,
    tc.sender_code,
    units.province_code,
    tc.members,
    tc.subordinate_units,
    tc.rating_reported,
    tc.rating,
    tc.rating_scale_mapped,
    tc.rating_points,
    tc.file_id,
    tc.source_row_number
from {{ ref('int_tc_current') }} as tc
left join units
    on
        tc.sender_level = units.unit_level
        and tc.sender_code = units.unit_code
        and tc.report_year = units.year
