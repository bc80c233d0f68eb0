"""Nightly intake of the units' submissions and the warehouse build.

discover -> register -> parse, validate (Great Expectations), load or quarantine
-> dbt build (one task per model, via cosmos) -> data-quality summary.
Logic lives in the grassroots package; this file only wires it.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, Connection, Param, dag, task
from airflow.sdk.exceptions import AirflowNotFoundException

from grassroots.config import SMTP_CONN_ID, WAREHOUSE_CONN_ID
from grassroots.orchestration import DEFAULT_ARGS, dbt_task_group

RAW_SUBMISSIONS = Asset("grassroots://warehouse/raw/submissions")


def _dsn() -> str:
    return Connection.get(WAREHOUSE_CONN_ID).get_uri().replace("postgres://", "postgresql://", 1)


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
    def discover(params=None) -> list[str]:
        from grassroots.pipeline import discover_inbox

        return discover_inbox(params.get("inbox"))

    @task
    def register(files: list[str], run_id=None) -> dict:
        from grassroots.pipeline import register_files

        return register_files(_dsn(), files, run_id)

    @task(outlets=[RAW_SUBMISSIONS])
    def parse_validate_load(registered: dict, run_id=None) -> dict:
        from grassroots.pipeline import parse_validate_load

        return parse_validate_load(_dsn(), run_id)

    @task
    def quality_summary(run_id=None) -> dict:
        from grassroots.pipeline import quality_summary

        return quality_summary(_dsn(), run_id)

    @task
    def send_digests(summary: dict, run_id=None) -> dict:
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
        return send_quality_digests(_dsn(), run_id, smtp)

    loaded = parse_validate_load(register(discover()))
    # The summary does not wait for dbt: staff get it even on a night the build fails,
    # and a failed build still fails the run.
    loaded >> [dbt_task_group(), send_digests(quality_summary())]


nightly_submissions()
