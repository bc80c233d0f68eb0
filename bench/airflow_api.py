"""A running `grassroots serve` seen from outside: its CLI and Airflow's REST API, as the
admin whose password `grassroots serve password` prints.

The one harness of bench/served.py (a night timed through the scheduler) and of the
e2e tests that run the product's own server (tests/served.py). It imports nothing of
the product and nothing of the tests, so bench/ runs from a clean clone as it is.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

DAG_ID = "nightly_submissions"
GRASSROOTS = str(Path(sys.executable).parent / "grassroots")
# Bounds (2 shared cores): the components' start, one night.
START_TIMEOUT = 600
RUN_TIMEOUT = 1800


def inherited_env(drop: tuple[str, ...]) -> dict[str, str]:
    """This process's environment without the variables whose names start with `drop`
    (what it took from runtime_env: serve derives them itself) and without TMPDIR."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(drop) and key != "TMPDIR"
    }


def wait(what: str, condition: Callable, timeout: float, every: float = 5, alive=None):
    """condition's first true result; `alive` (if given) raises when the server died."""
    deadline = time.monotonic() + timeout
    while True:
        if alive:
            alive()
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not after {timeout} s")
        time.sleep(every)


class AirflowApi:
    """`grassroots serve`'s CLI in `env`, and Airflow's REST API at `url`."""

    # Seconds one REST call may take.
    api_timeout = 60

    def __init__(self, url: str, env: dict[str, str]):
        self.url, self.env = url, env
        self.triggered: list[str] = []
        self._token: str | None = None

    def check_alive(self) -> None:
        """Raise when the server is gone (subclasses that own it say how)."""

    def cli(self, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
        return subprocess.run(
            [GRASSROOTS, "serve", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def password(self) -> str:
        result = self.cli("password", timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"grassroots serve password: {result.stderr}")
        return result.stdout.strip()

    def token(self) -> str:
        if self._token is None:
            response = httpx.post(
                f"{self.url}/auth/token",
                json={"username": "admin", "password": self.password()},
                timeout=60,
            )
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs) -> dict:
        """One REST call; an answer other than 2xx raises httpx.HTTPStatusError."""
        response = httpx.request(
            method,
            f"{self.url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=self.api_timeout,
            **kwargs,
        )
        if not response.is_success:
            raise httpx.HTTPStatusError(
                f"{method} {path}: {response.status_code} {response.text}",
                request=response.request,
                response=response,
            )
        return response.json()

    def poll(self, path: str) -> dict | None:
        """GET that tolerates a server between its database's death and its return."""
        try:
            return self.api("GET", path)
        except httpx.HTTPError:
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

    def wait_for_run(self, run_id: str, timeout: float = RUN_TIMEOUT, every: float = 5) -> str:
        def finished():
            state = self.run_state(run_id)
            return state if state in ("success", "failed") else None

        return wait(f"run {run_id} finished", finished, timeout, every, self.check_alive)

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
