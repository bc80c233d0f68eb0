"""The weekly `dbt test` operator (imports cosmos: load it only where a task is built)."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from cosmos.exceptions import CosmosDbtRunError
from cosmos.operators.local import DbtTestLocalOperator

# dbt's message for a data test that returned rows ("Got 1 result, configured to fail
# if != 0"); a connection or SQL error reads differently.
TEST_FAILURE_MARK = "configured to fail if"


class DbtFullTestsOperator(DbtTestLocalOperator):
    """`dbt test`; a failing data test fails the task at once instead of retrying.

    The data will not change between tries, so retries would only delay the alert;
    errors of another kind (the database restarting) keep the task's retries.
    """

    def execute(self, context, **kwargs):
        if not marts_built():
            # A new deployment: its first night has not built the marts yet, and there is
            # nothing to test (every test would fail on a missing relation).
            raise AirflowSkipException(
                "the marts have not been built yet (no nightly run so far): nothing to check"
            )
        try:
            return super().execute(context, **kwargs)
        except CosmosDbtRunError as error:
            if TEST_FAILURE_MARK in str(error):
                raise AirflowFailException(f"dbt data tests failed: {error}") from error
            raise


def marts_built() -> bool:
    import psycopg

    from grassroots.orchestration import warehouse_dsn

    with psycopg.connect(warehouse_dsn()) as conn:
        return conn.execute(
            "select to_regclass('marts.fct_indicator_values') is not null"
        ).fetchone()[0]
