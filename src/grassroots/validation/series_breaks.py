"""Communes whose yearly series restarts at the 2025 reform (landing.commune_series_breaks).

The cross checks read that table: year-on-year rules skip a break year and P5 computes
its median and MAD on each segment of a series.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg

from grassroots.config import SEEDS_DIR

CROSSWALK_FILE = SEEDS_DIR / "registry" / "ref_commune_crosswalk_2025.csv"
REFORM_YEAR = 2025


def refresh_series_breaks(conn: psycopg.Connection, crosswalk: Path = CROSSWALK_FILE) -> int:
    """Communes whose series restarts in 2025, from the crosswalk (replaced when changed).

    A post-reform code continues its series only when exactly one old commune maps to
    it, whole, under the same code; any other new code (a merger, a split part, a code
    reused for another territory) starts a new series in REFORM_YEAR.
    """
    table = pd.read_csv(crosswalk, dtype=str, keep_default_na=False)
    rows = table.groupby("new_commune_code", sort=True).agg(
        n=("old_commune_code", "size"),
        old=("old_commune_code", "first"),
        whole=("is_whole", "first"),
    )
    unchanged = (rows.n == 1) & (rows.old == rows.index) & (rows.whole.str.lower() == "true")
    breaks = sorted(rows.index[~unchanged])
    stored = conn.execute(
        "select coalesce(array_agg(commune_code order by commune_code), '{}')"
        " from landing.commune_series_breaks where break_year = %s",
        (REFORM_YEAR,),
    ).fetchone()[0]
    if list(stored) != breaks:
        with conn.transaction():
            conn.execute("delete from landing.commune_series_breaks")
            with conn.cursor().copy(
                "copy landing.commune_series_breaks (commune_code, break_year) from stdin"
            ) as copy:
                for code in breaks:
                    copy.write_row((code, REFORM_YEAR))
    return len(breaks)
