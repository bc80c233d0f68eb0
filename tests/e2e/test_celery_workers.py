"""The distributed topology natively, on 127.0.0.1: `grassroots serve --executor celery`
(scheduler, DAG processor, triggerer, API server) and two `grassroots worker` processes
(`airflow celery worker`, each under its own name), with Debian's Redis as the broker:
the broker docker/ and Airflow's own compose file use, one binary the test starts on a
free port in a temp folder with nothing persisted (RabbitMQ would bring an Erlang
runtime and a slower start for no difference Celery shows the DAG).

1. A night triggered through the REST API runs on both workers: its task instances
   record both names.
2. A worker SIGKILLed (its whole process tree) while a load_batch is mid-load, after
   the COPY and before the commit: nothing of that batch is loaded; Airflow's scheduler
   finds the task without heartbeat, retries it, the other worker (or the restarted
   one) loads it, and every file ends loaded once: the same files, statuses, versions,
   rows and findings as the night of scenario 1 on the same inbox.

One module past 400 lines: both scenarios share one running topology and its helpers
(Stack); a night alone takes about 20 minutes on two shared cores.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from grassroots.config import DEMO_INBOX, paths
from grassroots.failpoints import FAILPOINT_ENV
from grassroots.intake import account
from grassroots.processes import descendants_of
from tests.conftest import REPO_ROOT, reset_intake
from tests.served import DAG_ID, STOP_TIMEOUT, AirflowApi, operator_env, wait
from tests.smtp_server import free_port

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# 40 sample files and the broken ones, 8 to a batch: 7 load_batch tasks.
SAMPLE = sorted(DEMO_INBOX.iterdir())[:40] + sorted(DEMO_INBOX.glob("broken_*"))
BATCH_SIZE = 8
WORKERS = ("worker-a", "worker-b")
# Bounds on waits (2 shared cores): the server's start, a night, a retry after the
# heartbeat timeout (90 s) and the DAG's retry delay (2 min), a stop.
START_TIMEOUT = 600
RUN_TIMEOUT = 2400
RETRY_TIMEOUT = 1200
HEARTBEAT_TIMEOUT = 90
ARTIFACTS = REPO_ROOT / ".state" / "test-artifacts" / "celery-workers"


def _redis_or_skip() -> None:
    if Path(REDIS_SERVER).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("redis-server missing: apt-get install -y redis-server (.ci/run does it)")
    pytest.skip("redis-server missing (apt-get install -y redis-server); CI runs this")


def _end(process: subprocess.Popen | None, grace: float = 30) -> None:
    """SIGTERM, then SIGKILL, to the process's group and to every process below it (a
    task runner sits in a process group of its own), whatever state it is in."""
    if process is None:
        return
    below = descendants_of(process.pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in [process.pid, *below]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        try:
            process.wait(timeout=grace)
            if sig == signal.SIGTERM:
                below = [pid for pid in below if _running(pid)]
                if not below:
                    return
        except subprocess.TimeoutExpired:
            continue


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan killed here waits for init to reap it)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_tree(process: subprocess.Popen) -> list[int]:
    """SIGKILL a worker at once, as a machine that dies: its group and every process
    below it. Returns the pids killed."""
    pids = [process.pid, *descendants_of(process.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_running(pid) for pid in pids):
        assert time.monotonic() < deadline, [pid for pid in pids if _running(pid)]
        time.sleep(0.1)
    return pids


class Stack(AirflowApi):
    """Redis, `grassroots serve --executor celery` and the workers, with their logs."""

    def __init__(self, env: dict[str, str], port: int, logs: Path):
        super().__init__(f"http://127.0.0.1:{port}", env)
        self.port, self.logs = port, logs
        self.serve: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("a", encoding="utf-8") as out:
            return subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_worker(self, name: str, failpoint: str | None = None) -> subprocess.Popen:
        env = dict(self.env)
        if failpoint:
            env[FAILPOINT_ENV] = failpoint
        command = [str(BIN / "grassroots"), "worker", "--name", name, "--concurrency", "1"]
        command += ["--api-url", self.url]
        self.workers[name] = self.start(name, command, env)
        self.wait_for_worker(name)
        return self.workers[name]

    def wait_for_worker(self, name: str, timeout: float = START_TIMEOUT) -> None:
        """Until the worker answers a Celery ping through the broker."""
        from celery import Celery

        app = Celery(broker=self.env["AIRFLOW__CELERY__BROKER_URL"])
        deadline = time.monotonic() + timeout
        try:
            while True:
                process = self.workers[name]
                assert process.poll() is None, f"{name} exited:\n{self.tail(name)}"
                replies = app.control.ping(timeout=2)
                if any(node.startswith(f"{name}@") for reply in replies for node in reply):
                    return
                assert time.monotonic() < deadline, f"{name} not ready after {timeout} s"
                time.sleep(2)
        finally:
            app.close()

    def tail(self, name: str, lines: int = 40) -> str:
        log = self.logs / f"{name}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        assert self.serve is not None and self.serve.poll() is None, self.tail("serve")

    def wait(self, what: str, condition, timeout: float, every: float = 5):
        return wait(what, condition, timeout, every, self.check_alive)

    def save_artifacts(self) -> None:
        """The logs of the server, its components, Redis, the workers and the task logs
        of this module's runs, for a failed test."""
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)
        for log in self.logs.glob("*.log"):
            shutil.copy2(log, ARTIFACTS / log.name)
        for component in ("scheduler", "dag-processor", "triggerer", "api-server"):
            log = paths().home / "logs" / f"{component}.log"
            if log.exists():
                shutil.copy2(log, ARTIFACTS / f"component-{component}.log")
        for run_id in self.triggered:
            tasks = paths().airflow_home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}"
            if tasks.exists():
                shutil.copytree(tasks, ARTIFACTS / "task-logs" / run_id.replace(":", "_"))


