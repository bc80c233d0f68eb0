-- Validation findings per file and row (rename and type only).
with

source as (
    select * from {{ source('landing', 'validation_findings') }}
)

select
    cast(finding_id as bigint) as finding_id,
    cast(file_id as bigint) as file_id,
    cast(form_code as text) as form_code,
    cast(unit_code as text) as unit_code,
    cast(period as text) as period,
    cast(rule_id as text) as rule_id,
    cast(severity as text) as severity,
    cast(row_number as integer) as source_row_number,
    cast(column_name as text) as column_name,
    cast(value as text) as reported_value,
    cast(message_vi as text) as message_vi,
    cast(message_en as text) as message_en,
    cast(run_id as text) as run_id,
    cast(created_at as timestamptz) as created_at
from source
