{#- Tables partitioned by year, for incremental models whose config has
    meta: {partition_by_year: true} (fct_indicator_values).

    A night rewrites the rows of a few years; with one partition per year its delete,
    its index maintenance and its vacuum touch those years' partitions, not the indexes
    of every year held (a 4,400-file night on the national history: delete+insert and
    vacuum 7.4-8.0 s instead of 14-20 s, docs/dbt-night.md).

    dbt creates a model's table with create_table_as: on the first build, and on a full
    refresh as `<name>__dbt_tmp` renamed over the old table. This override creates that
    table partitioned by range of year, with its columns taken from the model's query
    (planned, never run: limit 0), one partition per year from var('first_year') to
    three years ahead and a default partition for any other year (a row always has a
    place; `ensure_year_partitions` adds each coming year ahead of time). Partitions
    live in the schema marts_partitions, which analysts do not see: they query the
    parent. Their names carry the dbt invocation id, so the partitions of a full
    refresh's new table never collide with those of the table it replaces (dropped
    with it). Indexes are created by dbt on the parent, which PostgreSQL propagates. -#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
    {%- if not temporary and config.get('meta', {}).get('partition_by_year') -%}
        {{ year_partitioned_table_as(relation, sql) }}
    {%- else -%}
        {{ dbt.postgres__create_table_as(temporary, relation, sql) }}
    {%- endif -%}
{%- endmacro %}

{% macro year_partitioned_table_as(relation, sql) -%}
    {%- set columns = relation.identifier ~ '__columns' -%}
    {%- set partitions = [] -%}
    {%- for year in range(var('first_year'), modules.datetime.date.today().year + 4) -%}
        {%- do partitions.append(year_partition_sql(relation, year)) -%}
    {%- endfor -%}
    create temporary table "{{ columns }}" on commit drop as
    select * from (
        {{ sql }}
    ) as model_rows limit 0;
    create table {{ relation }} (like "{{ columns }}") partition by range (year);
    {{ partitions | join(';\n') }};
    create table {{ year_partition_name(relation, 'other') }}
    partition of {{ relation }} default;
    insert into {{ relation }}
    {{ sql }}
{%- endmacro %}

{#- A full refresh creates `<name>__dbt_tmp` and renames it: its partitions are named
    after the model, not after that passing name. -#}
{% macro year_partition_name(relation, suffix) -%}
    {%- set model_name = relation.identifier | replace('__dbt_tmp', '') -%}
    marts_partitions."{{ model_name }}_{{ suffix }}_{{ invocation_id[:8] }}"
{%- endmacro %}

{% macro year_partition_sql(relation, year) -%}
    create table {{ year_partition_name(relation, year) }}
    partition of {{ relation }} for values from ({{ year }}) to ({{ year + 1 }})
{%- endmacro %}

{#- Pre-hook of a year-partitioned model: a partition for each year up to three years
    ahead that has none yet (the table was built in an earlier year). A year already in
    the default partition keeps its rows there (a partition for it would be refused). -#}
{% macro ensure_year_partitions() -%}
    {%- if execute and config.get('meta', {}).get('partition_by_year')
        and load_cached_relation(this) is not none and not should_full_refresh()
        and is_year_partitioned(this) -%}
        {%- set this_year = modules.datetime.date.today().year -%}
        {%- set bounds_sql -%}
            select pg_get_expr(child.relpartbound, child.oid)
            from pg_inherits as link
            inner join pg_class as child on link.inhrelid = child.oid
            where link.inhparent = cast('{{ this }}' as regclass)
        {%- endset -%}
        {%- set bounds = run_query(bounds_sql).columns[0].values() -%}
        {%- set held_sql -%}
            select distinct year from {{ this }}
            where year between {{ this_year }} and {{ this_year + 3 }}
        {%- endset -%}
        {%- set held = run_query(held_sql).columns[0].values() | map('int') | list -%}
        {%- for year in range(this_year, this_year + 4) -%}
            {%- if ('FOR VALUES FROM (' ~ year ~ ')') not in bounds | join(' ')
                and year not in held -%}
                {{ year_partition_sql(this, year) }};
            {% endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Whether the table exists and is partitioned (a table built before partitioning is
    not, until setup rebuilds it: the model's config is in the setup fingerprint). -#}
{% macro is_year_partitioned(relation) -%}
    {%- set kind_sql -%}
        select relkind from pg_class where oid = to_regclass('{{ relation }}')
    {%- endset -%}
    {%- set kinds = run_query(kind_sql).columns[0].values() -%}
    {%- do return(kinds | length > 0 and kinds[0] == 'p') -%}
{%- endmacro %}

{#- For maintenance_after_build.sql: SQL selects (relid) of the relations that hold a
    table's newest rows (built_at = the CTE `built`.last_built): the table itself, or
    those of its partitions that hold any. -#}
{% macro newest_rows_holders() -%}
    {%- set partitions_sql -%}
        select cast(cast(inhrelid as regclass) as text) from pg_inherits
        where inhparent = cast('{{ this }}' as regclass)
        order by 1
    {%- endset -%}
    {%- set holders = [] -%}
    {%- for partition in run_query(partitions_sql).columns[0].values() -%}
        {%- set holder -%}
            select cast('{{ partition }}' as regclass) as relid
            where (
                -- max() reads the end of the built_at index: `exists (... built_at = x)`
                -- scans a partition whose rows all share another built_at (the
                -- planner expects a match on every row).
                select max(partition_rows.built_at) from {{ partition }} as partition_rows
            ) = (select built.last_built from built)
        {%- endset -%}
        {%- do holders.append(holder) -%}
    {%- endfor -%}
    {%- if holders | length == 0 -%}
        {%- do holders.append("select cast('" ~ this ~ "' as regclass) as relid") -%}
    {%- endif -%}
    {%- do return(holders) -%}
{%- endmacro %}

{#- The night's delete+insert of a year-partitioned model also names the years of the
    rows it replaces, as literals the planner prunes partitions with: every
    build_partition belongs to one year (its key starts with it), so the delete reads
    those years' partitions instead of joining its keys to every row of every year
    (national history: 0.8 s instead of 3.0 s). -#}
{% macro postgres__get_incremental_delete_insert_sql(arg_dict) -%}
    {%- set predicates = arg_dict['incremental_predicates'] or [] -%}
    {%- if config.get('meta', {}).get('partition_by_year') -%}
        {%- set years_sql -%}
            select distinct year from {{ arg_dict['temp_relation'] }} order by 1
        {%- endset -%}
        {%- set years = run_query(years_sql).columns[0].values() | map('int') | list -%}
        {%- set predicates = predicates + [
            'DBT_INTERNAL_DEST.year in (' ~ years | join(', ') ~ ')' if years else 'false'
        ] -%}
    {%- endif -%}
    {{ get_delete_insert_merge_sql(
        arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'],
        arg_dict['dest_columns'], predicates
    ) }}
{%- endmacro %}
