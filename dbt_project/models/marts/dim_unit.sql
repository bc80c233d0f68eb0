-- One row per registry row: administrative level, code and validity start.
select
    unit_key,
    unit_level,
    unit_code,
    unit_name,
    unit_type,
    parent_level,
    parent_code,
    valid_from,
    valid_to,
    (
        coalesce(valid_from, cast('-infinity' as date)) <= current_date
        and coalesce(valid_to, cast('infinity' as date)) >= current_date
    ) as is_current
from {{ ref('int_registry_units') }}
