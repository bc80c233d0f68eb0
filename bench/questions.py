"""The analyst guide's worked questions, timed as the analyst role on a warehouse.

Every SQL block of docs/analyst-guide.md (read by grassroots.analyst_guide, the same
source the integration test runs) runs --runs times (default 3) on the warehouse of
$GRASSROOTS_HOME, as the analyst role, in the order of the guide; per question the median
and the worst wall time and the rows returned. The floor beside them, measured in the
same run: `select 1` (a round trip) and a count of every row of
marts.fct_indicator_values (one sequential read of the long table, what a question
that cannot use an index pays). Target: every question <= 1 s on the national history.
Results: bench/results/questions-<stamp>.json.

    GRASSROOTS_HOME=/path/to/home .venv/bin/python bench/questions.py
    make bench-questions GRASSROOTS_HOME=/path/to/home
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
os.environ.setdefault("GRASSROOTS_HOME", str(REPO / ".state" / "bench"))

import psycopg  # noqa: E402

from grassroots.analyst_guide import questions  # noqa: E402
from grassroots.config import ANALYST_ROLE  # noqa: E402

TARGET_SECONDS = 1.0


def timed_query(conn, sql: str) -> tuple[float, int]:
    started = time.perf_counter()
    rows = conn.execute(sql).fetchall()
    return time.perf_counter() - started, len(rows)


def measure(conn, sql: str, runs: int) -> dict:
    times, rows = [], 0
    for _ in range(runs):
        seconds, rows = timed_query(conn, sql)
        times.append(seconds)
    return {"median": statistics.median(times), "worst": max(times), "rows": rows}


def floor(conn, runs: int) -> dict[str, dict]:
    return {
        "round trip (select 1)": measure(conn, "select 1", runs),
        "count(*) of fct_indicator_values": measure(
            conn, "select count(*) from marts.fct_indicator_values", runs
        ),
    }


def print_table(results: list[dict], floors: dict[str, dict]) -> None:
    print(f"\n{'question':<62}{'median':>9}{'worst':>9}{'rows':>9}")
    for result in results:
        flag = "" if result["worst"] <= TARGET_SECONDS else "  > 1 s"
        print(
            f"{result['title'][:60]:<62}{result['median']:>8.2f}s{result['worst']:>8.2f}s"
            f"{result['rows']:>9}{flag}"
        )
    print("floor:")
    for name, result in floors.items():
        print(f"  {name:<60}{result['median']:>8.2f}s{result['worst']:>8.2f}s")
    medians = [result["median"] for result in results]
    print(
        f"median of the medians {statistics.median(medians):.2f} s; worst"
        f" {max(result['worst'] for result in results):.2f} s; over 1 s:"
        f" {sum(result['worst'] > TARGET_SECONDS for result in results)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per question (default 3)")
    args = parser.parse_args(argv)
    from grassroots.warehouse import Warehouse

    warehouse = Warehouse()
    warehouse.start()
    with psycopg.connect(warehouse.url(ANALYST_ROLE), autocommit=True) as conn:
        results = [{"title": title, **measure(conn, sql, args.runs)} for title, sql in questions()]
        floors = floor(conn, args.runs)
    print_table(results, floors)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = BENCH_DIR / "results" / f"questions-{stamp}.json"
    out.parent.mkdir(exist_ok=True)
    meta = {"home": os.environ["GRASSROOTS_HOME"], "runs": args.runs, "cpus": os.cpu_count()}
    payload = {"meta": meta, "questions": results, "floor": floors}
    out.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
