"""Issue 17: an analyst login (or a local account) cannot stop the night or reach the
superuser. Real embedded PostgreSQL, real dbt; each attack bounded in time."""

from __future__ import annotations

import stat
import threading
import time
from urllib.parse import urlsplit

import psycopg
import pytest

from grassroots import intake
from grassroots.config import AIRFLOW_DB, ANALYST_ROLE, DBT_PROJECT_DIR, LOADER_ROLE, paths
from grassroots.runtime import run_tool, runtime_env
from grassroots.warehouse import Warehouse
from grassroots.warehouse_roles import AIRFLOW_ROLE, ANALYST_CONNECTION_LIMIT
from tests.conftest import reset_intake
from tests.integration.test_cross_checks import cb, dv, tc

pytestmark = pytest.mark.integration

# The advisory-lock key the intake took before issue 17 (intake.SUPERSEDE_LOCK then).
OLD_INTAKE_LOCK_KEY = 0x6772_7373
# Build sessions give up on a lock after this long: a regression fails the build in
# seconds instead of waiting for the loader's 10-minute lock_timeout.
BUILD_LOCK_TIMEOUT = "20s"
NIGHTLY = [
    "dbt",
    "build",
    "--exclude",
    "resource_type:seed",
    "--exclude-resource-type",
    "unit_test",
]


def _load(conn, folder, files: dict[str, str], run_id: str) -> intake.IntakeSummary:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    intake.register(conn, intake.discover(folder), paths().archive, run_id)
    return intake.process_pending(conn, paths().quarantine, run_id)


