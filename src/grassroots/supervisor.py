"""The supervisor behind `grassroots serve`: Airflow's components (and the embedded
PostgreSQL) as child processes, each restarted when it dies, all stopped together
(the module docstring of grassroots.serve tells the whole contract).

Longer than 400 lines: one class, its methods the steps of the supervision loop (start,
watch each component, PostgreSQL and the health report, stop), in the order they run."""

from __future__ import annotations

import contextlib
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

from grassroots import task_host
from grassroots.config import paths
from grassroots.files import private_dir, write_private
from grassroots.processes import become_subreaper, children_of
from grassroots.serve import (
    AIRFLOW_COMPONENTS,
    DEFAULT_HOST,
    DEFAULT_PORT,
    HEALTH_CHECK_EVERY,
    MAX_BACKOFF,
    MAX_RESTARTS,
    NIGHTLY_DAG_ID,
    POSTGRES_CHECK_EVERY,
    RESTART_WINDOW,
    STOP_GRACE,
    STUCK_AFTER,
    claim_pid_file,
    pid_file,
    postgres_pid,
    serve_dir,
    serve_env,
    state_file,
    ui_url,
)
from grassroots.workers import uses_celery


def component_command(name: str, env: dict[str, str], host: str, port: int) -> list[str]:
    """The command line of an Airflow component of `serve`."""
    if name == "scheduler" and not uses_celery(env):
        # With LocalExecutor its forks run the tasks: it starts with their libraries.
        return task_host.command([name])
    extra = ["--host", host, "--port", str(port)] if name == "api-server" else []
    return [str(Path(sys.executable).parent / "airflow"), name, *extra]


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
    unhealthy_since: float | None = None

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
        stuck_after: float = STUCK_AFTER,
    ):
        self.host, self.port = host, port
        self.say = say
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.stop_grace = stop_grace
        self.stuck_after = stuck_after
        self.stopping = threading.Event()
        self.components: dict[str, Component] = {}
        self.started_at = time.time()
        self.warehouse = None
        self.started_postgres = False
        self.postgres = {"restarts": 0, "deaths": [], "started_at": 0.0}
        self.failure: str | None = None
        self.ready = False
        # The API server start (Component.started_at) whose task API has been asked once.
        self.task_api_warmed: float | None = None
        self._in_setup = False
        self._watching_postgres = False

    # -- entry point ----------------------------------------------------------------
    def run(self) -> int:
        claim_pid_file()
        self._install_signal_handlers()
        become_subreaper()
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
        for name in AIRFLOW_COMPONENTS:
            command = component_command(name, env, self.host, self.port)
            self.components[name] = Component(name, command, log_dir / f"{name}.log")
        return env, embedded

    def _supervise(self, env: dict[str, str], watch_postgres: bool) -> int:
        last_postgres_check = last_health_check = time.monotonic()
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
            if time.monotonic() - last_health_check >= min(HEALTH_CHECK_EVERY, self.stuck_after):
                last_health_check = time.monotonic()
                self._watch_health()
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

    def _unhealthy(self) -> set[str] | None:
        """The components the API server reports without a recent heartbeat (None: no
        report, e.g. the API server itself is down or starting)."""
        health = f"{ui_url(self.host, self.port)}api/v2/monitor/health"
        try:
            with urllib.request.urlopen(health, timeout=5) as response:
                report = json.load(response)
        except (urllib.error.URLError, OSError, ValueError):
            return None
        names = {
            "scheduler": "scheduler",
            "dag_processor": "dag-processor",
            "triggerer": "triggerer",
        }
        return {
            component
            for key, component in names.items()
            if (report.get(key) or {}).get("status") == "unhealthy"
        }

    def _warm_task_api(self) -> None:
        """Ask the task execution API once after each start of the API server: its first
        request builds the API's versioned routes (about 3 s on 2 cores), which the
        night's first task would otherwise wait for, its log silent meanwhile. At most
        15 s: it runs in the supervision loop; an unanswered one is asked again at the
        next health check."""
        api_server = self.components.get("api-server")
        started = api_server.started_at if api_server else 0.0
        if self.task_api_warmed == started:
            return
        try:
            with urllib.request.urlopen(
                f"{ui_url(self.host, self.port)}execution/health", timeout=15
            ) as response:
                if response.status == 200:
                    self.task_api_warmed = started
        except (urllib.error.URLError, OSError):
            pass

    def _watch_health(self) -> None:
        """End a component that lives but has sent no heartbeat for stuck_after seconds;
        _watch then starts it again (and counts it as a death)."""
        unhealthy = self._unhealthy()
        if unhealthy is None:
            return
        self._warm_task_api()
        now = time.time()
        for component in self.components.values():
            if component.name not in unhealthy or not component.running():
                component.unhealthy_since = None
                continue
            if component.unhealthy_since is None:
                # A component just started has not sent its first heartbeat yet.
                component.unhealthy_since = max(now, component.started_at)
            elif now - component.unhealthy_since >= self.stuck_after:
                self.say(
                    f"{component.name} is running but has sent no heartbeat for"
                    f" {now - component.unhealthy_since:.0f} s; ending it to start it again"
                )
                component.unhealthy_since = None
                component.signal_group(signal.SIGKILL)

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
        for pid in children_of(os.getpid()):
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
        self._warm_task_api()
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
            left = [pid for pid in children_of(os.getpid()) if pid != postmaster]
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
