-- Numerator and denominator of each indicator per reporting unit and year, with the
-- codes to roll them up by. Marts only sum these: a ratio above the reporting unit is
-- the sum of numerators over the sum of denominators, never an average of ratios.
-- Every expected reporting unit has a row for each year in which its form has any
-- current submission: a unit that has not reported has has_reported = false and
-- empty numerator and denominator (missing, not zero).
with

expected as (
    select * from {{ ref('int_expected_submissions') }}
),

submissions as (
    select
        form_code,
        unit_code,
        cast(period as integer) as report_year
    from {{ ref('int_current_submissions') }}
    where form_code in ('CB', 'DV', 'TC') and period ~ '^[0-9]{4}$'
),

unit_lookup as (
    select * from {{ ref('int_unit_years') }}
    where is_primary_for_year
),

form_years as (
    select distinct
        form_code,
        report_year
    from submissions
),

unexpected_submissions as (
    select
        submissions.form_code,
        submissions.report_year,
        submissions.unit_code,
        case
            when submissions.form_code in ('CB', 'DV') then 'commune'
            when length(submissions.unit_code) = 2 then 'province'
            else 'district'
        end as unit_level
    from submissions
    left join expected
        on
            submissions.form_code = expected.form_code
            and submissions.unit_code = expected.unit_code
            and submissions.report_year = expected.report_year
    where expected.unit_code is null
),

reporting_units as (
    select
        expected.form_code,
        expected.report_year,
        expected.unit_level,
        expected.unit_code,
        expected.commune_code,
        expected.district_code,
        expected.province_code,
        true as is_expected
    from expected
    inner join form_years
        on
            expected.form_code = form_years.form_code
            and expected.report_year = form_years.report_year

    union all

    -- Submissions from units the registry does not expect that year (validation
    -- should prevent them): kept, but outside the coverage counts.
    select
        unexpected_submissions.form_code,
        unexpected_submissions.report_year,
        unexpected_submissions.unit_level,
        unexpected_submissions.unit_code,
        case
            when unexpected_submissions.unit_level = 'commune'
                then unexpected_submissions.unit_code
        end as commune_code,
        unit_lookup.district_code,
        unit_lookup.province_code,
        false as is_expected
    from unexpected_submissions
    left join unit_lookup
        on
            unexpected_submissions.unit_level = unit_lookup.unit_level
            and unexpected_submissions.unit_code = unit_lookup.unit_code
            and unexpected_submissions.report_year = unit_lookup.year
),

dv_values as (
    select
        commune_code as unit_code,
        report_year,
        sum(members_end) as members_end,
        sum(admitted) as admitted
    from {{ ref('int_dv_current') }}
    group by commune_code, report_year
),

cb_values as (
    select
        commune_code as unit_code,
        report_year,
        count(*) filter (where branch_status = 'independent') as independent_villages,
        count(*) as villages
    from {{ ref('int_cb_current') }}
    group by commune_code, report_year
),

tc_values as (
    select
        sender_code as unit_code,
        report_year,
        sum(members) as members,
        count(*) filter (where rating in ('excellent', 'good')) as orgs_good_or_above,
        count(rating) as orgs_rated,
        bool_or(rating_scale_mapped) as rating_scale_mapped
    from {{ ref('int_tc_current') }}
    group by sender_code, report_year
),

components as (
    -- members_total at commune level: DV.members_end.
    select
        'members_total' as indicator_code,
        reporting_units.*,
        'count' as value_kind,
        true as feeds_commune,
        false as feeds_district,
        false as feeds_province,
        cast(dv_values.members_end as numeric) as numerator,
        cast(null as numeric) as denominator,
        dv_values.unit_code is not null as has_reported,
        false as rating_scale_mapped
    from reporting_units
    left join dv_values
        on
            reporting_units.unit_code = dv_values.unit_code
            and reporting_units.report_year = dv_values.report_year
    where reporting_units.form_code = 'DV'

    union all

    -- admissions: sum of DV.admitted.
    select
        'admissions' as indicator_code,
        reporting_units.*,
        'count' as value_kind,
        true as feeds_commune,
        true as feeds_district,
        true as feeds_province,
        cast(dv_values.admitted as numeric) as numerator,
        cast(null as numeric) as denominator,
        dv_values.unit_code is not null as has_reported,
        false as rating_scale_mapped
    from reporting_units
    left join dv_values
        on
            reporting_units.unit_code = dv_values.unit_code
            and reporting_units.report_year = dv_values.report_year
    where reporting_units.form_code = 'DV'

    union all

    -- independent_branch_ratio_pct: CB rows with status independent / CB rows.
    select
        'independent_branch_ratio_pct' as indicator_code,
        reporting_units.*,
        'percent' as value_kind,
        true as feeds_commune,
        true as feeds_district,
        true as feeds_province,
        cast(cb_values.independent_villages as numeric) as numerator,
        cast(cb_values.villages as numeric) as denominator,
        cb_values.unit_code is not null as has_reported,
        false as rating_scale_mapped
    from reporting_units
    left join cb_values
        on
            reporting_units.unit_code = cb_values.unit_code
            and reporting_units.report_year = cb_values.report_year
    where reporting_units.form_code = 'CB'

    union all

    -- members_total at district level and above: sum of TC.members.
    select
        'members_total' as indicator_code,
        reporting_units.*,
        'count' as value_kind,
        false as feeds_commune,
        true as feeds_district,
        true as feeds_province,
        cast(tc_values.members as numeric) as numerator,
        cast(null as numeric) as denominator,
        tc_values.unit_code is not null as has_reported,
        false as rating_scale_mapped
    from reporting_units
    left join tc_values
        on
            reporting_units.unit_code = tc_values.unit_code
            and reporting_units.report_year = tc_values.report_year
    where reporting_units.form_code = 'TC'

    union all

    -- orgs_good_or_above_pct: TC rows rated excellent or good (old scale mapped) /
    -- TC rows rated. No commune level: TC is sent from above the communes.
    select
        'orgs_good_or_above_pct' as indicator_code,
        reporting_units.*,
        'percent' as value_kind,
        false as feeds_commune,
        true as feeds_district,
        true as feeds_province,
        cast(tc_values.orgs_good_or_above as numeric) as numerator,
        cast(tc_values.orgs_rated as numeric) as denominator,
        tc_values.unit_code is not null as has_reported,
        coalesce(tc_values.rating_scale_mapped, false) as rating_scale_mapped
    from reporting_units
    left join tc_values
        on
            reporting_units.unit_code = tc_values.unit_code
            and reporting_units.report_year = tc_values.report_year
    where reporting_units.form_code = 'TC'
)

select
    indicator_code,
    form_code as source_form,
    report_year as year,
    unit_level as reporting_unit_level,
    unit_code as reporting_unit_code,
    commune_code,
    district_code,
    province_code,
    value_kind,
    feeds_commune,
    feeds_district,
    feeds_province,
    numerator,
    denominator,
    is_expected,
    has_reported,
    rating_scale_mapped
from components
