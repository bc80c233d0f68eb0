"""Row counts and digests of the demo's marts: proof that a change left them as they were.

For every relation of the schema `marts` (dim_*, fct_*, mart_*; the year partitions of
fct_indicator_values' tables in `marts_partitions` are read through their parents): `count(*)` and
an md5 over its rows rendered as text (md5 of each row's text, sorted, concatenated).

Re-record the baseline after a deliberate change to the marts (the warehouse of the
running state folder, e.g. right after `make demo`):

    .venv/bin/python -m tests.demo_marts --record          # writes tests/fixtures/demo_marts.json
    .venv/bin/python -m tests.demo_marts                   # compares, prints what differs

`tests/integration/test_demo_marts.py` builds the demo warehouse the way the night does
and compares it with the recorded file.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import psycopg

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "demo_marts.json"
SCHEMA = "marts"

# Columns that differ from one run to the next, left out of the digest.
EXCLUDED_COLUMNS = {
    # now() of the build that wrote the row (every incremental model).
    "*": ("built_at",),
    # The day the year was judged: the day of the build.
    "fct_submission_completeness": ("as_of_date",),
    # When the intake received the file and when its version became or stopped being current.
    "fct_submission_versions": ("received_at", "current_from", "current_to"),
    # The wide marts' unit of incremental rebuild, a copy of fct_indicator_values' (which
    # the digest of that table covers).
    "mart_membership": ("build_partition",),
    "mart_ratings": ("build_partition",),
    "mart_village_branches": ("build_partition",),
    # mart_targets' unit of incremental rebuild: term, geography and unit, all digested.
    "mart_targets": ("build_partition",),
    # The run's id, when the finding was written and the file received: per run.
    # finding_id is an identity in insert order, which the intake's batches do not fix.
    "fct_validation_findings": ("finding_id", "run_id", "created_at", "received_at"),
}

# Rows that follow the calendar, not the data: the years (and congress terms) after the
# last year settled when the baseline was recorded. dim_year and the registry run to the
# current year and overdue follows the date; a later year adds or changes such rows.
CALENDAR_YEAR = {
    "dim_year": "year",
    "fct_indicator_values": "year",
    "fct_indicator_values_villages": "year",
    "fct_indicator_values_rolled_up": "year",
    "fct_indicator_lineage": "year",
    "mart_membership": "year",
    "mart_ratings": "year",
    "mart_village_branches": "year",
    "fct_submission_completeness": "report_year",
    # A term S-E covers years S .. E-1; a running term's progress follows the clock.
    "mart_targets": "term_end_year - 1",
}


def _relations(conn) -> list[str]:
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = %s"
        " and (table_name like 'dim\\_%%' or table_name like 'fct\\_%%'"
        " or table_name like 'mart\\_%%') order by table_name",
        (SCHEMA,),
    ).fetchall()
    return [name for (name,) in rows]


def _columns(conn, relation: str) -> list[str]:
    excluded = set(EXCLUDED_COLUMNS["*"]) | set(EXCLUDED_COLUMNS.get(relation, ()))
    rows = conn.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        (SCHEMA, relation),
    ).fetchall()
    return [name for (name,) in rows if name not in excluded]


def digest(conn, last_year: int) -> dict[str, dict]:
    """relation -> {rows, md5, columns} over the rows up to `last_year` (CALENDAR_YEAR)."""
    result = {}
    for relation in _relations(conn):
        columns = _columns(conn, relation)
        where = ""
        if relation in CALENDAR_YEAR:
            where = f"where {CALENDAR_YEAR[relation]} <= {int(last_year)}"
        listed = ", ".join(f'"{c}"' for c in columns)
        count, md5 = conn.execute(
            "select count(*), md5(coalesce(string_agg(row_md5, '' order by row_md5), ''))"
            f" from (select md5(row({listed})::text) as row_md5"
            f" from {SCHEMA}.{relation} {where}) as r"
        ).fetchone()
        result[relation] = {"rows": count, "md5": md5, "columns": columns}
    return result


def recorded() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def differences(expected: dict, actual: dict) -> list[str]:
    """One line per relation whose rows, digest or columns differ."""
    lines = []
    for relation in sorted(set(expected) | set(actual)):
        want, got = expected.get(relation), actual.get(relation)
        if want != got:
            lines.append(f"{relation}: recorded {want}, built {got}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--record", action="store_true", help=f"write {FIXTURE}")
    parser.add_argument("--url", help="warehouse URL (default: the running state folder's)")
    args = parser.parse_args(argv)
    url = args.url
    if not url:
        from grassroots.warehouse import Warehouse

        url = Warehouse().url()
    last_year = date.today().year - 1 if args.record else recorded()["last_year"]
    with psycopg.connect(url) as conn:
        actual = digest(conn, last_year)
    if args.record:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"last_year": last_year, "relations": actual}, indent=1)
        FIXTURE.write_text(text + "\n", encoding="utf-8")
        print(f"recorded {len(actual)} relations in {FIXTURE}")
        return 0
    lines = differences(recorded()["relations"], actual)
    print("\n".join(lines) or f"{len(actual)} relations as recorded")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
