-- Unit lineage: where each registry unit of each year lies on today's boundaries.
-- Units in force after the 2025 reform map onto themselves. Older communes map through
-- the 2025 crosswalk: a whole commune moves with weight 1, a divided one is split over
-- its successors by the crosswalk weight (area share; is_whole = false marks the
-- estimate). Older districts and provinces map onto the province that took over their
-- province (provinces merged whole, so province level needs no weights). A commune that
-- ceased before 2025 is not in the crosswalk: it reaches today's province, not a commune.
-- Incremental by year, as int_unit_years: a run adds only the years it does not hold.
{{
    config(
        unique_key='year',
        indexes=[
            {'columns': ['year']},
            {'columns': ['built_at']},
        ],
    )
}}

with

units as (
    select * from {{ ref('int_unit_years') }}
    where is_primary_for_year and {{ in_years_not_built('year') }}
),

crosswalk as (
    select * from {{ ref('ref_commune_crosswalk_2025') }}
),

province_map as (
    select distinct on (old_province_code)
        old_province_code,
        new_province_code
    from crosswalk
    where coalesce(old_province_code, '') <> ''
    order by old_province_code asc, new_province_code asc
),

classified as (
    select
        units.*,
        coalesce(units.valid_to, cast('infinity' as date))
        >= cast('{{ var("district_abolition_date") }}' as date) as is_current_unit
    from units
),

communes as (
    select
        classified.year,
        classified.unit_level,
        classified.unit_code,
        classified.unit_key,
        classified.district_code,
        classified.province_code,
        case
            when classified.is_current_unit then classified.unit_code
            else crosswalk.new_commune_code
        end as current_commune_code,
        case
            when classified.is_current_unit then classified.province_code
            else
                coalesce(
                    crosswalk.new_province_code,
                    province_map.new_province_code,
                    classified.province_code
                )
        end as current_province_code,
        case
            when classified.is_current_unit then 1
            else coalesce(crosswalk.weight, 1)
        end as weight,
        classified.is_current_unit or coalesce(crosswalk.is_whole, true) as is_whole,
        case
            when classified.is_current_unit then 'same_unit'
            when crosswalk.old_commune_code is null then 'province_only'
            else crosswalk.weight_basis
        end as mapping_basis
    from classified
    left join crosswalk
        on
            not classified.is_current_unit
            and classified.unit_code = crosswalk.old_commune_code
    left join province_map
        on classified.province_code = province_map.old_province_code
    where classified.unit_level = 'commune'
),

higher_units as (
    select
        classified.year,
        classified.unit_level,
        classified.unit_code,
        classified.unit_key,
        classified.district_code,
        classified.province_code,
        cast(null as text) as current_commune_code,
        case
            when classified.is_current_unit then classified.province_code
            else coalesce(province_map.new_province_code, classified.province_code)
        end as current_province_code,
        1 as weight,
        true as is_whole,
        case
            when classified.is_current_unit then 'same_unit' else 'province'
        end as mapping_basis
    from classified
    left join province_map
        on classified.province_code = province_map.old_province_code
    where classified.unit_level in ('district', 'province')
)

select
    year,
    unit_level,
    unit_code,
    unit_key,
    district_code,
    province_code,
    current_commune_code,
    current_province_code,
    cast(weight as numeric) as weight,
    is_whole,
    mapping_basis,
    now() as built_at
from communes
union all
select
    year,
    unit_level,
    unit_code,
    unit_key,
    district_code,
    province_code,
    current_commune_code,
    current_province_code,
    cast(weight as numeric) as weight,
    is_whole,
    mapping_basis,
    now() as built_at
from higher_units
