-- Form CB rows of current submission versions, branch ratings on the current scale.
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
        form_code = 'CB'
        and period ~ '^[0-9]{4}$'
        and {{ in_build_years('cast(period as integer)') }}
),

rows_ as (
    select * from {{ ref('stg_form_cb') }}
)

select
    rows_.file_id,
    rows_.source_row_number,
    rows_.report_year,
    rows_.commune_code,
    rows_.village_code,
    rows_.village_name,
    rows_.branch_status,
    rows_.host_village_code,
    rows_.members,
    rows_.branch_rating as branch_rating_reported,
    {{ rating_on_current_scale('rows_.branch_rating') }} as branch_rating,
    rows_.report_year < {{ var('rating_scale_change_year') }} as rating_scale_mapped,
    now() as built_at
from rows_
inner join current_files on rows_.file_id = current_files.file_id
