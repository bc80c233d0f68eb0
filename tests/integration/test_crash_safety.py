"""Stopping intake anywhere (SIGKILL, PostgreSQL going down) loses nothing and loads nothing twice.

A child process runs register + process_pending on a copy of the demo inbox and is stopped
at a named failpoint (in itself, or in the worker processes that load batches at national
scale); a rerun must reach exactly the state of an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from grassroots.config import DEMO_INBOX, paths
from grassroots.failpoints import FAILPOINT_ENV
from grassroots.intake import account
from tests.conftest import reset_intake

pytestmark = pytest.mark.integration

INTAKE_SCRIPT = """
import sys
from grassroots import intake
from grassroots.config import paths
from grassroots.warehouse import Warehouse
import psycopg
options = {}
if sys.argv[2] == "workers":
    # Two worker processes loading batches of 10 (the sample is far below the
    # national-scale threshold that starts workers).
    intake.MIN_FILES_PER_WORKER = 1
    options = {"workers": 2, "batch_size": 10}
with psycopg.connect(Warehouse().url()) as conn:
    intake.register(conn, intake.discover(sys.argv[1]), paths().archive, "crash-test")
    intake.process_pending(conn, paths().quarantine, "crash-test", **options)
"""
SAMPLE = sorted(DEMO_INBOX.iterdir())[:40] + sorted(DEMO_INBOX.glob("broken_*"))


def _run_intake(
    inbox: Path, failpoint: str | None = None, mode: str = "default", **popen
) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop(FAILPOINT_ENV, None)
    if failpoint:
        env[FAILPOINT_ENV] = failpoint
    command = [sys.executable, "-c", INTAKE_SCRIPT, str(inbox), mode]
    return subprocess.Popen(command, env=env, **popen)


def _fill(inbox: Path) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    for source in SAMPLE:
        shutil.copy2(source, inbox / source.name)
    return inbox


def _state(conn) -> dict:
    files = conn.execute(
        "select original_name, sha256, status, version from landing.received_files"
        " order by original_name"
    ).fetchall()
    rows = {
        t: conn.execute(f"select count(*) from raw.{t}").fetchone()[0]
        for t in ("form_cb", "form_dv", "form_tc", "form_ct")
    }
    findings = conn.execute("select count(*) from landing.validation_findings").fetchone()[0]
    quarantine = (
        sorted(p.name for p in paths().quarantine.glob("*")) if paths().quarantine.exists() else []
    )
    return {"files": files, "rows": rows, "findings": findings, "quarantine": quarantine}


@pytest.fixture(scope="module")
def uninterrupted(warehouse, tmp_path_factory):
    reset_intake(warehouse)
    inbox = _fill(tmp_path_factory.mktemp("clean") / "inbox")
    assert _run_intake(inbox).wait() == 0
    with psycopg.connect(warehouse.url()) as conn:
        return _state(conn)


@pytest.mark.parametrize(
    "failpoint",
    ["register_after_archive", "register_after_commit", "load_after_copy"],
)
def test_sigkill_then_rerun_reaches_the_uninterrupted_state(
    uninterrupted, warehouse, tmp_path, failpoint
):
    reset_intake(warehouse)
    inbox = _fill(tmp_path / "inbox")
    killed = _run_intake(inbox, f"{failpoint}:kill").wait()
    assert killed == -signal.SIGKILL
    with psycopg.connect(warehouse.url()) as conn:
        raw_rows = conn.execute("select count(*) from raw.form_cb").fetchone()[0]
        assert raw_rows == 0  # nothing half-loaded: the batch's transaction died with it
    assert _run_intake(inbox).wait() == 0
    with psycopg.connect(warehouse.url()) as conn:
        assert _state(conn) == uninterrupted
        assert account(conn)["received"] == 0
    assert list(inbox.iterdir()) == []


def test_a_worker_killed_mid_load_fails_the_run_and_a_rerun_reaches_the_uninterrupted_state(
    uninterrupted, warehouse, tmp_path
):
    # At national scale the worker processes load their own batches: SIGKILL one there.
    reset_intake(warehouse)
    inbox = _fill(tmp_path / "inbox")
    run = _run_intake(inbox, "load_after_copy:kill", "workers", stderr=subprocess.PIPE, text=True)
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 1  # the parent reports the broken pool, it is not hung
    assert "BrokenProcessPool" in stderr
    with psycopg.connect(warehouse.url()) as conn:
        assert conn.execute("select count(*) from raw.form_cb").fetchone()[0] == 0
        assert account(conn)["loaded"] == 0  # the killed batches' transactions died
    assert _run_intake(inbox, mode="workers").wait() == 0
    with psycopg.connect(warehouse.url()) as conn:
        assert _state(conn) == uninterrupted
        assert account(conn)["received"] == 0


def test_postgres_stopped_mid_load_then_rerun_reaches_the_uninterrupted_state(
    uninterrupted, warehouse, tmp_path
):
    reset_intake(warehouse)
    inbox = _fill(tmp_path / "inbox")
    marker = tmp_path / "paused"
    child = _run_intake(inbox, f"load_after_copy:pause={marker}")
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, "intake ended before reaching the failpoint"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    warehouse.stop()  # fast shutdown: the open transaction is rolled back
    warehouse.start()
    child.kill()
    child.wait()
    assert _run_intake(inbox).wait() == 0
    with psycopg.connect(warehouse.url()) as conn:
        assert _state(conn) == uninterrupted
