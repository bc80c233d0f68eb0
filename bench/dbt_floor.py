"""The floor of a dbt build: writing fct_indicator_values' rows once, nothing computed.

Measured on the warehouse just built, in the same run as the build: the rows of
marts.fct_indicator_values (same count, same columns, so the same width) streamed with
COPY out of the table and COPY into a scratch table, once UNLOGGED and once logged (as
dbt's tables are), each followed by building the table's own indexes on the copy. The
least any build of that table can cost; each big model of the build (dbt's
run_results.json) is printed as a multiple of it. The scratch tables are dropped.

bench/run.py calls measure() after a build into an empty warehouse (history, year);
on its own it measures the warehouse of $GRASSROOTS_HOME against its last dbt build:

    GRASSROOTS_HOME=/path/to/home .venv/bin/python bench/dbt_floor.py
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
TABLE = "marts.fct_indicator_values"
SCRATCH = "public.bench_dbt_floor"
# A model slower than this is printed against the floor.
BIG_MODEL_SECONDS = 5.0


def _index_columns(conn) -> list[tuple[bool, str]]:
    """(unique, '(columns)') of every index of the table (its partitions share them)."""
    rows = conn.execute(
        "select indisunique, pg_get_indexdef(indexrelid) from pg_index"
        " where indrelid = %s::regclass",
        (TABLE,),
    ).fetchall()
    return [(unique, re.sub(r"^.* USING \w+ ", "", definition)) for unique, definition in rows]


def _copy_once(source, target, *, logged: bool, indexes) -> dict[str, float]:
    target.execute(f"drop table if exists {SCRATCH}")
    kind = "" if logged else "unlogged "
    target.execute(f"create {kind}table {SCRATCH} (like {TABLE})")
    started = time.perf_counter()
    with (
        source.cursor().copy(f"copy (select * from {TABLE}) to stdout (format binary)") as out,
        target.cursor().copy(f"copy {SCRATCH} from stdin (format binary)") as into,
    ):
        for chunk in out:
            into.write(chunk)
    copied = time.perf_counter() - started
    started = time.perf_counter()
    for unique, columns in indexes:
        target.execute(f"create {'unique ' if unique else ''}index on {SCRATCH} {columns}")
    indexed = time.perf_counter() - started
    target.execute(f"drop table {SCRATCH}")
    return {"copy": copied, "indexes": indexed, "total": copied + indexed}


def measure(url: str) -> dict:
    """Rows and width of the table, then the COPY floor, unlogged and logged."""
    with (
        psycopg.connect(url, autocommit=True) as source,
        psycopg.connect(url, autocommit=True) as target,
    ):
        rows, width = source.execute(
            f"select count(*), coalesce(avg(pg_column_size(t.*)), 0) from {TABLE} as t"
        ).fetchone()
        indexes = _index_columns(source)
        result = {"table": TABLE, "rows": rows, "row_bytes": round(float(width), 1)}
        result["unlogged"] = _copy_once(source, target, logged=False, indexes=indexes)
        result["logged"] = _copy_once(source, target, logged=True, indexes=indexes)
    return result


def run_nodes(target_path: Path | None = None) -> list[tuple[str, float]]:
    """(node, seconds) of every node of the last dbt invocation, slowest first."""
    target = target_path or Path(os.environ.get("DBT_TARGET_PATH") or REPO / "dbt_project/target")
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    nodes = [(r["unique_id"].split(".", 2)[-1], r["execution_time"]) for r in results]
    return sorted(nodes, key=lambda node: -node[1])


def print_against(floor: dict, nodes, dbt_seconds=None, label="dbt build") -> None:
    unlogged, logged = floor["unlogged"], floor["logged"]
    print(
        f"  dbt floor: {floor['rows']:,} rows of {floor['table']}, {floor['row_bytes']:.0f}"
        f" bytes each; COPY unlogged {unlogged['copy']:.1f} s (+ indexes"
        f" {unlogged['indexes']:.1f} s), logged {logged['copy']:.1f} s (+ indexes"
        f" {logged['indexes']:.1f} s) = floor {logged['total']:.1f} s"
    )
    base = logged["total"] or 1.0
    if dbt_seconds is not None:
        print(f"    {label:<62}{dbt_seconds:>7.1f} s  x{dbt_seconds / base:.1f}")
    for node, seconds in nodes:
        if seconds >= BIG_MODEL_SECONDS:
            print(f"    {node[:62]:<62}{seconds:>7.1f} s  x{seconds / base:.2f}")


def main() -> int:
    from grassroots.config import WAREHOUSE_DB
    from grassroots.warehouse import Warehouse

    warehouse = Warehouse()
    warehouse.start()
    floor = measure(warehouse.admin_url(WAREHOUSE_DB))
    nodes = run_nodes()
    print_against(floor, nodes, sum(seconds for _, seconds in nodes), "dbt nodes, summed")
    print(json.dumps({"floor": floor, "nodes": nodes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
