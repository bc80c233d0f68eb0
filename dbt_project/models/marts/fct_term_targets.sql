-- Form CT at its natural grain: one row per unit, congress term and target, from the
-- current version of each unit's submission for the term.
-- Incremental: delete+insert of the congress terms with a CT version loaded or
-- superseded since the last build (every current file of such a term is read again);
-- a full refresh builds every term.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='congress_term',
        indexes=[
            {'columns': ['congress_term']},
            {'columns': ['built_at']},
        ],
    )
}}

{%- set since = build_since() %}

with

changed_terms as (
    select changed_files.period
    from {{ ref('stg_received_files') }} as changed_files
    where
        changed_files.form_code = 'CT'
        and {{ 'true' if since is none else changed_since(since, 'changed_files') }}
),

current_files as (
    select file_id from {{ ref('int_current_submissions') }}
    where
        form_code = 'CT'
        and period in (select changed_terms.period from changed_terms)
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
