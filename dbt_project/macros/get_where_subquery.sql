{#- Data tests sliced to the rows built in this run (dbt_project.yml gives every data
    test `where: "__built_this_run__"`; a test with its own `where` keeps it).

    In `dbt build` the placeholder becomes:
    * on an incremental model (delete+insert by year or congress term, built_at = now()
      of its build): `built_at >= <run_started_at>`, served by the built_at index. A
      rebuilt year (term) is rewritten whole, and every key of these tables includes the
      year (term), so a key test on the rebuilt rows is complete. A full refresh
      rebuilds every row: everything is tested.
    * on a model whose meta has test_slice {model, column, model_column} (a view over an
      incremental model): `<column> in (<literal years>)`, the years of `model` built in
      this run (`false` when none), literal so the filter reaches inside grouped views.
    * on a model whose meta has test_slice {files: <column>} (the staging views over the
      intake's tables): `<column> in (<files received, loaded or superseded in this
      run>)`: the rows this run's intake wrote or changed, through the raw tables'
      file_id keys. Earlier nights tested the rest; the weekly check reads it all.
    * on a model whose meta has test_slice {since: <column>} (the append-only findings):
      `<column> >= <since>`, the rows written in this run (findings of tonight's cross
      checks are about files of any age, so a files slice would miss them).
    * anywhere else (tables rebuilt in full, seeds, sources): no filter.
    "This run" starts at run_started_at, or at built_since when given (the var, or the
    environment's GRASSROOTS_DBT_BUILT_SINCE): the Airflow DAG passes the DAG run's start
    in the environment, so that in the modes that run one `dbt build` per model a view's
    tests see the years its base table built in an earlier task of the same DAG run, and
    the detached relationships tests (`dbt test`) are sliced too. The environment, not
    --vars: a var that changes every night makes dbt parse the project anew.
    In any other command (plain `dbt test`, the weekly full check) or with
    `--vars '{full_tests: true}'` every test reads the whole relation. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__built_this_run__' in where -%}
        {%- set where = where | replace('__built_this_run__', built_this_run_filter(relation)) -%}
    {%- endif -%}
    {%- if where and where | trim != 'true' -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro built_this_run_filter(relation) -%}
    {%- if not execute or var('full_tests', false) -%}
        {%- do return('true') -%}
    {%- endif -%}
    {#- Read only when executing: an env_var read while parsing would tie the tests'
        parse to its value, and a var of the command line to all of it (dbt parses the
        whole project again when --vars change: 5 s a night). -#}
    {%- set built_since = var('built_since', '') | string | trim -%}
    {%- if built_since in ('', 'None') -%}
        {%- set built_since = env_var('GRASSROOTS_DBT_BUILT_SINCE', '') | trim -%}
    {%- endif -%}
    {%- if built_since not in ('', 'None') -%}
        {%- set since_text = built_since -%}
    {%- elif flags.WHICH == 'build' -%}
        {%- set since_text = run_started_at.isoformat() -%}
    {%- else -%}
        {%- do return('true') -%}
    {%- endif -%}
    {%- set since = "cast('" ~ since_text ~ "' as timestamptz)" -%}
    {%- set node = model_node_of(relation) -%}
    {%- if node is none -%}
        {%- do return('true') -%}
    {%- endif -%}
    {%- if node.config.materialized == 'incremental' -%}
        {%- do return('built_at >= ' ~ since) -%}
    {%- endif -%}
    {%- set slice = node.config.get('meta', {}).get('test_slice') -%}
    {%- if slice is none -%}
        {%- do return('true') -%}
    {%- endif -%}
    {%- if slice.since is defined -%}
        {%- do return(slice.since ~ ' >= ' ~ since) -%}
    {%- endif -%}
    {%- if slice.files is defined -%}
        {%- set files = graph.nodes['model.' ~ project_name ~ '.stg_received_files'] -%}
        {#- A semi-join on the night's files (found through indexes on the three
            times): hashed, so it costs one scan of the raw table at most. Measured on
            the national history and a 4,400-file night: `= any(array(...))` let the
            planner read few raw rows through their key (0.4 ms with no new file), but
            where it chose a scan it compared every raw row with every id (3.3 s on
            182,000 CT rows, 8,715 files); literal ids cost dbt a query and a long
            statement per test (0.25 s each, 61 tests). -#}
        {%- set files_sql -%}
            {{ slice.files }} in (
                select changed_files.file_id from {{ files.relation_name }} as changed_files
                where
                    changed_files.received_at > {{ since }}
                    or {{ changed_since(since_text, 'changed_files') }}
            )
        {%- endset -%}
        {%- do return(files_sql) -%}
    {%- endif -%}
    {%- set base = graph.nodes['model.' ~ project_name ~ '.' ~ slice.model] -%}
    {%- set years_sql -%}
        select distinct {{ slice.model_column }} from {{ base.relation_name }}
        where built_at >= {{ since }}
        order by 1
    {%- endset -%}
    {%- set years = run_query(years_sql).columns[0].values() -%}
    {%- if years | length == 0 -%}
        {%- do return('false') -%}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for year in years -%}{%- do literals.append(year | int | string) -%}{%- endfor -%}
    {%- do return(slice.column ~ ' in (' ~ literals | join(', ') ~ ')') -%}
{%- endmacro %}

{#- The model node (graph) that a relation was built from, or none. -#}
{% macro model_node_of(relation) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and node.schema == relation.schema
            and node.alias == relation.identifier -%}
            {%- do return(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}