def _year(year: int, members: int) -> dict[str, str]:
    return {
        f"dv_{year}.csv": dv(year, "06193", members),
        f"cb_{year}.csv": cb(year, "06193", [(1, members // 2, "good"), (2, 5, "completed")]),
        f"tc_{year}.csv": tc(year, "183", [("06193", "commune", members, "good", "")]),
    }


def _dbt(warehouse, target, *args: str) -> int:
    env = runtime_env(warehouse)
    env["PGOPTIONS"] = f"-c lock_timeout={BUILD_LOCK_TIMEOUT}"
    command = [*args, "--target-path", str(target), "--log-path", str(target / "logs")]
    return run_tool(command, env, cwd=DBT_PROJECT_DIR)


def test_roles_are_bounded_and_secrets_private(warehouse):
    with psycopg.connect(warehouse.admin_url()) as admin:
        config, limit = admin.execute(
            "select rolconfig, rolconnlimit from pg_roles where rolname = %s", (ANALYST_ROLE,)
        ).fetchone()
        airflow_user = urlsplit(warehouse.airflow_metadata_url()).username
        superusers = {
            name
            for (name,) in admin.execute(
                "select rolname from pg_roles where rolsuper and rolname = any(%s)",
                ([LOADER_ROLE, ANALYST_ROLE, airflow_user],),
            )
        }
    assert {
        "statement_timeout=5min",
        "idle_in_transaction_session_timeout=5min",
        "idle_session_timeout=30min",
    } <= set(config)
    assert any(setting.startswith("temp_file_limit=") for setting in config)
    assert limit == ANALYST_CONNECTION_LIMIT
    assert airflow_user == AIRFLOW_ROLE and not superusers
    for secret in (paths().postgres / "server.json", paths().secrets):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret


def test_secrets_written_world_readable_by_an_older_release_become_private(warehouse):
    for secret in (paths().postgres / "server.json", paths().secrets):
        secret.chmod(0o644)
    Warehouse().url(ANALYST_ROLE)  # reads both
    for secret in (paths().postgres / "server.json", paths().secrets):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret


@pytest.mark.parametrize("role", [LOADER_ROLE, ANALYST_ROLE])
def test_copy_from_program_is_refused_to_pipeline_and_analyst_roles(warehouse, role):
    with psycopg.connect(warehouse.url(role), autocommit=True) as conn:
        conn.execute("create temporary table probe (line text)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("copy probe from program 'id'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select pg_read_file('/etc/passwd')")


def test_airflow_metadata_migrates_as_its_own_role(warehouse):
    # An airflow database an older release made as the superuser is handed over.
    with psycopg.connect(warehouse.admin_url(AIRFLOW_DB), autocommit=True) as admin:
        admin.execute("create table if not exists public.zz_legacy (id serial primary key)")
    try:
        warehouse.bootstrap()
        with psycopg.connect(warehouse.admin_url(AIRFLOW_DB)) as admin:
            owners = admin.execute(
                "select distinct pg_get_userbyid(relowner) from pg_class"
                " where relnamespace = 'public'::regnamespace"
            ).fetchall()
        assert owners == [(AIRFLOW_ROLE,)]
        env = runtime_env(warehouse)
        assert urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).username == AIRFLOW_ROLE
        assert run_tool(["airflow", "db", "migrate"], env) == 0
    finally:
        with psycopg.connect(warehouse.admin_url(AIRFLOW_DB), autocommit=True) as admin:
            admin.execute("drop table if exists public.zz_legacy")


def test_analyst_exhausting_connections_leaves_the_pipeline_slots(warehouse, tmp_path):
    reset_intake(warehouse)
    hogs = []
    try:
        for _ in range(250):  # more than max_connections: the loop ends by a refusal
            try:
                hogs.append(psycopg.connect(warehouse.url(ANALYST_ROLE), connect_timeout=5))
            except psycopg.OperationalError:
                break
        assert len(hogs) <= ANALYST_CONNECTION_LIMIT
        airflow = warehouse.airflow_metadata_url().replace("+psycopg2", "", 1)
        psycopg.connect(airflow).close()
        with psycopg.connect(warehouse.url(), autocommit=True) as conn:
            assert _load(conn, tmp_path / "inbox", _year(2023, 90), "hogs").loaded == 3
        build = [*NIGHTLY, "--select", "+mart_membership", "--indirect-selection", "cautious"]
        assert _dbt(warehouse, tmp_path / "build", *build) == 0
    finally:
        for hog in hogs:
            hog.close()


def test_analyst_holding_the_intake_lock_key_does_not_stop_a_load(warehouse, tmp_path):
    reset_intake(warehouse)
    with psycopg.connect(warehouse.url(ANALYST_ROLE), autocommit=True) as analyst:
        analyst.execute("select pg_advisory_lock(%s)", (OLD_INTAKE_LOCK_KEY,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with analyst.transaction():
                analyst.execute(f"lock table {intake.SUPERSEDE_LOCK} in exclusive mode")
        with psycopg.connect(warehouse.url(), autocommit=True) as conn:
            conn.execute("set lock_timeout = '5s'")  # a wait fails fast, not in 10 minutes
            started = time.monotonic()
            summary = _load(conn, tmp_path / "inbox", _year(2023, 90), "advisory")
            elapsed = time.monotonic() - started
        assert (summary.loaded, summary.quarantined) == (3, 0)
        assert elapsed < 60


def test_long_analyst_query_during_a_night_does_not_block_it(warehouse, tmp_path):
    reset_intake(warehouse)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        assert _load(conn, tmp_path / "day1", _year(2023, 90), "day1").loaded == 3
    assert _dbt(warehouse, tmp_path / "full", *NIGHTLY, "--full-refresh") == 0
    with psycopg.connect(warehouse.url()) as loader:
        relations = [
            name
            for (name,) in loader.execute(
                "select format('marts.%I', relname) from pg_class"
                " where relnamespace = 'marts'::regnamespace and relkind in ('r', 'p', 'v', 'm')"
            )
        ]
    assert {"marts.dim_year", "marts.dim_indicator", "marts.mart_membership"} <= set(relations)

    analyst = psycopg.connect(warehouse.url(ANALYST_ROLE))  # one transaction, left open
    pid = analyst.info.backend_pid
    for name in relations:
        analyst.execute(f"select * from {name} limit 1").fetchall()
    sleeper = threading.Thread(target=_sleep_until_cancelled, args=(analyst,), daemon=True)
    sleeper.start()
    try:
        with psycopg.connect(warehouse.url(), autocommit=True) as conn:
            assert _load(conn, tmp_path / "day2", _year(2024, 95), "day2").loaded == 3
        started = time.monotonic()
        assert _dbt(warehouse, tmp_path / "night", *NIGHTLY) == 0
        assert time.monotonic() - started < 300
        assert sleeper.is_alive()
        with psycopg.connect(warehouse.admin_url(), autocommit=True) as admin:
            state = admin.execute(
                "select state, query from pg_stat_activity where pid = %s", (pid,)
            ).fetchone()
            assert state == ("active", "select pg_sleep(600)")
    finally:
        with psycopg.connect(warehouse.admin_url(), autocommit=True) as admin:
            admin.execute("select pg_cancel_backend(%s)", (pid,))
        sleeper.join(30)
        analyst.close()


def _sleep_until_cancelled(conn) -> None:
    try:
        conn.execute("select pg_sleep(600)")
    except psycopg.errors.QueryCanceled:
        pass
