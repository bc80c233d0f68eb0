-- Every validation finding with its file, the file's version and what became of it:
-- what analysts read to follow data quality per unit, rule and night. A view: the
-- cross-form checks (X, P) store their findings after the load, while dbt builds, and
-- must be visible the same night.
{{ config(materialized='view') }}

with

findings as (
    select * from {{ ref('stg_validation_findings') }}
),

files as (
    select * from {{ ref('stg_received_files') }}
)

select
    findings.finding_id,
    findings.file_id,
    files.original_name,
    files.submission_version,
    files.file_status,
    coalesce(findings.form_code, files.form_code) as form_code,
    coalesce(findings.unit_code, files.unit_code) as unit_code,
    coalesce(findings.period, files.period) as period,
    findings.rule_id,
    left(findings.rule_id, 1) as rule_family,
    findings.severity,
    findings.source_row_number,
    findings.column_name,
    findings.reported_value,
    findings.message_vi,
    findings.message_en,
    findings.run_id,
    findings.created_at,
    files.received_at
from findings
inner join files on findings.file_id = files.file_id
