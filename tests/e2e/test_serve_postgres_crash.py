"""PostgreSQL killed mid-load under `grassroots serve`: the supervisor starts it again, the
task is retried, each file loads once; a task failing all its tries mails the operators
through a real SMTP server, and the next run finishes what the failed one left `received`.

One `grassroots serve` (a subprocess in its own session, GRASSROOTS_HOME = the test home)
with tests/smtp_server.py's SMTP server as the operator alert target, 5 s between tries,
and a failpoint file the tests arm and disarm while it runs (grassroots.failpoints).
Nothing mocked: the embedded PostgreSQL (the warehouse and Airflow's metadata), Airflow's
scheduler (LocalExecutor), dbt, GX. The tests run in file order.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

import psycopg
import pytest

from grassroots.config import DEMO_INBOX, paths
from grassroots.intake import account
from grassroots.reader import parse_content
from grassroots.serve import postgres_pid
from tests.conftest import REPO_ROOT, reset_intake
from tests.served import DAG_ID, RUN_TIMEOUT, Served, first_start, operator_env
from tests.smtp_server import free_port, running_sink

pytestmark = pytest.mark.e2e

OPERATOR = "vanhanh@grassroots.example.vn"
# Bound on a restart of PostgreSQL (2 shared cores).
RESTART_TIMEOUT = 180
ARTIFACTS = REPO_ROOT / ".state" / "test-artifacts" / "serve-postgres-crash"
# Two batches of about 27 files (GRASSROOTS_INTAKE_BATCH_SIZE), loaded side by side.
CRASHED = sorted(DEMO_INBOX.glob("[A-Z]*"))[:40] + sorted(DEMO_INBOX.glob("broken_*"))
FAILED = sorted(DEMO_INBOX.glob("[A-Z]*"))[40:70]


class CrashServed(Served):
    """A served night with a failpoint file its tasks read (grassroots.failpoints)."""

    @property
    def failpoint_file(self) -> Path:
        return Path(self.env["GRASSROOTS_FAILPOINT_FILE"])

    def arm(self, spec: str) -> None:
        self.failpoint_file.write_text(spec, encoding="utf-8")

    def disarm(self) -> None:
        self.failpoint_file.unlink(missing_ok=True)


def _served_env(smtp_port: int, failpoint_file: Path) -> dict[str, str]:
    """An operator's shell, the SMTP sink as the operators' mail server, short retries."""
    smtp = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": smtp_port,
        "extra": {
            "from_email": "grassroots@test.example.vn",
            "disable_ssl": True,
            "disable_tls": True,
        },
    }
    return operator_env(
        GRASSROOTS_OPERATOR_EMAILS=OPERATOR,
        AIRFLOW_CONN_GRASSROOTS_SMTP=json.dumps(smtp),
        GRASSROOTS_RETRY_DELAY_SECONDS="5",
        GRASSROOTS_INTAKE_BATCH_SIZE="30",
        GRASSROOTS_FAILPOINT_FILE=str(failpoint_file),
        # Two batches and the scheduler's own work on two shared cores.
        AIRFLOW__CORE__PARALLELISM="4",
    )


def _keep_artifacts(served: Served) -> None:
    """serve's log, each component's, PostgreSQL's and the task logs of the test's runs."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    logs = [served.log, *(paths().home / "logs").glob("*.log")]
    with contextlib.suppress(Exception):
        logs.append(Path(served.state()["components"]["postgres"]["log"]))
    for log in logs:
        if log.is_file():
            shutil.copy2(log, ARTIFACTS / log.name)
    task_logs = paths().airflow_home / "logs" / f"dag_id={DAG_ID}"
    for run_id in served.triggered:
        folder = task_logs / f"run_id={run_id}"
        if folder.is_dir():
            shutil.copytree(folder, ARTIFACTS / folder.name.replace(":", "_"))


@pytest.fixture(scope="module")
def smtp():
    with running_sink() as server:
        yield server


@pytest.fixture(scope="module")
def served(warehouse, smtp, request):
    reset_intake(warehouse)
    first_start(warehouse)
    env = _served_env(smtp[0], paths().home / "failpoint")
    Path(env["GRASSROOTS_FAILPOINT_FILE"]).unlink(missing_ok=True)
    log = paths().home / "logs" / "serve-postgres-crash.log"
    failed_before = request.session.testsfailed
    server = CrashServed.start(env, log, "--port", str(free_port()))
    try:
        server.unpaused_and_settled()
        yield server
    finally:
        server.disarm()
        server.stop()
        # serve stops the PostgreSQL it started again (its child since the crash): the
        # other tests of the session find the warehouse as this module found it.
        if not warehouse.is_running():
            warehouse.start()
        if request.session.testsfailed > failed_before:
            _keep_artifacts(server)


def _fill(inbox: Path, files: list[Path]) -> Path:
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    for source in files:
        shutil.copy2(source, inbox / source.name)
    return inbox


def _wait_for(condition, what: str, served: Served, timeout: float = RESTART_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        served.check_alive()
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s\n{served.log_tail()}"
        time.sleep(0.5)


def _mail_text(message) -> str:
    """The decoded text of every text part (SmtpNotifier sends multipart/mixed HTML)."""
    parts = [part for part in message.walk() if part.get_content_maintype() == "text"]
    return "\n".join(part.get_payload(decode=True).decode() for part in parts)


def max_try(tries: list[dict], ti: dict) -> int:
    return max(t["try_number"] for t in tries if t["map_index"] == ti["map_index"])


def _task_logs(run_id: str, task_id: str, attempt: int) -> list[Path]:
    folder = paths().airflow_home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}"
    found = sorted(folder.glob(f"task_id={task_id}/map_index=*/attempt={attempt}.log"))
    assert found, f"no log of attempt {attempt} of {task_id} under {folder}"
    return found


