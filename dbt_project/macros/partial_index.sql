{#- partial_index(columns, where): post-hook creating an index on `columns` of the
    model's table restricted to the rows `where`, unless the table has one with the
    same predicate. dbt's `indexes` config takes no predicate. The index is left
    unnamed: on a full refresh the replaced table (renamed to a backup, dropped after
    the hooks) still holds its indexes' names, so PostgreSQL names the new one. On a
    year-partitioned table the index is created on the parent and PostgreSQL puts one
    on every partition, also on those added later. -#}
{% macro partial_index(columns, where) -%}
    {%- set listed = columns | join(', ') -%}
    {%- if execute and not has_partial_index(listed) -%}
        create index on {{ this }} ({{ listed }}) where {{ where }}
    {%- endif -%}
{%- endmacro %}

{#- Whether the model's table has an index with a predicate on exactly these columns. -#}
{% macro has_partial_index(listed) -%}
    {%- set held_sql -%}
        select count(*) from pg_index
        where
            indrelid = cast('{{ this }}' as regclass)
            and pg_get_expr(indpred, indrelid) is not null
            and pg_get_indexdef(indexrelid) like '%({{ listed }})%'
    {%- endset -%}
    {%- do return(run_query(held_sql).columns[0].values()[0] > 0) -%}
{%- endmacro %}
