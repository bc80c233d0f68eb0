"""Nightly intake of the units' submissions and the warehouse build.

discover (take the inbox's files into private staging) -> register -> plan_batches ->
load_batch, one mapped task per batch (parse, validate with Great Expectations, load or
quarantine; any worker takes any batch, GRASSROOTS_INTAKE_PARALLEL at once) ->
intake_summary -> in parallel: dbt build (via cosmos: one `dbt build` task, or a task
per model as GRASSROOTS_DBT_EXECUTION_MODE says); cross checks
X1-X4, P1-P6 (GX SQL expectations in PostgreSQL); data-quality summary; after the build
and the checks, side by side: the nightly digests and the GX Data Docs of the run
(whatever the build's and the checks' outcome), and the report site (only pages whose
figures changed are rendered; the digests link the pages it holds, refreshed in place).
Logic lives in the grassroots package; this file only wires it.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, task

from grassroots.intake_settings import parallel_batches
from grassroots.orchestration import (
    CRITICAL_PATH_WEIGHT,
    DEFAULT_ARGS,
    dbt_task_group,
    smtp_settings,
    warehouse_dsn,
)

RAW_SUBMISSIONS = Asset("grassroots://warehouse/raw/submissions")


# The tasks; the DAG below wires them.


@task
def discover(params=None) -> dict:
    from grassroots.pipeline import discover_inbox

    return discover_inbox(params.get("inbox"))


@task
def register(discovered: dict, run_id=None) -> dict:
    from grassroots.pipeline import register_files

    return register_files(warehouse_dsn(), discovered, run_id)


@task
def plan_batches(registered: dict) -> list[dict]:
    from grassroots.pipeline import plan_intake

    return plan_intake(warehouse_dsn())


# One task per batch, for any worker; a retry (or a second attempt running at once)
# loads only the batch's files still 'received' (intake.run_batch).
@task(
    max_active_tis_per_dagrun=parallel_batches(),
    map_index_template="{{ batch_label }}",
)
def load_batch(batch: dict, run_id=None) -> dict:
    from airflow.sdk import get_current_context

    from grassroots.intake import Batch
    from grassroots.pipeline import load_intake_batch

    get_current_context()["batch_label"] = Batch.of(batch).label()
    return load_intake_batch(warehouse_dsn(), batch, run_id)


# No batch (an empty night) skips load_batch; the night goes on.
@task(outlets=[RAW_SUBMISSIONS], trigger_rule="none_failed")
def intake_summary(summaries=None) -> dict:
    from grassroots.pipeline import sum_intake

    return sum_intake(summaries)


@task
def cross_checks(loaded: dict, run_id=None) -> dict:
    from grassroots.pipeline import cross_checks

    return cross_checks(warehouse_dsn(), run_id)


# After the build and the checks, whatever their outcome (a failed night's validation
# results are worth reading most): beside the build it took CPU from the night's
# critical path on a 2-core server. The digests' link is written a few seconds later.
@task(trigger_rule="all_done")
def data_docs(run_id=None) -> dict:
    from grassroots.pipeline import build_data_docs

    return build_data_docs(warehouse_dsn(), run_id)


@task
def quality_summary(run_id=None) -> dict:
    from grassroots.pipeline import quality_summary

    return quality_summary(warehouse_dsn(), run_id)


# After the build and the checks (the pages show the night's findings); on a night where
# either failed the site keeps the last good night's pages.
@task
def report_site() -> dict:
    from grassroots.pipeline import build_report_site

    return build_report_site(warehouse_dsn())


# After the build (K1 reads its completeness mart) and the checks, but also when
# one of them failed: staff get their digest every night. Not after the site: its
# workbooks take minutes on a national night, and the alerts need none of it. Queued
# before the site and the Data Docs, which become ready with it.
@task(trigger_rule="all_done", priority_weight=CRITICAL_PATH_WEIGHT)
def send_digests(run_id=None) -> dict:
    from grassroots.pipeline import send_quality_digests

    return send_quality_digests(warehouse_dsn(), run_id, smtp_settings())


# The digests run even when the build or the checks failed, so they are no longer
# a failure's only downstream: this watcher (skipped on a good night) fails the run
# whenever any task failed.
@task(trigger_rule="one_failed", retries=1, retry_delay=timedelta(seconds=5))
def night_failed() -> None:
    raise RuntimeError("a task of the nightly run failed (digests were still sent)")


@dag(
    dag_id="nightly_submissions",
    schedule="0 1 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["grassroots", "intake", "dbt"],
    params={
        "inbox": Param(
            None, type=["null", "string"], description="Inbox folder; default GRASSROOTS_INBOX"
        )
    },
    doc_md=__doc__,
)
def nightly_submissions():
    batches = load_batch.expand(batch=plan_batches(register(discover())))
    loaded = intake_summary(batches)
    checked = cross_checks(loaded)
    build = dbt_task_group()
    summary = quality_summary()
    loaded >> [build, summary]
    docs = data_docs()
    [build, checked] >> docs
    site = report_site()
    [build, checked] >> site
    # The digests wait for the build and the checks but run even when one failed.
    digests = send_digests()
    [build, checked, summary] >> digests
    [batches, loaded, build, checked, summary, docs, site, digests] >> night_failed()


nightly_submissions()
