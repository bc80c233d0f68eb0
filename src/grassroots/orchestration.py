"""Airflow-side configuration kept out of the DAG file: dbt through astronomer-cosmos.

Cosmos renders each dbt node (seed, model with its tests) as its own Airflow task
from the manifest that `grassroots setup` builds with `dbt parse`, and runs it with
dbt's in-process runner. The warehouse connection comes from the Airflow connection
`grassroots_warehouse` (AIRFLOW_CONN_GRASSROOTS_WAREHOUSE in the environment).
"""

from __future__ import annotations

import os
from datetime import timedelta

from grassroots.alerts import task_failure_alert
from grassroots.config import DBT_PROJECT_DIR, SMTP_CONN_ID, WAREHOUSE_CONN_ID

# What operators are told when a task fails after its retries (mail and Slack alike).
FAILURE_SUBJECT = "[grassroots] {{ ti.dag_id }}.{{ ti.task_id }} failed"
FAILURE_TEXT = (
    "Task {{ ti.task_id }} of run {{ ti.run_id }} ({{ ti.dag_id }}) failed after"
    " {{ ti.try_number }} tries: {{ exception }}"
)
# The mail: the same line, the error escaped (it may hold < >), and in Vietnamese what
# the operator does next.
FAILURE_MAIL = (
    "<p>Task {{ ti.task_id }} of run {{ ti.run_id }} ({{ ti.dag_id }}) failed after"
    " {{ ti.try_number }} tries:</p><pre>{{ exception | string | e }}</pre>"
    "<p>Tác vụ {{ ti.task_id }} của lượt chạy {{ ti.run_id }} (DAG {{ ti.dag_id }}) đã"
    " thất bại sau {{ ti.try_number }} lần thử. Xem nhật ký của tác vụ trong giao diện"
    " Airflow, khắc phục nguyên nhân rồi chạy lại (Clear) tác vụ hoặc lượt chạy; các tệp"
    " chưa nạp vẫn được giữ và sẽ được nạp ở lần chạy sau.</p>"
)


def warehouse_dsn() -> str:
    """The warehouse's URL from the Airflow connection (AIRFLOW_CONN_GRASSROOTS_WAREHOUSE),
    in the spelling psycopg takes. Call it inside a task, never at parse time."""
    from airflow.sdk import Connection

    uri = Connection.get(WAREHOUSE_CONN_ID).get_uri()
    return uri.replace("postgres://", "postgresql://", 1)


def failure_callbacks() -> list:
    """Log every failure; tell operators too, through Airflow's notifiers, when configured:
    mail when GRASSROOTS_OPERATOR_EMAILS is set (connection grassroots_smtp), Slack when
    GRASSROOTS_SLACK_CONN_ID names a Slack incoming-webhook connection."""
    callbacks = [task_failure_alert]
    operators = os.environ.get("GRASSROOTS_OPERATOR_EMAILS", "").strip()
    if operators:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        callbacks.append(
            SmtpNotifier(
                to=[address.strip() for address in operators.split(",")],
                smtp_conn_id=SMTP_CONN_ID,
                subject=FAILURE_SUBJECT,
                html_content=FAILURE_MAIL,
            )
        )
    slack_conn_id = os.environ.get("GRASSROOTS_SLACK_CONN_ID", "").strip()
    if slack_conn_id:
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        callbacks.append(
            SlackWebhookNotifier(slack_webhook_conn_id=slack_conn_id, text=FAILURE_TEXT)
        )
    return callbacks


def retry_delay() -> timedelta:
    """Between a failed task's tries: GRASSROOTS_RETRY_DELAY_SECONDS (tests shorten it),
    else 2 minutes, time for a restarted PostgreSQL to finish its crash recovery."""
    seconds = os.environ.get("GRASSROOTS_RETRY_DELAY_SECONDS", "").strip()
    return timedelta(seconds=float(seconds)) if seconds else timedelta(minutes=2)


DEFAULT_ARGS = {
    "owner": "grassroots-data-team",
    "retries": 2,
    "retry_delay": retry_delay(),
    "on_failure_callback": failure_callbacks(),
}


# Flags of every nightly dbt invocation (the DAG's tasks and bench/run.py).
NIGHTLY_DBT_FLAGS = ("--exclude-resource-type", "unit_test")


def _profile_config():
    from cosmos import ProfileConfig
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    return ProfileConfig(
        profile_name="grassroots",
        target_name="airflow",
        profile_mapping=PostgresUserPasswordProfileMapping(
            conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "marts", "threads": 2}
        ),
    )


def dbt_task_group(group_id: str = "dbt_build"):
    from cosmos import DbtTaskGroup, ExecutionConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_PROJECT_DIR / "target" / "manifest.json",
            install_dbt_deps=False,
        ),
        profile_config=_profile_config(),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            # Registry seeds are loaded by `grassroots setup` when they change, not nightly
            # (see runtime.load_reference_seeds).
            exclude=["resource_type:seed"],
            # A test that reads two models (relationships) becomes its own task after both.
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={
            "install_deps": False,
            # Data tests read only the rows built in this DAG run (built_at since its
            # start; dbt_project/macros/get_where_subquery.sql): each model is its own
            # `dbt build`, so dbt's run_started_at would miss what earlier tasks built.
            # (start_date may be unset in some run types: run_after is never later.)
            "vars": {"built_since": "{{ dag_run.start_date or dag_run.run_after }}"},
            # Unit tests check SQL logic on fixed inputs: they cannot fail on tonight's
            # data, so they run in `make test` and in the weekly full checks, not nightly.
            "dbt_cmd_flags": list(NIGHTLY_DBT_FLAGS),
        },
        default_args=DEFAULT_ARGS,
    )


def dbt_full_tests_task(task_id: str = "dbt_test_all"):
    """Every data and unit test of the project on whole relations (`dbt test`).

    The nightly build tests only the rows it rebuilt (macros/get_where_subquery.sql);
    this weekly run checks everything, so a row that went wrong outside tonight's years
    (a registry change, a manual edit) is still caught. Plain `dbt test` is never sliced.
    """
    from cosmos.constants import InvocationMode

    from grassroots.dbt_checks import DbtFullTestsOperator

    return DbtFullTestsOperator(
        task_id=task_id,
        project_dir=str(DBT_PROJECT_DIR),
        profile_config=_profile_config(),
        invocation_mode=InvocationMode.DBT_RUNNER,
        install_deps=False,
    )
