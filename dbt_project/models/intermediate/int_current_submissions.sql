-- The current version of each submission: per form, unit and period, the file the
-- intake keeps loaded. The intake decides (grassroots.intake._supersede: the newest
-- accepted receipt stays loaded, older ones become superseded, versions numbered by
-- arrival), so this model reads that decision instead of ranking every receipt again
-- each night; the unique key test below checks that one file per submission is loaded.
select
    form_code,
    unit_code,
    period,
    file_id,
    original_name,
    received_at,
    submission_version as versions_received
from {{ ref('stg_received_files') }}
where
    file_status = 'loaded'
    and form_code is not null
