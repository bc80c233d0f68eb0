{#- The columns are NOT NULL in the table `enforced_by` (schema.table: the model's own
    table, or the table a view reads 1:1): PostgreSQL rejects a null on insert, so a
    not_null test reading the rows could not fail. Costs a catalog lookup; fails with
    one row per listed column that is missing or may hold nulls. -#}
{% test enforced_not_null(model, enforced_by, columns) %}
    select listed.column_name
    from unnest(cast(array['{{ columns | join("', '") }}'] as text [])) as listed (column_name)
    left join pg_attribute as att
        on
            att.attrelid = to_regclass('{{ enforced_by }}')
            and cast(att.attname as text) = listed.column_name
            and not att.attisdropped
    where not coalesce(att.attnotnull, false)
{% endtest %}
