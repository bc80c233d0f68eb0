"""Intake benchmark: generated submissions -> warehouse, stage by stage, next to a floor.

Longer than 400 lines: one script run from a clean clone (`make bench`), read top to
bottom as its stages run; the floor sits beside the stages it is the floor of.

Scenarios (each on the bench's own state folder, $GRASSROOTS_HOME or .state/bench, never
the demo's):
  year     one year (default 2024) into an EMPTY warehouse, --year-runs times (default 3:
           the ratio swings between runs; the median is printed; dbt on the last run)
  history  every year (default 2008-2025) into an EMPTY warehouse   (--skip-history: off)
  night    1 % new files (resends with new values, of the last two years) on top of the
           history (or of `year`; --night-only: of what the last run left), then the same
           dbt build again with no new file: the night's fixed cost, reported apart
           (--night-files N: N new files instead of 1 %, e.g. the same night on a year's
           warehouse and on the history's)

Per scenario: register; plan the batches and run them as the DAG's mapped load_batch
tasks run on LocalExecutor under `grassroots serve`: each batch in a process forked from
one that has the tasks' libraries imported (grassroots.task_host), registry and
connection its own, --parallel at once (default GRASSROOTS_INTAKE_PARALLEL, 2; 1: every
batch in this process, intake.process_pending); read+parse, validate and load summed over the
batches (they overlap), waiting for batches; intake = wall time from the plan to the
last batch (read + validate + load, the issue's target: within 3x the floor); dbt
build; total. The FLOOR is measured on the same files in the same run: stdlib csv
(python-calamine for the XLSX share) + one COPY per form into plain text tables; and
registration's: each file written once as a new file and deleted once, with a sync after
each (archive_floor).
Generation is not timed, nor the one-off import of the tasks' libraries (printed apart).
Results: bench/results/<timestamp>.json.

    .venv/bin/python bench/run.py                      # national: year (x3), history, night
    .venv/bin/python bench/run.py --scale province --years 2022-2024 --skip-history
    .venv/bin/python bench/run.py --profile            # cProfile of intake -> results/
    GRASSROOTS_HOME=.state/bench-x .venv/bin/python bench/run.py --work .state/bench-x-data
    GRASSROOTS_HOME=.state/bench-year .venv/bin/python bench/run.py --work \
        .state/bench-year-data --skip-history --year-runs 1 --night-files 4400
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
os.environ.setdefault("GRASSROOTS_HOME", str(REPO / ".state" / "bench"))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

import dbt_floor  # noqa: E402  (bench/dbt_floor.py, beside this script)
import psycopg  # noqa: E402

from grassroots import intake, task_host  # noqa: E402
from grassroots.config import WAREHOUSE_DB, paths  # noqa: E402
from grassroots.synthetic.national import generate, parse_years  # noqa: E402

TIMES: dict[str, float] = defaultdict(float)


@contextmanager
def timed(stage: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        TIMES[stage] += time.perf_counter() - started


def _add(stages: dict[str, float], more: dict[str, float]) -> None:
    for stage, seconds in more.items():
        stages[stage] = stages.get(stage, 0.0) + seconds


# --- warehouse --------------------------------------------------------------------------


def warehouse_url() -> str:
    from grassroots.runtime import setup
    from grassroots.warehouse import Warehouse

    setup(quiet=True)
    return Warehouse().url()


def empty_warehouse() -> str:
    """Drop and recreate the warehouse database and the archive: an EMPTY warehouse."""
    from grassroots.warehouse import Warehouse

    warehouse = Warehouse()
    warehouse.start()
    with psycopg.connect(warehouse.admin_url("postgres"), autocommit=True) as admin:
        admin.execute(f"drop database if exists {WAREHOUSE_DB} with (force)")
    for folder in (paths().archive, paths().quarantine):
        shutil.rmtree(folder, ignore_errors=True)
    # As a new deployment: schemas, roles and the registry seeds (setup loads them into a
    # warehouse that lacks them; the nightly build leaves seeds out). Not timed.
    return warehouse_url()


def dbt_build(built_since: datetime | None = None) -> int:
    # As the nightly DAG builds: registry seeds are loaded by setup, not every night,
    # and unit tests run in make test and the weekly checks. built_since: the night's
    # start, which the DAG passes too, in the environment (staging tests read the files
    # of this run). The selection as the night decides it: the whole project, or only
    # the models that follow the date when no file changed since the last complete build.
    from grassroots.dbt_scope import scope_for
    from grassroots.orchestration import NIGHTLY_DBT_FLAGS
    from grassroots.warehouse import Warehouse

    command = [
        *(sys.executable, "-m", "grassroots.cli", "dbt", "build", "--quiet"),
        *("--exclude", "resource_type:seed", *NIGHTLY_DBT_FLAGS),
    ]
    scope = scope_for(Warehouse().url())
    if scope.select:
        command += ["--select", *scope.select]
    env = dict(os.environ)
    if built_since is not None:
        env["GRASSROOTS_DBT_BUILT_SINCE"] = built_since.isoformat()
    return subprocess.run(command, cwd=REPO, env=env, check=False).returncode


# --- floor: the least any intake must do ------------------------------------------------


def _floor_rows(path: Path) -> list[list[str]]:
    content = path.read_bytes()
    if content[:2] == b"PK":
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
        return [[str(c) for c in row] for row in sheet.to_python()][1:]
    if content[:2] == b"\xff\xfe":
        text, delimiter = content.decode("utf-16"), "\t"
    else:
        text, delimiter = content.decode("utf-8-sig"), ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))[1:]


def floor(files: list[Path], url: str) -> dict[str, float]:
    """Read every file (csv module / calamine) and COPY all rows, per form, once."""
    started = time.perf_counter()
    by_form: dict[str, list[list[str]]] = defaultdict(list)
    for path in files:
        form = path.name[:2]
        for row in _floor_rows(path):
            by_form[form].append([path.name, *row])
    read = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for form, rows in by_form.items():
            table = f"public.bench_floor_{form.lower()}"
            cur.execute(f"drop table if exists {table}")
            cur.execute(f"create table {table} ({', '.join(f'c{i} text' for i in range(11))})")
            buffer = io.StringIO()
            pad = [""] * 11
            csv.writer(buffer, lineterminator="\n").writerows((r + pad)[:11] for r in rows)
            with cur.copy(f"copy {table} from stdin with (format csv)") as copy:
                copy.write(buffer.getvalue())
        for form in by_form:  # the floor leaves nothing behind
            cur.execute(f"drop table public.bench_floor_{form.lower()}")
    copy_seconds = time.perf_counter() - started
    rows = sum(len(r) for r in by_form.values())
    return {"read": read, "copy": copy_seconds, "total": read + copy_seconds, "rows": rows}


def archive_floor(files: list[Path], scratch: Path) -> dict[str, float]:
    """Registration's floor: what keeping one file per submission costs this filesystem.
    Each file written once as a new file (in 256 folders, as the archive's hash
    prefixes), one sync, then each copy deleted (as the staged file is) and one sync;
    one thread, no hashing, no receipts. The bytes come from the page cache (floor()
    has just read them)."""
    shutil.rmtree(scratch, ignore_errors=True)
    folders = [scratch / f"{prefix:02x}" for prefix in range(256)]
    for folder in folders:
        folder.mkdir(parents=True)
    contents = [path.read_bytes() for path in files]
    started = time.perf_counter()
    copies = []
    for index, content in enumerate(contents):
        copy = folders[index % len(folders)] / str(index)
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        os.write(fd, content)
        os.close(fd)
        copies.append(copy)
    os.sync()
    written = time.perf_counter() - started
    started = time.perf_counter()
    for copy in copies:
        os.unlink(copy)
    os.sync()
    deleted = time.perf_counter() - started
    shutil.rmtree(scratch)
    return {"write": written, "delete": deleted, "total": written + deleted, "files": len(files)}


# --- scenarios --------------------------------------------------------------------------


def batches_side_by_side(conn, url: str, batch_size, parallel, timings) -> intake.IntakeSummary:
    """The plan, then each batch in a process of its own, at most `parallel` at once: what
    a load_batch task is on LocalExecutor, a process forked from the scheduler, which
    `grassroots serve` starts with the tasks' libraries imported (grassroots.task_host;
    main() imports them here the same way). Each batch still opens its connection and
    loads the registry. timings gets the batches' stages summed, `wait` and `batches`."""
    from grassroots.pipeline import load_intake_batch

    batches = intake.plan_pending(conn, paths().quarantine, batch_size, parallel)
    timings["batches"] = len(batches)
    summary = intake.IntakeSummary()
    load = partial(load_intake_batch, url, run_id="bench")
    forked = multiprocessing.get_context("fork")
    # maxtasksperchild=1: a new forked process per batch, as LocalExecutor forks a task.
    with forked.Pool(intake.parallel_batches(parallel), maxtasksperchild=1) as pool:
        results = pool.imap(load, [batch.as_dict() for batch in batches])
        for _ in batches:
            with timed("wait"):
                result = next(results)
            _add(timings, result.pop("seconds"))
            summary.add(intake.IntakeSummary(**result))
    return summary


