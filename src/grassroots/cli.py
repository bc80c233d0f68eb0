"""grassroots command line: warehouse, setup, nightly run, demo, reference data."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from grassroots.check.command import add_check_commands
from grassroots.cli_data import add_data_commands
from grassroots.config import (
    ANALYST_ROLE,
    DEMO_INBOX,
    LOADER_ROLE,
    REPO_ROOT,
    paths,
)

DAG_ID = "nightly_submissions"
WEEKLY_CHECKS_DAG_ID = "weekly_full_checks"


def _warehouse(args) -> int:
    from grassroots.warehouse import Warehouse

    warehouse = Warehouse()
    if args.action == "start":
        from grassroots.runtime import secure_state_folder_of

        secure_state_folder_of(warehouse)
        warehouse.start()
        print(f"warehouse running: {_masked(warehouse.url(ANALYST_ROLE))}")
        print("  the analyst's password: grassroots warehouse url --role analyst --show-password")
    elif args.action == "stop":
        warehouse.stop()
        print("warehouse stopped")
    elif args.action == "status":
        running = warehouse.is_running()
        where = (warehouse.external_url and "external") or f"embedded in {warehouse.paths.postgres}"
        print(f"warehouse ({where}): {'running' if running else 'stopped'}")
        return 0 if running else 3
    elif args.action == "url":
        role = {"analyst": ANALYST_ROLE, "loader": LOADER_ROLE}[args.role]
        url = warehouse.url(role)
        print(url if args.show_password else _masked(url))
    return 0


def _masked(url: str) -> str:
    """The URL with its password replaced: secrets are printed only when asked for."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _say(line: str) -> None:
    print(line, flush=True)


def _setup(args) -> int:
    from grassroots.runtime import setup

    setup(quiet=True, progress=_say)
    print("warehouse, Airflow metadata database and dbt manifest are ready")
    return 0


def _serve(args) -> int:
    from grassroots import serve

    if args.action == "status":
        return serve.status(_say)
    if args.action == "stop":
        return serve.stop(say=_say)
    if args.action == "password":
        print(serve.admin_password())
        return 0
    from grassroots.workers import WorkerError, celery_env, uses_celery

    if args.executor == "celery":
        # Read by runtime_env and inherited by a detached serve: tasks go to the broker.
        os.environ["AIRFLOW__CORE__EXECUTOR"] = "CeleryExecutor"
    if uses_celery(dict(os.environ)):
        try:  # before setup: a missing broker is said at once
            celery_env(dict(os.environ))
        except WorkerError as error:
            print(error, file=sys.stderr)
            return 1
    if args.detach:
        return serve.detach(args.host, args.port, say=_say)
    from grassroots.supervisor import Supervisor

    try:
        return Supervisor(args.host, args.port, say=_say).run()
    except serve.ServeError as error:
        print(error, file=sys.stderr)
        return 1


def _worker(args) -> int:
    from grassroots.workers import WorkerError, run_worker

    try:
        run_worker(args.queues, args.concurrency, args.name, args.api_url)
    except WorkerError as error:
        print(error, file=sys.stderr)
        return 1
    return 0  # not reached: run_worker becomes the Celery worker


def trigger_run(inbox: Path | None, *, verbose: bool = True, dag_id: str = DAG_ID) -> int:
    """One run of a DAG (default: the nightly one) now, in this process tree
    (airflow dags test); 0 when the run succeeded.

    Not verbose: Airflow's log goes to <home>/logs/ and one line per finished task
    is printed, so a person sees progress without the task logs.
    """
    import subprocess

    from grassroots.runtime import setup

    env = setup(quiet=True)
    conf = json.dumps(
        {"inbox": str(inbox.resolve()) if inbox else None} if dag_id == DAG_ID else {}
    )
    logical_date = datetime.now(UTC).isoformat(timespec="seconds")
    command = [
        str(Path(sys.executable).parent / "airflow"),
        *("dags", "test", dag_id, logical_date, "--conf", conf),
    ]
    if verbose:
        return subprocess.run(command, env=env, check=False).returncode
    log_dir = paths().home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"{dag_id}-{logical_date.replace(':', '')}.log"
    print(f"running {dag_id} (Airflow log: {log_file})")
    with (
        log_file.open("w", encoding="utf-8") as log,
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process,
    ):
        for line in process.stdout:
            log.write(line)
            if "[DAG TEST] end task" in line:
                task_id = line.split("task_id=", 1)[1].split()[0]
                print(f"  done: {task_id}", flush=True)
            elif "DagRun Finished" in line:
                state = line.split("state=", 1)[1].split(",", 1)[0]
                print(f"run finished: {state}")
    return process.returncode


