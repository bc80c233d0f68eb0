{#- The geography roll-up shared by fct_indicator_values and fct_indicator_lineage:
    each row of `components` (int_indicator_components) once for every unit it counts
    in, with `geography`, `unit_level`, `unit_code`, the columns `carry` names, then
    `weight` and `is_whole`:
    * as_reported: its commune (forms CB and DV), district, province and the nation;
    * current, commune level: today's commune(s) through `lineage` (int_unit_lineage),
      weighted by the crosswalk share;
    * current, province and nation: provinces merged whole, weight 1 (a unit mapped to
      several communes of one province counts once there).
    A macro, not a model: each caller filters the components to the years (and
    communes) it builds before the roll-up, which a shared view or table could not take.
    `rebuilt_commune`: a condition on components for the as_reported commune rows;
    `current_communes`: a condition on lineage for the current commune rows;
    `lineage_years`: a condition on lineage.year, the years the components hold;
    `distinct_higher`: one province and nation row per distinct carried row (a unit
    whose lineage reaches two provinces would otherwise add two nation rows). -#}
{% macro indicator_geographies(
    carry,
    rebuilt_commune='true',
    current_communes='true',
    lineage_years='true',
    distinct_higher=false
) -%}
    select
        'as_reported' as geography,
        levels.unit_level,
        levels.unit_code,
        {% for column in carry %}components.{{ column }},
        {% endfor %}cast(1 as numeric) as weight,
        true as is_whole
    from components
    cross join
        lateral (
            values
            (
                'commune',
                case
                    when
                        components.source_form in ('CB', 'DV')
                        and {{ rebuilt_commune }}
                        then components.commune_code
                end
            ),
            ('district', components.district_code),
            ('province', components.province_code),
            ('nation', 'VN')
        ) as levels (unit_level, unit_code)
    where levels.unit_code is not null

    union all

    select
        'current' as geography,
        'commune' as unit_level,
        lineage.current_commune_code as unit_code,
        {% for column in carry %}components.{{ column }},
        {% endfor %}lineage.weight,
        lineage.is_whole
    from components
    inner join lineage
        on
            components.year = lineage.year
            and components.reporting_unit_level = lineage.unit_level
            and components.reporting_unit_code = lineage.unit_code
    where
        components.source_form in ('CB', 'DV')
        and lineage.current_commune_code is not null
        and ({{ current_communes }})

    union all

    select {{ 'distinct' if distinct_higher }}
        'current' as geography,
        levels.unit_level,
        levels.unit_code,
        {% for column in carry %}components.{{ column }},
        {% endfor %}cast(1 as numeric) as weight,
        true as is_whole
    from components
    inner join (
        select distinct
            lineage.year,
            lineage.unit_level,
            lineage.unit_code,
            lineage.current_province_code
        from lineage
        where {{ lineage_years }}
    ) as current_provinces
        on
            components.year = current_provinces.year
            and components.reporting_unit_level = current_provinces.unit_level
            and components.reporting_unit_code = current_provinces.unit_code
    cross join
        lateral (
            values
            ('province', current_provinces.current_province_code),
            ('nation', 'VN')
        ) as levels (unit_level, unit_code)
    where levels.unit_code is not null
{%- endmacro %}
