"""Alerts for operators when a task fails after its retries."""

from __future__ import annotations

import logging

log = logging.getLogger("grassroots.alerts")


def task_failure_alert(context) -> None:
    """Airflow on_failure_callback: name the DAG, task, run and error in the log.

    Mail delivery through Airflow notifiers is configured in the alerting module of
    a later issue; this callback is the single hook every task already carries.
    """
    ti = context.get("task_instance") or context.get("ti")
    log.error(
        "task failed after retries: dag=%s task=%s run=%s try=%s error=%s",
        getattr(ti, "dag_id", "?"),
        getattr(ti, "task_id", "?"),
        getattr(ti, "run_id", "?"),
        getattr(ti, "try_number", "?"),
        context.get("exception"),
    )
