{#- enforce_not_null(): post-hook of the intermediate and mart models (dbt_project.yml)
    making NOT NULL, in the model's table, the columns its `enforced_not_null` test lists
    with the model's own table as `enforced_by` (the one definition: the model's yml).
    PostgreSQL then rejects a null on insert, and the test is a catalog lookup instead of
    a scan of every built row per column. Altered only when a column is not yet NOT NULL
    (a new table: a first build or a full refresh, whose ALTER scans the rows once for
    all columns); on other builds nothing is run, so no lock is taken. -#}
{% macro enforce_not_null() -%}
    {%- set nullable = nullable_columns(enforced_not_null_columns()) if execute else [] -%}
    {%- if nullable -%}
        alter table {{ this }} alter column {{ nullable | join(' set not null, alter column ') }} set not null
    {%- endif -%}
{%- endmacro %}

{#- The columns the model's enforced_not_null tests list for its own table. -#}
{% macro enforced_not_null_columns() -%}
    {%- set columns = [] -%}
    {%- for kwargs in own_table_tests('enforced_not_null') -%}
        {%- do columns.extend(kwargs['columns']) -%}
    {%- endfor -%}
    {%- do return(columns) -%}
{%- endmacro %}

{#- The arguments of the model's tests named `test_name` whose `enforced_by` is the
    model's own table (enforced_not_null, enforced_check: what its post-hooks enforce). -#}
{% macro own_table_tests(test_name) -%}
    {%- set found = [] -%}
    {%- set own_table = this.schema ~ '.' ~ this.identifier -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
        {%- set test = node.test_metadata or {} -%}
        {%- if test.get('name') == test_name
            and node.attached_node == model.unique_id
            and test.kwargs['enforced_by'] == own_table -%}
            {%- do found.append(test.kwargs) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(found) -%}
{%- endmacro %}

{#- Those of `columns` that the model's table lets hold nulls. -#}
{% macro nullable_columns(columns) -%}
    {%- if not columns -%}
        {%- do return([]) -%}
    {%- endif -%}
    {%- set nullable_sql -%}
        select cast(attname as text) from pg_attribute
        where
            attrelid = cast('{{ this }}' as regclass)
            and not attnotnull
            and not attisdropped
            and cast(attname as text) in ('{{ columns | join("', '") }}')
        order by attnum
    {%- endset -%}
    {%- do return(run_query(nullable_sql).columns[0].values()) -%}
{%- endmacro %}
