"""`grassroots serve` as deployed: Airflow's own scheduler, DAG processor, triggerer and
API server (LocalExecutor) run the nightly DAG, triggered through the REST API and seen
in a real browser. Nothing mocked: the embedded PostgreSQL, dbt, GX and Airflow.

The tests of this module share one `grassroots serve` (a subprocess in its own session,
GRASSROOTS_HOME = the test home) and run in file order; the last one stops it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from grassroots.config import DEMO_INBOX, paths
from grassroots.intake import account
from grassroots.serve import descendants_of, state_file
from tests.conftest import REPO_ROOT, TEST_HOME, reset_intake
from tests.e2e.demo_expectations import EXPECTED_INDICATORS, EXPECTED_QUARANTINE
from tests.smtp_server import free_port

pytestmark = pytest.mark.e2e

DAG_ID = "nightly_submissions"
GRASSROOTS = str(Path(sys.executable).parent / "grassroots")
# Bounds (2 shared cores): setup and the components' start, one night of the demo inbox.
START_TIMEOUT = 600
RUN_TIMEOUT = 1800
STOP_TIMEOUT = 150
ARTIFACTS = REPO_ROOT / ".state" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Served:
    """A running `grassroots serve` and a REST API client logged in as its admin."""

    def __init__(self, process: subprocess.Popen, port: int, log: Path, env: dict[str, str]):
        self.process, self.port, self.log, self.env = process, port, log, env
        self.url = f"http://127.0.0.1:{port}"
        self.runs: dict[str, str] = {}  # what a test triggered: name -> run id
        self._token: str | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [GRASSROOTS, "serve", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STOP_TIMEOUT + 30,
            check=False,
        )

    def password(self) -> str:
        result = self.cli("password")
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

    def trigger(self, inbox: Path) -> str:
        run = self.api(
            "POST",
            f"/dags/{DAG_ID}/dagRuns",
            json={
                "logical_date": datetime.now(UTC).isoformat(),
                "conf": {"inbox": str(inbox)},
            },
        )
        return run["dag_run_id"]

    def wait_for_run(self, run_id: str, timeout: float = RUN_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            self.check_alive()
            state = self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(5)
        raise AssertionError(f"run {run_id} still {state} after {timeout} s")

    def state(self) -> dict:
        return json.loads(state_file().read_text())

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"grassroots serve exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


def _served_env(default_inbox: Path) -> dict[str, str]:
    """The environment an operator's shell has: none of what the test process took from
    runtime_env (serve derives it itself), this test home, an empty default inbox."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "GRASSROOTS_", "DBT_")) and key != "TMPDIR"
    }
    env.update(GRASSROOTS_HOME=str(TEST_HOME), GRASSROOTS_INBOX=str(default_inbox))
    return env


def _first_start(warehouse) -> None:
    """As on a server where serve never ran: the DAG paused (if an earlier test run left
    it in Airflow's database) and no record of serve having unpaused it."""
    (paths().home / "serve" / "nightly-unpaused").unlink(missing_ok=True)
    with psycopg.connect(warehouse.admin_url("airflow"), autocommit=True) as conn:
        if conn.execute("select to_regclass('public.dag') is not null").fetchone()[0]:
            conn.execute("update dag set is_paused = true where dag_id = %s", (DAG_ID,))


def _stop(process: subprocess.Popen) -> None:
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


@pytest.fixture(scope="module")
def served(warehouse):
    reset_intake(warehouse)
    _first_start(warehouse)
    default_inbox = paths().home / "inbox"
    default_inbox.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _served_env(default_inbox)
    log = paths().home / "logs" / "serve-test.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [GRASSROOTS, "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Served(process, port, log, env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            server.check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/api/v2/monitor/health", timeout=5).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"no API after {START_TIMEOUT} s"
            time.sleep(2)
        _wait_until_unpaused(server)
        _settle_unfinished_runs(server)
        yield server
    finally:
        _stop(process)


def _settle_unfinished_runs(served: Served) -> None:
    """Mark done the runs this test did not trigger: the night Airflow starts at once when
    the DAG is first unpaused (catchup off: the latest 01:00 already passed), and any run
    an interrupted earlier test session left. One night of the demo inbox takes minutes
    on two shared cores; a second one (on an empty inbox) would only make this slower."""
    runs = served.api("GET", f"/dags/{DAG_ID}/dagRuns", params={"state": ["running", "queued"]})
    for run in runs["dag_runs"]:
        served.api(
            "PATCH", f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}", json={"state": "success"}
        )


