-- Form CB rows of current submission versions, branch ratings on the current scale.
-- Incremental: delete+insert of the reporting years whose submissions changed since
-- the last build (macros/incremental_years.sql); a full refresh rebuilds every year.
-- depends_on: {{ ref('stg_received_files') }}
{{ current_version('CB', rating='branch_rating') }}