def _run(args) -> int:
    return trigger_run(args.inbox, verbose=args.verbose, dag_id=args.dag)


def _passthrough(tool: str):
    def handler(args) -> int:
        from grassroots.runtime import run_tool, runtime_env

        cwd = REPO_ROOT / "dbt_project" if tool == "dbt" else None
        return run_tool([tool, *args.rest], runtime_env(), cwd=cwd)

    return handler


def _indicators(args) -> int:
    from grassroots.report import print_indicators

    return print_indicators(level=args.level)


def _report(args) -> int:
    from grassroots.reports.build import build
    from grassroots.warehouse import Warehouse

    out = args.out or paths().reports
    summary = build(out, Warehouse().url(ANALYST_ROLE), say=_say)
    print(f"report site in {out}: {summary.line()}")
    return 0


def _docs(args) -> int:
    from grassroots.dbt_docs import generate_if_stale
    from grassroots.runtime import runtime_env
    from grassroots.warehouse import Warehouse

    warehouse = Warehouse()
    if not warehouse.is_running():
        warehouse.start()
    generate_if_stale(runtime_env(warehouse), force=args.force, say=_say)
    return 0


def _demo(args) -> int:
    from grassroots.report import print_demo_report

    inbox = paths().inbox
    inbox.mkdir(parents=True, exist_ok=True)
    copied = 0
    for source in sorted(DEMO_INBOX.iterdir()):
        if source.is_file():
            shutil.copy2(source, inbox / source.name)
            copied += 1
    print(f"copied {copied} sample submissions into {inbox}")
    code = trigger_run(inbox, verbose=False)
    if code != 0:
        print(f"the nightly DAG run failed (exit {code})", file=sys.stderr)
        return code
    return print_demo_report()


def _deploy_init(args) -> int:
    from grassroots.deploy import deploy_init

    return deploy_init()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grassroots", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    _add_warehouse_commands(commands)
    _add_server_commands(commands)
    _add_run_commands(commands)
    add_data_commands(commands)
    add_check_commands(commands)
    return parser


def _add_warehouse_commands(commands) -> None:
    """warehouse, setup, deploy-init."""
    warehouse = commands.add_parser("warehouse", help="the warehouse's PostgreSQL")
    warehouse.add_argument("action", choices=["start", "stop", "status", "url"])
    warehouse.add_argument("--role", choices=["loader", "analyst"], default="loader")
    warehouse.add_argument(
        "--show-password", action="store_true", help="url: print the password too (else ***)"
    )
    warehouse.set_defaults(handler=_warehouse)

    commands.add_parser(
        "setup", help="start the warehouse, migrate Airflow, parse dbt"
    ).set_defaults(handler=_setup)
    commands.add_parser(
        "deploy-init", help="a container deployment's init step (docker/): setup + admin login"
    ).set_defaults(handler=_deploy_init)