def _wait_until_unpaused(served: Served, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        dag = served.api("GET", f"/dags/{DAG_ID}")
        after = dag["next_dagrun_run_after"]
        # Unpaused, and the night already missed (if any) taken: the next is to come.
        if not dag["is_paused"] and after and datetime.fromisoformat(after) > datetime.now(UTC):
            return dag
        assert time.monotonic() < deadline, f"{DAG_ID} still paused after {timeout} s"
        time.sleep(3)


def test_the_ui_listens_on_loopback_and_asks_for_a_login(served):
    assert served.state()["host"] == "127.0.0.1"
    assert httpx.get(f"{served.url}/api/v2/dags", timeout=30).status_code == 401
    response = httpx.post(
        f"{served.url}/auth/token", json={"username": "admin", "password": "wrong"}, timeout=30
    )
    assert response.status_code == 401
    assert served.token()


def test_next_run_is_0100_in_ho_chi_minh(served):
    dag = served.api("GET", f"/dags/{DAG_ID}")
    assert dag["is_paused"] is False  # unpaused by serve's first start
    for key in ("next_dagrun_logical_date", "next_dagrun_run_after"):
        when = datetime.fromisoformat(dag[key].replace("Z", "+00:00"))
        local = when.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        assert (local.hour, local.minute, local.second) == (1, 0, 0), (key, local)
        assert (when.astimezone(UTC).hour, when.minute) == (18, 0), (key, when)
        assert when > datetime.now(UTC), (key, when)  # the next night, not a past one


def _component(served: Served, name: str) -> dict:
    return served.state()["components"][name]


def test_a_killed_scheduler_is_restarted(served):
    """SIGKILL the scheduler: the supervisor starts it again and `serve status` shows the
    restart; the night run triggered next (below) is run by the restarted scheduler."""
    before = _component(served, "scheduler")
    os.kill(before["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 120
    while True:
        after = _component(served, "scheduler")
        if after["restarts"] == before["restarts"] + 1 and after["pid"]:
            break
        assert time.monotonic() < deadline, "the scheduler was not started again"
        time.sleep(1)
    assert after["pid"] != before["pid"]
    status = served.cli("status")
    assert status.returncode == 0, status.stdout + status.stderr
    (line,) = [row for row in status.stdout.splitlines() if row.strip().startswith("scheduler")]
    assert "running" in line and f"pid {after['pid']}" in line and "restarts 1" in line, line
    assert f"UI {served.url}/" in status.stdout
    served.runs["scheduler_restarted_at"] = str(time.time())


@pytest.fixture(scope="module")
def demo_run(served, warehouse):
    inbox = paths().home / "serve-test-inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    for source in DEMO_INBOX.iterdir():
        shutil.copy2(source, inbox / source.name)
    run_id = served.trigger(inbox)
    state = served.wait_for_run(run_id)
    served.runs["demo"] = run_id
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        yield state, conn, inbox


def test_serve_runs_the_nightly_dag_triggered_through_the_rest_api(demo_run, served):
    state, conn, inbox = demo_run
    assert state == "success", served.log_tail()
    run = served.api("GET", f"/dags/{DAG_ID}/dagRuns/{served.runs['demo']}")
    assert run["run_type"] == "manual" and run["conf"] == {"inbox": str(inbox)}
    # Every task ran under the scheduler that replaced the killed one.
    if "scheduler_restarted_at" in served.runs:
        started = datetime.fromisoformat(run["start_date"].replace("Z", "+00:00"))
        assert started.timestamp() > float(served.runs["scheduler_restarted_at"])
    # Every file accounted for, the inbox emptied.
    counts = account(conn)
    submitted = len(list(DEMO_INBOX.iterdir()))
    assert counts["received"] == 0
    assert counts["loaded"] + counts["quarantined"] + counts["superseded"] == submitted
    assert counts["quarantined"] == len(EXPECTED_QUARANTINE)
    assert list(inbox.iterdir()) == []
    # Each broken file quarantined with its rule.
    for name, (rule_id, _row, _column) in EXPECTED_QUARANTINE.items():
        status, file_id = conn.execute(
            "select status, file_id from landing.received_files where original_name = %s",
            (name,),
        ).fetchone()
        assert status == "quarantined", name
        rules = {
            rule
            for (rule,) in conn.execute(
                "select rule_id from landing.validation_findings"
                " where file_id = %s and severity = 'error'",
                (file_id,),
            )
        }
        assert rule_id in rules, (name, rules)
    # The marts hold the hand-computed indicator values.
    for (indicator, level, unit, year), expected in EXPECTED_INDICATORS.items():
        row = conn.execute(
            "select value from marts.fct_indicator_values where indicator_code = %s"
            " and unit_level = %s and unit_code = %s and year = %s"
            " and geography = 'as_reported'",
            (indicator, level, unit, year),
        ).fetchone()
        assert row is not None, (indicator, level, unit, year)
        assert round(Decimal(row[0]), 2) == Decimal(str(expected))


def _browser_or_skip() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true" or os.geteuid() == 0:
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (.ci/run does it as root)")
    pytest.skip(f"{CHROMIUM} missing and not root: apt-get install -y chromium (CI runs this)")


def test_ui_shows_the_run_green_in_a_real_browser(demo_run, served, tmp_path):
    _browser_or_skip()
    from playwright.sync_api import expect, sync_playwright

    run_id = served.runs["demo"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "ui-nightly-run-success.png"
    screenshot.unlink(missing_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = browser.new_page()
            page.goto(f"{served.url}/dags/{DAG_ID}/runs", timeout=60_000)
            page.wait_for_url("**/auth/login**", timeout=60_000)
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", served.password())
            page.locator("button[type=submit]").click()
            page.wait_for_url(lambda url: "/auth/login" not in url, timeout=60_000)
            page.goto(f"{served.url}/dags/{DAG_ID}/runs", timeout=60_000)
            row = page.locator("tr", has_text=run_id)
            expect(row).to_be_visible(timeout=60_000)
            expect(row.get_by_text("Success", exact=True)).to_be_visible(timeout=60_000)
            expect(row.get_by_text("Manual", exact=True)).to_be_visible()
            page.wait_for_timeout(1000)  # let the grid finish drawing
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000


def test_serve_stops_cleanly_and_leaves_no_process(served):
    pids = descendants_of(served.process.pid)
    assert len(pids) >= 4  # the four Airflow components at least
    stopped = served.cli("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert served.process.wait(timeout=STOP_TIMEOUT) == 0, served.log_tail()
    left = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert left == [], left
    status = served.cli("status")
    assert status.returncode == 3 and "not running" in status.stdout
