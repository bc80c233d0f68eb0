-- Form DV rows of current submission versions.
-- Incremental: delete+insert of the reporting years whose submissions changed since
-- the last build (macros/incremental_years.sql); a full refresh rebuilds every year.
-- depends_on: {{ ref('stg_received_files') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='report_year',
        indexes=[
            {'columns': ['report_year']},
            {'columns': ['built_at']},
        ],
    )
}}

with

current_files as (
    select file_id from {{ ref('int_current_submissions') }}
    where
        form_code = 'DV'
        and period ~ '^[0-9]{4}$'
        and {{ in_build_years('cast(period as integer)') }}
),

rows_ as (
    select * from {{ ref('stg_form_dv') }}
)

select
    rows_.file_id,
    rows_.source_row_number,
    rows_.report_year,
    rows_.commune_code,
    rows_.population,
    rows_.members_start,
    rows_.admitted,
    rows_.transferred_in,
    rows_.transferred_out,
    rows_.deceased,
    rows_.expelled,
    rows_.removed,
    rows_.members_end,
    rows_.probationary_end,
    now() as built_at
from rows_
inner join current_files on rows_.file_id = current_files.file_id
