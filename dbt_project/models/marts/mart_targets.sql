-- Congress-term targets (form CT) against the actual values: one row per geography,
-- unit, term, indicator and basis. as_reported: the unit's own target. current: the
-- target of a unit of today; for a unit formed by the 2025 mergers it is derived as the
-- sum of its predecessors' targets (weighted by the crosswalk share of divided
-- communes; count indicators only, a percent target is kept only from a single whole
-- predecessor) and flagged is_derived.
-- A term 'S-E' covers the reporting years S to E - 1 (dim_year). term_target: for a
-- per_year target of a flow (dim_indicator.sums_over_term) target x years of the
-- term, otherwise the target. actual: flows sum the years reported so far, levels
-- take the latest year. progress_pct = actual / term_target x 100 (at_most: the
-- inverse). is_met: per_year, every reported year met the yearly target; term_total,
-- the actual meets the term target.
-- Incremental, delete+insert by build_partition (a term, geography and unit): a night
-- rebuilds, within the terms that overlap the years fct_indicator_values rebuilt (a
-- changed year and two either side) and the terms of changed CT submissions, the
-- targets of the units whose indicator rows were rebuilt since the last build or whose
-- CT submission changed (and of the current communes those map onto); and the whole
-- running term when int_unit_lineage was rebuilt (its commune targets map onto today's
-- communes through the lineage of the current year, written on a new calendar year;
-- macros/incremental_years.sql). A night that resends a few communes rewrites their
-- targets and those of the districts and provinces, not the ~100,000 of the terms.
-- The key is a unique index, unit_code first for analysts' lookups of one unit.
-- depends_on: {{ ref('stg_received_files') }}
{{
    config(
        materialized='incremental',
        unique_key='build_partition',
        indexes=[
            {
                'columns': [
                    'unit_code', 'congress_term', 'geography', 'unit_level', 'indicator_code',
                    'basis',
                ],
                'unique': True,
            },
            {'columns': ['build_partition']},
            {'columns': ['built_at']},
        ],
        post_hook=[
            {'sql': '{{ vacuum_after_replace() }}', 'transaction': false},
        ],
    )
}}