def _loaded_once(conn, files: list[Path]) -> None:
    """One receipt per file; each accepted file's rows in raw exactly as many as it has
    (the raw tables' key is (file_id, row_number): a second load could only fail)."""
    names = [path.name for path in files]
    receipts = conn.execute(
        "select original_name, status, file_id from landing.received_files"
        " where original_name = any(%s)",
        (names,),
    ).fetchall()
    assert sorted(name for name, _, _ in receipts) == sorted(names)
    by_name = {name: (status, file_id) for name, status, file_id in receipts}
    for path in files:
        status, file_id = by_name[path.name]
        assert status in ("loaded", "quarantined", "superseded"), (path.name, status)
        rows = sum(
            conn.execute(f"select count(*) from raw.{t} where file_id = %s", (file_id,)).fetchone()[
                0
            ]
            for t in ("form_cb", "form_dv", "form_tc", "form_ct")
        )
        expected = len(parse_content(file_id, path.name, path.read_bytes()).records)
        assert rows == (0 if status == "quarantined" else expected), (path.name, status, rows)


def test_postgres_killed_mid_load_is_restarted_and_the_batch_retried(served, warehouse, tmp_path):
    marker = tmp_path / "holding"
    served.arm(f"load_after_copy:wait={marker}")
    inbox = _fill(paths().home / "crash-inbox", CRASHED)
    run_id = served.trigger(inbox)
    # A load_batch holds its batch's rows copied in its open transaction.
    _wait_for(marker.exists, "no load_batch reached load_after_copy", served, RUN_TIMEOUT)
    before = served.state()["components"]["postgres"]
    postmaster = postgres_pid()
    assert postmaster
    os.kill(postmaster, signal.SIGKILL)
    # Let the held attempts go on at once, as a load does when its server dies: the
    # connection is gone, the task fails while PostgreSQL (and with it Airflow's
    # metadata) is still down, and must still be retried.
    served.disarm()
    marker.unlink()

    def restarted() -> dict | None:
        after = served.state()["components"]["postgres"]
        pid = postgres_pid()
        if after["restarts"] == before["restarts"] + 1 and pid and pid != postmaster:
            return after

    after = _wait_for(restarted, "PostgreSQL was not started again", served)
    status = served.cli("status")
    (line,) = [row for row in status.stdout.splitlines() if row.strip().startswith("postgres")]
    assert "running" in line and f"restarts {after['restarts']}" in line, line
    assert served.wait_for_run(run_id) == "success", served.log_tail()

    tries = served.tries(run_id, "load_batch")
    assert any(t["try_number"] > 1 for t in tries), tries
    assert {t["state"] for t in tries if t["try_number"] == max_try(tries, t)} == {"success"}
    # A lost connection fails the attempt at once: no file is blamed, no batch split.
    # Only the batches held at the failpoint failed; a batch the scheduler started after
    # the restart loads on its first try.
    retried = {t["map_index"] for t in tries if t["try_number"] > 1}
    for log in _task_logs(run_id, "load_batch", attempt=1):
        if int(log.parent.name.split("=")[1]) not in retried:
            continue
        text = log.read_text(errors="replace")
        assert "OperationalError" in text or "AdminShutdown" in text, log
        assert "loading it in halves" not in text, log
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        counts = account(conn)
        assert counts["received"] == 0
        assert sum(counts.values()) == len(CRASHED)
        _loaded_once(conn, CRASHED)
    assert list(inbox.iterdir()) == []
    assert not list(paths().staging.glob("*/*"))
    assert served.process.poll() is None


def test_a_task_failing_every_try_mails_the_operators(served, smtp, warehouse):
    _port, sink = smtp
    served.arm("load_after_copy:fail")
    inbox = _fill(paths().home / "failed-inbox", FAILED)
    run_id = served.trigger(inbox)
    assert served.wait_for_run(run_id) == "failed"
    served.disarm()
    tries = served.tries(run_id, "load_batch")
    assert max(t["try_number"] for t in tries) == 3 and {t["state"] for t in tries} == {"failed"}

    def alert():
        return [m for m in sink.to(OPERATOR) if "load_batch" in m.message["Subject"]]

    (mail, *_) = _wait_for(alert, "no operator alert mail", served, 120)
    subject = mail.message["Subject"]
    text = _mail_text(mail.message)
    assert subject == f"[grassroots] {DAG_ID}.load_batch failed", subject
    assert f"of run {run_id} ({DAG_ID}) failed after 3 tries" in text, text
    assert "failpoint load_after_copy" in text and "{{" not in text, text
    assert f"Tác vụ load_batch của lượt chạy {run_id}" in text, text
    assert "thất bại sau 3 lần thử" in text, text
    # The failed run's files wait, registered and archived, for the next run.
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        left = conn.execute(
            "select count(*) from landing.received_files where status = 'received'"
        ).fetchone()[0]
    assert left == len(FAILED)


def test_the_next_run_finishes_what_the_failed_run_left_received(served, warehouse):
    empty = _fill(paths().home / "next-inbox", [])
    run_id = served.trigger(empty)
    assert served.wait_for_run(run_id) == "success", served.log_tail()
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        counts = account(conn)
        assert counts["received"] == 0
        assert sum(counts.values()) == len(CRASHED) + len(FAILED)
        _loaded_once(conn, FAILED)
    served.check_alive()
