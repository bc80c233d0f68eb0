{#- The postgres `view` and `table` materializations of this project: no exclusive
    lock on a relation whose definition did not change (see
    ../macros/reader_safe_materializations.sql). Kept out of macros/: sqlfluff's Jinja
    templater loads that folder and knows no materialization tag. -#}

{% materialization view, adapter='postgres' %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if existing_relation is not none and existing_relation.is_view
        and view_is_unchanged(this, sql) -%}
        {{ return(keep_relation(this.incorporate(type='view'), existing_relation)) }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set build_sql = get_create_view_as_sql(intermediate_relation, sql) -%}
    {{ return(swap_relation(target_relation, existing_relation, build_sql)) }}
{% endmaterialization %}

{% materialization table, adapter='postgres' %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- if existing_relation is not none and existing_relation.is_table
        and table_columns_are_unchanged(this, sql) -%}
        {{ return(replace_rows(target_relation, existing_relation, sql)) }}
    {%- endif -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set build_sql = get_create_table_as_sql(False, intermediate_relation, sql) -%}
    {{ return(swap_relation(target_relation, existing_relation, build_sql)) }}
{% endmaterialization %}
