"""Airflow-side configuration kept out of the DAG file: dbt through astronomer-cosmos.

Cosmos renders the dbt project from the manifest that `grassroots setup` builds with
`dbt parse`. How the night's dbt build runs is GRASSROOTS_DBT_EXECUTION_MODE (read when
the DAG file is parsed; DEFAULT_DBT_EXECUTION_MODE when unset):

  build    one task (cosmos DbtBuildLocalOperator) runs one `dbt build` with dbt's
           threads, of the whole project or, on a night with no new file, of the
           models that follow the date (grassroots.dbt_scope); a failure names each
           failed model and test
  watcher  cosmos ExecutionMode.WATCHER: the same one `dbt build`, and each model (and
           its tests) a sensor task that turns green or red as dbt reports that node
  local    cosmos ExecutionMode.LOCAL: each model is its own `dbt build` task (dbt's
           in-process runner), one dbt start and one DAG parse per model

Through the scheduler every task is a process that parses the DAG: the sensors of
`watcher` (64) and the tasks of `local` (41) cost more than the build itself on a
2-core server (docs/performance.md, "The night run by the scheduler"), hence `build`.

The warehouse connection comes from the Airflow connection `grassroots_warehouse`
(AIRFLOW_CONN_GRASSROOTS_WAREHOUSE in the environment).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

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


def task_failure_alert(context) -> None:
    """grassroots.alerts.task_failure_alert (the log line of a failed task), imported when
    a task fails: alerts imports pandas and psycopg, which parsing a DAG must not."""
    from grassroots.alerts import task_failure_alert as alert

    alert(context)


def smtp_settings():
    """The staff digests' SMTP server from Airflow's connection grassroots_smtp
    (AIRFLOW_CONN_GRASSROOTS_SMTP), or None: the digests are then only written to disk."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from grassroots.alerts import SmtpSettings

    try:
        conn = Connection.get(SMTP_CONN_ID)
    except AirflowNotFoundException:
        return None
    return SmtpSettings(
        host=conn.host,
        port=conn.port or 25,
        sender=conn.extra_dejson.get("from_email", "grassroots@localhost"),
        user=conn.login or None,
        password=conn.password or None,
        starttls=bool(conn.extra_dejson.get("starttls", False)),
    )


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


# The night's critical path (the build, then the digests) is queued before the tasks
# that become ready with it: above every other task's summed weight (the DAG has about
# a dozen tasks).
CRITICAL_PATH_WEIGHT = 100

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


DBT_EXECUTION_MODES = ("build", "watcher", "local")
# Chosen by bench/served.py's figures (docs/performance.md): the night's dbt as one task.
DEFAULT_DBT_EXECUTION_MODE = "build"


def dbt_execution_mode() -> str:
    mode = os.environ.get("GRASSROOTS_DBT_EXECUTION_MODE", "").strip().lower()
    mode = mode or DEFAULT_DBT_EXECUTION_MODE
    if mode not in DBT_EXECUTION_MODES:
        raise ValueError(
            f"GRASSROOTS_DBT_EXECUTION_MODE={mode!r}: one of {', '.join(DBT_EXECUTION_MODES)}"
        )
    return mode


def _in_dags_test() -> bool:
    """`airflow dags test` (`grassroots run`): tasks run one at a time in this process and
    a deferred task's trigger runs inline, so a sensor run before the build it watches
    would wait forever."""
    return sys.argv[1:3] == ["dags", "test"]


# Every nightly dbt command: the DAG's tasks (whatever the mode) and bench/run.py's.
def _nightly_operator_args() -> dict:
    return {
        "install_deps": False,
        # Data tests read only the rows built in this DAG run (built_at since its
        # start; dbt_project/macros/get_where_subquery.sql): in local mode each model is
        # its own `dbt build`, whose run_started_at would miss what earlier tasks built,
        # and a watcher sensor's retry runs its model alone. (start_date may be unset in
        # some run types: run_after is never later.)
        # In the environment, not --vars: dbt parses the whole project again whenever the
        # command's vars change (4-5 s a night); the macro reads it only when executing.
        "env": {"GRASSROOTS_DBT_BUILT_SINCE": "{{ dag_run.start_date or dag_run.run_after }}"},
        # Unit tests check SQL logic on fixed inputs: they cannot fail on tonight's
        # data, so they run in `make test` and in the weekly full checks, not nightly.
        "dbt_cmd_flags": list(NIGHTLY_DBT_FLAGS),
    }