def _operator_env(broker: str, port: int) -> dict[str, str]:
    """An operator's shell on each machine, the broker, short test bounds."""
    return operator_env(
        GRASSROOTS_API_PORT=str(port),
        GRASSROOTS_INTAKE_BATCH_SIZE=str(BATCH_SIZE),
        AIRFLOW__CELERY__BROKER_URL=broker,
        # A task whose worker died is found after this many seconds without heartbeat
        # (Airflow's default, 300 s, only makes the test wait).
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="5",
        # The retried batch starts 5 s after it is found dead, not the night's 2 min.
        GRASSROOTS_RETRY_DELAY_SECONDS="5",
        # As many tasks at once as the workers take (one each): none waits in the
        # broker, so the two batches planned to run at once go one to each worker.
        AIRFLOW__CORE__PARALLELISM=str(len(WORKERS)),
    )


def _wait_for_redis(port: int, process: subprocess.Popen) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "redis-server exited"
        with contextlib.suppress(redis.exceptions.ConnectionError):
            if client.ping():
                return
        assert time.monotonic() < deadline, "redis-server not answering after 60 s"
        time.sleep(0.2)


def _settle_other_runs(stack: Stack) -> None:
    """Unpaused (a manual run of a paused DAG is not scheduled); the night Airflow starts
    at once when the DAG is unpaused (catchup off) and any run an interrupted earlier
    session left are marked done, before any worker could take their tasks."""

    def parsed():
        response = httpx.get(
            f"{stack.url}/api/v2/dags/{DAG_ID}",
            headers={"Authorization": f"Bearer {stack.token()}"},
            timeout=60,
        )
        return response.status_code == 200

    stack.wait("the DAG parsed", parsed, START_TIMEOUT, 3)
    stack.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})

    def next_night_planned():
        after = stack.api("GET", f"/dags/{DAG_ID}")["next_dagrun_run_after"]
        return after and datetime.fromisoformat(after) > datetime.now(UTC)

    stack.wait("the DAG unpaused and its missed night created", next_night_planned, 300, 3)
    runs = stack.api("GET", f"/dags/{DAG_ID}/dagRuns", params={"state": ["running", "queued"]})
    for run in runs["dag_runs"]:
        stack.api("PATCH", f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}", json={"state": "success"})


def _end_leftover_runs(warehouse) -> None:
    """Runs an interrupted earlier session left unfinished, failed before the scheduler
    starts: it would otherwise adopt their tasks, whose Celery results (in that session's
    broker) never come, and keep executor slots for them until the adoption timeout."""
    unfinished = [
        *("queued", "running", "scheduled", "up_for_retry"),
        *("up_for_reschedule", "restarting", "deferred"),
    ]
    with psycopg.connect(warehouse.admin_url("airflow"), autocommit=True) as conn:
        if not conn.execute("select to_regclass('public.dag_run') is not null").fetchone()[0]:
            return
        conn.execute(
            "update task_instance set state = 'failed'"
            " where dag_id = %s and state = any(%s::text[])",
            (DAG_ID, unfinished),
        )
        conn.execute(
            "update dag_run set state = 'failed'"
            " where dag_id = %s and state in ('queued', 'running')",
            (DAG_ID,),
        )


@pytest.fixture(scope="module")
def stack(warehouse, tmp_path_factory, request):
    _redis_or_skip()
    reset_intake(warehouse)
    _end_leftover_runs(warehouse)
    logs = tmp_path_factory.mktemp("celery-logs")
    redis_dir = tmp_path_factory.mktemp("redis")
    redis_port, api_port = free_port(), free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    stack = Stack(_operator_env(broker, api_port), api_port, logs)
    failed_before = request.session.testsfailed
    redis_server = None
    try:
        redis_server = stack.start(
            "redis",
            [REDIS_SERVER, "--port", str(redis_port), "--bind", "127.0.0.1", "--dir",
             str(redis_dir), "--save", "", "--appendonly", "no"],
            stack.env,
        )  # fmt: skip
        _wait_for_redis(redis_port, redis_server)
        stack.serve = stack.start(
            "serve",
            [str(BIN / "grassroots"), "serve", "--executor", "celery", "--port", str(api_port)],
            stack.env,
        )
        stack.wait_until_healthy()
        _settle_other_runs(stack)
        yield stack
    finally:
        if request.session.testsfailed > failed_before:
            with contextlib.suppress(Exception):
                stack.save_artifacts()
        for worker in stack.workers.values():
            _end(worker)
        _end(stack.serve, grace=STOP_TIMEOUT)
        _end(redis_server)


