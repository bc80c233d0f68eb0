-- Additive components of every indicator per reporting unit, form and year (wide: one
-- row per expected or reporting unit). Marts only sum these (weighted on current
-- boundaries): a ratio above the reporting unit is the sum of numerators over the sum
-- of denominators, never an average of ratios. A unit that has not reported has
-- has_reported = false and empty components (missing, not zero). Only years in which
-- the form has any current submission get rows.
-- Incremental: the reporting years whose submissions changed since the last build.
-- depends_on: {{ ref('stg_received_files') }}
{{
    config(
        unique_key='year',
        indexes=[
            {'columns': ['year']},
            {'columns': ['built_at']},
        ],
    )
}}

{%- set build = build_years() %}

with

expected as (
    select * from {{ ref('int_expected_submissions') }}
    where {{ in_build_years('report_year', years=build) }}
),

submissions as (
    select
        form_code,
        unit_code,
        file_id,
        cast(period as integer) as report_year
    from {{ ref('int_current_submissions') }}
    where
        form_code in ('CB', 'DV', 'TC')
        and period ~ '^[0-9]{4}$'
        and {{ in_build_years('cast(period as integer)', years=build) }}
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
        'DV' as form_code,
        commune_code as unit_code,
        report_year,
        sum(members_end) as dv_members_end,
        sum(members_start) as dv_members_start,
        sum(admitted) as dv_admitted,
        sum(probationary_end) as dv_probationary_end,
        sum(population) as dv_population
    from {{ ref('int_dv_current') }}
    where {{ in_build_years('report_year', years=build) }}
    group by commune_code, report_year
),

cb_values as (
    select
        'CB' as form_code,
        commune_code as unit_code,
        report_year,
        count(*) as cb_villages,
        count(*) filter (where branch_status = 'independent') as cb_independent,
        count(*) filter (where branch_status = 'joint') as cb_joint,
        count(*) filter (where branch_status = 'none') as cb_without_branch,
        count(*) filter (where members = 0) as cb_without_members,
        count(branch_rating) as cb_rated,
        count(*) filter (where branch_rating in ('excellent', 'good'))
            as cb_good_or_above,
        bool_or(rating_scale_mapped and branch_rating is not null)
            as cb_rating_scale_mapped
    from {{ ref('int_cb_current') }}
    where {{ in_build_years('report_year', years=build) }}
    group by commune_code, report_year
),

tc_values as (
    select
        'TC' as form_code,
        sender_code as unit_code,
        report_year,
        sum(members) as tc_members,
        count(*) as tc_orgs,
        sum(subordinate_units) as tc_subordinate_units,
        count(rating) as tc_rated,
        count(*) filter (where rating in ('excellent', 'good')) as tc_good_or_above,
        count(*) filter (where rating = 'excellent') as tc_excellent,
        count(*) filter (where rating = 'not_completed') as tc_not_completed,
        bool_or(rating_scale_mapped) as tc_rating_scale_mapped
    from {{ ref('int_tc_current') }}
    where {{ in_build_years('report_year', years=build) }}
    group by sender_code, report_year
)

select
    reporting_units.form_code as source_form,
    reporting_units.report_year as year,
    reporting_units.unit_level as reporting_unit_level,
    reporting_units.unit_code as reporting_unit_code,
    reporting_units.commune_code,
    reporting_units.district_code,
    reporting_units.province_code,
    reporting_units.is_expected,
    submissions.file_id is not null as has_reported,
    submissions.file_id,
    dv_values.dv_members_end,
    dv_values.dv_members_start,
    dv_values.dv_admitted,
    dv_values.dv_probationary_end,
    dv_values.dv_population,
    cb_values.cb_villages,
    cb_values.cb_independent,
    cb_values.cb_joint,
    cb_values.cb_without_branch,
    cb_values.cb_without_members,
    cb_values.cb_rated,
    cb_values.cb_good_or_above,
    tc_values.tc_members,
    tc_values.tc_orgs,
    tc_values.tc_subordinate_units,
    tc_values.tc_rated,
    tc_values.tc_good_or_above,
    tc_values.tc_excellent,
    tc_values.tc_not_completed,
    coalesce(
        cb_values.cb_rating_scale_mapped, tc_values.tc_rating_scale_mapped, false
    ) as rating_scale_mapped,
    now() as built_at
from reporting_units
left join submissions
    on
        reporting_units.form_code = submissions.form_code
        and reporting_units.unit_code = submissions.unit_code
        and reporting_units.report_year = submissions.report_year
left join dv_values
    on
        reporting_units.form_code = dv_values.form_code
        and reporting_units.unit_code = dv_values.unit_code
        and reporting_units.report_year = dv_values.report_year
left join cb_values
    on
        reporting_units.form_code = cb_values.form_code
        and reporting_units.unit_code = cb_values.unit_code
        and reporting_units.report_year = cb_values.report_year
left join tc_values
    on
        reporting_units.form_code = tc_values.form_code
        and reporting_units.unit_code = tc_values.unit_code
        and reporting_units.report_year = tc_values.report_year
