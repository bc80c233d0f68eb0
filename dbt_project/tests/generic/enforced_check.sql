{#- The rule `expression` is a validated CHECK constraint of the table `enforced_by`
    (schema.table: the model's own table; macros/enforce_checks.sql adds it): PostgreSQL
    rejects a row that breaks it, so a test reading the rows could not fail. Costs a
    catalog lookup; fails (one row) when the constraint is missing or not validated. -#}
{% test enforced_check(model, enforced_by, expression) %}
    select cast('{{ check_constraint_name(expression) }}' as text) as constraint_name
    where not exists (
        select 1
        from pg_constraint as con
        where
            con.conrelid = to_regclass('{{ enforced_by }}')
            and con.contype = 'c'
            and con.convalidated
            and cast(con.conname as text) = '{{ check_constraint_name(expression) }}'
    )
{% endtest %}
