{#- Planner statistics and dead-row cleanup after a build, only when the build wrote rows.

    vacuum_after_replace(): post-hook (transaction: false) of the big incremental marts.
    * rows replaced (delete+insert) since the table was last vacuumed: vacuum (analyze),
      which reclaims the deleted rows, sets the visibility map and refreshes the planner
      statistics, so the next night's delete and tests never meet dead tuples;
    * every row written by one build (a first or full build: min(built_at) =
      max(built_at)) and not analyzed since: analyze alone, nothing to reclaim (a vacuum
      of 13 M fresh rows costs ~7 s of the full build; autovacuum sets the visibility
      map later);
    * nothing written since the last vacuum or analyze (a night with no new file):
      nothing. Analyzing 13 M unchanged rows cost 6 s of every such night.
    analyze_after_build(): post-hook of the intermediate models: a table rebuilt in full
    is analyzed every time; an incremental one only when it has rows newer than its last
    analyze or vacuum.

    "Since" compares built_at (now() of the writing build) with the table's last manual
    vacuum and analyze in pg_stat_user_tables, both on the database's clock. Manual only:
    these hooks run them after the build commits, while an autovacuum may have started
    during the build and missed its dead rows. Statistics reset or missing: the
    maintenance runs. -#}
{% macro built_rows_state() -%}
    {%- set state = {'fresh': false, 'vacuumed': false, 'analyzed': false} -%}
    {%- if execute -%}
        {%- set check -%}
            select
                coalesce(built.first_built = built.last_built, false) as fresh,
                coalesce(built.last_built < stats.last_vacuum, false) as vacuumed,
                coalesce(
                    built.last_built < greatest(stats.last_vacuum, stats.last_analyze),
                    false
                ) as analyzed
            from (
                select min(built_at) as first_built, max(built_at) as last_built
                from {{ this }}
            ) as built
            left join pg_stat_user_tables as stats
                on stats.relid = cast('{{ this }}' as regclass)
        {%- endset -%}
        {%- set row = run_query(check).rows[0] -%}
        {%- do state.update({'fresh': row[0], 'vacuumed': row[1], 'analyzed': row[2]}) -%}
    {%- endif -%}
    {%- do return(state) -%}
{%- endmacro %}

{% macro vacuum_after_replace() -%}
    {%- set state = built_rows_state() -%}
    {%- if state.vacuumed or (state.fresh and state.analyzed) -%}
        {#- nothing written since: an empty hook is skipped -#}
    {%- elif state.fresh -%}
        analyze {{ this }}
    {%- else -%}
        vacuum (analyze) {{ this }}
    {%- endif -%}
{%- endmacro %}

{% macro analyze_after_build() -%}
    {%- if model.config.materialized != 'incremental' or not built_rows_state().analyzed -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
