-- The current version of each submission: per form, unit and period, the file the
-- intake keeps loaded. The intake decides (grassroots.intake.supersession.supersede: the newest
-- accepted receipt stays loaded, older ones become superseded, versions numbered by
-- arrival), so this model reads that decision instead of ranking every receipt again
-- each night; the unique key test below checks that one file per submission is loaded.
-- Incremental by submission (in_changed_submissions, macros/incremental_years.sql):
-- delete+insert on the submission key replaces the rows of the submissions with a
-- version loaded or superseded since the last build; a loaded file steps down only
-- when a newer version of its key is loaded, so no other row changes. A full refresh
-- reads every receipt.
{{
    config(
        unique_key=['form_code', 'unit_code', 'period'],
        indexes=[
            {'columns': ['form_code', 'unit_code', 'period'], 'unique': true},
            {'columns': ['built_at']},
        ],
    )
}}

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
    and {{ in_changed_submissions(build_since()) }}