def intake_run(
    inbox: Path,
    url: str,
    profile: Path | None = None,
    parallel=None,
    skip_dbt=False,
    batch_size: int | None = None,
    idle_dbt=False,
) -> dict:
    TIMES.clear()
    files = intake.discover(inbox)
    night_started = datetime.now(UTC)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        with timed("register"):
            registered = intake.register(conn, files, paths().archive, "bench")
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        inner: dict[str, float] = {}
        cpu = time.process_time()
        with timed("process"):
            if intake.parallel_batches(parallel) == 1:
                summary = intake.process_pending(
                    conn, paths().quarantine, "bench", batch_size=batch_size, timings=inner
                )
            else:
                summary = batches_side_by_side(conn, url, batch_size, parallel, inner)
        TIMES["main_cpu"] += time.process_time() - cpu
        _add(TIMES, inner)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
    intake_seconds = time.perf_counter() - started
    nodes: list = []
    idle_nodes: list = []
    if skip_dbt:
        dbt_code = None
    else:
        with timed("dbt"):
            dbt_code = dbt_build(built_since=night_started)
        nodes = dbt_nodes()
        if idle_dbt:
            # The night after, with no new file: the night's fixed cost (it selects only
            # the models that follow the date); the rest is what the new files cost.
            with timed("dbt_idle"):
                dbt_build()
            idle_nodes = dbt_nodes()
    stages = dict(TIMES)
    # Batches (read, validate, load) run in processes of their own, overlapping each
    # other: this process's own time is waiting for batches + the rest ("other").
    stages["other"] = stages.get("process", 0.0) - stages.get("wait", 0.0)
    stages["intake"] = intake_seconds
    stages["total"] = intake_seconds + stages.get("dbt", 0.0)
    return {
        "parallel": intake.parallel_batches(parallel),
        "batches": inner.get("batches"),
        "files": len(files),
        "registered": registered.registered,
        "summary": summary.as_dict(),
        "dbt_exit": dbt_code,
        "dbt_slowest_nodes": nodes[:8],
        # Every node of the build (and of the build with no new file), slowest first:
        # to compare nights node by node (e.g. on a year's warehouse and the history's).
        "dbt_nodes": nodes,
        "dbt_idle_nodes": idle_nodes,
        "seconds": stages,
    }


