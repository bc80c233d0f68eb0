-- Indicator values per unit and year, in the hierarchy in force that year
-- (geography = 'as_reported'). Components are rolled up by summing numerators and
-- denominators; a percent is computed only after the roll-up.
with

components as (
    select * from {{ ref('int_indicator_components') }}
),

units as (
    select
        unit_level,
        unit_code,
        year,
        unit_key,
        unit_name
    from {{ ref('int_unit_years') }}
    where is_primary_for_year
),

by_level as (
    select
        indicator_code,
        value_kind,
        'commune' as unit_level,
        commune_code as unit_code,
        year,
        numerator,
        denominator,
        is_expected,
        has_reported,
        rating_scale_mapped
    from components
    where feeds_commune and commune_code is not null

    union all

    select
        indicator_code,
        value_kind,
        'district' as unit_level,
        district_code as unit_code,
        year,
        numerator,
        denominator,
        is_expected,
        has_reported,
        rating_scale_mapped
    from components
    where feeds_district and district_code is not null

    union all

    select
        indicator_code,
        value_kind,
        'province' as unit_level,
        province_code as unit_code,
        year,
        numerator,
        denominator,
        is_expected,
        has_reported,
        rating_scale_mapped
    from components
    where feeds_province and province_code is not null
),

rolled_up as (
    select
        indicator_code,
        unit_level,
        unit_code,
        year,
        max(value_kind) as value_kind,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(*) filter (where is_expected) as units_expected,
        count(*) filter (where is_expected and has_reported) as units_reported,
        coalesce(bool_or(rating_scale_mapped and has_reported), false)
            as rating_scale_mapped
    from by_level
    group by indicator_code, unit_level, unit_code, year
),

base_values as (
    select
        rolled_up.indicator_code,
        rolled_up.unit_level,
        rolled_up.unit_code,
        rolled_up.year,
        units.unit_key,
        units.unit_name,
        rolled_up.numerator,
        rolled_up.denominator,
        case
            when rolled_up.value_kind = 'percent'
                then rolled_up.numerator * 100 / nullif(rolled_up.denominator, 0)
            else rolled_up.numerator
        end as value,
        rolled_up.units_expected,
        rolled_up.units_reported,
        rolled_up.rating_scale_mapped
    from rolled_up
    left join units
        on
            rolled_up.unit_level = units.unit_level
            and rolled_up.unit_code = units.unit_code
            and rolled_up.year = units.year
),

-- member_growth_pct: (members_total(y) - members_total(y - 1)) / members_total(y - 1)
-- x 100, where both years have a value for the same registry unit (a code reused by
-- a merged unit after the 2025 reform is another unit); coverage is that of year y.
member_growth as (
    select
        'member_growth_pct' as indicator_code,
        this_year.unit_level,
        this_year.unit_code,
        this_year.year,
        this_year.unit_key,
        this_year.unit_name,
        this_year.numerator - previous_year.numerator as numerator,
        previous_year.numerator as denominator,
        (this_year.numerator - previous_year.numerator)
        * 100 / nullif(previous_year.numerator, 0) as value,
        this_year.units_expected,
        this_year.units_reported,
        false as rating_scale_mapped
    from base_values as this_year
    inner join base_values as previous_year
        on
            this_year.indicator_code = previous_year.indicator_code
            and this_year.unit_level = previous_year.unit_level
            and this_year.unit_code = previous_year.unit_code
            and this_year.year = previous_year.year + 1
            and this_year.unit_key is not distinct from previous_year.unit_key
    where
        this_year.indicator_code = 'members_total'
        and this_year.numerator is not null
        and previous_year.numerator is not null
),

all_values as (
    select * from base_values
    union all
    select * from member_growth
)

select
    indicator_code,
    'as_reported' as geography,
    unit_level,
    unit_code,
    unit_name,
    year,
    numerator,
    denominator,
    value,
    units_expected,
    units_reported,
    rating_scale_mapped
from all_values
