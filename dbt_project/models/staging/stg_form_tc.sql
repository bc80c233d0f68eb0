-- Form TC rows of every accepted file version (rename and type only; submitted text made
-- safe to open in Excel by excel_safe).
-- Written by `grassroots catalog sync` from src/grassroots/catalog/forms.yaml.
-- Straight from the source, no CTE: a view with a WITH is never flattened into the query
-- that reads it, and a join on file_id would then miss the raw table's key.
select
    cast(file_id as bigint) as file_id,
    cast(row_number as integer) as source_row_number,
    cast(report_year as integer) as report_year,
    cast(district_code as text) as sender_code,
    cast(org_code as text) as org_code,
    {{ excel_safe("cast(org_name as text)") }} as org_name,
    cast(org_type as text) as org_type,
    cast(members as integer) as members,
    cast(subordinate_units as integer) as subordinate_units,
    cast(rating as text) as rating,
    cast(rating_points as numeric) as rating_points
from {{ source('raw', 'form_tc') }}
