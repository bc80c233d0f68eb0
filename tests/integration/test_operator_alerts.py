"""Task-failure notifiers for operators reach a real SMTP server and a real webhook."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from tests.smtp_server import free_port, running_sink

pytestmark = pytest.mark.integration


@pytest.fixture
def webhook():
    """An HTTP server standing in for Slack's incoming webhook: keeps each JSON body."""
    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX", bodies
    server.shutdown()


@pytest.fixture
def smtp():
    with running_sink() as server:
        yield server


def test_a_failed_task_mails_the_operators_and_posts_to_slack(monkeypatch, smtp, webhook):
    from grassroots.orchestration import failure_callbacks

    port, sink = smtp
    url, bodies = webhook
    monkeypatch.setenv("GRASSROOTS_OPERATOR_EMAILS", "ops1@example.vn, ops2@example.vn")
    monkeypatch.setenv(
        "AIRFLOW_CONN_GRASSROOTS_SMTP",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                    "extra": {"from_email": "grassroots@test.example", "disable_ssl": True,
                              "disable_tls": True}}),
    )  # fmt: skip
    monkeypatch.setenv("GRASSROOTS_SLACK_CONN_ID", "grassroots_slack")
    monkeypatch.setenv(
        "AIRFLOW_CONN_GRASSROOTS_SLACK",
        json.dumps({"conn_type": "slackwebhook", "password": url}),
    )
    ti = SimpleNamespace(
        dag_id="nightly_submissions", task_id="parse_validate_load", run_id="manual__x",
        try_number=3,
    )  # fmt: skip
    context = {"ti": ti, "task_instance": ti, "exception": RuntimeError("warehouse is down")}
    for callback in failure_callbacks():
        callback(context)

    (mail,) = sink.received
    assert sorted(mail.recipients) == ["ops1@example.vn", "ops2@example.vn"]
    assert mail.message["Subject"] == "[grassroots] nightly_submissions.parse_validate_load failed"
    (html,) = [p for p in mail.message.walk() if p.get_content_type() == "text/html"]
    text = html.get_payload(decode=True).decode()
    assert "parse_validate_load of run manual__x" in text and "warehouse is down" in text
    assert "thất bại sau 3 lần thử" in text  # what to do next, for operators, in Vietnamese
    (body,) = bodies
    assert "parse_validate_load of run manual__x" in body["text"]
    assert "after 3 tries: warehouse is down" in body["text"]


def test_without_configuration_only_the_log_callback_runs(monkeypatch):
    from grassroots.orchestration import failure_callbacks, task_failure_alert

    monkeypatch.delenv("GRASSROOTS_OPERATOR_EMAILS", raising=False)
    monkeypatch.delenv("GRASSROOTS_SLACK_CONN_ID", raising=False)
    assert failure_callbacks() == [task_failure_alert]
