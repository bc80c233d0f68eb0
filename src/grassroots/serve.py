"""`grassroots serve`: Airflow's components on one server, supervised as one process.

The supervisor runs setup (warehouse, Airflow's migrations, dbt manifest, seeds), then
keeps these running as its child processes, each in its own process group, each with
its log in $GRASSROOTS_HOME/logs/<component>.log:

  postgres        the embedded warehouse (not with GRASSROOTS_WAREHOUSE_URL): checked
                  every few seconds and started again if it stopped
  scheduler       with LocalExecutor: it runs the tasks (with CeleryExecutor, the
                  `grassroots worker` processes do: grassroots.workers)
  dag-processor   parses dags/
  triggerer       deferred tasks
  api-server      the REST API, the UI and the execution API the tasks report to

A component that exits is started again after a pause that doubles each time (1 s up
to 60 s); one that lives but has sent Airflow no heartbeat for STUCK_AFTER seconds (the
API server's health report: a scheduler that lost its database can hang in its own
shutdown, waiting for an idle executor worker) is ended, then started again. One that
exits more than MAX_RESTARTS times within RESTART_WINDOW seconds stops the whole with a
message naming it and exit code 1. Ctrl-C or SIGTERM stops everything: each component's
process group gets SIGTERM, then SIGKILL after STOP_GRACE seconds; the supervisor is a
child subreaper, so any process a component left behind is its child and is ended too.
The embedded PostgreSQL is stopped only if serve started it.

State: $GRASSROOTS_HOME/serve/serve.pid and serve/state.json (read by `serve status`
and `serve stop`). This module holds those files, the served environment and the
operator's commands; the supervisor itself is grassroots.supervisor.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from grassroots.config import paths
from grassroots.files import private_dir, write_private
from grassroots.processes import fmt_duration, pid_alive

AIRFLOW_COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
NIGHTLY_DAG_ID = "nightly_submissions"

MAX_RESTARTS = 5
RESTART_WINDOW = 600.0
MAX_BACKOFF = 60.0
STOP_GRACE = 30.0
POSTGRES_CHECK_EVERY = 5.0
# The API server's health report, read this often; a component it reports unhealthy
# (no heartbeat) for STUCK_AFTER seconds while its process lives is ended and restarted.
HEALTH_CHECK_EVERY = 15.0
STUCK_AFTER = 180.0


class ServeError(RuntimeError):
    pass


def serve_dir() -> Path:
    return paths().home / "serve"


def pid_file() -> Path:
    return serve_dir() / "serve.pid"


def state_file() -> Path:
    return serve_dir() / "state.json"


def passwords_file() -> Path:
    """The simple auth manager's passwords file (0600, rewritten on each start)."""
    return paths().airflow_home / "simple_auth_manager_passwords.json"


def ui_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def admin_password() -> str:
    from grassroots.runtime import ADMIN_PASSWORD_KEY, shared_secrets

    return shared_secrets()[ADMIN_PASSWORD_KEY]


def serve_env(env: dict[str, str], host: str, port: int) -> dict[str, str]:
    """The runtime environment (grassroots.runtime.runtime_env) for served components:
    login with the admin's password, the tasks' execution API on this API server."""
    from grassroots.runtime import ADMIN_USER

    write_private(passwords_file(), json.dumps({ADMIN_USER: admin_password()}) + "\n")
    served = dict(env)
    # Forced: a served UI always asks for a login, whatever a shell exported for
    # `airflow dags test` runs.
    served.update(
        {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file()),
            "AIRFLOW__API__HOST": host,
            "AIRFLOW__API__PORT": str(port),
        }
    )
    defaults = {
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{ui_url(host, port)}execution/",
        "AIRFLOW__API__BASE_URL": ui_url(host, port),
        # One server: one API worker process, and as many tasks at once as it has cores
        # (each task process parses the DAG and dbt's project: more only thrash).
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__PARALLELISM": str(max(2, os.cpu_count() or 2)),
    }
    for key, value in defaults.items():
        served.setdefault(key, value)
    from grassroots.workers import celery_env, uses_celery

    # CeleryExecutor: the scheduler sends tasks to `grassroots worker` (grassroots.workers).
    return celery_env(served) if uses_celery(served) else served


