{#- on-run-end: one row in landing.dbt_builds per `dbt build` or `dbt run`.

    whole_project: no --select or --selector, and nothing excluded but the seeds (the
    night leaves seeds and unit tests out; setup loads the seeds). succeeded: no node
    ended in error, failure or skip. grassroots.dbt_scope reads the newest complete
    build: with no file changed since it started, in the same calendar year, a night
    builds only the models tagged follows_date. Other commands (test, seed, docs)
    record nothing. -#}
{% macro record_build(results) -%}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set args = invocation_args_dict -%}
        {%- set excluded = args.get('exclude') or [] -%}
        {%- set whole = not (args.get('select') or args.get('selector'))
            and (excluded | reject('equalto', 'resource_type:seed') | list | length == 0) -%}
        {%- set bad_statuses = ['error', 'fail', 'skipped', 'runtime error'] -%}
        {%- set bad = results | selectattr('status', 'in', bad_statuses) | list -%}
        insert into landing.dbt_builds
            (invocation_id, command, whole_project, succeeded, started_at)
        values (
            '{{ invocation_id }}', '{{ flags.WHICH }}', {{ whole }},
            {{ bad | length == 0 }}, '{{ run_started_at.isoformat() }}'
        )
        on conflict (invocation_id) do nothing
    {%- endif -%}
{%- endmacro %}
