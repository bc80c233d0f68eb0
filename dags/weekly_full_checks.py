"""Weekly check of the whole warehouse: every dbt data test on every row.

The nightly build tests only the rows it rebuilt (cheap at national scale); this run
tests whole relations, so a problem in a year no night touched is found within a week.
Sunday noon, far from the 01:00 nightly run, so the tests never read a half-built night.
Logic lives in the grassroots package; this file only wires it.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from grassroots.orchestration import DEFAULT_ARGS, dbt_full_tests_task


@dag(
    dag_id="weekly_full_checks",
    schedule="0 12 * * 0",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["grassroots", "dbt", "quality"],
    doc_md=__doc__,
)
def weekly_full_checks():
    dbt_full_tests_task()


weekly_full_checks()
