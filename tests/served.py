"""`grassroots serve` started by a test as an operator starts it, and Airflow's REST API.

Shared by the e2e tests that run the product's own server (test_serve, the PostgreSQL
crash, the Celery workers): the operator's environment, the first start, a bounded start
and a stop that leaves no process behind. The CLI and REST client are bench/served.py's
too (bench/airflow_api.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import airflow_api
from bench.airflow_api import (  # noqa: F401  (the e2e tests import them from here)
    DAG_ID,
    GRASSROOTS,
    RUN_TIMEOUT,
    START_TIMEOUT,
    inherited_env,
    wait,
)
from grassroots.config import paths
from grassroots.processes import descendants_of
from grassroots.serve import state_file
from tests.conftest import TEST_HOME

# Bound (2 shared cores): a stop.
STOP_TIMEOUT = 150


def operator_env(**extra: str) -> dict[str, str]:
    """The environment an operator's shell has: none of what the test process took from
    runtime_env (serve and worker derive it themselves), this test home, the state
    folder's inbox as the default one, and the test's own settings."""
    env = inherited_env(("AIRFLOW", "GRASSROOTS_", "DBT_"))
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


class AirflowApi(airflow_api.AirflowApi):
    """bench/airflow_api.py's client, and what only the tests do with a fresh server."""

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

    def cli(self, *args: str, timeout: float = STOP_TIMEOUT + 30) -> subprocess.CompletedProcess:
        return super().cli(*args, timeout=timeout)

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
