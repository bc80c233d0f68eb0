"""`grassroots serve` started by a test as an operator starts it, and Airflow's REST API.

Shared by the e2e tests that run the product's own server (test_serve, the PostgreSQL
crash, the Celery workers): the operator's environment, the first start, the API client,
a bounded start and a stop that leaves no process behind.
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
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from grassroots.config import paths
from grassroots.processes import descendants_of
from grassroots.serve import state_file
from tests.conftest import TEST_HOME

DAG_ID = "nightly_submissions"
GRASSROOTS = str(Path(sys.executable).parent / "grassroots")
# Bounds (2 shared cores): setup and the components' start, one night, a stop.
START_TIMEOUT = 600
RUN_TIMEOUT = 1800
STOP_TIMEOUT = 150


def operator_env(**extra: str) -> dict[str, str]:
    """The environment an operator's shell has: none of what the test process took from
    runtime_env (serve and worker derive it themselves), this test home, the state
    folder's inbox as the default one, and the test's own settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "GRASSROOTS_", "DBT_")) and key != "TMPDIR"
    }
    env.update(GRASSROOTS_HOME=str(TEST_HOME), GRASSROOTS_INBOX=str(paths().home / "inbox"))
    env.update(extra)
    return env


def first_start(warehouse) -> None:
    """As on a server where serve never ran: the DAG paused (if an earlier test run left
    it in Airflow's database) and no record of serve having unpaused it."""
    (paths().home / "serve" / "nightly-unpaused").unlink(missing_ok=True)
    (paths().home / "inbox").mkdir(parents=True, exist_ok=True)
    with psycopg.connect(warehouse.admin_url("airflow"), autocommit=True) as conn:
        if conn.execute("select to_regclass('public.dag') is not null").fetchone()[0]:
            conn.execute("update dag set is_paused = true where dag_id = %s", (DAG_ID,))


def wait(what: str, condition: Callable, timeout: float, every: float = 5, alive=None):
    """condition's first true result; `alive` (if given) raises when the server died."""
    deadline = time.monotonic() + timeout
    while True:
        if alive:
            alive()
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}: not after {timeout} s"
        time.sleep(every)


class AirflowApi:
    """Airflow's REST API, logged in as the admin whose password `grassroots serve
    password` prints."""

    def __init__(self, url: str, env: dict[str, str]):
        self.url, self.env = url, env
        self.triggered: list[str] = []
        self._token: str | None = None

    def check_alive(self) -> None:
        """Raise when the server is gone (subclasses that own it say how)."""

    def password(self) -> str:
        result = subprocess.run(
            [GRASSROOTS, "serve", "password"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def token(self) -> str:
        if self._token is None:
            response = httpx.post(
                f"{self.url}/auth/token",
                json={"username": "admin", "password": self.password()},
                timeout=30,
            )
            assert response.status_code in (200, 201), response.text
            self._token = response.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs) -> dict:
        response = httpx.request(
            method,
            f"{self.url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=60,
            **kwargs,
        )
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def poll(self, path: str) -> dict | None:
        """GET that tolerates a server between its database's death and its return."""
        try:
            return self.api("GET", path)
        except (AssertionError, httpx.HTTPError):
            return None

    def wait_until_healthy(self, timeout: float = START_TIMEOUT) -> None:
        def healthy():
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5).is_success
            return False

        wait("the API server", healthy, timeout, 2, self.check_alive)

    def trigger(self, inbox: Path) -> str:
        run = self.api(
            "POST",
            f"/dags/{DAG_ID}/dagRuns",
            json={"logical_date": datetime.now(UTC).isoformat(), "conf": {"inbox": str(inbox)}},
        )
        self.triggered.append(run["dag_run_id"])
        return run["dag_run_id"]

    def run_state(self, run_id: str) -> str | None:
        run = self.poll(f"/dags/{DAG_ID}/dagRuns/{run_id}")
        return run["state"] if run else None

    def wait_for_run(self, run_id: str, timeout: float = RUN_TIMEOUT) -> str:
        def finished():
            state = self.run_state(run_id)
            return state if state in ("success", "failed") else None

        return wait(f"run {run_id} finished", finished, timeout, 5, self.check_alive)

    def task_instances(self, run_id: str) -> list[dict]:
        found, offset = [], 0
        while True:
            page = self.api(
                "GET",
                f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances",
                params={"limit": 100, "offset": offset},
            )
            found += page["task_instances"]
            offset += len(page["task_instances"])
            if not page["task_instances"] or offset >= page["total_entries"]:
                return found

    def tries(self, run_id: str, task_id: str) -> list[dict]:
        """Every try of every map index of a task: [{map_index, try_number, state}]."""
        base = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}"
        found = []
        for ti in self.api("GET", f"{base}/listMapped")["task_instances"]:
            found += self.api("GET", f"{base}/{ti['map_index']}/tries")["task_instances"]
        return found

    def unpaused_and_settled(self) -> dict:
        """Wait until serve unpaused the DAG and Airflow took the night it missed (catchup
        off: the latest 01:00 already passed); then mark done the runs no test triggered
        (that night, any run an interrupted test session left): one night of the demo
        inbox takes minutes on two shared cores, a second would only make tests slower."""

        def next_night_planned():
            dag = self.poll(f"/dags/{DAG_ID}")
            after = dag and dag["next_dagrun_run_after"]
            planned = after and datetime.fromisoformat(after) > datetime.now(UTC)
            return dag if dag and not dag["is_paused"] and planned else None

        dag = wait(f"{DAG_ID} unpaused", next_night_planned, 300, 3, self.check_alive)
        runs = self.api("GET", f"/dags/{DAG_ID}/dagRuns", params={"state": ["running", "queued"]})
        for run in runs["dag_runs"]:
            self.api(
                "PATCH", f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}", json={"state": "success"}
            )
        return dag


class Served(AirflowApi):
    """A `grassroots serve` subprocess in its own session, GRASSROOTS_HOME = the test home."""

    def __init__(self, process: subprocess.Popen, port: int, log: Path, env: dict[str, str]):
        super().__init__(f"http://127.0.0.1:{port}", env)
        self.process, self.port, self.log = process, port, log

    @classmethod
    def start(cls, env: dict[str, str], log: Path, *args: str) -> Served:
        """Start serve (on a free port given in args) and wait for its API server."""
        port = int(args[args.index("--port") + 1])
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w", encoding="utf-8") as out:
            process = subprocess.Popen(
                [GRASSROOTS, "serve", *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        served = cls(process, port, log, env)
        try:
            served.wait_until_healthy()
        except BaseException:
            served.stop()
            raise
        return served

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [GRASSROOTS, "serve", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STOP_TIMEOUT + 30,
            check=False,
        )

    def state(self) -> dict:
        return json.loads(state_file().read_text())

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"grassroots serve exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])

    def stop(self) -> None:
        """SIGTERM (serve stops its components), then SIGKILL to whatever is left."""
        process = self.process
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            for pid in descendants_of(process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
