"""`grassroots worker` and `serve --executor celery`: the command and the environment
they hand Airflow (the workers themselves run in tests/e2e/test_celery_workers.py)."""

from __future__ import annotations

import sys

import pytest

from grassroots.cli import main
from grassroots.workers import (
    HOSTNAME_CALLABLE,
    WorkerError,
    celery_env,
    uses_celery,
    worker_command,
)

pytestmark = pytest.mark.unit


def test_worker_command_names_itself_and_serves_no_logs():
    command = worker_command("intake,default", 2, "worker-a")
    # `airflow celery worker ...` after the tasks' libraries (grassroots.task_host).
    assert command[:3] == [sys.executable, "-m", "grassroots.task_host"]
    assert command[3:5] == ["celery", "worker"]
    assert "--skip-serve-logs" in command
    assert command[command.index("--queues") + 1] == "intake,default"
    assert command[command.index("--concurrency") + 1] == "2"
    assert command[command.index("--celery-hostname") + 1] == "worker-a@%h"


def test_celery_env_needs_a_broker_and_records_the_worker_name():
    with pytest.raises(WorkerError, match="AIRFLOW__CELERY__BROKER_URL"):
        celery_env({"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"})
    env = celery_env({"AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == HOSTNAME_CALLABLE
    assert uses_celery(env)
    full_path = "airflow.providers.celery.executors.celery_executor.CeleryExecutor"
    assert uses_celery({"AIRFLOW__CORE__EXECUTOR": full_path})
    assert not uses_celery({"AIRFLOW__CORE__EXECUTOR": "LocalExecutor"})


def test_serve_with_celery_and_no_broker_stops_before_setup(monkeypatch, capsys):
    monkeypatch.delenv("AIRFLOW__CELERY__BROKER_URL", raising=False)
    monkeypatch.delenv("AIRFLOW__CORE__EXECUTOR", raising=False)
    assert main(["serve", "--executor", "celery"]) == 1
    assert "AIRFLOW__CELERY__BROKER_URL" in capsys.readouterr().err


def test_a_worker_without_the_servers_secrets_refuses_to_start(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRASSROOTS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AIRFLOW__CELERY__BROKER_URL", "redis://127.0.0.1:6379/0")
    for name in ("GRASSROOTS_LOADER_PASSWORD", "AIRFLOW__CORE__FERNET_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["worker", "--name", "w"]) == 1
    err = capsys.readouterr().err
    assert "secrets.json" in err and "GRASSROOTS_LOADER_PASSWORD" in err
    assert not (tmp_path / "home" / "secrets.json").exists()  # nothing made up
