"""`grassroots serve` as deployed: Airflow's own scheduler, DAG processor, triggerer and
API server (LocalExecutor) run the nightly DAG, triggered through the REST API and seen
in a real browser. Nothing mocked: the embedded PostgreSQL, dbt, GX and Airflow.

The tests of this module share one `grassroots serve` (a subprocess in its own session,
GRASSROOTS_HOME = the test home) and run in file order; the last one stops it.
"""

from __future__ import annotations

import os
import shutil
import signal
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
from grassroots.processes import descendants_of
from tests.browser import ARTIFACTS, chromium
from tests.conftest import reset_intake
from tests.e2e.demo_expectations import EXPECTED_INDICATORS, EXPECTED_QUARANTINE
from tests.served import DAG_ID, STOP_TIMEOUT, Served, first_start, operator_env
from tests.smtp_server import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(warehouse):
    reset_intake(warehouse)
    first_start(warehouse)
    log = paths().home / "logs" / "serve-test.log"
    server = Served.start(operator_env(), log, "--port", str(free_port()))
    server.runs = {}  # what a test triggered or saw: name -> run id or time
    try:
        server.unpaused_and_settled()
        yield server
    finally:
        server.stop()


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


def test_ui_shows_the_run_green_in_a_real_browser(demo_run, served, tmp_path):
    from playwright.sync_api import expect

    run_id = served.runs["demo"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "ui-nightly-run-success.png"
    screenshot.unlink(missing_ok=True)
    with chromium(
        tmp_path / "chromium-profile", viewport={"width": 1400, "height": 900}
    ) as browser:
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
