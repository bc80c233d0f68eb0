-- The current version of each submission: per form, unit and period, the file the
-- intake keeps loaded. The intake decides (grassroots.intake._supersede: the newest
-- accepted receipt stays loaded, older ones become superseded, versions numbered by
-- arrival), so this model reads that decision instead of ranking every receipt again
-- each night; the unique key test below checks that one file per submission is loaded.
-- Incremental: a night selects again the submissions with a version loaded or
-- superseded since the last build (a late arrival can renumber the current file without
-- touching it), and delete+insert on the submission key replaces their rows; a loaded
-- file steps down only when a newer version of its key is loaded, so no other row
-- changes. A full refresh reads every receipt.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['form_code', 'unit_code', 'period'],
        indexes=[
            {'columns': ['form_code', 'unit_code', 'period'], 'unique': true},
            {'columns': ['built_at']},
        ],
    )
}}

{%- set since = build_since() %}

with

changed_submissions as (
    select
        changed_files.form_code,
        changed_files.unit_code,
        changed_files.period
    from {{ ref('stg_received_files') }} as changed_files
    where {{ 'true' if since is none else changed_since(since, 'changed_files') }}
)

select
    form_code,
    unit_code,
    period,
    file_id,
    original_name,
    received_at,
    submission_version as versions_received,
    now() as built_at
from {{ ref('stg_received_files') }}
where
    file_status = 'loaded'
    and form_code is not null
    and (form_code, unit_code, period) in (select changed_submissions.* from changed_submissions)