def postgres_pid() -> int | None:
    """The embedded server's postmaster, from its postmaster.pid."""
    with contextlib.suppress(Exception):
        from grassroots.warehouse import EmbeddedServer

        root = EmbeddedServer(paths())._state()["cluster_root"]
        pid = int((Path(root) / "data" / "postmaster.pid").read_text().split()[0])
        return pid if pid_alive(pid) else None
    return None


# -- pid file, status, stop, detach -----------------------------------------------------


def running_pid() -> int | None:
    """The pid of a running `grassroots serve` for this state folder, if any."""
    try:
        pid = int(pid_file().read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def claim_pid_file() -> None:
    pid = running_pid()
    if pid and pid != os.getpid():
        raise ServeError(f"grassroots serve already runs here (pid {pid}): grassroots serve status")
    private_dir(serve_dir())
    write_private(pid_file(), f"{os.getpid()}\n")


def read_state() -> dict:
    try:
        return json.loads(state_file().read_text())
    except (OSError, ValueError):
        return {}


def status(say: Callable[[str], None] = print) -> int:
    """Print each component's state; 0 when serve runs, 3 when it does not."""
    pid = running_pid()
    state = read_state()
    if not pid or state.get("pid") != pid:
        say(f"grassroots serve is not running (state folder {paths().home})")
        return 3
    now = time.time()
    ready = "ready" if state.get("ready") else "starting"
    say(
        f"grassroots serve: running, pid {pid}, up {fmt_duration(now - state['started_at'])},"
        f" {ready}; UI {state['url']} (user admin, password: grassroots serve password)"
    )
    for name, info in state.get("components", {}).items():
        alive = info.get("pid") and pid_alive(info["pid"])
        if name == "postgres":
            alive = postgres_pid()
            info = {**info, "pid": alive}
        up = fmt_duration(now - info["started_at"]) if alive and info.get("started_at") else "-"
        say(
            f"  {name:<14} {'running' if alive else 'stopped':<8} pid {info.get('pid') or '-':<8}"
            f" up {up:<8} restarts {info.get('restarts', 0):<3} log {info.get('log') or '-'}"
        )
    return 0


def stop(timeout: float = STOP_GRACE + 60, say: Callable[[str], None] = print) -> int:
    pid = running_pid()
    if not pid:
        say("grassroots serve is not running")
        return 0
    say(f"stopping grassroots serve (pid {pid})")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            say("stopped")
            return 0
        time.sleep(0.5)
    say(f"grassroots serve (pid {pid}) did not stop within {timeout:.0f} s")
    return 1


def detached_env() -> dict[str, str]:
    """The environment of the background serve, which runs from /: the state folder and
    the inbox as absolute paths (relative ones would name other folders there)."""
    env = {**os.environ, "GRASSROOTS_HOME": str(paths().home)}
    if os.environ.get("GRASSROOTS_INBOX"):
        env["GRASSROOTS_INBOX"] = str(Path(os.environ["GRASSROOTS_INBOX"]).resolve())
    return env


def detach(host: str, port: int, say: Callable[[str], None] = print, wait: float = 900) -> int:
    """Start `grassroots serve` in the background (its own session, output in
    logs/serve.log) and return once its UI answers."""
    pid = running_pid()
    if pid:
        say(f"grassroots serve is already running (pid {pid})")
        return 1
    log = private_dir(paths().home / "logs") / "serve.log"
    command = [sys.executable, "-m", "grassroots.cli", "serve", "--host", host, "--port", str(port)]
    env = detached_env()
    with log.open("a", encoding="utf-8") as out:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd="/",
            env=env,
        )
    say(f"grassroots serve started in the background (pid {process.pid}, log {log})")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            say(f"grassroots serve exited with code {process.returncode}; see {log}")
            return process.returncode or 1
        state = read_state()
        if state.get("pid") == process.pid and state.get("ready"):
            say(f"ready: {state['url']} (grassroots serve status, grassroots serve stop)")
            return 0
        time.sleep(1.0)
    say(f"still starting after {wait:.0f} s; see {log} and grassroots serve status")
    return 0
