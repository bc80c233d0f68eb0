-- Every province, district and commune registry row valid in each year from
-- var('first_year') to the current year, with its parents as they stood that year.
-- A row is valid in year Y when [valid_from, valid_to] overlaps Y (an empty end is
-- open). GSO codes are reused, so in a reform year one code can have two rows: the
-- row in force on 31 December (else the latest-starting one) is the primary row.
-- Incremental by year: a run adds only the years after the newest held (the new
-- calendar year); a registry change rebuilds it in full (macros/incremental_years.sql,
-- in_years_not_built).
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

years as (
    select all_years.year
    from
        generate_series(
            {{ var('first_year') }},
            cast(extract(year from current_date) as integer)
        ) as all_years (year)
    where {{ in_years_not_built('all_years.year') }}
),

registry as (
    select * from {{ ref('int_registry_units') }}
),

unit_years as (
    select
        years.year,
        registry.*,
        (
            coalesce(registry.valid_from, cast('-infinity' as date))
            <= make_date(years.year, 12, 31)
            and coalesce(registry.valid_to, cast('infinity' as date))
            >= make_date(years.year, 12, 31)
        ) as is_valid_at_year_end
    from registry
    inner join years
        on
            coalesce(registry.valid_from, cast('-infinity' as date))
            <= make_date(years.year, 12, 31)
            and coalesce(registry.valid_to, cast('infinity' as date))
            >= make_date(years.year, 1, 1)
),

ranked as (
    select
        *,
        row_number() over (
            partition by unit_level, unit_code, year
            order by is_valid_at_year_end desc, valid_from desc nulls last
        ) = 1 as is_primary_for_year
    from unit_years
),

-- The province of each district in each year it is valid.
district_province_by_year as (
    select
        unit_code as district_code,
        year,
        parent_code as province_code
    from ranked
    where unit_level = 'district' and is_primary_for_year
),

-- The registry gives a commune only its last district; when that district did not
-- exist yet (created later from a split), its first province is the best we know.
district_first_province as (
    select distinct on (code)
        code as district_code,
        province_code
    from {{ ref('ref_districts') }}
    order by code asc, valid_from asc nulls first
),

-- Last resort for communes whose district is missing from the registry (449, 851 and
-- 937, see the registry README): their province on 2025-06-30 from the crosswalk.
crosswalk_province as (
    select distinct on (old_commune_code)
        old_commune_code as commune_code,
        old_province_code as province_code
    from {{ ref('ref_commune_crosswalk_2025') }}
    order by old_commune_code asc, old_province_code asc
)

select
    ranked.unit_key,
    ranked.year,
    ranked.unit_level,
    ranked.unit_code,
    ranked.unit_name,
    ranked.unit_type,
    ranked.valid_from,
    ranked.valid_to,
    ranked.parent_level,
    ranked.parent_code,
    case
        when ranked.unit_level = 'district' then ranked.unit_code
        when ranked.unit_level = 'commune' and length(ranked.parent_code) = 3
            then ranked.parent_code
    end as district_code,
    case
        when ranked.unit_level = 'province' then ranked.unit_code
        when ranked.unit_level = 'district' then ranked.parent_code
        when length(ranked.parent_code) = 2 then ranked.parent_code
        else
            coalesce(
                district_province_by_year.province_code,
                district_first_province.province_code,
                crosswalk_province.province_code
            )
    end as province_code,
    ranked.is_valid_at_year_end,
    ranked.is_primary_for_year,
    now() as built_at
from ranked
left join district_province_by_year
    on
        ranked.unit_level = 'commune'
        and ranked.parent_code = district_province_by_year.district_code
        and ranked.year = district_province_by_year.year
left join district_first_province
    on
        ranked.unit_level = 'commune'
        and ranked.parent_code = district_first_province.district_code
left join crosswalk_province
    on
        ranked.unit_level = 'commune'
        and ranked.unit_code = crosswalk_province.commune_code
