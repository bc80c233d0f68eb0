{#- enforce_checks(): post-hook of the intermediate and mart models (dbt_project.yml)
    adding to the model's table a CHECK constraint for each `enforced_check` test of the
    model with its own table as `enforced_by` (the one definition: the model's yml).
    PostgreSQL then rejects a row that breaks the rule on insert, and the test is a
    catalog lookup instead of a scan of every built row (on the national history, each
    such scan of fct_indicator_values read 13 million rows in a full build and 600,000
    in a night). Each constraint is named after its expression (check_<md5>); only the
    missing ones are added, in one ALTER TABLE (one scan of a new table for all of
    them), and a check_ constraint whose test is gone is dropped. On other builds
    nothing is run, so no lock is taken. -#}
{% macro enforce_checks() -%}
    {%- if execute -%}
        {%- set wanted = {} -%}
        {%- for expression in enforced_check_expressions() -%}
            {%- do wanted.update({check_constraint_name(expression): expression}) -%}
        {%- endfor -%}
        {%- set present = existing_check_constraints() -%}
        {%- set actions = [] -%}
        {%- for name in present if name not in wanted -%}
            {%- do actions.append('drop constraint ' ~ name) -%}
        {%- endfor -%}
        {%- for name, expression in wanted.items() if name not in present -%}
            {%- do actions.append('add constraint ' ~ name ~ ' check (' ~ expression ~ ')') -%}
        {%- endfor -%}
        {%- if actions -%}
            alter table {{ this }} {{ actions | join(', ') }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The constraint of an expression: its name is a digest of its text, so an edited
    expression is a new constraint (and the old one is dropped). -#}
{% macro check_constraint_name(expression) -%}
    {{- 'check_' ~ local_md5(expression)[:16] -}}
{%- endmacro %}

{#- The expressions of the model's enforced_check tests on its own table. -#}
{% macro enforced_check_expressions() -%}
    {%- set expressions = [] -%}
    {%- for kwargs in own_table_tests('enforced_check') -%}
        {%- do expressions.append(kwargs['expression']) -%}
    {%- endfor -%}
    {%- do return(expressions) -%}
{%- endmacro %}

{#- The names of the check_ constraints the model's table has. -#}
{% macro existing_check_constraints() -%}
    {%- set present_sql -%}
        select cast(conname as text) from pg_constraint
        where
            conrelid = cast('{{ this }}' as regclass)
            and contype = 'c'
            and conname like 'check\_%'
        order by 1
    {%- endset -%}
    {%- do return(run_query(present_sql).columns[0].values()) -%}
{%- endmacro %}
