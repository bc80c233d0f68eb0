-- Warehouse bootstrap: schemas, intake bookkeeping and raw form tables.
-- Idempotent: run at every setup. dbt owns staging, intermediate and marts contents.
-- Placeholders {loader} and {analyst} are role names filled in by grassroots.warehouse.

create schema if not exists landing authorization {loader};
create schema if not exists raw authorization {loader};
create schema if not exists staging authorization {loader};
create schema if not exists intermediate authorization {loader};
create schema if not exists reference authorization {loader};
create schema if not exists marts authorization {loader};
-- The yearly partitions of partitioned marts (dbt_project/macros/year_partitions.sql):
-- analysts read their parent tables in marts.
create schema if not exists marts_partitions authorization {loader};

set role {loader};

-- Every file ever received, one row per receipt (a byte-identical resend is a
-- 'duplicate' receipt pointing at the first one).
create table if not exists landing.received_files (
    file_id bigint generated always as identity primary key,
    sha256 text not null,
    original_name text not null,
    size_bytes bigint not null,
    received_at timestamptz not null default now(),
    archived_path text not null,
    form_code text,
    unit_code text,
    period text,
    status text not null default 'received'
        check (status in ('received', 'loaded', 'quarantined', 'superseded', 'duplicate')),
    duplicate_of bigint references landing.received_files (file_id),
    superseded_by bigint references landing.received_files (file_id),
    status_reason text,
    status_changed_at timestamptz not null default now(),
    run_id text
);
-- Columns added after the first release: idempotent upgrades of existing warehouses.
alter table landing.received_files
    add column if not exists version integer,
    add column if not exists loaded_at timestamptz,
    add column if not exists superseded_at timestamptz,
    add column if not exists inbox_removed boolean not null default false;
comment on column landing.received_files.version is
    'Accepted version number of this form, unit and period (1 = first accepted file).';
comment on column landing.received_files.loaded_at is
    'When this version became current (loaded).';
comment on column landing.received_files.superseded_at is
    'When a newer accepted version replaced it; null while current.';
comment on column landing.received_files.inbox_removed is
    'The inbox copy was deleted after archiving (false only if a run stopped in between).';

-- Supersession looks up the versions of the form/unit/period keys a batch touched.
create index if not exists received_files_submission_key
    on landing.received_files (form_code, unit_code, period)
    where status in ('loaded', 'superseded');

-- The files a night received, loaded or superseded: dbt's nightly tests read only their
-- rows (dbt_project/macros/get_where_subquery.sql), found through these three indexes
-- instead of a scan of every receipt.
create index if not exists received_files_received_at on landing.received_files (received_at);
create index if not exists received_files_loaded_at on landing.received_files (loaded_at);
create index if not exists received_files_superseded_at
    on landing.received_files (superseded_at);

-- Locked by each intake batch while it numbers versions (intake.supersession.supersede): a table in
-- landing, which analysts cannot use, so no analyst session can take the lock away.
create table if not exists landing.intake_lock (held boolean primary key default true check (held));
comment on table landing.intake_lock is
    'Locked (exclusive mode) by the intake batch that numbers submission versions; holds no data.';

create unique index if not exists received_files_one_original_per_hash
    on landing.received_files (sha256) where status <> 'duplicate';
comment on table landing.received_files is
    'Registry of every file received: hash, name, form, unit, period and what became of it.';

create table if not exists landing.validation_findings (
    finding_id bigint generated always as identity primary key,
    file_id bigint not null references landing.received_files (file_id),
    form_code text,
    unit_code text,
    period text,
    rule_id text not null,
    severity text not null check (severity in ('error', 'warning')),
    row_number integer,
    column_name text,
    value text,
    message_vi text not null,
    message_en text not null,
    run_id text,
    created_at timestamptz not null default now()
);
create index if not exists validation_findings_file on landing.validation_findings (file_id);
-- The findings a night wrote (nightly dbt tests, as above).
create index if not exists validation_findings_created_at
    on landing.validation_findings (created_at);
comment on table landing.validation_findings is
    'Validation findings per file and row (row numbers as staff see them, header = row 1).';

-- The raw form tables, one per form: the rows of every accepted file version.
-- catalog:raw-forms begin (`grassroots catalog sync` writes it from forms.yaml)
create table if not exists raw.form_cb (
    file_id bigint not null,
    row_number integer not null,
    report_year integer not null,
    commune_code text not null,
    village_code text not null,
    village_name text,
    branch_status text not null,
    host_village_code text,
    members integer not null,
    branch_rating text,
    primary key (file_id, row_number)
);

