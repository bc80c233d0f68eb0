"""Readable terminal output: the indicator table and where quarantined files are."""

from __future__ import annotations

import pandas as pd
import psycopg

from grassroots.catalog import INDICATORS
from grassroots.config import ANALYST_ROLE, paths

# The indicators the terminal table shows, with their column headers (report_label in
# the catalog's indicators.yaml), in the catalog's order.
INDICATOR_COLUMNS = {code: i.report_label for code, i in INDICATORS.items() if i.report_label}


def indicator_table(analyst_url: str, level: str = "district") -> pd.DataFrame:
    """Indicators by unit and year, one column each, with the communes' reporting coverage."""
    with psycopg.connect(analyst_url) as conn:
        rows = conn.execute(
            "select unit_code, unit_name, year, indicator_code, value,"
            " units_reported, units_expected"
            " from marts.fct_indicator_values"
            " where unit_level = %s and geography = 'as_reported'"
            " order by unit_code, year",
            (level,),
        ).fetchall()
    frame = pd.DataFrame(
        rows,
        columns=["unit_code", "unit_name", "year", "indicator", "value", "reported", "expected"],
    )
    if frame.empty:
        return frame
    frame["value"] = frame["value"].astype(float)
    table = frame.pivot_table(
        index=["unit_code", "unit_name", "year"],
        columns="indicator",
        values="value",
        aggfunc="first",
    )
    table = table.reindex(columns=[c for c in INDICATOR_COLUMNS if c in table.columns])
    coverage = (
        frame[frame["indicator"] == "admissions"]
        .set_index(["unit_code", "unit_name", "year"])
        .apply(lambda r: f"{r['reported']}/{r['expected']}", axis=1)
    )
    for count in ("members_total", "admissions"):
        if count in table.columns:
            table[count] = table[count].round().astype("Int64")
    table = table.rename(columns=INDICATOR_COLUMNS).round(2)
    table["communes reporting"] = coverage
    return table.reset_index()


def print_indicators(level: str = "district") -> int:
    from grassroots.warehouse import Warehouse

    table = indicator_table(Warehouse().url(ANALYST_ROLE), level)
    if table.empty:
        print("no indicator values yet: run `grassroots run` first")
        return 1
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table.to_string(index=False, na_rep="-"))
    return 0


def print_demo_report() -> int:
    from grassroots.warehouse import Warehouse

    warehouse = Warehouse()
    print("\nIndicators by district and year (marts.fct_indicator_values):\n")
    code = print_indicators("district")
    with psycopg.connect(warehouse.url()) as conn:
        counts = dict(
            conn.execute(
                "select status, count(*) from landing.received_files group by 1"
            ).fetchall()
        )
        quarantined = conn.execute(
            "select f.file_id, f.original_name, string_agg(distinct v.rule_id, ',')"
            " from landing.received_files f"
            " join landing.validation_findings v using (file_id)"
            " where f.status = 'quarantined' and v.severity = 'error'"
            " group by 1, 2 order by 1"
        ).fetchall()
    print(f"\nFiles received: {sum(counts.values())} {counts}")
    print(
        f"Quarantined files ({len(quarantined)}), kept with their reasons in {paths().quarantine}:"
    )
    for file_id, name, rules in quarantined:
        print(f"  {file_id:08d}  {name:<40} {rules}")
    print(
        "\nReasons per file: <quarantine>/<file_id>.reasons.txt; all findings:"
        " select * from landing.validation_findings;"
        '\nAnalyst SQL access: psql "$(grassroots warehouse url --role analyst --show-password)"'
    )
    return code
