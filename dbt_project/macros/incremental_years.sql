{#- Incremental builds by reporting year (delete+insert on the year column).

    build_years(): the reporting years of the submissions whose current version
    changed since this model was last built: files loaded (landing.received_files
    loaded_at) or superseded (superseded_at) after the newest built_at of the model.
    Resolved at run time with two queries (max(built_at) through the model's built_at
    index, then the changed periods) and returned as a list of integers, so the model
    SQL gets literal years the planner can estimate and match against the year index.
    None on a full refresh or the first build (every year is built); [] when nothing
    changed (an empty incremental table: every year with a file). A nightly run with 1 % new files rebuilds only the years those files
    report on. Registry (seed) changes are not seen: run `dbt build --full-refresh`
    after them.

    in_build_years(column, before=0, after=0): a filter for the years to build. On a
    full refresh (or the first build) it is `true`; with no change it is `false`;
    otherwise `column in (<literal years>)`: a changed year, or a year up to `before`
    years before / `after` years after one (a year's change against the previous year
    depends on the previous year). The literal list is computed when the model runs,
    so the 1 January roll-over needs nothing: the years come from the files' periods,
    never from the clock. `dbt compile`/parse without execution renders `true`. -#}
{% macro build_years(since='resolve') -%}
    {#- since: the result of build_since(), for a model that needs it too. -#}
    {%- if since == 'resolve' -%}
        {%- set since = build_since() -%}
    {%- endif -%}
    {%- if since is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set years_sql -%}
        select distinct cast(changed_files.period as integer) as report_year
        from {{ ref('stg_received_files') }} as changed_files
        where
            changed_files.period ~ '^[0-9]{4}$'
            and {{ changed_since(since, 'changed_files') }}
        order by 1
    {%- endset -%}
    {%- set years = [] -%}
    {%- for year in run_query(years_sql).columns[0].values() -%}
        {%- do years.append(year | int) -%}
    {%- endfor -%}
    {%- do return(years) -%}
{%- endmacro %}

{#- The newest built_at of this model, as text ('-infinity' for an empty table: every
    file is newer); none on a full refresh, the first build or without execution. -#}
{% macro build_since() -%}
    {%- if not execute or not is_incremental_build() -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set since_sql -%}
        select cast(max(built_at) as text) from {{ this }}
    {%- endset -%}
    {%- do return(run_query(since_sql).columns[0].values()[0] or '-infinity') -%}
{%- endmacro %}

{#- A file (stg_received_files row) whose current version began or ended after since. -#}
{% macro changed_since(since, files) -%}
    (
        {{ files }}.current_from > cast('{{ since }}' as timestamptz)
        or {{ files }}.current_to > cast('{{ since }}' as timestamptz)
    )
{%- endmacro %}

{#- in_changed_submissions(since): a filter on rows keyed by form_code, unit_code and
    period, for the models incremental by submission: the submissions with a version
    loaded or superseded after since (every version of such a key, since a late
    arrival can renumber the current one without touching it); `true` on a full refresh
    or first build (since none). Models using it declare
    `-- depends_on: {{ ref('stg_received_files') }}` when they do not ref it otherwise. -#}
{% macro in_changed_submissions(since) -%}
    {%- if since is none -%}
        true
    {%- else -%}
        (form_code, unit_code, period) in (
            select
                changed_files.form_code,
                changed_files.unit_code,
                changed_files.period
            from {{ ref('stg_received_files') }} as changed_files
            where {{ changed_since(since, 'changed_files') }}
        )
    {%- endif -%}
{%- endmacro %}

{% macro in_build_years(column, before=0, after=0, years='resolve') -%}
    {#- years: the result of build_years(), for a model that filters several times
        (one resolution per model instead of one per filter). -#}
    {%- if years == 'resolve' -%}
        {%- set years = build_years() -%}
    {%- endif -%}
    {%- if years is none -%}
        true
    {%- else -%}
        {%- set wanted = [] -%}
        {%- for year in years -%}
            {%- for shift in range(-before, after + 1) -%}
                {%- if (year + shift) not in wanted -%}
                    {%- do wanted.append(year + shift) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if wanted -%}
            {{ column }} in ({{ wanted | sort | join(', ') }})
        {%- else -%}
            false
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- in_build_terms(since): a filter on fct_term_targets rows (congress_term,
    term_start_year, term_end_year) for the congress terms to rebuild: `true` on a full
    refresh or first build; otherwise the terms overlapping a changed reporting year
    widened by two years either side (the years fct_indicator_values rebuilds), the
    terms of CT submissions whose current version changed, and the terms still running
    this year when int_unit_lineage got rows since (the running term's commune targets
    map onto today's communes through this year's lineage, which a new calendar year or
    a registry rebuild writes; on other nights it is unchanged). -#}
{% macro in_build_terms(since, running='resolve') -%}
    {#- running: the result of running_terms_if_lineage_rebuilt(since), for a model that
        needs it too (one query instead of two). -#}
    {%- if since is none -%}
        true
    {%- else -%}
        {%- set terms_sql -%}
            select distinct changed_files.period
            from {{ ref('stg_received_files') }} as changed_files
            where
                changed_files.form_code = 'CT'
                and changed_files.period ~ '^[0-9]{4}-[0-9]{4}$'
                and {{ changed_since(since, 'changed_files') }}
            order by 1
        {%- endset -%}
        {%- set terms = run_query(terms_sql).columns[0].values() -%}
        (
            {{ running_terms_if_lineage_rebuilt(since) if running == 'resolve' else running }}
            {%- for year in build_years(since=since) %}
            or (term_start_year <= {{ year + 2 }} and term_end_year > {{ year - 2 }})
            {%- endfor %}
            {%- if terms %}
            or congress_term in ('{{ terms | join("', '") }}')
            {%- endif %}
        )
    {%- endif -%}
{%- endmacro %}

{#- The terms still running this year (`term_end_year > this year`) when int_unit_lineage
    got rows since `since` (a new calendar year or a registry rebuild: the running
    term's commune targets map onto today's communes through this year's lineage);
    otherwise `false`. -#}
{% macro running_terms_if_lineage_rebuilt(since) -%}
    {%- set lineage_sql -%}
        select coalesce(max(built_at) > cast('{{ since }}' as timestamptz), true)
        from {{ ref('int_unit_lineage') }}
    {%- endset -%}
    {%- if run_query(lineage_sql).columns[0].values()[0] -%}
        term_end_year > cast(extract(year from current_date) as integer)
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- in_years_not_built(column, this_column='year'): for the incremental models that are a
    function of the registry and the calendar alone (int_unit_years and the two built
    from it). Their rows change only when the registry seeds, the vars or the model's
    code change, which setup's fingerprint turns into a full rebuild, or when a new
    calendar year begins. So a full refresh or first build builds every year (`true`),
    and any other run only the years after the newest the table holds: none on most
    nights, the new year on the first night of January. -#}
{% macro in_years_not_built(column, this_column='year') -%}
    {%- if is_incremental_build() -%}
        {{ column }} > (select coalesce(max({{ this_column }}), -1) from {{ this }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- is_incremental(), also where there is no table (`this` is none in dbt unit tests,
    whose fixtures are a full build's inputs). -#}
{% macro is_incremental_build() -%}
    {%- do return(this is not none and is_incremental()) -%}
{%- endmacro %}