{%- set since = build_since() %}
{#- The running term when this year's lineage was written (`false` otherwise); on a full
    build every target is built. -#}
{%- set running = 'true' if since is none else running_terms_if_lineage_rebuilt(since) %}

with

targets as (
    select * from {{ ref('fct_term_targets') }}
    where {{ in_build_terms(since, running=running) }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

lineage as (
    select * from {{ ref('int_unit_lineage') }}
),

-- CT submissions whose current version changed since the last build.
changed_files as (
    select files.unit_code from {{ ref('stg_received_files') }} as files
    where
        files.form_code = 'CT'
        and {{ 'false' if since is none else changed_since(since, 'files') }}
),

as_reported_targets as (
    select
        'as_reported' as geography,
        unit_level,
        unit_code,
        congress_term,
        term_start_year,
        term_end_year,
        indicator_code,
        basis,
        direction,
        target_value,
        false as is_derived,
        1 as predecessors_with_target
    from targets
),

-- Commune targets mapped onto today's communes (the lineage of the last year of the
-- term, or of this year for a term still running).
mapped as (
    select
        targets.*,
        lineage.current_commune_code,
        lineage.weight,
        lineage.is_whole
    from targets
    inner join lineage
        on
            targets.unit_level = lineage.unit_level
            and targets.unit_code = lineage.unit_code
            and lineage.year = least(
                targets.term_end_year - 1, cast(extract(year from current_date) as integer)
            )
    where targets.unit_level = 'commune' and lineage.current_commune_code is not null
),

current_targets as (
    select
        'current' as geography,
        'commune' as unit_level,
        mapped.current_commune_code as unit_code,
        mapped.congress_term,
        mapped.term_start_year,
        mapped.term_end_year,
        mapped.indicator_code,
        mapped.basis,
        mapped.direction,
        case
            when max(indicators.value_kind) = 'count'
                then sum(mapped.target_value * mapped.weight)
            when count(*) = 1 and bool_and(mapped.is_whole) then max(mapped.target_value)
        end as target_value,
        count(*) > 1 or bool_or(mapped.unit_code <> mapped.current_commune_code)
        or not bool_and(mapped.is_whole) as is_derived,
        count(*) as predecessors_with_target
    from mapped
    inner join indicators on mapped.indicator_code = indicators.indicator_code
    group by
        mapped.current_commune_code,
        mapped.congress_term,
        mapped.term_start_year,
        mapped.term_end_year,
        mapped.indicator_code,
        mapped.basis,
        mapped.direction
),

all_targets as (
    select * from as_reported_targets
    union all
    select * from current_targets
    where target_value is not null
),

-- The units whose actual values or targets may have changed since the last build (on a
-- full build every target is built).
touched_units as (
    -- fct_indicator_values rewrites whole partitions: a changed commune (as reported and
    -- its current commune), and every district, province and the nation of a year. No
    -- target is set for a village: the rows above it (fct_indicator_values_rolled_up).
    select distinct
        values_.geography,
        values_.unit_code
    from {{ ref('fct_indicator_values_rolled_up') }} as values_
    where
        {{ 'false' if since is none
            else "values_.built_at > cast('" ~ since ~ "' as timestamptz)" }}
    union
    select
        'as_reported' as geography,
        changed_files.unit_code
    from changed_files
    union
    select
        'current' as geography,
        lineage.current_commune_code as unit_code
    from changed_files
    inner join lineage
        on
            changed_files.unit_code = lineage.unit_code
            and lineage.unit_level = 'commune'
    where lineage.current_commune_code is not null
),

rebuilt_targets as (
    select * from all_targets
    where
        {{ running }}
        or (geography, unit_code) in (
            select
                touched_units.geography,
                touched_units.unit_code
            from touched_units
        )
),

measured as (
    select
        rebuilt_targets.*,
        indicators.sums_over_term,
        rebuilt_targets.term_end_year - rebuilt_targets.term_start_year as years_in_term,
        case
            when rebuilt_targets.basis = 'per_year' and indicators.sums_over_term
                then
                    rebuilt_targets.target_value
                    * (rebuilt_targets.term_end_year - rebuilt_targets.term_start_year)
            else rebuilt_targets.target_value
        end as term_target,
        actuals.years_reported,
        actuals.latest_year,
        case
            when indicators.sums_over_term then actuals.value_sum
            else actuals.latest_value
        end as actual_value,
        actuals.years_met,
        coalesce(actuals.is_estimate, false) as is_estimate
    from rebuilt_targets
    inner join indicators on rebuilt_targets.indicator_code = indicators.indicator_code
    -- One lookup of the term's years per target: as a join, the planner (which
    -- misjudges rebuilt_targets by orders of magnitude) picked hash or merge joins over
    -- every year of fct_indicator_values, and over its year partitions a scan of all
    -- of them (11 s on a quiet national night instead of 0.6 s).
    cross join lateral (
        select
            count(values_.value) as years_reported,
            max(values_.year) filter (where values_.value is not null) as latest_year,
            sum(values_.value) as value_sum,
            (
                array_agg(values_.value order by values_.year desc)
                filter (where values_.value is not null)
            )[1] as latest_value,
            count(*) filter (
                where
                (
                    rebuilt_targets.direction = 'at_most'
                    and values_.value <= rebuilt_targets.target_value
                )
                or (
                    rebuilt_targets.direction <> 'at_most'
                    and values_.value >= rebuilt_targets.target_value
                )
            ) as years_met,
            bool_or(values_.is_estimate) as is_estimate
        from {{ ref('fct_indicator_values_rolled_up') }} as values_
        where
            values_.geography = rebuilt_targets.geography
            and values_.unit_level = rebuilt_targets.unit_level
            and values_.unit_code = rebuilt_targets.unit_code
            and values_.indicator_code = rebuilt_targets.indicator_code
            and values_.year >= rebuilt_targets.term_start_year
            and values_.year < rebuilt_targets.term_end_year
    ) as actuals
)

select
    geography,
    unit_level,
    unit_code,
    congress_term,
    term_start_year,
    term_end_year,
    indicator_code,
    basis,
    direction,
    target_value,
    term_target,
    years_in_term,
    years_reported,
    latest_year,
    actual_value,
    case
        when actual_value is null or term_target is null then null
        when direction = 'at_most'
            then
                case
                    when actual_value = 0 then 100
                    else term_target * 100 / actual_value
                end
        else actual_value * 100 / nullif(term_target, 0)
    end as progress_pct,
    case
        when years_reported = 0 then null
        when basis = 'per_year' then years_met = years_reported
        when direction = 'at_most' then actual_value <= term_target
        else actual_value >= term_target
    end as is_met,
    years_met,
    latest_year >= term_end_year - 1 as is_term_complete,
    is_derived,
    predecessors_with_target,
    is_estimate,
    -- The unit of an incremental rebuild: a unit's targets of one term.
    congress_term || ':' || geography || ':' || unit_code as build_partition,
    now() as built_at
from measured
