"""The compose deployment (docker/) built and run on this machine: `make test-deploy`.

Needs root and a running dockerd (.ci/run starts one). No image can be pulled here, so
every image is built from a Debian base made with debootstrap from apt's own mirror and
`docker import`ed; pip and uv inside the build trust this machine's CA bundle, copied
into the build context for the build only (docker/ca/, git-ignored). The stack runs with
the test override (docker/docker-compose.test.yml): every container on the host's
network, every connection on 127.0.0.1. The nightly DAG is triggered through the REST
API on the demo inbox and must succeed with tasks run by both Celery workers.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
from base64 import urlsafe_b64encode
from pathlib import Path

import psycopg
import pytest

from grassroots.config import DEMO_INBOX, REPO_ROOT
from tests.smtp_server import free_port

pytestmark = pytest.mark.deploy

BASE_IMAGE = "grassroots-debian-base:bookworm"
IMAGE = "grassroots-deploy-test:latest"
PREFIX = "grassroots-deploy-test"
PROJECT = "grassroots-deploy-test"
COMPOSE = REPO_ROOT / "docker" / "docker-compose.yml"
OVERRIDE = REPO_ROOT / "docker" / "docker-compose.test.yml"
CA_COPY = REPO_ROOT / "docker" / "ca" / "bundle.crt"
ARTIFACTS = REPO_ROOT / ".state" / "test-artifacts" / "deploy"
# Bounds: a stack that does not come up or a run that does not end fails, never hangs.
UP_SECONDS = 900
RUN_SECONDS = 1500


def _require_docker() -> None:
    problem = None
    if os.geteuid() != 0:
        problem = "needs root (dockerd, debootstrap)"
    elif subprocess.run(["docker", "info"], capture_output=True, check=False).returncode:
        problem = "dockerd is not running (.ci/run starts it)"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)


def _run(*command, **options) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, **options)


def _apt_mirror() -> str:
    """The Debian mirror apt is configured with (never a name written in the repo)."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in path.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    for line in Path("/etc/apt/sources.list").read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["deb"] and "security" not in line:
            return next(p for p in parts[1:] if "://" in p)
    raise RuntimeError("no Debian mirror in apt's sources")


def _ensure_base_image() -> None:
    inspect = subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True)
    if inspect.returncode == 0:
        return
    with tempfile.TemporaryDirectory(prefix="grassroots-rootfs-") as rootfs:
        _run(
            "debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
            "bookworm", rootfs, _apt_mirror(), stdout=subprocess.DEVNULL,
        )  # fmt: skip
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        _run("docker", "import", "-", BASE_IMAGE, stdin=tar.stdout, stdout=subprocess.DEVNULL)
        assert tar.wait() == 0


