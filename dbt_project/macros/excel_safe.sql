{#- A submitted text as analysts may export it to Excel: a value a spreadsheet would
    run as a formula (it starts with = + - @, tab or CR and is not a plain number such
    as -5 or +3,5) gets a leading single quote, the usual neutralisation; every other
    value is unchanged. The same rule as grassroots.safe_text.is_formula; the archive
    and raw tables keep the text as sent. -#}
{% macro excel_safe(text_column) -%}
    case
        when
            {{ text_column }} ~ '^[-=+@\t\r]'
            and {{ text_column }} !~ '^[+-]?[0-9][0-9.,]*%?$'
            then '''' || {{ text_column }}
        else {{ text_column }}
    end
{%- endmacro %}
