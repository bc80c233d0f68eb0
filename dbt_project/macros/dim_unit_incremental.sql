{#- dim_unit's incremental build (models/marts/dim_unit.sql).

    dim_unit_changed_units(): none when every row is rebuilt (a full refresh or first
    build; a reporting year newer than any the table holds, which closes the validity
    of units not seen in it; a calendar year other than the last build's, since
    is_current of units built from submissions changes only then); otherwise what to
    rebuild: `registry`, a filter for the registry rows whose is_current changed since
    the day of the last build (a validity that began or ended in between), and
    `villages` and `base_orgs`, subqueries of the codes in the CB and TC files loaded
    or superseded since the last build (every version of them: a code the new version
    left out is rebuilt from its other years, or removed). None of them reads dim_unit
    itself, which the pre-hook has changed by the time the model's query runs.
    dim_unit_delete_rebuilt(): the pre-hook that deletes the rows about to be rebuilt. -#}
{% macro dim_unit_changed_units() -%}
    {%- if not execute or not is_incremental_build() -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set state_sql -%}
        select
            cast(max(built_at) as text),
            cast(cast(max(built_at) as date) as text),
            coalesce(extract(year from max(built_at)) <> extract(year from current_date), true)
            or coalesce(max(last_seen_year) filter (where unit_level = 'village'), -1)
            <> (select coalesce(max(report_year), -1) from {{ ref('int_cb_current') }})
        from {{ this }}
    {%- endset -%}
    {%- set state = run_query(state_sql).rows[0] -%}
    {%- if state[2] -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set since = state[0] -%}
    {%- set registry -%}
        (
            valid_from > cast('{{ state[1] }}' as date) and valid_from <= current_date
            or valid_to >= cast('{{ state[1] }}' as date) and valid_to < current_date
        )
    {%- endset -%}
    {%- set files -%}
        select changed_files.file_id from {{ ref('stg_received_files') }} as changed_files
        where changed_files.form_code = '{form}' and {{ changed_since(since, 'changed_files') }}
    {%- endset -%}
    {%- set villages -%}
        select changed_rows.village_code from {{ ref('stg_form_cb') }} as changed_rows
        where changed_rows.file_id in ({{ files | replace('{form}', 'CB') }})
    {%- endset -%}
    {%- set base_orgs -%}
        select changed_rows.org_code from {{ ref('stg_form_tc') }} as changed_rows
        where changed_rows.file_id in ({{ files | replace('{form}', 'TC') }})
    {%- endset -%}
    {%- do return({'registry': registry, 'villages': villages, 'base_orgs': base_orgs}) -%}
{%- endmacro %}

{% macro dim_unit_delete_rebuilt() -%}
    {%- if execute and is_incremental_build() -%}
        {%- set changed = dim_unit_changed_units() -%}
        {#- Three statements, not one with OR: an IN (subquery) under OR stays a subplan,
            run again for every row of the table when the planner cannot hash it (175 s
            on the national history); alone, each is a semi-join. -#}
        delete from {{ this }}
        where unit_source = 'registry' and {{ dim_unit_rebuilds(changed, 'registry') }};
        delete from {{ this }}
        where
            unit_level = 'village'
            and {{ dim_unit_rebuilds(changed, 'villages', 'unit_code') }};
        delete from {{ this }}
        where
            unit_level = 'base_org'
            and {{ dim_unit_rebuilds(changed, 'base_orgs', 'unit_code') }}
    {%- endif -%}
{%- endmacro %}

{#- The filter for rows of one kind (registry, villages, base_orgs) to rebuild: `true`
    when everything is rebuilt. -#}
{% macro dim_unit_rebuilds(changed, kind, column=none) -%}
    {%- if changed is none -%}
        true
    {%- elif kind == 'registry' -%}
        {{ changed.registry }}
    {%- else -%}
        {{ column }} in ({{ changed[kind] }})
    {%- endif -%}
{%- endmacro %}
