"""The weekly full checks on a deployment whose first night has not run yet."""

from __future__ import annotations

import json

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowSkipException

pytestmark = pytest.mark.integration

EMPTY_DB = "grassroots_never_built"


@pytest.fixture
def never_built(warehouse, monkeypatch):
    """A warehouse database with no marts, as a new deployment has before its first night."""
    with psycopg.connect(warehouse.admin_url(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {EMPTY_DB}")
        conn.execute(f"create database {EMPTY_DB}")
    url = psycopg.conninfo.conninfo_to_dict(warehouse.url())
    monkeypatch.setenv(
        "AIRFLOW_CONN_GRASSROOTS_WAREHOUSE",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": url.get("host", "127.0.0.1"),
                "port": int(url["port"]),
                "login": url["user"],
                "password": url.get("password", ""),
                "schema": EMPTY_DB,
            }
        ),
    )
    yield
    with psycopg.connect(warehouse.admin_url(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {EMPTY_DB}")


def test_weekly_checks_skip_until_the_first_night_built_the_marts(never_built):
    from grassroots.orchestration import dbt_full_tests_task

    task = dbt_full_tests_task()
    with pytest.raises(AirflowSkipException, match="not been built yet"):
        task.execute(context={})
