-- Form CT rows of every accepted file version (rename and type only).
-- Written by `grassroots catalog sync` from src/grassroots/catalog/forms.yaml.
-- Straight from the source, no CTE: a view with a WITH is never flattened into the query
-- that reads it, and a join on file_id would then miss the raw table's key.
select
    cast(file_id as bigint) as file_id,
    cast(row_number as integer) as source_row_number,
    cast(term as text) as congress_term,
    cast(unit_code as text) as unit_code,
    cast(indicator_code as text) as indicator_code,
    cast(target_value as numeric) as target_value,
    cast(basis as text) as basis,
    cast(direction as text) as direction
from {{ source('raw', 'form_ct') }}