def _select_night_scope(context, operator) -> None:
    """cosmos interceptor of the `build` mode's task (run before its command is built, on
    whichever worker runs it): --select from grassroots.dbt_scope. The other modes
    render one task per model from the manifest and always build the whole project."""
    from grassroots.dbt_scope import scope_for

    operator.select = list(scope_for(warehouse_dsn()).select)


def _watcher_operator_args() -> dict:
    """The sensors' arguments: the nightly ones without `dbt build`'s flags (the
    producer gets those through setup_operator_args)."""
    args = _nightly_operator_args()
    del args["dbt_cmd_flags"]
    return args


def _cosmos_cache_dir(group_id: str) -> Path | None:
    """The worker's cosmos cache for this group ([cosmos] cache_dir), unless disabled."""
    from cosmos import settings

    if not (settings.enable_cache and settings.enable_cache_partial_parse):
        return None
    return Path(settings.cache_dir) / f"{group_id}__partial_parse"


def dbt_task_group(group_id: str = "dbt_build", mode: str | None = None):
    """The night's dbt build as the task group `group_id`, run as `mode` says
    (default: GRASSROOTS_DBT_EXECUTION_MODE, see the module's doc)."""
    from airflow.sdk import TaskGroup
    from cosmos import DbtTaskGroup, ExecutionConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    mode = mode or dbt_execution_mode()
    if mode == "build":
        from cosmos.operators.local import DbtBuildLocalOperator

        with TaskGroup(group_id=group_id, default_args=DEFAULT_ARGS) as group:
            DbtBuildLocalOperator(
                task_id="build",
                project_dir=str(DBT_PROJECT_DIR),
                profile_config=_profile_config(),
                invocation_mode=InvocationMode.DBT_RUNNER,
                exclude=["resource_type:seed"],
                # --select decided when the task runs: the whole project, or only the
                # models that follow the date on a night with no new file.
                interceptors=[_select_night_scope],
                # The night's critical path: queued before the checks and the summary,
                # which become ready with it (by default they weigh more, having more
                # tasks downstream, and took both slots of a 2-core server first).
                priority_weight=CRITICAL_PATH_WEIGHT,
                # Where cosmos keeps dbt's partial parse between nights, as a DbtTaskGroup
                # does (without it every night parses the project in full).
                cache_dir=_cosmos_cache_dir(group_id),
                **_nightly_operator_args(),
            )
        return group
    watcher = mode == "watcher"
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_PROJECT_DIR / "target" / "manifest.json",
            install_dbt_deps=False,
        ),
        profile_config=_profile_config(),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER if watcher else ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            # The producer (the one `dbt build`) never runs twice: cosmos skips its
            # retry and each sensor then runs its own model. No need to wait long. The
            # nightly flags are `dbt build`'s: a sensor's retry runs `dbt run`, which
            # refuses --exclude-resource-type.
            setup_operator_args=(
                {"retry_delay": timedelta(seconds=5), "dbt_cmd_flags": list(NIGHTLY_DBT_FLAGS)}
                if watcher
                else None
            ),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # Watcher: a model's sensor, then a sensor of all its tests (cosmos has no
            # per-node build sensor); local: one `dbt build` per model, tests included.
            test_behavior=TestBehavior.AFTER_EACH if watcher else TestBehavior.BUILD,
            # Registry seeds are loaded by `grassroots setup` when they change, not nightly
            # (see runtime.load_reference_seeds).
            exclude=["resource_type:seed"],
            # Local: a test that reads two models (relationships) becomes its own task
            # after both. Watcher: dbt's one build orders such a test itself, and it counts
            # in both models' test sensors (a detached watcher test task would watch a
            # status the producer never reports, and pass whatever the test found).
            should_detach_multiple_parents_tests=not watcher,
        ),
        operator_args=_watcher_operator_args() if watcher else _nightly_operator_args(),
        default_args=DEFAULT_ARGS,
    )
    if watcher and _in_dags_test():
        _sensors_after_the_producer(group)
    return group


def _sensors_after_the_producer(group) -> None:
    """Put the watcher's first sensors after its producer (the one `dbt build`): they then
    find each node's result at their first look, and never wait inline for a build that
    `airflow dags test` would only start after them. They still run when the producer
    was skipped (cosmos skips its retry): each then runs its own model and fails if the
    model does, instead of being skipped with the night reported good."""
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    tasks = list(group.iter_tasks())
    (producer,) = [t for t in tasks if t.task_id.endswith("." + PRODUCER_WATCHER_TASK_ID)]
    sensors = [t for t in tasks if hasattr(t, "producer_task_id")]
    ids = {t.task_id for t in sensors}
    for sensor in sensors:
        if not (sensor.upstream_task_ids & ids):
            producer >> sensor
            sensor.trigger_rule = "none_failed"


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
