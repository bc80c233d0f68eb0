-- The current version of each submission: per form, unit and period, the newest
-- loaded file (largest file_id). Superseded, quarantined and duplicate receipts are
-- not current; every version stays in landing.received_files.
with

files as (
    select * from {{ ref('stg_received_files') }}
    where form_code is not null
),

versions as (
    select
        form_code,
        unit_code,
        period,
        count(*) as versions_received
    from files
    where file_status in ('loaded', 'superseded')
    group by form_code, unit_code, period
),

ranked as (
    select
        files.*,
        row_number() over (
            partition by files.form_code, files.unit_code, files.period
            order by files.file_id desc
        ) as version_rank
    from files
    where files.file_status = 'loaded'
)

select
    ranked.form_code,
    ranked.unit_code,
    ranked.period,
    ranked.file_id,
    ranked.original_name,
    ranked.received_at,
    versions.versions_received
from ranked
inner join versions
    on
        ranked.form_code = versions.form_code
        and ranked.unit_code = versions.unit_code
        and ranked.period = versions.period
where ranked.version_rank = 1
