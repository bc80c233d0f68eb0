{#- Incremental builds by reporting year (delete+insert on the year column).

    changed_years(): the reporting years of the submissions whose current version
    changed since this model was last built: files loaded (landing.received_files
    loaded_at) or superseded (superseded_at) after the newest built_at of the model.
    A nightly run with 1 % new files rebuilds only the years those files report on.
    Registry (seed) changes are not seen: run `dbt build --full-refresh` after them.

    in_build_years(column, before=0, after=0): a filter for the years to build. On a
    full refresh (or the first build) it is `true`; otherwise `column` must be a
    changed year, or lie up to `before` years before / `after` years after one
    (a year's change against the previous year depends on the previous year). -#}
{% macro changed_years() -%}
    select distinct cast(changed_files.period as integer) as report_year
    from {{ ref('stg_received_files') }} as changed_files
    where
        changed_files.period ~ '^[0-9]{4}$'
        and (
            changed_files.current_from > (
                select coalesce(max(built.built_at), cast('-infinity' as timestamptz))
                from {{ this }} as built
            )
            or changed_files.current_to > (
                select coalesce(max(built.built_at), cast('-infinity' as timestamptz))
                from {{ this }} as built
            )
        )
{%- endmacro %}

{% macro in_build_years(column, before=0, after=0) -%}
    {%- if this is not none and is_incremental() -%}
        {{ column }} in (
            select changed.report_year + shift.years
            from ({{ changed_years() }}) as changed
            cross join generate_series(-{{ before }}, {{ after }}) as shift (years)
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
