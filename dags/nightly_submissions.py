"""Nightly intake of the units' submissions and the warehouse build.

discover (take the inbox's files into private staging) -> register -> parse, validate
(Great Expectations), load or quarantine -> in parallel: dbt build (one task per model,
via cosmos); cross checks X1-X4, P1-P6 (GX SQL expectations in PostgreSQL) -> GX Data
Docs of the run; data-quality summary -> the nightly digests (after all of them,
whatever their outcome).
Logic lives in the grassroots package; this file only wires it.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Connection, Param, dag, task
from airflow.sdk.exceptions import AirflowNotFoundException

from grassroots.config import SMTP_CONN_ID
from grassroots.orchestration import DEFAULT_ARGS, dbt_task_group, warehouse_dsn

RAW_SUBMISSIONS = Asset("grassroots://warehouse/raw/submissions")


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
    @task
    def discover(params=None) -> dict:
        from grassroots.pipeline import discover_inbox

        return discover_inbox(params.get("inbox"))

    @task
    def register(discovered: dict, run_id=None) -> dict:
        from grassroots.pipeline import register_files

        return register_files(warehouse_dsn(), discovered, run_id)

    @task(outlets=[RAW_SUBMISSIONS])
    def parse_validate_load(registered: dict, run_id=None) -> dict:
        from grassroots.pipeline import parse_validate_load

        return parse_validate_load(warehouse_dsn(), run_id)

    @task
    def cross_checks(loaded: dict, run_id=None) -> dict:
        from grassroots.pipeline import cross_checks

        return cross_checks(warehouse_dsn(), run_id)

    @task
    def data_docs(checked: dict, run_id=None) -> dict:
        from grassroots.pipeline import build_data_docs

        return build_data_docs(run_id)

    @task
    def quality_summary(run_id=None) -> dict:
        from grassroots.pipeline import quality_summary

        return quality_summary(warehouse_dsn(), run_id)

    # After the build (K1 reads its completeness mart) and the checks, but also when
    # one of them failed: staff get their digest every night.
    @task(trigger_rule="all_done")
    def send_digests(run_id=None) -> dict:
        from grassroots.alerts import SmtpSettings
        from grassroots.pipeline import send_quality_digests

        smtp = None
        try:
            conn = Connection.get(SMTP_CONN_ID)
        except AirflowNotFoundException:  # no SMTP configured: digests are written to disk
            conn = None
        if conn is not None:
            smtp = SmtpSettings(
                host=conn.host,
                port=conn.port or 25,
                sender=conn.extra_dejson.get("from_email", "grassroots@localhost"),
                user=conn.login or None,
                password=conn.password or None,
                starttls=bool(conn.extra_dejson.get("starttls", False)),
            )
        return send_quality_digests(warehouse_dsn(), run_id, smtp)

    # The digests run even when the build or the checks failed, so they are no longer
    # a failure's only downstream: this watcher (skipped on a good night) fails the run
    # whenever any task failed.
    @task(trigger_rule="one_failed", retries=1, retry_delay=timedelta(seconds=5))
    def night_failed() -> None:
        raise RuntimeError("a task of the nightly run failed (digests were still sent)")

    loaded = parse_validate_load(register(discover()))
    checked = cross_checks(loaded)
    build = dbt_task_group()
    summary = quality_summary()
    loaded >> [build, summary]
    docs = data_docs(checked)
    # The digests wait for the build and the checks but run even when one failed.
    digests = send_digests()
    [build, checked, summary] >> digests
    [loaded, build, checked, summary, docs, digests] >> night_failed()


nightly_submissions()
