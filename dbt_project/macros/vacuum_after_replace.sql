{#- Post-hook (transaction: false) of the big incremental marts. After a build that
    replaced rows (delete+insert): vacuum (analyze), which reclaims the deleted rows, sets
    the visibility map and refreshes the planner statistics, so the next night's delete
    and tests never meet dead tuples. After a build that wrote every row in this run (a
    first or full build: min(built_at) = max(built_at), through the built_at index)
    there is nothing to reclaim: analyze alone, and autovacuum sets the visibility map
    later (a vacuum of 13 M fresh rows costs ~7 s of the full build). -#}
{% macro vacuum_after_replace() -%}
    {%- set fresh = false -%}
    {%- if execute -%}
        {%- set check -%}
            select coalesce(min(built_at) = max(built_at), false) from {{ this }}
        {%- endset -%}
        {%- set fresh = run_query(check).columns[0].values()[0] -%}
    {%- endif -%}
    {{ 'analyze' if fresh else 'vacuum (analyze)' }} {{ this }}
{%- endmacro %}
