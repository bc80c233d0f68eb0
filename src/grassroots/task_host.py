"""An Airflow command that runs tasks, started with the tasks' libraries imported.

`python -m grassroots.task_host scheduler` (LocalExecutor) or `... celery worker` is
`airflow <the same arguments>`, after importing what the night's tasks import every
time: pandas, psycopg, Great Expectations, dbt and cosmos, and the grassroots modules
they call. The scheduler forks its LocalExecutor workers and each worker forks the
process of every task it runs (a Celery worker forks its pool the same way), so a
module imported here is already in every task's process, shared copy-on-write, instead
of being imported again by each task: 2.2 s of Great Expectations in each intake
batch, 1.6 s of dbt and cosmos before the build, on a 2-core server, every night.

Only the commands that run tasks: the API server, the DAG processor and the triggerer
run none. A module that fails to import is logged and left to the task that needs it,
which then fails with the error in its own log.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time

log = logging.getLogger(__name__)

# What the night's tasks import when they run (their imports are inside the task
# functions, so that the DAG file parses fast).
TASK_MODULES = (
    "pandas",
    "psycopg",
    "great_expectations",
    "great_expectations.expectations",
    "great_expectations.metrics.query.batch_table",
    "grassroots.pipeline",
    "grassroots.validation.runner",
    "grassroots.validation.cross_run",
    "grassroots.data_docs",
    "grassroots.alerts",
    "cosmos.operators.local",
    "dbt.cli.main",
    "dbt.adapters.postgres",
)


def command(airflow_args: list[str]) -> list[str]:
    """The command line of `airflow <airflow_args>` started through this module."""
    return [sys.executable, "-m", __name__, *airflow_args]


def preload(modules: tuple[str, ...] = TASK_MODULES) -> list[str]:
    """Import `modules`; the names of those that failed."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:  # the task that needs it reports it
            log.warning("task libraries: %s not imported (%s)", name, error)
            failed.append(name)
    return failed


def main() -> None:
    started = time.monotonic()
    failed = preload()
    print(
        f"grassroots: task libraries imported in {time.monotonic() - started:.1f} s"
        + (f" ({len(failed)} failed: {', '.join(failed)})" if failed else ""),
        file=sys.stderr,
        flush=True,
    )
    from airflow.__main__ import main as airflow

    sys.argv = ["airflow", *sys.argv[1:]]
    airflow()


if __name__ == "__main__":
    main()