def _ca_bundle() -> Path | None:
    listed = subprocess.run(
        ["pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    for line in listed.splitlines():
        if line.split("=", 1)[0].endswith(".cert"):
            return Path(line.split("=", 1)[1].strip().strip("'\""))
    found = os.environ.get("SSL_CERT_FILE")
    return Path(found) if found else None


def _build() -> None:
    bundle = _ca_bundle()
    if bundle and bundle.exists():
        shutil.copyfile(bundle, CA_COPY)
    try:
        for dockerfile, tag in (
            ("docker/Dockerfile", IMAGE),
            ("docker/redis/Dockerfile", f"{PREFIX}-redis:7.0"),
        ):
            _run(
                "docker", "build", "--network", "host", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
                "-f", dockerfile, "-t", tag, ".", cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
            )  # fmt: skip
    finally:
        CA_COPY.unlink(missing_ok=True)


def _env_file(folder: Path) -> dict[str, str]:
    env = {
        "GRASSROOTS_IMAGE": IMAGE,
        "GRASSROOTS_IMAGE_PREFIX": PREFIX,
        "AIRFLOW__CORE__FERNET_KEY": urlsafe_b64encode(os.urandom(32)).decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(18),
        "GRASSROOTS_AIRFLOW_DB_PASSWORD": secrets.token_urlsafe(18),
        "GRASSROOTS_LOADER_PASSWORD": secrets.token_urlsafe(18),
        "GRASSROOTS_ANALYST_PASSWORD": secrets.token_urlsafe(18),
        "GRASSROOTS_ADMIN_PASSWORD": secrets.token_urlsafe(18),
        "POSTGRES_HOST": "127.0.0.1",
        "REDIS_HOST": "127.0.0.1",
        "API_SERVER_HOST": "127.0.0.1",
        # On the host's network the API server listens on the loopback only.
        "API_SERVER_LISTEN": "127.0.0.1",
        "POSTGRES_PORT": str(free_port()),
        "REDIS_PORT": str(free_port()),
        "API_SERVER_PORT": str(free_port()),
        "SCHEDULER_HEALTH_PORT": str(free_port()),
    }
    path = folder / "test.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    env["ENV_FILE"] = str(path)
    return env


def _compose(env: dict, *args, **options) -> subprocess.CompletedProcess:
    command = ["docker-compose", "-p", PROJECT, "-f", str(COMPOSE), "-f", str(OVERRIDE)]
    command += ["--env-file", env["ENV_FILE"], *args]
    return subprocess.run(command, cwd=REPO_ROOT, check=True, **options)


def _api(env: dict, path: str, body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{env['API_SERVER_PORT']}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _wait(what: str, seconds: int, probe):
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = probe()
            if result:
                return result
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    _require_docker()
    _ensure_base_image()
    _build()
    env = _env_file(tmp_path_factory.mktemp("deploy"))
    try:
        # As an operator starts it (docker/README.md).
        _compose(env, "up", "-d", "--no-build", "--scale", "airflow-worker=2")
        _wait("API server healthy", UP_SECONDS, lambda: _api(env, "/api/v2/monitor/health"))
        yield env
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with (ARTIFACTS / "compose.log").open("w") as log:
            _compose(env, "logs", "--no-color", stdout=log, stderr=subprocess.STDOUT)
        _compose(env, "down", "-v", "--remove-orphans", stdout=subprocess.DEVNULL)


def _fill_inbox(env: dict) -> None:
    """The demo inbox into the shared volume, written as the image's user."""
    worker = _compose(env, "ps", "-q", "airflow-worker", capture_output=True, text=True)
    container = worker.stdout.split()[0]
    tar = subprocess.Popen(["tar", "-C", str(DEMO_INBOX), "-c", "."], stdout=subprocess.PIPE)
    _run(
        "docker", "exec", "-i", container, "sh", "-c",
        "mkdir -p /var/lib/grassroots/inbox && tar -x -C /var/lib/grassroots/inbox",
        stdin=tar.stdout,
    )  # fmt: skip
    assert tar.wait() == 0


class Api:
    def __init__(self, env: dict):
        self.env = env
        password = env["GRASSROOTS_ADMIN_PASSWORD"]
        self.token = _api(env, "/auth/token", {"username": "admin", "password": password})[
            "access_token"
        ]

    def get(self, path: str):
        return _api(self.env, f"/api/v2{path}", token=self.token)

    def send(self, method: str, path: str, body: dict):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.env['API_SERVER_PORT']}/api/v2{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")


def _settle_missed_night(api: Api) -> None:
    """Unpaused at creation, the DAG gets the night it missed (the latest 01:00, catchup
    off) at once, before the test put anything in the inbox: marked done, so the test's
    own run (one at a time) starts now and not after a second night."""
    dag = "/dags/nightly_submissions"

    def missed_night():
        runs = api.get(f"{dag}/dagRuns?run_type=scheduled")["dag_runs"]
        return runs or None

    for run in _wait("the missed night created", 300, missed_night):
        if run["state"] in ("queued", "running"):
            api.send("PATCH", f"{dag}/dagRuns/{run['dag_run_id']}", {"state": "success"})


def test_nightly_dag_succeeds_on_the_compose_stack_with_both_workers(stack):
    env = stack
    api = Api(env)
    dag = "/dags/nightly_submissions"
    _wait("DAG parsed", 600, lambda: api.get(dag))
    _settle_missed_night(api)
    _fill_inbox(env)
    run = api.send("POST", f"{dag}/dagRuns", {"logical_date": None})
    run_path = f"{dag}/dagRuns/{run['dag_run_id']}"

    def finished():
        state = api.get(run_path)["state"]
        return state if state in ("success", "failed") else None

    assert _wait("the triggered night", RUN_SECONDS, finished) == "success"
    instances = api.get(f"{run_path}/taskInstances?limit=1000")["task_instances"]
    hosts = {ti["hostname"] for ti in instances if ti.get("hostname")}
    assert len({h for h in hosts if h.startswith("worker-")}) == 2, hosts
    loader = (
        f"postgresql://grassroots_loader:{env['GRASSROOTS_LOADER_PASSWORD']}"
        f"@127.0.0.1:{env['POSTGRES_PORT']}/grassroots"
    )
    with psycopg.connect(loader) as conn:
        statuses = dict(
            conn.execute(
                "select status, count(*) from landing.received_files group by 1"
            ).fetchall()
        )
        indicators = conn.execute("select count(*) from marts.fct_indicator_values").fetchone()[0]
    assert sum(statuses.values()) == len(list(DEMO_INBOX.iterdir()))
    assert "received" not in statuses and statuses["loaded"] > 0
    assert indicators > 0
