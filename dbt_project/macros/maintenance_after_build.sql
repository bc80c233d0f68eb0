{#- Planner statistics and dead-row cleanup after a build, only when the build wrote rows.

    vacuum_after_replace(): post-hook (transaction: false) of the big incremental marts.
    * rows replaced (delete+insert) since the table was last vacuumed: vacuum (analyze),
      which reclaims the deleted rows, sets the visibility map and refreshes the planner
      statistics, so the next night's delete and tests never meet dead tuples; of a
      year-partitioned table, only the partitions the build wrote to;
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
    maintenance runs. The statistics read are those of the relations holding the newest
    rows (state.holders): the table itself, or those of its year partitions
    (year_partitions.sql) that the last build wrote to, which are all a night's vacuum
    reads. -#}
{% macro built_rows_state() -%}
    {%- set state = {'fresh': false, 'vacuumed': false, 'analyzed': false} -%}
    {%- if execute -%}
        {%- set holders = newest_rows_holders() -%}
        {%- set check -%}
            with built as (
                select min(built_at) as first_built, max(built_at) as last_built
                from {{ this }}
            ),

            holders as ({{ holders | join(' union all ') }})

            select
                coalesce(built.first_built = built.last_built, false) as fresh,
                bool_and(coalesce(built.last_built < stats.last_vacuum, false)) as vacuumed,
                bool_and(
                    coalesce(
                        built.last_built < greatest(stats.last_vacuum, stats.last_analyze),
                        false
                    )
                ) as analyzed,
                string_agg(cast(holders.relid as text), ', ') as holders
            from built
            left join holders on true
            left join pg_stat_user_tables as stats
                on holders.relid = stats.relid
            group by built.first_built, built.last_built
        {%- endset -%}
        {%- set row = run_query(check).rows[0] -%}
        {%- do state.update({'fresh': row[0], 'vacuumed': row[1], 'analyzed': row[2]}) -%}
        {%- do state.update({'holders': row[3]}) -%}
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
        vacuum (analyze) {{ state.get('holders') or this }}
    {%- endif -%}
{%- endmacro %}

{% macro analyze_after_build() -%}
    {%- if model.config.materialized != 'incremental' or not built_rows_state().analyzed -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
