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
to 60 s); one that exits more than MAX_RESTARTS times within RESTART_WINDOW seconds
stops the whole with a message naming it and exit code 1. Ctrl-C or SIGTERM stops
everything: each component's process group gets SIGTERM, then SIGKILL after
STOP_GRACE seconds; the supervisor is a child subreaper, so any process a component
left behind is its child and is ended too. The embedded PostgreSQL is stopped only
if serve started it.

State: $GRASSROOTS_HOME/serve/serve.pid and serve/state.json (read by `serve status`
and `serve stop`).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grassroots.config import paths
from grassroots.files import private_dir, write_private

AIRFLOW_COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
NIGHTLY_DAG_ID = "nightly_submissions"

MAX_RESTARTS = 5
RESTART_WINDOW = 600.0
MAX_BACKOFF = 60.0
STOP_GRACE = 30.0
POSTGRES_CHECK_EVERY = 5.0

PR_SET_CHILD_SUBREAPER = 36


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


# -- processes ----------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not running
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def descendants_of(pid: int) -> list[int]:
    """Every process below pid (children, their children, ...)."""
    found, pending = [], [pid]
    while pending:
        for child in _children_of(pending.pop()):
            found.append(child)
            pending.append(child)
    return found


def _become_subreaper() -> None:
    """Orphans of the components become our children (not init's): none escapes stop."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _fmt_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {seconds}s"
    return f"{seconds}s"


@dataclass
class Component:
    name: str
    command: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    deaths: list[float] = field(default_factory=list)
    next_start: float = 0.0
    last_exit: int | None = None

    def start(self, env: dict[str, str]) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"--- grassroots serve: starting {self.name} at {time.ctime()}\n")
            log.flush()
            self.process = subprocess.Popen(
                self.command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started_at = time.time()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


class Supervisor:
    """One foreground process keeping PostgreSQL and Airflow's components running."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        say: Callable[[str], None] = print,
        max_restarts: int = MAX_RESTARTS,
        restart_window: float = RESTART_WINDOW,
        stop_grace: float = STOP_GRACE,
    ):
        self.host, self.port = host, port
        self.say = say
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.stop_grace = stop_grace
        self.stopping = threading.Event()
        self.components: dict[str, Component] = {}
        self.started_at = time.time()
        self.warehouse = None
        self.started_postgres = False
        self.postgres = {"restarts": 0, "deaths": [], "started_at": 0.0}
        self.failure: str | None = None
        self.ready = False
        self._in_setup = False
        self._watching_postgres = False

    # -- entry point ----------------------------------------------------------------
    def run(self) -> int:
        claim_pid_file()
        self._install_signal_handlers()
        _become_subreaper()
        try:
            return self._run()
        except KeyboardInterrupt:
            self.say("interrupted")
            return 130 if not self.stopping.is_set() else 0
        finally:
            self._stop_all()
            pid_file().unlink(missing_ok=True)
            self._write_state(stopped=True)

    def _run(self) -> int:
        env, watch_postgres = self._prepare()
        if self.stopping.is_set():
            return 0
        for component in self.components.values():
            self.say(f"starting {component.name} (log: {component.log_path})")
            component.start(env)
        self._write_state()
        threading.Thread(target=self._when_ready, args=(env,), daemon=True).start()
        return self._supervise(env, watch_postgres)

    def _prepare(self) -> tuple[dict[str, str], bool]:
        """Setup, then the components to start: (their environment, whether to watch
        the embedded PostgreSQL)."""
        from grassroots.runtime import setup
        from grassroots.warehouse import Warehouse

        self.warehouse = Warehouse()
        embedded = self.warehouse.server is not None
        self.started_postgres = embedded and not self.warehouse.is_running()
        self.say("grassroots serve: preparing (grassroots setup)")
        self._in_setup = True
        env = setup(self.warehouse, quiet=True, progress=lambda line: self.say("  " + line))
        self._in_setup = False
        self.postgres["started_at"] = time.time()
        env = serve_env(env, self.host, self.port)
        log_dir = private_dir(paths().home / "logs")
        airflow = str(Path(sys.executable).parent / "airflow")
        for name in AIRFLOW_COMPONENTS:
            extra = ["--host", self.host, "--port", str(self.port)] if name == "api-server" else []
            self.components[name] = Component(
                name, [airflow, name, *extra], log_dir / f"{name}.log"
            )
        return env, embedded

    def _supervise(self, env: dict[str, str], watch_postgres: bool) -> int:
        last_postgres_check = time.monotonic()
        self._watching_postgres = watch_postgres
        while not self.stopping.is_set():
            self._reap_orphans()
            changed = False
            exited = False
            for component in self.components.values():
                was_running = component.process is not None
                changed |= self._watch(component, env)
                exited |= was_running and component.process is None
            # A component that exits has most often lost its database: look at once.
            due = exited or time.monotonic() - last_postgres_check >= POSTGRES_CHECK_EVERY
            if watch_postgres and due:
                last_postgres_check = time.monotonic()
                changed |= self._watch_postgres()
            if self.failure:
                self.say(self.failure)
                return 1
            if changed:
                self._write_state()
            self.stopping.wait(1.0)
        self.say("stopping (signal received)")
        return 0

    # -- supervision ----------------------------------------------------------------
    def _record_death(self, deaths: list[float], name: str, log: str) -> float | None:
        """The pause before the next start, or None when the restarts are used up."""
        now = time.time()
        deaths.append(now)
        deaths[:] = [t for t in deaths if now - t <= self.restart_window]
        if len(deaths) > self.max_restarts:
            self.failure = (
                f"grassroots serve: {name} stopped {len(deaths)} times within"
                f" {int(self.restart_window)} s; giving up and stopping everything"
                f" (see {log})"
            )
            return None
        return min(2.0 ** (len(deaths) - 1), MAX_BACKOFF)

    def _database_up(self) -> bool:
        """Whether the components' database runs: the embedded PostgreSQL when serve
        watches it (an external one is not ours to wait for)."""
        if not self._watching_postgres:
            return True
        return self.warehouse.server.is_running()

    def _watch(self, component: Component, env: dict[str, str]) -> bool:
        if component.process is None:  # waiting for its restart
            if time.time() >= component.next_start:
                if not self._database_up():
                    # Started now it would only exit again and use up its restarts;
                    # it starts once PostgreSQL is back.
                    component.next_start = time.time() + 1.0
                    return False
                component.restarts += 1
                self.say(f"restarting {component.name} (restart {component.restarts})")
                component.start(env)
                return True
            return False
        code = component.process.poll()
        if code is None:
            return False
        component.last_exit = code
        # Whatever it left in its process group goes with it.
        component.signal_group(signal.SIGKILL)
        component.process = None
        pause = self._record_death(component.deaths, component.name, str(component.log_path))
        if pause is None:
            return True
        self.say(
            f"{component.name} exited with code {code}; starting it again in {pause:.0f} s"
            f" (log: {component.log_path})"
        )
        component.next_start = time.time() + pause
        return True

    def _watch_postgres(self) -> bool:
        server = self.warehouse.server
        if server.is_running():
            return False
        pause = self._record_death(
            self.postgres["deaths"], "postgres", str(self.postgres_log() or "its log")
        )
        if pause is None:
            return True
        self.say(f"PostgreSQL is not running; starting it again in {pause:.0f} s")
        if self.stopping.wait(pause):
            return True
        try:
            server.start()
        except Exception as error:  # reported; tried again on the next check
            self.say(f"PostgreSQL did not start: {error}")
            return True
        self.started_postgres = True
        self.postgres["restarts"] += 1
        self.postgres["started_at"] = time.time()
        self.say(f"PostgreSQL started again (restart {self.postgres['restarts']})")
        return True

    def _reap_orphans(self) -> None:
        """Collect the exit status of adopted orphans (a stopped postmaster among them):
        a zombie would look alive to `pg_ctl status`."""
        ours = {c.process.pid for c in self.components.values() if c.process}
        for pid in _children_of(os.getpid()):
            if pid not in ours:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)

    def _when_ready(self, env: dict[str, str]) -> None:
        """Wait for the API server, then (first start only) unpause the nightly DAG."""
        health = f"{ui_url(self.host, self.port)}api/v2/monitor/health"
        while not self.stopping.is_set():
            try:
                with urllib.request.urlopen(health, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            self.stopping.wait(2.0)
        if self.stopping.is_set():
            return
        self.ready = True
        self._write_state()
        self.say(
            f"the UI is at {ui_url(self.host, self.port)} (user admin; the password:"
            " grassroots serve password)"
        )
        stamp = serve_dir() / "nightly-unpaused"
        if stamp.exists():
            return
        airflow = str(Path(sys.executable).parent / "airflow")
        deadline = time.monotonic() + 900
        while not self.stopping.is_set() and time.monotonic() < deadline:
            result = subprocess.run(
                [airflow, "dags", "unpause", NIGHTLY_DAG_ID],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode == 0:
                write_private(stamp, time.ctime() + "\n")
                self.say(f"{NIGHTLY_DAG_ID} unpaused: it runs every night at 01:00 ICT")
                return
            self.stopping.wait(5.0)

    # -- stop -------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        def handler(signum, frame):
            self.stopping.set()
            if self._in_setup:
                raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGHUP, handler)

    def _stop_all(self) -> None:
        self.stopping.set()
        running = [c for c in self.components.values() if c.process is not None]
        for component in running:
            component.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace
        while time.monotonic() < deadline and any(c.running() for c in running):
            time.sleep(0.2)
        for component in running:
            if component.running():
                self.say(f"{component.name} did not stop in {self.stop_grace:.0f} s: killed")
            component.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=10)
        if self.started_postgres and self.warehouse is not None:
            with contextlib.suppress(Exception):
                self.warehouse.stop()
        self._end_orphans()
        if running:
            self.say("stopped")

    def _end_orphans(self) -> None:
        """SIGTERM, then SIGKILL, whatever the components left behind (adopted by us)."""
        postmaster = None if self.started_postgres else postgres_pid()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = [pid for pid in _children_of(os.getpid()) if pid != postmaster]
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + (10 if sig == signal.SIGTERM else 5)
            while left and time.monotonic() < deadline:
                for pid in list(left):
                    with contextlib.suppress(ChildProcessError):
                        done, _ = os.waitpid(pid, os.WNOHANG)
                        if not done:
                            continue
                    left.remove(pid)
                time.sleep(0.1)
            if not left:
                return

    # -- state ------------------------------------------------------------------------
    def postgres_log(self) -> Path | None:
        with contextlib.suppress(Exception):
            return Path(self.warehouse.server._state()["cluster_root"]) / "postgres.log"
        return None

    def _write_state(self, stopped: bool = False) -> None:
        components = {}
        if self.warehouse is not None and self.warehouse.server is not None:
            components["postgres"] = {
                "pid": postgres_pid(),
                "started_at": self.postgres["started_at"],
                "restarts": self.postgres["restarts"],
                "log": str(self.postgres_log() or ""),
            }
        for component in self.components.values():
            components[component.name] = {
                "pid": component.process.pid if component.process else None,
                "started_at": component.started_at,
                "restarts": component.restarts,
                "log": str(component.log_path),
            }
        state = {
            "pid": os.getpid(),
            "started_at": self.started_at,
            "url": ui_url(self.host, self.port),
            "host": self.host,
            "port": self.port,
            "ready": self.ready,
            "stopped": stopped,
            "components": components,
        }
        write_private(state_file(), json.dumps(state, indent=2))


def postgres_pid() -> int | None:
    """The embedded server's postmaster, from its postmaster.pid."""
    with contextlib.suppress(Exception):
        from grassroots.warehouse import EmbeddedServer

        root = EmbeddedServer(paths())._state()["cluster_root"]
        pid = int((Path(root) / "data" / "postmaster.pid").read_text().split()[0])
        return pid if _pid_alive(pid) else None
    return None


# -- pid file, status, stop, detach -----------------------------------------------------


def running_pid() -> int | None:
    """The pid of a running `grassroots serve` for this state folder, if any."""
    try:
        pid = int(pid_file().read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


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
        f"grassroots serve: running, pid {pid}, up {_fmt_duration(now - state['started_at'])},"
        f" {ready}; UI {state['url']} (user admin, password: grassroots serve password)"
    )
    for name, info in state.get("components", {}).items():
        alive = info.get("pid") and _pid_alive(info["pid"])
        if name == "postgres":
            alive = postgres_pid()
            info = {**info, "pid": alive}
        up = _fmt_duration(now - info["started_at"]) if alive and info.get("started_at") else "-"
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
        if not _pid_alive(pid):
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
