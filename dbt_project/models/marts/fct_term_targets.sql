-- Form CT at its natural grain: one row per unit, congress term and target, from the
-- current version of each unit's submission for the term.
with

current_files as (
    select file_id from {{ ref('int_current_submissions') }}
    where form_code = 'CT'
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
    ct.source_row_number
from {{ ref('stg_form_ct') }} as ct
inner join current_files on ct.file_id = current_files.file_id