def dbt_nodes() -> list[tuple[str, float, int | None]]:
    """(node, seconds, rows) of every node of the last dbt build, slowest first."""
    target = os.environ.get("DBT_TARGET_PATH") or REPO / "dbt_project" / "target"
    run_results = Path(target) / "run_results.json"
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    results.sort(key=lambda r: -r["execution_time"])
    return [
        (
            r["unique_id"].split(".", 2)[-1],
            round(r["execution_time"], 1),
            r.get("adapter_response", {}).get("rows_affected"),
        )
        for r in results
    ]


def scenario(name, inbox, url, args, *, fresh: bool, idle_dbt: bool = False, skip_dbt=None) -> dict:
    """One scenario; skip_dbt: None follows --skip-dbt."""
    files = sorted(p for p in inbox.iterdir() if p.is_file())
    # The floor reads the same files before the intake moves them out of the inbox.
    floor_result = floor(files, admin_url())
    register_floor = archive_floor(files, paths().home / "bench-archive-floor")
    profile = BENCH_DIR / "results" / f"{args.stamp}-{name}.prof" if args.profile else None
    result = intake_run(
        inbox,
        url,
        profile,
        args.parallel,
        args.skip_dbt if skip_dbt is None else skip_dbt,
        args.batch_size,
        idle_dbt=idle_dbt,
    )
    result.update(
        name=name, fresh_warehouse=fresh, floor=floor_result, register_floor=register_floor
    )
    if fresh and result["dbt_exit"] is not None:
        # The build's floor, in the same run: its long table's rows written once.
        result["dbt_floor"] = dbt_floor.measure(admin_url())
    seconds = result["seconds"]
    # The intake is read + validate + load: everything after registration.
    result["ratio_intake_to_floor"] = seconds["process"] / floor_result["total"]
    result["ratio_with_register_to_floor"] = seconds["intake"] / floor_result["total"]
    result["ratio_register_to_floor"] = seconds["register"] / register_floor["total"]
    print_result(result)
    return result