create table if not exists raw.form_dv (
    file_id bigint not null,
    row_number integer not null,
    report_year integer not null,
    commune_code text not null,
    population bigint not null,
    members_start integer not null,
    admitted integer not null,
    transferred_in integer not null,
    transferred_out integer not null,
    deceased integer not null,
    expelled integer not null,
    removed integer not null,
    members_end integer not null,
    probationary_end integer not null,
    primary key (file_id, row_number)
);

create table if not exists raw.form_tc (
    file_id bigint not null,
    row_number integer not null,
    report_year integer not null,
    district_code text not null,
    org_code text not null,
    org_name text,
    org_type text not null,
    members integer not null,
    subordinate_units integer not null,
    rating text not null,
    rating_points numeric,
    primary key (file_id, row_number)
);

create table if not exists raw.form_ct (
    file_id bigint not null,
    row_number integer not null,
    term text not null,
    unit_code text not null,
    indicator_code text not null,
    target_value numeric not null,
    basis text not null,
    direction text not null,
    primary key (file_id, row_number)
);
-- catalog:raw-forms end

-- raw.* rows name their file without a foreign key: the check fired once per row (a
-- COPY of a national year spent four times as long in it as in the COPY itself), and
-- only load_batch writes here, with the ids of the files it marks loaded in the same
-- transaction. dbt's relationships test on each stg_form_* view checks it every night.
alter table raw.form_cb drop constraint if exists form_cb_file_id_fkey;
alter table raw.form_dv drop constraint if exists form_dv_file_id_fkey;
alter table raw.form_tc drop constraint if exists form_tc_file_id_fkey;
alter table raw.form_ct drop constraint if exists form_ct_file_id_fkey;

-- Cross-form and cross-year checks (rules X1-X4, P1-P6; grassroots.validation.cross_checks).
-- The files a night's run checks: GX's batch for expectations/cross_checks.json. Refilled
-- by each run (one nightly run at a time: max_active_runs=1).
create table if not exists landing.cross_check_batch (
    file_id bigint primary key references landing.received_files (file_id),
    form_code text not null,
    unit_code text not null,
    period text not null
);
comment on table landing.cross_check_batch is
    'Files under cross-form and cross-year checks in the current run (refilled each run).';
-- Communes whose yearly series restarts at the 2025 reform (a new code, or a code whose
-- meaning changed: merged, split or renamed into another territory), from
-- seeds/registry/ref_commune_crosswalk_2025.csv; refreshed by the cross checks.
create table if not exists landing.commune_series_breaks (
    commune_code text primary key,
    break_year integer not null
);
comment on table landing.commune_series_breaks is
    'Communes whose yearly series restarts in break_year (2025 reform lineage events).';
-- Overdue submissions already announced in a digest (rule K1: each one is announced once).
create table if not exists landing.overdue_alerts (
    form_code text not null,
    unit_code text not null,
    period text not null,
    recipient text not null,
    run_id text,
    alerted_at timestamptz not null default now(),
    primary key (form_code, unit_code, period, recipient)
);
comment on table landing.overdue_alerts is
    'Overdue submissions (K1) already listed in a recipient''s digest: listed once, no storms.';
-- Findings of a rule for a file are replaced when the night is rerun.
create index if not exists validation_findings_rule_file
    on landing.validation_findings (rule_id, file_id);

-- Registry seeds loaded into the reference schema, by fingerprint (runtime.load_reference_seeds):
-- setup reloads them, and rebuilds the warehouse in full, only when seeds/registry or an
-- incremental model changed; the nightly DAG does not.
create table if not exists landing.reference_seed_loads (
    fingerprint text primary key,
    loaded_at timestamptz not null default now()
);
comment on table landing.reference_seed_loads is
    'SHA-256 of the registry seed files (and incremental models) a full build was made from, and when.';

-- Every dbt build or run (the on-run-end hook record_build): a night with no new file
-- since the last complete build of the whole project builds only the models that follow
-- the date (grassroots.dbt_scope).
create table if not exists landing.dbt_builds (
    invocation_id text primary key,
    command text not null,
    whole_project boolean not null,
    succeeded boolean not null,
    started_at timestamptz not null,
    finished_at timestamptz not null default now()
);
comment on table landing.dbt_builds is
    'dbt builds and runs: whether they covered the whole project and ended with no error, failure or skip.';
comment on column landing.dbt_builds.whole_project is
    'No --select or --selector, nothing excluded but the seeds.';
comment on column landing.dbt_builds.succeeded is
    'No node ended in error, failure, skip or runtime error.';
comment on column landing.dbt_builds.started_at is
    'dbt''s run_started_at: files changed from then on are for the next build.';
