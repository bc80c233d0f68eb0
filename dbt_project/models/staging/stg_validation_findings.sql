-- Validation findings per file and row (rename and type only; submitted text made
-- safe to open in Excel by excel_safe).
-- Straight from the source, no CTE: a view with a WITH is never flattened into the query
-- that reads it, and a join on file_id would then miss the table's key.
select
    cast(finding_id as bigint) as finding_id,
    cast(file_id as bigint) as file_id,
    cast(form_code as text) as form_code,
    cast(unit_code as text) as unit_code,
    cast(period as text) as period,
    cast(rule_id as text) as rule_id,
    cast(severity as text) as severity,
    cast(row_number as integer) as source_row_number,
    {{ excel_safe("cast(column_name as text)") }} as column_name,
    {{ excel_safe("cast(value as text)") }} as reported_value,
    {{ excel_safe("cast(message_vi as text)") }} as message_vi,
    {{ excel_safe("cast(message_en as text)") }} as message_en,
    cast(run_id as text) as run_id,
    cast(created_at as timestamptz) as created_at
from {{ source('landing', 'validation_findings') }}
