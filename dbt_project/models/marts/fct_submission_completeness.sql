-- K1 completeness and timeliness: per reporting scope (a district for the years it
-- existed at year end, a province from 2025), year and form, how many submissions the
-- registry expects, how many arrived, how many on time, and which are overdue.
-- A submission is received when it has an accepted version (loaded or superseded);
-- on time when its first accepted version was received (Vietnam time) on or before the
-- deadline, var('submission_deadline_month_day', '01-31') of the following year; overdue when
-- nothing is accepted and the deadline has passed on var('completeness_as_of', '') (default:
-- the day of the build).
-- Incremental by report_year: a year is judged again when files of that year changed
-- since the last build, when it is new, or when it is not settled: a settled year had
-- its deadline passed on the day it was judged, that day is not after today's as_of
-- date and its deadline is still the configured one. Its counts and overdue units then
-- change only with its files; as_of_date keeps the day it was judged.
-- depends_on: {{ ref('stg_received_files') }}
{{
    config(
        materialized='incremental',
        unique_key='report_year',
        indexes=[
            {'columns': ['report_year']},
            {'columns': ['built_at']},
        ],
    )
}}

with

as_of as (
    select
        {% if var('completeness_as_of', '') %}
            cast('{{ var("completeness_as_of") }}' as date)
        {% else %}
            current_date
        {% endif %} as as_of_date
),

{% if is_incremental_build() %}
    settled_years as (
        select judged_before.report_year
        from {{ this }} as judged_before
        group by judged_before.report_year
        having
            bool_and(
                judged_before.is_deadline_passed
                and judged_before.as_of_date <= (select as_of.as_of_date from as_of)
                and judged_before.deadline
                = {{ submission_deadline('judged_before.report_year') }}
            )
    ),
{% endif %}

expected as (
    select * from {{ ref('int_expected_submissions') }}
    {% if is_incremental_build() %}
        where
            report_year not in (select settled_years.report_year from settled_years)
            or {{ in_build_years('report_year') }}
    {% endif %}
),

accepted as (
    select
        form_code,
        unit_code,
        period,
        min(received_at) as first_received_at
    from {{ ref('stg_received_files') }}
    where
        file_status in ('loaded', 'superseded')
        and form_code in ('CB', 'DV', 'TC')
        {% if is_incremental_build() %}
            and period in (select distinct cast(expected.report_year as text) from expected)
        {% endif %}
    group by form_code, unit_code, period
),

submissions as (
    select
        expected.form_code,
        expected.report_year,
        expected.unit_code,
        case
            when expected.district_code is not null then 'district' else 'province'
        end as scope_level,
        coalesce(expected.district_code, expected.province_code) as scope_code,
        {{ submission_deadline('expected.report_year') }} as deadline,
        as_of.as_of_date,
        accepted.first_received_at,
        accepted.first_received_at is not null as is_received
    from expected
    cross join as_of
    left join accepted
        on
            expected.form_code = accepted.form_code
            and expected.unit_code = accepted.unit_code
            and cast(expected.report_year as text) = accepted.period
),

judged as (
    select
        *,
        coalesce(
            cast(timezone('Asia/Ho_Chi_Minh', first_received_at) as date) <= deadline,
            false
        ) as is_on_time,
        not is_received and deadline < as_of_date as is_overdue
    from submissions
)

select
    scope_level,
    scope_code,
    report_year,
    form_code,
    min(deadline) as deadline,
    min(as_of_date) as as_of_date,
    min(deadline) < min(as_of_date) as is_deadline_passed,
    count(*) as expected_count,
    count(*) filter (where is_received) as received_count,
    count(*) filter (where is_on_time) as on_time_count,
    count(*) filter (where is_received and not is_on_time) as late_count,
    count(*) filter (where is_overdue) as overdue_count,
    round(count(*) filter (where is_received) / cast(count(*) as numeric), 4)
        as reporting_rate,
    round(count(*) filter (where is_on_time) / cast(count(*) as numeric), 4)
        as on_time_rate,
    coalesce(
        array_agg(unit_code order by unit_code) filter (where is_overdue),
        cast(array[] as text[])
    ) as overdue_unit_codes,
    now() as built_at
from judged
where scope_code is not null
group by scope_level, scope_code, report_year, form_code
