"""Stopping intake anywhere (SIGKILL, PostgreSQL going down) loses nothing and loads nothing twice.

A child process runs register + process_pending on a copy of the demo inbox and is stopped
at a named failpoint; a rerun must reach exactly the state of an uninterrupted run. The
DAG's batches (load_batch tasks, tests.batch_worker here) are killed mid-load and
retried, and run twice at once: each file loads once, whoever takes the batch.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from grassroots import intake
from grassroots.config import DEMO_INBOX, paths
from grassroots.failpoints import FAILPOINT_ENV
from grassroots.intake import account
from tests.conftest import REPO_ROOT, reset_intake

pytestmark = pytest.mark.integration

INTAKE_SCRIPT = """
import sys
from grassroots import intake
from grassroots.config import paths
from grassroots.warehouse import Warehouse
import psycopg
with psycopg.connect(Warehouse().url()) as conn:
    intake.register(conn, intake.discover(sys.argv[1]), paths().archive, "crash-test")
    if sys.argv[2] != "register-only":
        intake.process_pending(conn, paths().quarantine, "crash-test")
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


def _registered_and_planned(warehouse, inbox: Path) -> list[intake.Batch]:
    """Register the sample (a child process, as the register task), then plan batches
    of 10 files: several load_batch tasks."""
    assert _run_intake(inbox, mode="register-only").wait() == 0
    with psycopg.connect(warehouse.url()) as conn:
        batches = intake.plan_pending(conn, paths().quarantine, size=10, parallel=2)
    assert len(batches) >= 3
    return batches


def _batch_task(batch: intake.Batch, failpoint: str | None = None) -> subprocess.Popen:
    """One attempt of a load_batch task, in a process of its own (as on a worker)."""
    env = dict(os.environ)
    env.pop(FAILPOINT_ENV, None)
    if failpoint:
        env[FAILPOINT_ENV] = failpoint
    command = [sys.executable, "-m", "tests.batch_worker", "crash-test"]
    command.append(json.dumps(batch.as_dict()))
    return subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)


def _finished(attempt: subprocess.Popen) -> dict:
    out, _ = attempt.communicate(timeout=600)
    assert attempt.returncode == 0
    return json.loads(out)


def _received(conn, batch: intake.Batch) -> list[int]:
    rows = conn.execute("select file_id from landing.received_files where status = 'received'")
    return [file_id for (file_id,) in rows.fetchall() if batch.takes(file_id)]


def test_a_batch_task_killed_mid_load_then_retried_loads_each_file_once(
    uninterrupted, warehouse, tmp_path
):
    reset_intake(warehouse)
    batches = _registered_and_planned(warehouse, _fill(tmp_path / "inbox"))
    first, killed, *rest = batches
    _finished(_batch_task(first))
    with psycopg.connect(warehouse.url()) as conn:
        rows_before = conn.execute("select count(*) from raw.form_cb").fetchone()[0]
    attempt = _batch_task(killed, "load_after_copy:kill")
    attempt.communicate(timeout=600)
    assert attempt.returncode == -signal.SIGKILL
    with psycopg.connect(warehouse.url()) as conn:
        # Nothing half-loaded: the attempt's transaction (claim, rows, statuses) died.
        assert conn.execute("select count(*) from raw.form_cb").fetchone()[0] == rows_before
        assert len(_received(conn, killed)) == killed.files
    retried = _finished(_batch_task(killed))  # Airflow's retry, on any worker
    assert retried["loaded"] + retried["quarantined"] == killed.files
    for batch in rest:
        _finished(_batch_task(batch))
    assert _finished(_batch_task(killed))["loaded"] == 0  # a third attempt finds nothing
    with psycopg.connect(warehouse.url()) as conn:
        assert _state(conn) == uninterrupted
        assert account(conn)["received"] == 0


def test_two_attempts_of_one_batch_at_once_load_each_file_once(uninterrupted, warehouse, tmp_path):
    """The first attempt holds its claim (paused right after it); the second, started
    meanwhile, takes none of those files and ends at once; the first then loads them."""
    reset_intake(warehouse)
    batches = _registered_and_planned(warehouse, _fill(tmp_path / "inbox"))
    raced = batches[0]
    marker = tmp_path / "claimed"
    holding = _batch_task(raced, f"batch_after_claim:wait={marker}")
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert holding.poll() is None, "the first attempt ended before claiming"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = _finished(_batch_task(raced))  # skip locked: does not wait for the first
    assert (second["loaded"], second["quarantined"]) == (0, 0)
    assert holding.poll() is None
    marker.unlink()  # let the first attempt go on
    first = _finished(holding)
    assert first["loaded"] + first["quarantined"] == raced.files
    for batch in batches[1:]:
        _finished(_batch_task(batch))
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