def _fill_inbox(name: str) -> Path:
    inbox = paths().home / name
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    for source in SAMPLE:
        shutil.copy2(source, inbox / source.name)
    return inbox


def _outcome(conn) -> dict:
    """What the intake left: each file's status and version, rows per form, findings."""
    files = conn.execute(
        "select original_name, status, version from landing.received_files order by original_name"
    ).fetchall()
    rows = {
        table: conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
        for table in ("form_cb", "form_dv", "form_tc", "form_ct")
    }
    findings = conn.execute("select count(*) from landing.validation_findings").fetchone()[0]
    return {"files": files, "rows": rows, "findings": findings}


def _raw_rows_of_received_files(conn) -> int:
    """Rows in raw.* of a file still 'received': a batch half-loaded."""
    return sum(
        conn.execute(
            f"select count(*) from raw.{table} r join landing.received_files f"
            " using (file_id) where f.status = 'received'"
        ).fetchone()[0]
        for table in ("form_cb", "form_dv", "form_tc", "form_ct")
    )


@pytest.fixture(scope="module")
def night_on_two_workers(stack, warehouse):
    for name in WORKERS:
        stack.start_worker(name)
    run_id = stack.trigger(_fill_inbox("celery-inbox-1"))

    def finished():
        state = stack.run_state(run_id)
        return state if state in ("success", "failed") else None

    state = stack.wait(f"run {run_id}", finished, RUN_TIMEOUT, 10)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        outcome = _outcome(conn)
    return run_id, state, outcome


def test_one_night_runs_on_both_workers(stack, night_on_two_workers):
    run_id, state, outcome = night_on_two_workers
    assert state == "success", [
        (ti["task_id"], ti["map_index"], ti["state"]) for ti in stack.task_instances(run_id)
    ]
    instances = stack.task_instances(run_id)
    hosts = {ti["hostname"] for ti in instances if ti["state"] == "success"}
    assert set(WORKERS) <= hosts, hosts
    batches = [ti for ti in instances if ti["task_id"] == "load_batch"]
    assert len(batches) >= 5, len(batches)
    assert all(ti["state"] == "success" for ti in batches)
    # Two batches at a time, one task at a time per worker: the batches spread too.
    assert {ti["hostname"] for ti in batches} == set(WORKERS)
    # Every file accounted for: loaded, quarantined or superseded; nothing left over.
    assert "received" not in {status for _name, status, _version in outcome["files"]}
    assert len(outcome["files"]) == len(SAMPLE)


def test_a_worker_killed_mid_load_leaves_nothing_half_loaded_and_the_retry_loads_once(
    stack, night_on_two_workers, warehouse, tmp_path
):
    _run_id, _state, uninterrupted = night_on_two_workers
    for name in WORKERS:
        _end(stack.workers.pop(name))
    reset_intake(warehouse)
    # Only worker-a at first: it takes the first batch and stops inside it, after the
    # COPY of the batch's rows and before their commit.
    marker = tmp_path / "mid-load"
    victim = stack.start_worker("worker-a", f"load_after_copy:wait={marker}")
    run_id = stack.trigger(_fill_inbox("celery-inbox-2"))
    stack.wait("worker-a mid-load", marker.exists, RUN_TIMEOUT, 0.2)
    task_pid = int(marker.read_text())
    killed = _kill_tree(victim)  # within the failpoint's 60 s
    assert task_pid in killed
    assert not _running(task_pid)
    del stack.workers["worker-a"]
    (running,) = [
        ti
        for ti in stack.task_instances(run_id)
        if ti["task_id"] == "load_batch" and ti["state"] == "running"
    ]
    assert running["hostname"] == "worker-a"
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        assert _raw_rows_of_received_files(conn) == 0  # nothing half-loaded
        assert account(conn)["received"] > 0  # the killed batch's files wait for the retry

    # The other worker, and worker-a started again (no failpoint this time).
    stack.start_worker("worker-b")
    stack.start_worker("worker-a")

    def retried():
        instances = {(ti["task_id"], ti["map_index"]): ti for ti in stack.task_instances(run_id)}
        again = instances[("load_batch", running["map_index"])]
        summary = instances[("intake_summary", -1)]
        assert again["state"] not in ("failed", "upstream_failed"), again
        if again["state"] == "success" and summary["state"] == "success":
            return again
        return None

    again = stack.wait("the killed batch retried", retried, RETRY_TIMEOUT, 5)
    assert again["try_number"] >= 2 and again["hostname"] in WORKERS, again
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        # Each file loaded once: the same files, statuses, versions, rows and findings
        # as the uninterrupted night on the same inbox.
        assert _outcome(conn) == uninterrupted
        counts = account(conn)
        assert counts["received"] == 0
        assert sum(counts.values()) == len(SAMPLE)
    # The rest of the night (dbt, checks, digests) is scenario 1's: end this run here.
    stack.api("PATCH", f"/dags/{DAG_ID}/dagRuns/{run_id}", json={"state": "failed"})