create index if not exists dbt_builds_complete
    on landing.dbt_builds (started_at) where whole_project and succeeded;

-- Inbox entries a run did not take (a symlink, a hard link, a device, an entry swapped
-- while being taken): left unread where they were, listed in the night's digest.
create table if not exists landing.inbox_skipped (
    skip_id bigint generated always as identity primary key,
    run_id text,
    entry text not null,
    reason text not null
        check (reason in ('symlink', 'hard_link', 'not_regular', 'changed', 'unreadable')),
    seen_at timestamptz not null default now()
);
comment on table landing.inbox_skipped is
    'Inbox entries not taken (never read nor deleted): path inside the inbox, reason, run.';
create index if not exists inbox_skipped_run on landing.inbox_skipped (run_id);

-- GX validation results of each run (every intake batch's form suites, the cross checks),
-- kept for the run's Data Docs: in the warehouse, so the data_docs task reads them on any
-- worker. Written in the transaction that loads the batch (a retried batch leaves no
-- result of its rolled-back attempt); pruned with the Data Docs sites
-- (GRASSROOTS_DATA_DOCS_KEEP_DAYS).
create table if not exists landing.validation_results (
    run_id text not null,
    name text not null,
    document jsonb not null,
    created_at timestamptz not null default now(),
    primary key (run_id, name)
);
comment on table landing.validation_results is
    'GX validation results (ExpectationSuiteValidationResult JSON, observed values HTML-escaped) by run, for its Data Docs.';
create index if not exists validation_results_created_at
    on landing.validation_results (created_at);

-- The upload page's signed links, one per unit (grassroots.check.links): the link's
-- signature proves it was issued here; revoking it is recorded here and checked on use.
create table if not exists landing.upload_links (
    link_id text primary key,
    unit_code text not null,
    issued_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz
);
comment on table landing.upload_links is
    'Signed upload links issued to units (grassroots upload-link); revoked_at set when revoked.';
comment on column landing.upload_links.link_id is 'The link''s id, signed into its token.';
comment on column landing.upload_links.unit_code is 'The unit whose files the link may send.';
comment on column landing.upload_links.expires_at is 'The link is refused after this time.';
comment on column landing.upload_links.revoked_at is 'When the link was revoked (null: valid).';

-- Every attempt at the upload page, accepted or refused, with the check's result
-- (grassroots.check.receive). A refused file is not stored anywhere; its findings are.
create table if not exists landing.upload_events (
    event_id bigint generated always as identity primary key,
    link_id text,
    unit_code text,
    client_ip text,
    attempted_at timestamptz not null default now(),
    original_name text,
    size_bytes bigint,
    sha256 text,
    outcome text not null check (outcome in ('accepted', 'refused')),
    reason text,
    form_code text,
    period text,
    errors integer not null default 0,
    warnings integer not null default 0,
    findings jsonb not null default '[]'::jsonb,
    inbox_name text
);
comment on table landing.upload_events is
    'Every upload attempt at the upload page: who, when, the file''s hash, the outcome and the check''s findings.';
comment on column landing.upload_events.link_id is 'The signed link used (null: no valid link).';
comment on column landing.upload_events.unit_code is 'The unit of the link.';
comment on column landing.upload_events.client_ip is 'The sender''s address as the server saw it.';
comment on column landing.upload_events.original_name is 'The file name the sender gave (text only, never a path).';
comment on column landing.upload_events.sha256 is 'SHA-256 of the bytes received (the receipt).';
comment on column landing.upload_events.outcome is 'accepted: written into the inbox; refused: not stored.';
comment on column landing.upload_events.reason is 'Why it was refused: too_large, zip_bomb, bad_link, revoked, other_unit, errors.';
comment on column landing.upload_events.findings is 'The check''s findings (rule, severity, sheet row and column, value, message).';
comment on column landing.upload_events.inbox_name is 'The name it was written under in the inbox (accepted only).';
create index if not exists upload_events_link on landing.upload_events (link_id, attempted_at);

-- Which units' uploads a staff member (an Airflow UI login) sees on the upload page's
-- staff view; the UI's admin role sees every unit (grassroots upload-link assign).
create table if not exists landing.upload_staff_units (
    user_name text not null,
    unit_code text not null,
    primary key (user_name, unit_code)
);
comment on table landing.upload_staff_units is
    'Units whose uploads each staff login sees at /grassroots/gui-bao-cao/ (admins see all).';
comment on column landing.upload_staff_units.user_name is 'The Airflow UI login.';
comment on column landing.upload_staff_units.unit_code is 'A unit the login follows.';

reset role;
