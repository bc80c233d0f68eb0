"""grassroots.task_host: the Airflow commands that run tasks start with the tasks'
libraries imported, so that every task process forked from them has them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grassroots import task_host
from grassroots.supervisor import component_command

pytestmark = pytest.mark.unit


def test_every_listed_task_library_imports():
    # A module renamed or removed would silently stop being preloaded.
    assert task_host.preload() == []


def test_a_module_that_fails_is_named_and_the_rest_still_imported():
    assert task_host.preload(("grassroots.no_such_module", "json")) == ["grassroots.no_such_module"]


def test_it_runs_airflow_with_the_arguments_it_was_given():
    result = subprocess.run(
        task_host.command(["version"]), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("3.")  # the version, after any warnings
    assert "task libraries imported in" in result.stderr


def test_serve_starts_the_scheduler_through_it_only_when_the_scheduler_runs_tasks():
    local = {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor"}
    celery = {"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}
    assert component_command("scheduler", local, "127.0.0.1", 8080) == [
        sys.executable,
        "-m",
        "grassroots.task_host",
        "scheduler",
    ]
    assert component_command("scheduler", celery, "127.0.0.1", 8080)[1:] == ["scheduler"]
    api = component_command("api-server", local, "127.0.0.1", 8080)
    assert api[0].endswith("/airflow") and api[1:] == [
        "api-server",
        *("--host", "127.0.0.1", "--port", "8080"),
    ]
    assert component_command("dag-processor", local, "127.0.0.1", 8080)[1:] == ["dag-processor"]
