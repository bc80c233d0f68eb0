"""Airflow's CeleryExecutor natively, without containers: `grassroots worker` on each
machine that runs tasks, `grassroots serve --executor celery` on the one that runs the
scheduler, DAG processor, triggerer and API server.

What the machines share (docs/operations.md, "Celery workers on several machines"):
the broker (AIRFLOW__CELERY__BROKER_URL, e.g. Redis), the warehouse server (Airflow's
metadata is a database on it, and the Celery result backend defaults to that database),
the secrets (the role passwords and Airflow's keys of $GRASSROOTS_HOME/secrets.json, or
their variables), the API server's address, and the state folder's files that one task
hands the next (archive, staging, quarantine, Data Docs, digests, task logs).
"""

from __future__ import annotations

import os

from grassroots import task_host

CELERY_EXECUTOR = "CeleryExecutor"
EXECUTOR_ENV = "AIRFLOW__CORE__EXECUTOR"
BROKER_ENV = "AIRFLOW__CELERY__BROKER_URL"
EXECUTION_API_ENV = "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"
WORKER_NAME_ENV = "GRASSROOTS_WORKER_NAME"
# Records GRASSROOTS_WORKER_NAME as a task instance's host (grassroots.hostnames): two
# workers on one machine must not look like one.
HOSTNAME_CALLABLE = "grassroots.hostnames.worker_hostname"
# What a worker needs from the server's secrets file when it has no copy of it.
SHARED_SECRET_VARIABLES = (
    "GRASSROOTS_LOADER_PASSWORD",
    "GRASSROOTS_AIRFLOW_DB_PASSWORD",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__FERNET_KEY",
)


class WorkerError(RuntimeError):
    pass


def uses_celery(env: dict[str, str]) -> bool:
    return env.get(EXECUTOR_ENV, "").rsplit(".", 1)[-1] == CELERY_EXECUTOR


def celery_env(env: dict[str, str]) -> dict[str, str]:
    """The runtime environment for a component of a Celery deployment: the broker must
    be given (Airflow's default, redis://redis:6379/0, names a container); the result
    backend is Airflow's metadata database unless AIRFLOW__CELERY__RESULT_BACKEND says
    otherwise (the provider's default)."""
    if not env.get(BROKER_ENV):
        raise WorkerError(
            f"CeleryExecutor needs a broker: set {BROKER_ENV} (e.g. redis://10.0.0.5:6379/0)"
            " to the same value on the server and on every worker"
        )
    celery = dict(env)
    celery[EXECUTOR_ENV] = CELERY_EXECUTOR
    celery.setdefault("AIRFLOW__CORE__HOSTNAME_CALLABLE", HOSTNAME_CALLABLE)
    return celery


def _check_shared_secrets() -> None:
    """A worker never generates secrets: a password or key made up here would differ
    from the server's (runtime_env would write new ones into a missing secrets file)."""
    from grassroots.config import paths

    secrets = paths().secrets
    missing = [name for name in SHARED_SECRET_VARIABLES if not os.environ.get(name)]
    if missing and not secrets.exists():
        raise WorkerError(
            f"no {secrets}: copy the server's secrets.json there (mode 0600) or set "
            + ", ".join(missing)
        )


def worker_env(api_url: str | None = None, name: str | None = None) -> dict[str, str]:
    """runtime_env for a Celery worker: the executor, the broker, where the API server
    is (api_url, else AIRFLOW__CORE__EXECUTION_API_SERVER_URL, else GRASSROOTS_API_HOST
    and _PORT as `grassroots serve` reads them), the name its tasks record."""
    from grassroots.runtime import runtime_env
    from grassroots.serve import DEFAULT_HOST, DEFAULT_PORT, ui_url

    _check_shared_secrets()
    env = celery_env({**runtime_env(), EXECUTOR_ENV: CELERY_EXECUTOR})
    if api_url:
        env[EXECUTION_API_ENV] = api_url.rstrip("/") + "/execution/"
    elif not env.get(EXECUTION_API_ENV):
        host = env.get("GRASSROOTS_API_HOST") or DEFAULT_HOST
        port = int(env.get("GRASSROOTS_API_PORT") or DEFAULT_PORT)
        env[EXECUTION_API_ENV] = ui_url(host, port) + "execution/"
    if name:
        env[WORKER_NAME_ENV] = name
    return env


def worker_command(
    queues: str | None = None, concurrency: int | None = None, name: str | None = None
) -> list[str]:
    """`airflow celery worker` of this virtualenv, started through grassroots.task_host
    (the pool's forks run the tasks, their libraries already imported). No log server:
    task logs are files in the state folder, which the API server reads (and two
    workers on one machine would both want its port, 8793)."""
    return task_host.command(worker_args(queues, concurrency, name))


def worker_args(
    queues: str | None = None, concurrency: int | None = None, name: str | None = None
) -> list[str]:
    """The arguments of `airflow` that make the worker."""
    command = ["celery", "worker", "--skip-serve-logs"]
    if queues:
        command += ["--queues", queues]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    if name:
        # Celery's node name: unique per worker, as `airflow celery worker` checks.
        command += ["--celery-hostname", f"{name}@%h"]
    return command


def run_worker(
    queues: str | None = None,
    concurrency: int | None = None,
    name: str | None = None,
    api_url: str | None = None,
) -> None:
    """Replace this process with the Celery worker: SIGTERM (systemd, Ctrl-C) reaches
    Celery itself, which lets running tasks finish (a warm shutdown)."""
    env = worker_env(api_url, name)
    if concurrency is None and not env.get("AIRFLOW__CELERY__WORKER_CONCURRENCY"):
        # Airflow's default, 16, would run 16 dbt models or batches on a 2-core machine.
        concurrency = max(2, os.cpu_count() or 2)
    args = worker_args(queues, concurrency, name)
    command = task_host.command(args)
    print(
        f"grassroots worker: airflow {' '.join(args)} (broker {_masked(env[BROKER_ENV])},"
        f" API {env[EXECUTION_API_ENV]})",
        flush=True,
    )
    os.execve(command[0], command, env)


def _masked(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(":" + parts.password + "@", ":***@", 1)
    return url
