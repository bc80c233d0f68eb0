"""A night run by the scheduler: `grassroots serve` (scheduler with LocalExecutor, DAG
processor, triggerer, API server) on the bench's state folder, the nightly DAG triggered
through the REST API, timed from the trigger to the digests sent, in each dbt execution
mode asked for (GRASSROOTS_DBT_EXECUTION_MODE, src/grassroots/orchestration.py).

It runs on the warehouse an earlier `bench/run.py` left in the same state folder (the
national history, or `--scale province --years 2022-2024`). Each night is as run.py's
night: N files (default 1 % of the warehouse's) sent again with new values, of the last
two years, each night a new draw of the same size, after a served night with no new
file (reported too: the fixed cost). Before the served nights, one such
night is run directly as the floor: run.py's intake (next to its own floor, csv/calamine
read + one COPY) and one `dbt build` command, no Airflow.

Per served night: trigger -> send_digests done; and per phase (intake tasks, dbt tasks,
cross checks, digests) the first start, the last end, and the task time summed, from the
task instances' start and end in the REST API. Results: bench/results/<stamp>-served.json.

    GRASSROOTS_HOME=.state/bench-quick .venv/bin/python bench/run.py --scale province \\
        --years 2022-2024 --skip-history --skip-night --year-runs 1
    GRASSROOTS_HOME=.state/bench-quick .venv/bin/python bench/served.py --scale province \\
        --years 2022-2024 --modes watcher,local
    .venv/bin/python bench/served.py                     # the 1 % night on .state/bench
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import httpx  # noqa: E402
import psycopg  # noqa: E402
import run as bench_run  # noqa: E402  (sets GRASSROOTS_HOME's default first)
from airflow_api import DAG_ID, AirflowApi, inherited_env  # noqa: E402

from grassroots.config import paths  # noqa: E402
from grassroots.orchestration import DBT_EXECUTION_MODES, DEFAULT_DBT_EXECUTION_MODE  # noqa: E402

RUN_TIMEOUT = 3600  # a bound on one night's wait, not a target
PHASES = {
    "intake": ("discover", "register", "plan_batches", "load_batch", "intake_summary"),
    "dbt": ("dbt_build.",),
    "cross_checks": ("cross_checks",),
    "digests": ("send_digests",),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _when(text: str | None) -> float | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


class Server(AirflowApi):
    """`grassroots serve --detach` with one execution mode, and its REST API."""

    api_timeout = 120

    def __init__(self, mode: str, port: int):
        env = inherited_env(("AIRFLOW", "DBT_"))
        env["GRASSROOTS_DBT_EXECUTION_MODE"] = mode
        super().__init__(f"http://127.0.0.1:{port}", env)
        self.mode, self.port = mode, port

    def start(self) -> float:
        started = time.perf_counter()
        result = self.cli("--detach", "--port", str(self.port))
        if result.returncode != 0:
            raise RuntimeError(f"grassroots serve did not start:\n{result.stdout}{result.stderr}")
        self.token()
        return time.perf_counter() - started

    def stop(self) -> None:
        self.cli("stop", timeout=300)

    def wait_for_the_mode(self, timeout: float = 600) -> int:
        """Until the DAG processor has parsed the DAG in this mode: its dbt task count."""
        wanted = {
            "watcher": "dbt_build.dbt_producer_watcher",
            "build": "dbt_build.build",
            "local": "dbt_build.fct_indicator_values_model_build",
        }[self.mode]
        deadline = time.monotonic() + timeout
        while True:
            try:
                tasks = self.api("GET", f"/dags/{DAG_ID}/tasks")["tasks"]
                ids = {t["task_id"] for t in tasks}
                if any(i == wanted or i.startswith(wanted) for i in ids):
                    return sum(1 for i in ids if i.startswith("dbt_build."))
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{DAG_ID} not parsed in mode {self.mode} after {timeout} s")
            time.sleep(3)

    def wait_until_idle(self, timeout: float = RUN_TIMEOUT) -> None:
        """Unpaused, the night it missed (serve's first start runs it) taken, and no run
        queued or running: the night triggered next starts at once."""
        deadline = time.monotonic() + timeout
        while True:
            dag = self.api("GET", f"/dags/{DAG_ID}")
            after = _when(dag["next_dagrun_run_after"])
            if dag["is_paused"] or not after or after < time.time():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{DAG_ID} still paused after {timeout} s")
                time.sleep(3)
                continue
            runs = self.api(
                "GET", f"/dags/{DAG_ID}/dagRuns", params={"state": ["running", "queued"]}
            )["dag_runs"]
            if not runs:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"runs still active after {timeout} s: {runs}")
            time.sleep(5)

    def night(self, inbox: Path) -> dict:
        triggered = time.time()
        run_id = self.trigger(inbox)
        self.wait_for_run(run_id, RUN_TIMEOUT, every=2)
        finished = time.time()
        run = self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
        tis = self.task_instances(run_id)
        return summarize(run, tis, triggered, finished)


def summarize(run: dict, tis: list[dict], triggered: float, finished: float) -> dict:
    def phase_of(task_id: str) -> str:
        for phase, prefixes in PHASES.items():
            if any(task_id == p or task_id.startswith(p) for p in prefixes):
                return phase
        return "other"

    phases: dict[str, dict] = {}
    for ti in tis:
        start, end = _when(ti.get("start_date")), _when(ti.get("end_date"))
        phase = phases.setdefault(
            phase_of(ti["task_id"]),
            {"tasks": 0, "first_start": None, "last_end": None, "task_seconds": 0.0, "states": {}},
        )
        phase["tasks"] += 1
        phase["states"][ti["state"]] = phase["states"].get(ti["state"], 0) + 1
        if start is None or end is None:
            continue
        phase["task_seconds"] += end - start
        phase["first_start"] = min(filter(None, (phase["first_start"], start)))
        phase["last_end"] = max(filter(None, (phase["last_end"], end)))
    for phase in phases.values():
        if phase["first_start"] is not None:
            phase["span"] = phase["last_end"] - phase["first_start"]
            begin, end = phase["first_start"] - triggered, phase["last_end"] - triggered
            phase["from_trigger"] = [begin, end]
    digests_end = phases.get("digests", {}).get("last_end")
    run_start = _when(run.get("start_date"))
    slowest = sorted(
        (
            (_when(t["end_date"]) - _when(t["start_date"]), t["task_id"], t.get("map_index"))
            for t in tis
            if t.get("start_date") and t.get("end_date")
        ),
        reverse=True,
    )
    return {
        "run_id": run["dag_run_id"],
        "state": run["state"],
        "trigger_to_digests": digests_end - triggered if digests_end else None,
        "trigger_to_run_end": finished - triggered,
        # The same from the run's start (a run queued behind another starts later).
        "run_start_to_digests": digests_end - run_start if digests_end and run_start else None,
        "queued": run_start - triggered if run_start else None,
        "phases": phases,
        "tasks": len(tis),
        "slowest_tasks": [(round(s, 1), t, m) for s, t, m in slowest[:10]],
    }


def print_night(mode: str, night: dict) -> None:
    print(
        f"\n== {mode}: {night['state']}, {night['tasks']} task instances,"
        f" trigger -> digests {night['trigger_to_digests'] or float('nan'):.1f} s"
        f" (run done {night['trigger_to_run_end']:.1f} s; queued {night['queued'] or 0:.1f} s)"
    )
    print(f"  {'phase':<14}{'tasks':>6}{'from':>9}{'to':>9}{'span':>9}{'task-s':>9}")
    for name in (*PHASES, "other"):
        phase = night["phases"].get(name)
        if not phase or phase.get("first_start") is None:
            continue
        begin, end = phase["from_trigger"]
        print(
            f"  {name:<14}{phase['tasks']:>6}{begin:>9.1f}{end:>9.1f}{phase['span']:>9.1f}"
            f"{phase['task_seconds']:>9.1f}"
        )
    for seconds, task_id, map_index in night["slowest_tasks"][:5]:
        shown = f"{task_id}[{map_index}]" if map_index not in (None, -1) else task_id
        print(f"    {shown[:64]:<64}{seconds:>7.1f} s")
    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def floor_night(args, files: int, seed: int) -> dict:
    """The same kind of night run directly: run.py's intake (and its read + COPY floor)
    and one `dbt build` command, no Airflow."""
    inbox = bench_run.night_inbox(args.work / "floor" / "inbox", _draw(args, seed), files)
    # dbt's target folder of its own: a bench on another state folder may build now.
    os.environ["DBT_TARGET_PATH"] = str(paths().home / "dbt-target-floor")
    try:
        result = bench_run.scenario(
            "floor night (direct)", inbox, bench_run.paths_url(), _draw(args, seed), fresh=False
        )
    finally:
        os.environ.pop("DBT_TARGET_PATH")
    return result


def _draw(args, seed: int) -> argparse.Namespace:
    """run.py's arguments for one night's draw."""
    return argparse.Namespace(
        history=args.years,
        years=args.years,
        skip_history=False,
        scale=args.scale,
        error_rate=args.error_rate,
        seed=seed,
        province=args.province,
        profile=False,
        stamp=args.stamp,
        parallel=None,
        skip_dbt=False,
        batch_size=None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--modes",
        default=DEFAULT_DBT_EXECUTION_MODE,
        help=f"comma-separated, each of {', '.join(DBT_EXECUTION_MODES)}; one night each",
    )
    parser.add_argument("--scale", default="national", choices=["demo", "province", "national"])
    parser.add_argument("--years", default="2008-2025", help="the years the warehouse holds")
    parser.add_argument("--province", default="20")
    parser.add_argument("--error-rate", type=float, default=0.01)
    # The same seed on the same warehouse draws the same files: a second run would send
    # the last run's files again, and almost none would load (85 of 4,403 once).
    parser.add_argument(
        "--seed", type=int, default=None, help="default: 20251203 + the warehouse's file count"
    )
    parser.add_argument("--night-files", type=int, default=None, help="default: 1 %% of files")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--work", type=Path, default=None, help="default <home>/served-data")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    args.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.work = args.work or paths().home / "served-data"
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        if mode not in DBT_EXECUTION_MODES:
            parser.error(f"unknown mode {mode}")
    url = bench_run.warehouse_url()
    with psycopg.connect(url) as conn:
        base = conn.execute("select count(*) from landing.received_files").fetchone()[0]
    files = args.night_files or max(1, round(0.01 * base))
    args.seed = 20251203 + base if args.seed is None else args.seed
    print(f"warehouse: {base} files; each night: {files} files (seed {args.seed})", flush=True)
    results: dict = {
        "meta": {"files": files, "warehouse_files": base, "cpus": os.cpu_count(), "seed": args.seed}
    }
    if not args.skip_floor:
        results["floor"] = floor_night(args, files, args.seed)
    port = args.port or _free_port()
    results["nights"] = {}
    for number, mode in enumerate(modes, start=1):
        server = Server(mode, port)
        print(f"\nstarting grassroots serve ({mode}) on port {port}", flush=True)
        started = server.start()
        try:
            dbt_tasks = server.wait_for_the_mode()
            server.wait_until_idle()
            # First a night with no new file (issue 22's fixed cost, served). It also
            # stands for the nights before: after a code update the first night parses
            # the dbt project in full (4-5 s), later nights reuse that parse.
            empty = args.work / f"night-{mode}" / "empty"
            empty.mkdir(parents=True, exist_ok=True)
            idle = server.night(empty)
            idle.update(mode=mode, dbt_tasks=dbt_tasks)
            results["nights"][f"{mode}, no new file"] = idle
            print_night(f"{mode}, no new file", idle)
            inbox = bench_run.night_inbox(
                args.work / f"night-{mode}" / "inbox", _draw(args, args.seed + number), files
            )
            night = server.night(inbox)
            night.update(mode=mode, dbt_tasks=dbt_tasks, serve_start_seconds=started)
            results["nights"][mode] = night
            print_night(mode, night)
        finally:
            server.stop()
        shutil.rmtree(args.work / f"night-{mode}", ignore_errors=True)
    results["meta"]["load_average_at_end"] = os.getloadavg()
    out = BENCH_DIR / "results" / f"{args.stamp}-served.json"
    out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
