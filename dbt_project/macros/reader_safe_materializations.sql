{#- Helpers of the project's table and view materializations
    (../materializations/reader_safe.sql): a night can run while analysts read.

    dbt-postgres builds a table or a view under a temporary name and renames it over
    the old one: the rename needs an ACCESS EXCLUSIVE lock, so it waits for every
    query that reads the relation (a view read by a query on a mart view counts too)
    and, queued, blocks every query that comes after. These overrides take that lock
    only when the relation must change:
    * view: unchanged (the compiled SQL deparses to the same definition, with the same
      columns) -> no DDL at all; grants and comments are applied as before (they take
      SHARE UPDATE EXCLUSIVE, which readers do not conflict with);
    * table: same columns and types -> its rows are replaced in place (delete, insert)
      in one transaction; readers keep their snapshot and nobody waits;
    * otherwise (a release changed it, or it is new) the usual swap, after taking its
      lock with a short lock_timeout (var swap_lock_timeout): a reader in the way fails
      the node at once with a message naming it, instead of a silent wait until the
      loader's lock_timeout.
    Dropping a replaced table cascades to the views on it; their own nodes, downstream,
    create them again. -#}

{#- Whether the view's stored definition is what `sql` defines: both deparsed by the
    server (a temporary view of `sql`), so formatting does not count. -#}
{% macro view_is_unchanged(relation, sql) -%}
    {%- set probe = relation.identifier ~ '__dbt_probe' -%}
    {%- call statement('view_probe') -%}
        drop view if exists pg_temp."{{ probe }}";
        create temporary view "{{ probe }}" as (
            {{ sql }}
        )
    {%- endcall -%}
    {%- set compare_sql -%}
        select
            pg_get_viewdef(cast('pg_temp."{{ probe }}"' as regclass))
            = pg_get_viewdef(cast('{{ relation }}' as regclass))
            and ({{ column_signature("'pg_temp.\"" ~ probe ~ "\"'") }})
            = ({{ column_signature("'" ~ relation ~ "'") }})
    {%- endset -%}
    {%- set unchanged = run_query(compare_sql).columns[0].values()[0] -%}
    {%- do run_query('drop view pg_temp."' ~ probe ~ '"') -%}
    {%- do return(unchanged) -%}
{%- endmacro %}

{#- Whether `sql` yields the table's columns, names and types, in its order (planned
    and run with limit 0 into a temporary table dropped at commit). -#}
{% macro table_columns_are_unchanged(relation, sql) -%}
    {%- set probe = relation.identifier ~ '__dbt_probe' -%}
    {%- call statement('table_probe') -%}
        drop table if exists pg_temp."{{ probe }}";
        create temporary table "{{ probe }}" on commit drop as
        select * from (
            {{ sql }}
        ) as model_rows limit 0
    {%- endcall -%}
    {%- set compare_sql -%}
        select
            ({{ column_signature("'pg_temp.\"" ~ probe ~ "\"'") }})
            = ({{ column_signature("'" ~ relation ~ "'") }})
    {%- endset -%}
    {%- do return(run_query(compare_sql).columns[0].values()[0]) -%}
{%- endmacro %}

{% macro column_signature(relation_literal) -%}
    select string_agg(
        format('%I %s', attname, format_type(atttypid, atttypmod)), ', ' order by attnum
    )
    from pg_attribute
    where
        attrelid = cast({{ relation_literal }} as regclass)
        and attnum > 0
        and not attisdropped
{%- endmacro %}

{#- An unchanged view: no DDL; hooks, grants and comments as any build. -#}
{% macro keep_relation(target_relation, existing_relation) -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- call statement('main') -%}
        select 'unchanged: {{ target_relation }}' as kept
    {%- endcall -%}
    {{ finish_build(target_relation, existing_relation) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmacro %}

{#- A table with unchanged columns: its rows replaced in one transaction (ROW
    EXCLUSIVE: readers neither wait nor are waited for). -#}
{% macro replace_rows(target_relation, existing_relation, sql) -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- call statement('main') -%}
        delete from {{ target_relation }};
        insert into {{ target_relation }}
        select * from (
            {{ sql }}
        ) as model_rows
    {%- endcall -%}
    {{ finish_build(target_relation, existing_relation) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmacro %}

{% macro finish_build(target_relation, existing_relation) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- set revoke = should_revoke(existing_relation, full_refresh_mode=False) -%}
    {%- do apply_grants(target_relation, config.get('grants'), should_revoke=revoke) -%}
    {%- do persist_docs(target_relation, model) -%}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
{%- endmacro %}

{#- dbt's swap (build under a temporary name, rename the old one away, rename, drop
    the old one after commit), with the old relation locked first under a short
    lock_timeout. -#}
{% macro swap_relation(target_relation, existing_relation, build_sql) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_type = target_relation.type if existing_relation is none
        else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_type) -%}
    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- call statement('main') -%}
        {{ build_sql }}
    {%- endcall -%}
    {%- if target_relation.is_table -%}
        {%- do create_indexes(intermediate_relation) -%}
    {%- endif -%}
    {%- set existing_relation = load_cached_relation(target_relation) -%}
    {%- if existing_relation is not none -%}
        {%- do lock_for_swap(existing_relation) -%}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {%- endif -%}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- set revoke = should_revoke(existing_relation, full_refresh_mode=True) -%}
    {%- do apply_grants(target_relation, config.get('grants'), should_revoke=revoke) -%}
    {%- do persist_docs(target_relation, model) -%}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmacro %}

{% macro lock_for_swap(relation) -%}
    {%- call statement('lock_for_swap') -%}
        set local lock_timeout = '{{ var("swap_lock_timeout") }}';
        do $lock$
        begin
            lock table {{ relation }} in access exclusive mode;
        exception when lock_not_available then
            raise exception
                'replacing % gave up after lock_timeout %: other sessions are reading it',
                '{{ relation }}', current_setting('lock_timeout')
                using hint = 'See pg_stat_activity for their queries; run this node again once they end.';
        end
        $lock$;
        set local lock_timeout to default
    {%- endcall -%}
{%- endmacro %}
