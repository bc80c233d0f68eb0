-- Every accepted version of every submission, with the period during which it was
-- the current one: which version fed the marts on any given date.
-- Incremental, delete+insert by file_id: a night rewrites every version of each
-- submission (form, unit, period) with a file loaded or superseded since the last
-- build. All versions of the key, not only the changed files: a version that loads
-- late (its batch retried after a crash) renumbers the newer ones.
{{
    config(
        materialized='incremental',
        unique_key='file_id',
        indexes=[
            {'columns': ['file_id'], 'unique': True},
            {'columns': ['built_at']},
        ],
        post_hook=[
            {'sql': '{{ vacuum_after_replace() }}', 'transaction': false},
        ],
    )
}}

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
    file_status = 'loaded' as is_current,
    now() as built_at
from files
where {{ in_changed_submissions(build_since()) }}
