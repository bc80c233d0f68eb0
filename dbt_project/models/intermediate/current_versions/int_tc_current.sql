-- Form TC rows of current submission versions, ratings on the current scale; the
-- sender's level from its code (a province sends with 2 digits, a district with 3).
-- Incremental: delete+insert of the reporting years whose submissions changed since
-- the last build (macros/incremental_years.sql); a full refresh rebuilds every year.
-- depends_on: {{ ref('stg_received_files') }}
{{ current_version('TC', rating='rating', derived={'sender_code': [['sender_level',
    "case when length(rows_.sender_code) = 2 then 'province' else 'district' end"]]}) }}
