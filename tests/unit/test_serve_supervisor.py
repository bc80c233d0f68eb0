"""The supervisor of `grassroots serve` on plain processes (no Airflow, no PostgreSQL):
restarts with a bound, and a stop that leaves no process behind. Each case runs the
supervisor in a subprocess of its own (it becomes a subreaper, which the test process
must not)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

DRIVER = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from grassroots.supervisor import Component, Supervisor

    commands, max_restarts = json.loads(sys.argv[1]), int(sys.argv[2])
    logs = Path(os.environ["GRASSROOTS_HOME"]) / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    class Plain(Supervisor):
        def _prepare(self):
            self.components = {
                name: Component(name, command, logs / f"{name}.log")
                for name, command in commands.items()
            }
            return dict(os.environ), False

        def _when_ready(self, env):
            self.ready = True
            self._write_state()

        def _database_up(self):  # the test stands for a database down with a file
            return not (logs.parent / "database-down").exists()

        def _unhealthy(self):  # and for the API server's health report with another
            report = logs.parent / "unhealthy"
            return set(report.read_text().split()) if report.exists() else set()

    supervisor = Plain(max_restarts=max_restarts, restart_window=60, stop_grace=3, stuck_after=2)
    sys.exit(supervisor.run())
    """
)


def _supervise(tmp_path: Path, commands: dict, max_restarts: int = 5) -> subprocess.Popen:
    env = {**os.environ, "GRASSROOTS_HOME": str(tmp_path / "home")}
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, json.dumps(commands), str(max_restarts)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _state(tmp_path: Path) -> dict:
    try:
        return json.loads((tmp_path / "home" / "serve" / "state.json").read_text())
    except (OSError, ValueError):
        return {}


def test_a_component_that_keeps_dying_stops_the_whole_with_its_name(tmp_path):
    process = _supervise(
        tmp_path, {"steady": ["sleep", "300"], "flaky": ["sh", "-c", "exit 3"]}, max_restarts=2
    )
    try:
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1, out
    # Restarted twice (after 1 s, then 2 s), then given up on.
    assert out.count("flaky exited with code 3") == 2, out
    assert "restarting flaky (restart 2)" in out
    assert "flaky stopped 3 times within 60 s; giving up" in out
    state = _state(tmp_path)
    assert state["stopped"] and state["components"]["flaky"]["restarts"] == 2
    assert not (tmp_path / "home" / "serve" / "serve.pid").exists()


def test_sigterm_stops_every_process_even_one_that_left_its_group(tmp_path):
    escapee = tmp_path / "escapee.pid"
    # A component whose child leaves the process group (setsid) and outlives it.
    commands = {
        "steady": ["sleep", "300"],
        "forker": ["sh", "-c", f"setsid sh -c 'echo $$ > {escapee}; exec sleep 300' & wait"],
        "stubborn": ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"],
    }
    process = _supervise(tmp_path, commands)
    try:
        deadline = time.monotonic() + 30
        while not (escapee.exists() and escapee.read_text().strip() and _state(tmp_path)):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        escapee_pid = int(escapee.read_text())
        pids = [info["pid"] for info in _state(tmp_path)["components"].values()]
        os.kill(process.pid, signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, out
    assert "stubborn did not stop in 3 s: killed" in out
    for pid in [*pids, escapee_pid]:
        assert not Path(f"/proc/{pid}").exists(), (pid, out)


def test_a_component_waits_for_its_database_before_it_is_started_again(tmp_path):
    """While the database is down, a component that exited is not started again (it would
    only exit again and use up its restarts); once the database is back, it is."""
    down = tmp_path / "home" / "database-down"
    down.parent.mkdir(parents=True)
    down.touch()
    process = _supervise(
        tmp_path, {"steady": ["sleep", "300"], "flaky": ["sh", "-c", "exit 3"]}, max_restarts=2
    )
    try:
        # Long enough for the 2 restarts allowed (1 s, then 2 s apart) and a third exit.
        time.sleep(8)
        assert process.poll() is None, process.communicate()[0]
        assert _state(tmp_path)["components"]["flaky"]["restarts"] == 0
        down.unlink()
        deadline = time.monotonic() + 30
        while _state(tmp_path)["components"]["flaky"]["restarts"] < 1:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        os.kill(process.pid, signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "restarting flaky (restart 1)" in out, out


def test_the_background_serve_gets_absolute_paths(monkeypatch, tmp_path):
    """`serve --detach` runs from /: a relative state folder or inbox must not move there."""
    from grassroots.serve import detached_env

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRASSROOTS_HOME", ".state/bench")
    monkeypatch.setenv("GRASSROOTS_INBOX", "inbox")
    env = detached_env()
    assert env["GRASSROOTS_HOME"] == str(tmp_path / ".state" / "bench")
    assert env["GRASSROOTS_INBOX"] == str(tmp_path / "inbox")


def test_a_component_alive_without_heartbeat_is_ended_and_started_again(tmp_path):
    """A component whose process lives but which the health report calls unhealthy (a
    scheduler hung in its own shutdown) is ended after stuck_after seconds and started
    again; a healthy one is left alone."""
    report = tmp_path / "home" / "unhealthy"
    report.parent.mkdir(parents=True)
    report.write_text("hung")
    process = _supervise(tmp_path, {"hung": ["sleep", "300"], "fine": ["sleep", "300"]})
    try:
        deadline = time.monotonic() + 60
        while _state(tmp_path).get("components", {}).get("hung", {}).get("restarts", 0) < 1:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        report.write_text("")
        os.kill(process.pid, signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "hung is running but has sent no heartbeat" in out, out
    assert "restarting hung (restart 1)" in out, out
    assert "restarting fine" not in out, out


def test_the_task_api_is_asked_once_per_start_of_the_api_server(tmp_path, monkeypatch):
    """Its first request builds the versioned routes (seconds): the supervisor pays it,
    not the night's first task; again after the API server was started again."""
    import http.server
    import threading

    from grassroots.supervisor import Component, Supervisor

    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("GRASSROOTS_HOME", str(tmp_path))
    try:
        supervisor = Supervisor(host="127.0.0.1", port=server.server_address[1])
        api_server = Component("api-server", ["true"], tmp_path / "api-server.log")
        supervisor.components = {"api-server": api_server}
        api_server.started_at = 100.0
        supervisor._warm_task_api()
        supervisor._warm_task_api()
        api_server.started_at = 200.0
        supervisor._warm_task_api()
    finally:
        server.shutdown()
    assert asked == ["/execution/health", "/execution/health"]
