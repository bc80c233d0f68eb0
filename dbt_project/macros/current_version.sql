{#- The rows of one form (CB, DV, TC) from the current version of each submission:
    every column of its staging view, in the view's order, so a column added to the
    form flows through. A rating column is kept as `<rating>_reported`, mapped onto the
    2018 scale under its own name and followed by `rating_scale_mapped`; `derived` adds
    computed columns after a column ({column: [[name, expression]]}). Incremental by
    reporting year (macros/incremental_years.sql); config in dbt_project.yml. -#}
{% macro current_version(form, rating=none, derived={}) -%}
    {%- set staging_model = 'stg_form_' ~ form | lower -%}
    {%- set columns = [] -%}
    {%- do add_form_columns(staging_model, columns) -%}
    with

    current_files as (
        select file_id from {{ ref('int_current_submissions') }}
        where
            form_code = '{{ form | upper }}'
            and period ~ '^[0-9]{4}$'
            and {{ in_build_years('cast(period as integer)') }}
    ),

    rows_ as (
        select * from {{ ref(staging_model) }}
    )

    select
        {% for column in columns -%}
        {% if column == rating -%}
        rows_.{{ column }} as {{ column }}_reported,
        {{ rating_on_current_scale('rows_.' ~ column) }} as {{ column }},
        rows_.report_year < {{ var('rating_scale_change_year') }} as rating_scale_mapped,
        {% else -%}
        rows_.{{ column }},
        {% endif -%}
        {% for name, expression in derived.get(column, []) -%}
        {{ expression }} as {{ name }},
        {% endfor -%}
    {% endfor -%}
        now() as built_at
    from rows_
    inner join current_files on rows_.file_id = current_files.file_id
{%- endmacro %}

{#- Appends the columns of a staging model to `columns`, in its view's order. A unit
    test's ref is a fixture CTE dbt cannot introspect (dbt-core#10139): there the view
    itself is read, which exists, as dbt needs it for the fixtures' column types. No
    `return`: sqlfluff's templater would end the calling macro with it. -#}
{% macro add_form_columns(model_name, columns) -%}
    {%- if execute -%}
        {%- set relation = ref(model_name) -%}
        {%- if relation.schema is none -%}
            {%- set relation = adapter.get_relation(
                database=target.database,
                schema=generate_schema_name('staging', none),
                identifier=model_name,
            ) -%}
        {%- endif -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do columns.append(column.name) -%}
        {%- endfor -%}
        {%- if not columns -%}
            {%- do exceptions.raise_compiler_error('no columns found for ' ~ model_name) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
