"""Shared fixtures: a test state folder with its own embedded PostgreSQL.

Tests never touch the developer's .state: everything lives in .state/test-home.
Integration and e2e tests use the real server, dbt, GX and Airflow, never mocks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# GRASSROOTS_TEST_HOME lets two test runs on one machine keep separate warehouses.
TEST_HOME = Path(os.environ.get("GRASSROOTS_TEST_HOME") or REPO_ROOT / ".state" / "test-home")
os.environ["GRASSROOTS_HOME"] = str(TEST_HOME)
os.environ.pop("GRASSROOTS_INBOX", None)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# As every entry point of the product does (cli.main, each task): private files only.
os.umask(0o077)

RAW_TABLES = ("raw.form_cb", "raw.form_dv", "raw.form_tc", "raw.form_ct")


@pytest.fixture(scope="session")
def warehouse():
    """The embedded warehouse, Airflow's database and the dbt manifest, ready."""
    from grassroots.runtime import apply_runtime_env, setup
    from grassroots.warehouse import Warehouse

    wh = Warehouse()
    setup(wh, quiet=True)
    apply_runtime_env(wh)
    yield wh
    # Leave no server behind a test run (CI machines and sessions end with no processes).
    wh.stop()


def reset_intake(wh) -> None:
    """Empty the intake tables, archive and quarantine: a warehouse that received nothing.

    The incremental dbt tables are emptied too. They keep the rows of years no later
    night rebuilds, and file ids restart at 1 here: rows left by an earlier test would
    share (file_id, row) with the new files (the weekly full checks found exactly that).
    """
    import psycopg

    from grassroots.config import paths
    from grassroots.dbt_manifest import incremental_tables

    with psycopg.connect(wh.url()) as conn:
        conn.execute(
            f"truncate {', '.join(RAW_TABLES)}, landing.validation_findings,"
            " landing.overdue_alerts, landing.inbox_skipped, landing.validation_results,"
            " landing.received_files restart identity cascade"
        )
        built = conn.execute(
            "select table_name from unnest(%s::text[]) as table_name"
            " where to_regclass(table_name) is not null",
            (incremental_tables(),),
        ).fetchall()
        if built:
            conn.execute(f"truncate {', '.join(name for (name,) in built)}")
    state = paths()
    for folder in (state.archive, state.quarantine, state.inbox, state.staging, state.rejected):
        if folder.exists():
            for path in folder.rglob("*"):
                if path.is_file():
                    path.chmod(0o644)
            shutil.rmtree(folder)


def load_demo(wh, tmp: Path, run_id: str, dbt_args: list[str]) -> None:
    """The demo inbox through the real intake into an emptied warehouse, then
    `dbt build --full-refresh` with dbt_args (what to exclude, extra flags)."""
    import psycopg

    from grassroots import intake
    from grassroots.config import DBT_PROJECT_DIR, paths
    from grassroots.runtime import run_tool, runtime_env

    reset_intake(wh)
    inbox = tmp / "inbox"
    shutil.copytree(REPO_ROOT / "seeds" / "demo_inbox", inbox)
    with psycopg.connect(wh.url(), autocommit=True) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, run_id)
        assert intake.process_pending(conn, paths().quarantine, run_id).loaded > 200
    command = ["dbt", "build", "--full-refresh", *dbt_args]
    command += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    assert run_tool(command, runtime_env(wh), cwd=DBT_PROJECT_DIR) == 0


@pytest.fixture
def empty_warehouse(warehouse):
    reset_intake(warehouse)
    return warehouse
