-- Form DV rows of current submission versions.
with

current_files as (
    select file_id from {{ ref('int_current_submissions') }}
    where form_code = 'DV'
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
    rows_.probationary_end
from rows_
inner join current_files on rows_.file_id = current_files.file_id
