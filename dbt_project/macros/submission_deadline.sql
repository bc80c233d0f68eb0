{#- K1: the last day to send a year's report, var('submission_deadline_month_day')
    (default 01-31) of the following year, for a column or expression holding the
    reporting year. -#}
{% macro submission_deadline(year) -%}
    cast(({{ year }} + 1) || '-{{ var("submission_deadline_month_day", "01-31") }}' as date)
{%- endmacro %}
