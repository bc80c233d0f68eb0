-- Every file received, one row per receipt (rename and type only; submitted text made
-- safe to open in Excel by excel_safe).
-- Straight from the source, no CTE: a view with a WITH is never flattened into the query
-- that reads it, and a join on file_id would then miss the table's key.
select
    cast(file_id as bigint) as file_id,
    cast(sha256 as text) as sha256,
    {{ excel_safe("cast(original_name as text)") }} as original_name,
    cast(size_bytes as bigint) as size_bytes,
    cast(received_at as timestamptz) as received_at,
    cast(archived_path as text) as archived_path,
    cast(form_code as text) as form_code,
    cast(unit_code as text) as unit_code,
    cast(period as text) as period,
    cast(status as text) as file_status,
    cast(duplicate_of as bigint) as duplicate_of_file_id,
    cast(superseded_by as bigint) as superseded_by_file_id,
    {{ excel_safe("cast(status_reason as text)") }} as status_reason,
    cast(status_changed_at as timestamptz) as status_changed_at,
    cast(run_id as text) as run_id,
    cast(version as integer) as submission_version,
    cast(loaded_at as timestamptz) as current_from,
    cast(superseded_at as timestamptz) as current_to
from {{ source('landing', 'received_files') }}
