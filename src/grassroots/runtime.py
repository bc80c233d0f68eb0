"""The environment Airflow, dbt and the pipeline run in, derived from the warehouse.

Everything that needs a connection reads it from the environment (AIRFLOW_CONN_*,
GRASSROOTS_DB_*), so the same DAG and dbt project run unchanged against the embedded
server, a managed PostgreSQL, or a distributed Airflow deployment (docker/).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from grassroots.config import (
    DAGS_DIR,
    DBT_PROJECT_DIR,
    LOADER_ROLE,
    WAREHOUSE_CONN_ID,
    Paths,
    paths,
)
from grassroots.dbt_manifest import full_build_fingerprint, manifest_is_fresh
from grassroots.files import (
    make_private,
    private_dir,
    secure_state_folder,
    use_private_umask,
    write_private,
)
from grassroots.warehouse import Warehouse


def _connection_json(url: str) -> str:
    parts = urlsplit(url)
    return json.dumps(
        {
            "conn_type": "postgres",
            "host": parts.hostname,
            "port": parts.port or 5432,
            "login": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "schema": parts.path.lstrip("/"),
        }
    )


# Keys of the secrets file ($GRASSROOTS_HOME/secrets.json) that every Airflow component
# must share: a token signed by one (the scheduler's for a task, the API server's for the
# UI) is checked by another, and connections stored by one are read by the others.
AIRFLOW_SECRETS = {
    "airflow_jwt_secret": "AIRFLOW__API_AUTH__JWT_SECRET",
    "airflow_api_secret_key": "AIRFLOW__API__SECRET_KEY",
    "airflow_fernet_key": "AIRFLOW__CORE__FERNET_KEY",
}
# The UI's one login (simple auth manager, role admin): `grassroots serve password`.
ADMIN_USER = "admin"
ADMIN_PASSWORD_KEY = "airflow_admin_password"


def _new_secret(key: str) -> str:
    import secrets

    if key == "airflow_fernet_key":
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode()
    return secrets.token_urlsafe(32)


def shared_secrets() -> dict[str, str]:
    """The Airflow secrets and the admin's password from the secrets file, generated
    once (0600, beside the roles' passwords that grassroots.warehouse keeps there)."""
    file = paths().secrets
    make_private(file)
    stored = json.loads(file.read_text()) if file.exists() else {}
    missing = [key for key in (*AIRFLOW_SECRETS, ADMIN_PASSWORD_KEY) if not stored.get(key)]
    if missing:
        for key in missing:
            stored[key] = _new_secret(key)
        write_private(file, json.dumps(stored, indent=2))
    return {key: stored[key] for key in (*AIRFLOW_SECRETS, ADMIN_PASSWORD_KEY)}


# Settings every Airflow component and task needs wherever it runs: the embedded default
# (runtime_env) and the image (docker/Dockerfile's ENV; tests/unit/test_deploy_files.py
# fails when the two drift).
STATIC_ENV = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    # Parsing the nightly DAG reads dbt's manifest: on a busy machine it takes longer
    # than Airflow's default 30 s, and a timed-out parse leaves the DAG out.
    "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
    "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
    # Task logs hold the night's file names and findings: private like the rest.
    "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS": "0o600",
    "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS": "0o700",
    # A task's supervisor notices its process's exit between waits of this many seconds
    # (it may miss the exit and sleep a whole wait): at Airflow's 5, 21 of 81 task runs
    # of national nights held their executor slot 5.0-5.2 s after the task had ended,
    # and the next task on the night's path waited for it.
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
    # The heartbeats a task may miss before it is ended: 15 at 1 s, as Airflow's 3 at 5 s.
    "AIRFLOW__WORKERS__MAX_FAILED_HEARTBEATS": "15",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "false",
    # No usage telemetry: the networks this runs on often reach nothing outside.
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
}


def state_folder_env(state: Paths) -> dict[str, str]:
    """Nothing outside the state folder: temporary files (cosmos's copies of the dbt
    project among them), cosmos's cache and dbt's log are this install's own."""
    return {
        "TMPDIR": str(state.tmp),
        "AIRFLOW__COSMOS__CACHE_DIR": str(state.home / "cache" / "cosmos"),
        "DBT_LOG_PATH": str(state.home / "logs" / "dbt"),
    }


