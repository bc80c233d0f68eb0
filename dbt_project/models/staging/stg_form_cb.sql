-- Form CB rows of every accepted file version (rename and type only; submitted text made
-- safe to open in Excel by excel_safe).
-- Written by `grassroots catalog sync` from src/grassroots/catalog/forms.yaml.
-- Straight from the source, no CTE: a view with a WITH is never flattened into the query
-- that reads it, and a join on file_id would then miss the raw table's key.
select
    cast(file_id as bigint) as file_id,
    cast(row_number as integer) as source_row_number,
    cast(report_year as integer) as report_year,
    cast(commune_code as text) as commune_code,
    cast(village_code as text) as village_code,
    {{ excel_safe("cast(village_name as text)") }} as village_name,
    cast(branch_status as text) as branch_status,
    cast(host_village_code as text) as host_village_code,
    cast(members as integer) as members,
    cast(branch_rating as text) as branch_rating
from {{ source('raw', 'form_cb') }}
