-- Form CT at its natural grain: one row per unit, congress term and target, from the
-- current version of each unit's submission for the term.
-- Incremental by submission (in_changed_submissions, macros/incremental_years.sql):
-- delete+insert on unit and term replaces the targets of the CT submissions with a
-- version loaded or superseded since the last build; a full refresh builds them all.
-- depends_on: {{ ref('stg_received_files') }}
{{
    config(
        materialized='incremental',
        unique_key=['unit_code', 'congress_term'],
        indexes=[
            {'columns': ['congress_term', 'unit_code']},
            {'columns': ['built_at']},
        ],
    )
}}

with

current_files as (
    select file_id from {{ ref('int_current_submissions') }}
    where
        form_code = 'CT'
        and {{ in_changed_submissions(build_since()) }}
)

select
    ct.unit_code,
    case length(ct.unit_code)
        when 5 then 'commune'
        when 3 then 'district'
        when 2 then 'province'
    end as unit_level,
    ct.congress_term,
    cast(split_part(ct.congress_term, '-', 1) as integer) as term_start_year,
    cast(split_part(ct.congress_term, '-', 2) as integer) as term_end_year,
    ct.indicator_code,
    ct.target_value,
    ct.basis,
    coalesce(ct.direction, 'at_least') as direction,
    ct.file_id,
    ct.source_row_number,
    now() as built_at
from {{ ref('stg_form_ct') }} as ct
inner join current_files on ct.file_id = current_files.file_id