def _add_server_commands(commands) -> None:
    """serve and worker: Airflow kept running."""
    from grassroots.serve import DEFAULT_HOST, DEFAULT_PORT

    serve = commands.add_parser(
        "serve",
        help="run Airflow (scheduler, DAG processor, triggerer, API server and UI), supervised",
        description="Without an action: run in the foreground until Ctrl-C or SIGTERM.",
    )
    serve.add_argument(
        "action",
        nargs="?",
        choices=["status", "stop", "password"],
        help="status: each component; stop: stop a running serve; password: the UI admin's",
    )
    serve.add_argument(
        "--host",
        default=os.environ.get("GRASSROOTS_API_HOST") or DEFAULT_HOST,
        help=f"address of the API server and UI (default GRASSROOTS_API_HOST or {DEFAULT_HOST})",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRASSROOTS_API_PORT") or DEFAULT_PORT),
        help=f"port of the API server and UI (default GRASSROOTS_API_PORT or {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--detach", action="store_true", help="run in the background (stop: grassroots serve stop)"
    )
    serve.add_argument(
        "--executor",
        choices=["local", "celery"],
        default="local",
        help="celery: tasks go to `grassroots worker` processes through the broker"
        " (AIRFLOW__CELERY__BROKER_URL); also AIRFLOW__CORE__EXECUTOR=CeleryExecutor",
    )
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker",
        help="run a Celery worker of a `grassroots serve --executor celery` (any machine)",
        description="Runs `airflow celery worker` with the product's environment until"
        " SIGTERM. Needs AIRFLOW__CELERY__BROKER_URL, the server's secrets.json (or the"
        " variables) and the warehouse (docs/operations.md).",
    )
    worker.add_argument("--queues", help="comma-separated Celery queues (default: Airflow's)")
    worker.add_argument(
        "--concurrency", type=int, help="tasks at once (default: the machine's cores)"
    )
    worker.add_argument(
        "--name",
        default=os.environ.get("GRASSROOTS_WORKER_NAME") or None,
        help="the name its tasks record as their host (default: the machine's name)",
    )
    worker.add_argument(
        "--api-url",
        help="the API server, e.g. http://10.0.0.5:8080/ (default: GRASSROOTS_API_HOST/_PORT)",
    )
    worker.set_defaults(handler=_worker)


def _add_run_commands(commands) -> None:
    """run, indicators, demo and the airflow/dbt passthroughs."""
    run = commands.add_parser("run", help="trigger one run of the nightly DAG now")
    run.add_argument(
        "--dag",
        default=DAG_ID,
        choices=[DAG_ID, WEEKLY_CHECKS_DAG_ID],
        help=f"{WEEKLY_CHECKS_DAG_ID}: every dbt test on whole relations (default: {DAG_ID})",
    )
    run.add_argument("--inbox", type=Path, help="folder to read (default: GRASSROOTS_INBOX)")
    run.add_argument("--verbose", action="store_true", help="stream Airflow's log")
    run.set_defaults(handler=_run)

    indicators = commands.add_parser("indicators", help="print the indicator table")
    indicators.add_argument(
        "--level", default="district", choices=["commune", "district", "province"]
    )
    indicators.set_defaults(handler=_indicators)

    report = commands.add_parser(
        "report", help="build the static report site (Vietnamese pages, Excel) from the marts"
    )
    report.add_argument(
        "--out",
        type=Path,
        help="folder (default: $GRASSROOTS_REPORTS_DIR or $GRASSROOTS_HOME/reports)",
    )
    report.set_defaults(handler=_report)

    docs = commands.add_parser(
        "docs", help="generate dbt's docs site into $GRASSROOTS_HOME/dbt_docs when stale"
    )
    docs.add_argument("--force", action="store_true", help="generate even when up to date")
    docs.set_defaults(handler=_docs)

    commands.add_parser("demo", help="run the nightly DAG on the sample submissions").set_defaults(
        handler=_demo
    )

    for tool in ("airflow", "dbt"):
        passthrough = commands.add_parser(tool, help=f"run {tool} with the project's environment")
        passthrough.add_argument("rest", nargs=argparse.REMAINDER)
        passthrough.set_defaults(handler=_passthrough(tool))


def main(argv: list[str] | None = None) -> int:
    from grassroots.files import use_private_umask

    # Everything this process and its children (Airflow, dbt, PostgreSQL) write is
    # readable by this user only (grassroots.files).
    use_private_umask()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
