{#- A rating code mapped onto the four-level scale in force from 2018
    (submission-forms.md): clean_strong -> excellent, weak -> not_completed;
    good and completed keep their code. -#}
{% macro rating_on_current_scale(rating_column) -%}
    case {{ rating_column }}
        when 'clean_strong' then 'excellent'
        when 'weak' then 'not_completed'
        else {{ rating_column }}
    end
{%- endmacro %}