def print_result(result: dict) -> None:
    s, f, r = result["seconds"], result["floor"], result["register_floor"]
    print(
        f"\n== {result['name']}: {result['files']} files, {f['rows']} rows, "
        f"{result['summary'].get('loaded')} loaded, {result['summary'].get('quarantined')}"
        f" quarantined, dbt exit {result['dbt_exit']}, {result['batches']} batches,"
        f" {result['parallel']} at once"
    )
    print(f"  {'stage':<22}{'seconds':>9}   floor")
    rows = [
        (
            "register",
            "register",
            f"write {r['write']:.1f} + delete {r['delete']:.1f}"
            f"  (x{result['ratio_register_to_floor']:.1f})",
        ),
        ("  read+parse (batches)", "parse", f"read {f['read']:.1f}"),
        ("  validate (batches)", "validate", ""),
        ("  CPU of read+validate", "cpu", ""),
        ("  load (batches)", "load", f"COPY {f['copy']:.1f}"),
        ("  waiting for batches", "wait", ""),
        ("  other", "other", ""),
        ("  CPU of this process", "main_cpu", ""),
        (
            "intake (read..load)",
            "process",
            f"{f['total']:.1f}  (x{result['ratio_intake_to_floor']:.1f})",
        ),
        (
            "register + intake",
            "intake",
            f"{f['total']:.1f}  (x{result['ratio_with_register_to_floor']:.1f})",
        ),
        ("dbt build", "dbt", ""),
        ("total", "total", ""),
    ]
    if "dbt_idle" in s:
        rows.append(("dbt, no new file", "dbt_idle", "(the night after, nothing new: fixed cost)"))
    for label, stage, floor_text in rows:
        print(f"  {label:<22}{s.get(stage, 0.0):>9.1f}   {floor_text}")
    for node, seconds, rows_affected in result.get("dbt_slowest_nodes", [])[:5]:
        print(f"    dbt {node[:60]:<60}{seconds:>7.1f} s  {rows_affected or ''}")
    print(
        "  (batch stages are summed over batches and overlap each other; the intake row"
        " is wall time)"
    )
    if "dbt_floor" in result:
        nodes = [(node, seconds) for node, seconds, _ in result["dbt_nodes"]]
        dbt_floor.print_against(result["dbt_floor"], nodes, s.get("dbt"))
    print(f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def night_inbox(out: Path, args, files: int) -> Path:
    """`files` new versions of the warehouse's files (same units and periods, new values)."""
    pool = out.parent / "night_pool"
    shutil.rmtree(pool, ignore_errors=True)
    # Resends concern recent periods: the pool is the last two years of what was loaded
    # (generating all 18 years again to pick 1 % would take minutes, untimed but long).
    years = parse_years(args.history if not args.skip_history else args.years)[-2:]
    generate(
        pool,
        scale=args.scale,
        years=years,
        error_rate=args.error_rate,
        seed=args.seed + 1,
        province=args.province,
    )
    candidates = sorted(pool.iterdir())
    chosen = random.Random(args.seed).sample(candidates, min(files, len(candidates)))
    out.mkdir(parents=True, exist_ok=True)
    for path in chosen:
        shutil.move(path, out / path.name)
    shutil.rmtree(pool)
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="national", choices=["demo", "province", "national"])
    parser.add_argument("--years", default="2024", help="the single-load scenario's years")
    parser.add_argument("--history", default="2008-2025", help="the history scenario's years")
    parser.add_argument(
        "--year-runs",
        type=int,
        default=3,
        help="run the year scenario this many times (the intake/floor ratio swings between"
        " runs on a shared machine: the median is reported; dbt runs on the last only)",
    )
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument("--skip-night", action="store_true")
    parser.add_argument(
        "--night-only",
        action="store_true",
        help="only a 1 %% night, on the warehouse an earlier run left in this state folder",
    )
    parser.add_argument("--province", default="20")
    parser.add_argument("--error-rate", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=20250701)
    parser.add_argument(
        "--night-files",
        type=int,
        default=None,
        help="the night's new files (default: 1 %% of the warehouse's files); the same"
        " count on a year's warehouse and on the history's shows whether a night costs"
        " what its files cost or what the warehouse holds",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the intake")
    parser.add_argument("--work", type=Path, default=REPO / ".state" / "bench-data")
    parser.add_argument(
        "--parallel",
        type=int,
        default=None,
        help="batches loaded at once, each in a process of its own (default"
        " GRASSROOTS_INTAKE_PARALLEL, 2; 1: all in this process)",
    )
    parser.add_argument("--skip-dbt", action="store_true", help="intake only")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="intake batch size (default: the intake's)"
    )
    return parser.parse_args(argv)


