"""The floor of a dbt build: writing the rows of the tables it builds, nothing computed.

Measured on the warehouse just built, in the same run as the build: every table of the
schemas `intermediate` and `marts` (the year partitions of fct_indicator_values' two
tables read through their parents) is streamed with COPY out of itself and into a logged
scratch table of the same columns (so the same width), then the table's own indexes are
built on the copy. The longest table, marts.fct_indicator_values_villages, is also copied
once UNLOGGED. The
tables are copied one after another on one connection: the least work PostgreSQL does
to write what the build leaves behind. The build (dbt's run_results.json) is printed
as a multiple of the sum, each big model as a multiple of its own table's floor. The
scratch tables are dropped.

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
TABLE = "marts.fct_indicator_values_villages"
# The schemas of the tables dbt builds (staging is views; the seeds are a few thousand
# rows and are left out).
BUILT_SCHEMAS = ("intermediate", "marts")
SCRATCH = "public.bench_dbt_floor"
# A model slower than this is printed against the floor.
BIG_MODEL_SECONDS = 5.0


def _built_tables(conn) -> list[str]:
    """Every table (or partitioned parent) of the built schemas, by name."""
    rows = conn.execute(
        "select format('%%I.%%I', n.nspname, c.relname) from pg_class as c"
        " join pg_namespace as n on n.oid = c.relnamespace"
        " where c.relkind in ('r', 'p') and not c.relispartition and n.nspname = any(%s)"
        " order by n.nspname, c.relname",
        (list(BUILT_SCHEMAS),),
    ).fetchall()
    return [name for (name,) in rows]


def _index_columns(conn, table: str) -> list[tuple[bool, str]]:
    """(unique, '(columns)') of every index of the table (its partitions share them)."""
    rows = conn.execute(
        "select indisunique, pg_get_indexdef(indexrelid) from pg_index"
        " where indrelid = %s::regclass",
        (table,),
    ).fetchall()
    return [(unique, re.sub(r"^.* USING \w+ ", "", definition)) for unique, definition in rows]


def _copy_once(source, target, table: str, *, logged: bool) -> dict[str, float]:
    indexes = _index_columns(source, table)
    target.execute(f"drop table if exists {SCRATCH}")
    kind = "" if logged else "unlogged "
    target.execute(f"create {kind}table {SCRATCH} (like {table})")
    started = time.perf_counter()
    with (
        source.cursor().copy(f"copy (select * from {table}) to stdout (format binary)") as out,
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


def _size(conn, table: str) -> tuple[int, float]:
    rows, width = conn.execute(
        f"select count(*), coalesce(avg(pg_column_size(t.*)), 0) from {table} as t"
    ).fetchone()
    return rows, round(float(width), 1)


def measure(url: str) -> dict:
    """The long table's floor (unlogged and logged; the keys table, rows, row_bytes,
    unlogged, logged) and, under "built", every built table's logged floor and their sum."""
    with (
        psycopg.connect(url, autocommit=True) as source,
        psycopg.connect(url, autocommit=True) as target,
    ):
        rows, width = _size(source, TABLE)
        result = {"table": TABLE, "rows": rows, "row_bytes": width}
        result["unlogged"] = _copy_once(source, target, TABLE, logged=False)
        result["logged"] = _copy_once(source, target, TABLE, logged=True)
        tables = {TABLE: {"rows": rows, "row_bytes": width, **result["logged"]}}
        for table in _built_tables(source):
            if table not in tables:
                rows, width = _size(source, table)
                floor = _copy_once(source, target, table, logged=True)
                tables[table] = {"rows": rows, "row_bytes": width, **floor}
    result["built"] = {
        "tables": tables,
        "rows": sum(t["rows"] for t in tables.values()),
        **{key: sum(t[key] for t in tables.values()) for key in ("copy", "indexes", "total")},
    }
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
        f" {logged['indexes']:.1f} s) = {logged['total']:.1f} s"
    )
    built = floor["built"]
    print(
        f"  every table the build writes ({len(built['tables'])}): {built['rows']:,} rows;"
        f" COPY logged {built['copy']:.1f} s + indexes {built['indexes']:.1f} s"
        f" = floor {built['total']:.1f} s"
    )
    if dbt_seconds is not None:
        base = built["total"] or 1.0
        print(f"    {label:<62}{dbt_seconds:>7.1f} s  x{dbt_seconds / base:.1f} the floor")
    own = {table.rsplit(".", 1)[-1]: t["total"] for table, t in built["tables"].items()}
    for node, seconds in nodes:
        if seconds >= BIG_MODEL_SECONDS:
            ratio = f"x{seconds / own[node]:.2f} its table's" if own.get(node) else ""
            print(f"    {node[:62]:<62}{seconds:>7.1f} s  {ratio}")


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
