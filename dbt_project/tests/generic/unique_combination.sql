{#- The combination of the given columns is unique (nulls compare equal). -#}
{% test unique_combination(model, column_names) %}
    select
        {{ column_names | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ column_names | join(', ') }}
    having count(*) > 1
{% endtest %}