def prepare(name: str, years: str, args) -> Path:
    """A fresh generated inbox for a scenario (generation is not timed)."""
    inbox = args.work / name / "inbox"
    shutil.rmtree(inbox.parent, ignore_errors=True)
    summary = generate(
        inbox,
        scale=args.scale,
        years=parse_years(years),
        error_rate=args.error_rate,
        seed=args.seed,
        province=args.province,
    )
    print(
        f"generated {name}: {summary.files} files, {summary.rows} rows "
        f"in {summary.seconds:.1f} s (not timed)",
        flush=True,
    )
    return inbox


def year_scenarios(args, results: list[dict]) -> None:
    """The year scenario --year-runs times, each into an empty warehouse; the median ratio."""
    runs = max(1, args.year_runs)
    for run in range(1, runs + 1):
        inbox = prepare("year", args.years, args)
        name = f"year {args.years}" + (f" (run {run}/{runs})" if runs > 1 else "")
        # dbt once, on the last run: the earlier runs measure the intake only.
        skip_dbt = args.skip_dbt or run < runs
        results.append(
            scenario(name, inbox, empty_warehouse(), args, fresh=True, skip_dbt=skip_dbt)
        )
    year_results = results[-runs:]
    ratios = sorted(r["ratio_intake_to_floor"] for r in year_results)
    print(
        f"\nyear {args.years}, intake / floor over {runs} run(s): "
        + ", ".join(f"x{r['ratio_intake_to_floor']:.1f}" for r in year_results)
        + f"; median x{statistics.median(ratios):.1f}",
        flush=True,
    )


def write_results(args, results: list[dict], libraries_import: float) -> None:
    out = BENCH_DIR / "results" / f"{args.stamp}.json"
    meta = {
        "scale": args.scale,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "task_libraries_import_seconds": libraries_import,
        "load_average_at_end": os.getloadavg(),
    }
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2), encoding="utf-8")
    print(f"\nresults: {out}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (BENCH_DIR / "results").mkdir(exist_ok=True)
    warehouse_url()  # warehouse + dbt manifest once
    # The tasks' libraries (Great Expectations, pandas, dbt...), imported once as the
    # scheduler imports them before it forks the tasks (grassroots.task_host): measured
    # here, reported apart from the stages.
    started = time.perf_counter()
    task_host.preload()
    imported = time.perf_counter() - started
    print(f"task libraries imported (as grassroots.task_host): {imported:.1f} s", flush=True)
    results = []

    if args.night_only:
        with psycopg.connect(paths_url()) as conn:
            base_files = conn.execute("select count(*) from landing.received_files").fetchone()[0]
    else:
        year_scenarios(args, results)
        base_files = results[-1]["files"]
    if not args.skip_history and not args.night_only:
        inbox = prepare("history", args.history, args)
        results.append(
            scenario(f"history {args.history}", inbox, empty_warehouse(), args, fresh=True)
        )
        base_files = results[-1]["files"]
    if not args.skip_night:
        files = args.night_files or max(1, round(0.01 * base_files))
        name = f"night {files} files" if args.night_files else "night 1%"
        inbox = night_inbox(args.work / "night" / "inbox", args, files)
        results.append(scenario(name, inbox, paths_url(), args, fresh=False, idle_dbt=True))
        results[-1]["warehouse_files_before"] = base_files

    write_results(args, results, imported)
    return 0


def admin_url() -> str:
    from grassroots.warehouse import Warehouse

    return Warehouse().admin_url(WAREHOUSE_DB)


def paths_url() -> str:
    from grassroots.warehouse import Warehouse

    return Warehouse().url()


if __name__ == "__main__":
    sys.exit(main())
