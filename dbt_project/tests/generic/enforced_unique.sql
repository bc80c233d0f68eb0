{#- The model's key is enforced by PostgreSQL: the table `enforced_by` (schema.table,
    the table the model reads 1:1) has a valid unique index or primary key on exactly
    `columns`, in that order. Costs a catalog lookup instead of a GROUP BY over every
    row; fails (one row) when the constraint is missing, invalid or on other columns. -#}
{% test enforced_unique(model, enforced_by, columns) %}
    select cast('{{ enforced_by }}' as text) as enforced_by
    where not exists (
        select 1
        from pg_index as idx
        where
            idx.indrelid = to_regclass('{{ enforced_by }}')
            and idx.indisunique
            and idx.indisvalid
            and (
                select array_agg(cast(att.attname as text) order by key_columns.position)
                from unnest(cast(idx.indkey as int2 [])) with ordinality
                    as key_columns (attnum, position)
                inner join pg_attribute as att
                    on
                        idx.indrelid = att.attrelid
                        and key_columns.attnum = att.attnum
            ) = cast(array['{{ columns | join("', '") }}'] as text [])
    )
{% endtest %}
