{#- An index on {{ this }} (columns), created only when the table has none on exactly
    these columns. For indexes added after a table exists: dbt's `indexes` config is
    applied only when a table is created, so existing warehouses would need a full
    refresh. Unnamed, so PostgreSQL picks a free name (during a full refresh the old
    table, still holding its index, exists until the end of the build).
    unique=true: a unique index, the enforced primary key of an incremental model
    (tested by the generic test enforced_unique, a catalog lookup, instead of a
    GROUP BY over every row). On a full refresh it is built once after the insert;
    later delete+insert builds are checked row by row as they insert. -#}
{% macro ensure_index(columns, unique=false) -%}
    {%- set column_list = columns | join(', ') -%}
    do $ensure_index$
    begin
        if not exists (
            select 1
            from pg_indexes
            where
                schemaname = '{{ this.schema }}'
                and tablename = '{{ this.identifier }}'
                and indexdef like '{{ "%UNIQUE INDEX" if unique else "" }}%USING btree ({{ column_list }})'
        ) then
            create {{ "unique " if unique else "" }}index on {{ this }} ({{ column_list }});
        end if;
    end
    $ensure_index$
{%- endmacro %}
