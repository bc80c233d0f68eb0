"""The compose deployment's files (docker/), checked without Docker; `make test-deploy`
builds and runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from grassroots.config import REPO_ROOT

pytestmark = pytest.mark.unit

DOCKER = REPO_ROOT / "docker"
SECRETS = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "POSTGRES_PASSWORD",
    "GRASSROOTS_LOADER_PASSWORD",
    "GRASSROOTS_ANALYST_PASSWORD",
    "GRASSROOTS_AIRFLOW_DB_PASSWORD",
    "GRASSROOTS_ADMIN_PASSWORD",
)


def _compose(name: str = "docker-compose.yml") -> dict:
    return yaml.safe_load((DOCKER / name).read_text())


def test_the_lock_holds_a_celery_executor_that_loads(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    from airflow.executors.executor_loader import ExecutorLoader

    executor, _source = ExecutorLoader.import_default_executor_cls()
    assert executor.__name__ == "CeleryExecutor"


def test_every_secret_is_required_never_defaulted():
    text = (DOCKER / "docker-compose.yml").read_text()
    for name in SECRETS:
        assert re.search(r"\$\{" + name + r":\?", text), name
        assert not re.search(r"\$\{" + name + r":-", text), name


def test_services_wait_for_init_restart_and_report_health():
    services = _compose()["services"]
    long_running = [name for name in services if name != "airflow-init"]
    for name in long_running:
        assert services[name].get("restart") == "unless-stopped", name
        assert "healthcheck" in services[name], name
    for name in long_running:
        if name.startswith("airflow-"):
            waits = services[name]["depends_on"]["airflow-init"]
            assert waits == {"condition": "service_completed_successfully"}, name
    assert services["airflow-init"]["restart"] == "no"


def test_only_init_gets_the_admin_url_and_workers_the_loaders():
    services = _compose()["services"]
    for name, service in services.items():
        has_admin = "GRASSROOTS_WAREHOUSE_URL" in (service.get("environment") or {})
        assert has_admin == (name == "airflow-init"), name
    worker_env = services["airflow-worker"]["environment"]
    assert '"login": "grassroots_loader"' in worker_env["AIRFLOW_CONN_GRASSROOTS_WAREHOUSE"]


def test_the_ui_is_published_on_the_loopback_unless_configured():
    assert "ports" not in _compose()["services"]["airflow-apiserver"]
    ports = _compose("docker-compose.override.yml")["services"]["airflow-apiserver"]["ports"]
    port = "${API_SERVER_PORT:-8080}"
    assert ports == [f"${{API_SERVER_BIND:-127.0.0.1}}:{port}:{port}"]
    test = _compose("docker-compose.test.yml")["services"]
    assert {s.get("network_mode") for s in test.values()} == {"host"}
    assert set(test) == set(_compose()["services"])


def _dockerfile_env() -> dict[str, str]:
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(item.split("=", 1) for item in line.split()[1:])
    return env


def test_the_image_sets_what_the_embedded_default_sets():
    from grassroots.config import Paths
    from grassroots.runtime import STATIC_ENV, state_folder_env

    image = _dockerfile_env()
    expected = {**STATIC_ENV, **state_folder_env(Paths(Path(image["GRASSROOTS_HOME"])))}
    assert {key: image.get(key) for key in expected} == expected