def runtime_env(warehouse: Warehouse | None = None) -> dict[str, str]:
    """Variables for Airflow, dbt and the tasks; values already set by the user win."""
    warehouse = warehouse or Warehouse()
    state = paths()
    private_dir(state.tmp)
    loader_url = warehouse.url(LOADER_ROLE)
    airflow_secrets = shared_secrets()
    parts = urlsplit(loader_url)
    bin_dir = str(Path(sys.executable).parent)
    derived = {
        "GRASSROOTS_HOME": str(state.home),
        "AIRFLOW_HOME": str(state.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": warehouse.airflow_metadata_url(),
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": _connection_json(loader_url),
        "GRASSROOTS_DB_HOST": parts.hostname or "127.0.0.1",
        "GRASSROOTS_DB_PORT": str(parts.port or 5432),
        "GRASSROOTS_DB_USER": unquote(parts.username or ""),
        "GRASSROOTS_DB_PASSWORD": unquote(parts.password or ""),
        "GRASSROOTS_DB_NAME": parts.path.lstrip("/"),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        **state_folder_env(state),
        **STATIC_ENV,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        **{variable: airflow_secrets[key] for key, variable in AIRFLOW_SECRETS.items()},
    }
    env = dict(os.environ)
    for key, value in derived.items():
        if key == "PATH" or key not in env:
            env[key] = value
    return env


def apply_runtime_env(warehouse: Warehouse | None = None) -> dict[str, str]:
    env = runtime_env(warehouse)
    os.environ.update(env)
    return env


def run_tool(args: list[str], env: dict[str, str], cwd: Path | None = None) -> int:
    """Run airflow/dbt from this virtualenv with the runtime environment."""
    executable = Path(sys.executable).parent / args[0]
    command = [str(executable) if executable.exists() else args[0], *args[1:]]
    return subprocess.run(command, env=env, cwd=cwd, check=False).returncode


# dbt's line for a finished node: "12 of 97 OK created sql table model marts.x [SELECT 3 ..]"
_DBT_NODE_DONE = re.compile(r"\b\d+ of \d+ (OK|PASS|WARN|ERROR|FAIL|SKIP)\b")


def run_dbt_with_progress(
    command: list[str], env: dict[str, str], progress: Callable[[str], None]
) -> int:
    """Run a dbt command, passing each finished node's line (and the summary) to
    progress; dbt's whole output goes to <home>/logs/<command>.log."""
    log_dir = private_dir(paths().home / "logs")
    log_file = log_dir / f"setup-dbt-{command[1]}.log"
    progress(f"  dbt's output: {log_file}")
    executable = Path(sys.executable).parent / command[0]
    argv = [str(executable) if executable.exists() else command[0], *command[1:]]
    with (
        log_file.open("w", encoding="utf-8") as log,
        subprocess.Popen(
            argv,
            env={**env, "DBT_USE_COLORS": "False"},
            cwd=DBT_PROJECT_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process,
    ):
        for line in process.stdout:
            log.write(line)
            text = line.rstrip()
            if _DBT_NODE_DONE.search(text) or "Done. PASS=" in text:
                progress("  " + text.split("  ", 1)[-1].strip())
    return process.returncode


def secure_state_folder_of(warehouse: Warehouse) -> None:
    """The private umask, and the state folder made private (grassroots.files)."""
    use_private_umask()
    # As root the embedded server runs as another user, who must pass through to its cluster.
    as_other_user = warehouse.server is not None and os.geteuid() == 0
    secure_state_folder(paths().home, server_passage=as_other_user)


def setup(
    warehouse: Warehouse | None = None,
    *,
    quiet: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Start the warehouse, migrate Airflow's database, build the dbt manifest, load the
    reference seeds (a full rebuild when their fingerprint changed).

    progress: called with one line per step (and per dbt node finished during a full
    rebuild, which can take minutes), for commands a person watches."""
    say = progress or (lambda line: None)
    warehouse = warehouse or Warehouse()
    secure_state_folder_of(warehouse)
    where = "an external PostgreSQL" if warehouse.external_url else "the embedded PostgreSQL"
    say(f"starting {where} and checking its roles and databases")
    warehouse.start()
    env = runtime_env(warehouse)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    stamp = Path(env["AIRFLOW_HOME"]) / ".migrated"
    airflow_version = _airflow_version()
    if (
        not stamp.exists()
        or stamp.read_text() != airflow_version
        or not _airflow_db_exists(warehouse)
    ):
        say(f"migrating Airflow's metadata database (Airflow {airflow_version})")
        _check(run_tool(["airflow", "db", "migrate"], env), "airflow db migrate")
        stamp.write_text(airflow_version)
    else:
        say("Airflow's metadata database is up to date")
    if not manifest_is_fresh():
        say("parsing the dbt project (dbt parse)")
        _check(
            run_tool(
                ["dbt", "parse", "--quiet"] if quiet else ["dbt", "parse"], env, cwd=DBT_PROJECT_DIR
            ),
            "dbt parse",
        )
    else:
        say("the dbt manifest is up to date")
    load_reference_seeds(warehouse, env, quiet=quiet, progress=progress)
    return env


def load_reference_seeds(
    warehouse: Warehouse,
    env: dict[str, str],
    *,
    quiet: bool,
    progress: Callable[[str], None] | None = None,
) -> bool:
    """Build the registry seeds (with their tests) when they differ from what was loaded.

    The nightly DAG leaves seeds out: reloading 25,000 registry rows every night costs
    tens of seconds whatever the night brings. They change only when someone runs
    `grassroots registry build` and deploys the result, and setup (also the docker init)
    loads them then. The fingerprint is kept in the warehouse, so a new or restored
    warehouse is seeded even if this state folder has seen the same seeds before; only
    the latest build's counts, so going back to an earlier release rebuilds too.
    """
    import psycopg

    fingerprint = full_build_fingerprint()
    with psycopg.connect(warehouse.url()) as conn:
        # The warehouse holds what its LAST full build made: a release rolled back to a
        # fingerprint built once before (A, then B, then A again) must rebuild, not find A.
        latest = conn.execute(
            "select fingerprint from landing.reference_seed_loads order by loaded_at desc limit 1"
        ).fetchone()
        # Incremental models only rebuild what new files changed: after a registry or
        # incremental-model change an existing warehouse is rebuilt once, in full.
        marts_built = conn.execute(
            "select to_regclass('marts.fct_indicator_values') is not null"
        ).fetchone()[0]
    say = progress or (lambda line: None)
    if latest is not None and latest[0] == fingerprint:
        say("reference seeds and incremental models unchanged: no rebuild")
        return False
    # The whole project, not `seed+`: unit tests of a selected model need every relation
    # its fixtures name to exist, selected or not.
    command = ["dbt", "build", "--full-refresh"]
    if not marts_built:
        command += ["--select", "resource_type:seed"]
        say("loading the reference seeds (dbt build --select resource_type:seed)")
    else:
        say("registry or incremental models changed: rebuilding the warehouse in full (minutes)")
    if progress:
        returncode = run_dbt_with_progress(command, env, progress)
    else:
        returncode = run_tool([*command, "--quiet"] if quiet else command, env, cwd=DBT_PROJECT_DIR)
    _check(returncode, "dbt seed")
    with psycopg.connect(warehouse.url()) as conn:
        conn.execute(
            "insert into landing.reference_seed_loads (fingerprint) values (%s)"
            " on conflict (fingerprint) do update set loaded_at = now()",
            (fingerprint,),
        )
    return True


def _airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


def _airflow_db_exists(warehouse: Warehouse) -> bool:
    import psycopg

    with psycopg.connect(warehouse.admin_url("airflow")) as conn:
        row = conn.execute("select to_regclass('public.alembic_version') is not null").fetchone()
    return bool(row and row[0])


def _check(returncode: int, what: str) -> None:
    if returncode != 0:
        raise SystemExit(f"{what} failed with exit code {returncode}")
