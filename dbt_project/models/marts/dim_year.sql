-- One row per reporting year, with its grassroots congress term.
with

years as (
    select
        generate_series(
            {{ var('first_year') }},
            cast(extract(year from current_date) as integer)
        ) as year
),

terms as (
    select
        year,
        year - year % 5 as term_start_year
    from years
)

select
    year,
    term_start_year || '-' || (term_start_year + 5) as congress_term,
    term_start_year,
    term_start_year + 5 as term_end_year,
    year - term_start_year + 1 as year_of_term,
    case
        when year < {{ var('rating_scale_change_year') }} then 'before_2018'
        else 'from_2018'
    end as rating_scale,
    make_date(year, 12, 31)
    < cast('{{ var("district_abolition_date") }}' as date) as has_district_level
from terms
