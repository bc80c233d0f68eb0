-- Every accepted version of every submission, with the period during which it was
-- the current one: which version fed the marts on any given date.
with

files as (
    select * from {{ ref('stg_received_files') }}
    where file_status in ('loaded', 'superseded')
)

select
    file_id,
    form_code,
    unit_code,
    period,
    submission_version,
    original_name,
    sha256,
    received_at,
    current_from,
    current_to,
    file_status = 'loaded' as is_current
from files
