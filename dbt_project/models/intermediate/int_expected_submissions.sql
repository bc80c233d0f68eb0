-- The yearly submissions the registry expects: forms CB and DV from every commune,
-- form TC from every district, and from every province once districts are gone.
-- A unit is expected for a year when it is in force on 31 December of that year.
-- Incremental by year, as int_unit_years: a run adds only the years it does not hold.
{{
    config(
        unique_key='report_year',
        indexes=[
            {'columns': ['report_year']},
            {'columns': ['built_at']},
        ],
    )
}}

with

units as (
    select * from {{ ref('int_unit_years') }}
    where
        is_valid_at_year_end
        and is_primary_for_year
        and {{ in_years_not_built('year', this_column='report_year') }}
),

commune_forms as (
    select form_code
    from (values ('CB'), ('DV')) as forms (form_code)
),

communes as (
    select
        commune_forms.form_code,
        units.year as report_year,
        units.unit_level,
        units.unit_code,
        units.unit_code as commune_code,
        units.district_code,
        units.province_code
    from units
    cross join commune_forms
    where units.unit_level = 'commune'
),

tc_senders as (
    select
        'TC' as form_code,
        year as report_year,
        unit_level,
        unit_code,
        cast(null as text) as commune_code,
        district_code,
        province_code
    from units
    where
        unit_level = 'district'
        or (
            unit_level = 'province'
            and make_date(year, 12, 31)
            >= cast('{{ var("district_abolition_date") }}' as date)
        )
)

select
    *,
    now() as built_at
from communes
union all
select
    *,
    now() as built_at
from tc_senders
