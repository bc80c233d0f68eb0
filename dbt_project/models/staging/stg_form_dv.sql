-- Form DV rows of every accepted file version (rename and type only).
-- Written by `grassroots catalog sync` from src/grassroots/catalog/forms.yaml.
-- Straight from the source, no CTE: a view with a WITH is never flattened into the query
-- that reads it, and a join on file_id would then miss the raw table's key.
select
    cast(file_id as bigint) as file_id,
    cast(row_number as integer) as source_row_number,
    cast(report_year as integer) as report_year,
    cast(commune_code as text) as commune_code,
    cast(population as bigint) as population,
    cast(members_start as integer) as members_start,
    cast(admitted as integer) as admitted,
    cast(transferred_in as integer) as transferred_in,
    cast(transferred_out as integer) as transferred_out,
    cast(deceased as integer) as deceased,
    cast(expelled as integer) as expelled,
    cast(removed as integer) as removed,
    cast(members_end as integer) as members_end,
    cast(probationary_end as integer) as probationary_end
from {{ source('raw', 'form_dv') }}
