"""Report site benchmark: the whole site from scratch, and a 1 % night, next to a floor.

Reads an existing warehouse ($GRASSROOTS_HOME, default .state/bench; the intake bench
`make bench` fills it with a national history) as the analyst role, with SELECTs only;
writes only under --out (default bench/results/site-<stamp>/), never to the warehouse.

  full   read the marts (reports.data: one query per mart), cut the pages (reports.site),
         render and write every page, JSON and workbook into an empty folder; timed,
         pages, workbooks and bytes counted.
         FLOOR, same run: each of the site's queries as one COPY (query) TO STDOUT, plus
         writing as many files holding as many bytes as the site wrote.
  night  1 % of the communes with values in the headline year get a new members_total
         (the commune and every unit above it, both geographies, in the data the build
         reads, as a night's dbt build would leave them), then:
         hash     the nightly task's way: every page's figures cut and digested, pages
                  whose digest changed rendered (reports.build);
         touched  the other way: the touched communes' ancestors up to the nation from
                  dim_unit, and only their pages cut and rendered.
Results: a table, and bench/results/site-<stamp>.json.

    GRASSROOTS_HOME=/path/to/history .venv/bin/python bench/site.py
    .venv/bin/python bench/site.py --out /tmp/site --share 0.01 --seed 7
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
os.environ.setdefault("GRASSROOTS_HOME", str(REPO / ".state" / "bench"))

import psycopg  # noqa: E402

from grassroots.config import ANALYST_ROLE, paths  # noqa: E402
from grassroots.reports import data as site_data  # noqa: E402
from grassroots.reports.build import Builder  # noqa: E402
from grassroots.reports.site import PageKey, Site  # noqa: E402
from grassroots.warehouse import Warehouse  # noqa: E402

CHANGED_INDICATOR = "members_total"


def quiet(_line: str) -> None:
    pass


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def floor_read(url: str) -> dict:
    """One COPY TO per query the site runs (the same SQL, the same headline year)."""
    with psycopg.connect(url) as conn:
        latest = site_data.latest_closed_year(site_data._rows(conn, site_data.COMPLETENESS_SQL))
    queries = [
        site_data.COMPLETENESS_SQL,
        site_data.INDICATORS_SQL,
        site_data.UNITS_SQL,
        site_data.VALUES_SQL,
        site_data.FINDINGS_SQL,
        site_data.TARGETS_SQL,
    ]
    started = time.perf_counter()
    copied = 0
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        for sql in queries:
            text = sql.replace("%(latest)s", str(int(latest or 0)))
            with cursor.copy(f"copy ({text}) to stdout") as copy:
                for block in copy:
                    copied += len(block)
    return {"read_seconds": time.perf_counter() - started, "read_bytes": copied}


def floor_write(files: int, size: int, scratch: Path) -> dict:
    """As many files holding as many bytes as the site wrote."""
    scratch.mkdir(parents=True)
    chunk = b"x" * (size // max(files, 1))
    started = time.perf_counter()
    for number in range(files):
        (scratch / f"{number:06d}.bin").write_bytes(chunk)
    write = time.perf_counter() - started
    shutil.rmtree(scratch)
    return {"write_seconds": write}


def full_build(url: str, out: Path) -> tuple[Site, dict]:
    started = time.perf_counter()
    data = site_data.load(url)
    read = time.perf_counter() - started
    site = Site(data)
    cut = time.perf_counter() - started - read
    summary = Builder(out, site, quiet).run()
    files, size = folder_size(out)
    return site, {
        "seconds": time.perf_counter() - started,
        "read_seconds": read,
        "site_seconds": cut,
        "build_seconds": summary.seconds,
        "pages": summary.pages,
        "workbooks": summary.workbooks,
        "files": files,
        "bytes": size,
        "values_rows": len(data.values),
        "latest_year": data.latest_year,
    }


def ancestors(site: Site, touched: set[str]) -> set[tuple[str, str]]:
    """(level, code) of the touched communes and every unit above them, from dim_unit."""
    parents: dict[tuple[str, str], set] = {}
    for unit in site.data.units:
        if unit["parent_code"]:
            child = (unit["unit_level"], unit["unit_code"])
            parents.setdefault(child, set()).add((unit["parent_level"], unit["parent_code"]))
    found = {("nation", "VN")}
    todo = [("commune", code) for code in touched]
    while todo:
        unit = todo.pop()
        if unit not in found:
            found.add(unit)
            todo.extend(parents.get(unit, ()))
    return found


def simulate_night(site: Site, share: float, seed: int) -> tuple[set[str], set]:
    """New members_total, in the data the site was cut from, for share of the communes
    with values in the headline year and for every unit above them (both geographies)."""
    latest = site.data.latest_year
    communes = sorted(
        {
            r["unit_code"]
            for r in site.data.values
            if r["unit_level"] == "commune" and r["year"] == latest
        }
    )
    touched = set(random.Random(seed).sample(communes, max(1, round(share * len(communes)))))
    units = ancestors(site, touched)
    for row in site.data.values:
        if (
            row["year"] == latest
            and row["indicator_code"] == CHANGED_INDICATOR
            and (row["unit_level"], row["unit_code"]) in units
            and row["value"] is not None
        ):
            row["value"] += 1
    return touched, units


def night(site: Site, out: Path, share: float, seed: int) -> dict:
    touched, units = simulate_night(site, share, seed)
    night_site = Site(site.data)  # the night's figures, as the next build reads them
    started = time.perf_counter()
    summary = Builder(out, night_site, quiet).run()
    hashed = time.perf_counter() - started
    # The touched way: its decision (the ancestors), then only those pages, forced.
    started = time.perf_counter()
    units = ancestors(night_site, touched)
    existing = set(night_site.pages())
    keys = [
        PageKey(geography, level, code)
        for geography in ("as_reported", "current")
        for level, code in sorted(units)
        if PageKey(geography, level, code) in existing
    ]
    decided = time.perf_counter() - started
    builder = Builder(out, night_site, quiet)
    builder.old = {}  # render every touched page, whatever its digest
    for key in keys:
        builder.page(key)
    touched_seconds = time.perf_counter() - started
    return {
        "communes": len({r["unit_code"] for r in site.data.values if r["unit_level"] == "commune"}),
        "communes_touched": len(touched),
        "hash": {
            "seconds": hashed,
            "pages": summary.pages,
            "pages_rebuilt": summary.pages - summary.pages_skipped,
            "pages_skipped": summary.pages_skipped,
            "pages_written": summary.pages_written,
            "workbooks_written": summary.workbooks_written,
        },
        "touched": {
            "seconds": touched_seconds,
            "decision_seconds": decided,
            "pages_rebuilt": len(keys),
        },
    }


def table(full: dict, base: dict, nightly: dict) -> str:
    floor_total = base["read_seconds"] + base["write_seconds"]
    hashed, touched = nightly["hash"], nightly["touched"]
    rows = [
        ("full site from scratch", full["seconds"], f"{full['pages']} pages"),
        ("  read the marts (6 queries)", full["read_seconds"], f"{full['values_rows']} rows"),
        ("  cut the pages (Site)", full["site_seconds"], ""),
        ("  render and write", full["build_seconds"], f"{full['files']} files"),
        ("floor: COPY TO + write bytes", floor_total, f"{full['bytes'] / 1e6:.1f} MB"),
        ("  COPY TO, one per query", base["read_seconds"], f"{base['read_bytes'] / 1e6:.1f} MB"),
        ("  write the same files/bytes", base["write_seconds"], ""),
        (
            f"night 1 % ({nightly['communes_touched']} communes), by hash",
            hashed["seconds"],
            f"{hashed['pages_rebuilt']} rebuilt, {hashed['pages_skipped']} skipped",
        ),
        (
            "night 1 %, by touched units",
            touched["seconds"],
            f"{touched['pages_rebuilt']} rebuilt (decision {touched['decision_seconds']:.2f} s)",
        ),
    ]
    lines = [f"{'stage':44} {'seconds':>9}  detail"]
    lines += [f"{name:44} {seconds:9.1f}  {detail}" for name, seconds, detail in rows]
    lines.append(f"full site / floor: x{full['seconds'] / floor_total:.1f}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="scratch folder (default bench/results/...)")
    parser.add_argument("--share", type=float, default=0.01, help="share of communes a night")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results_dir = BENCH_DIR / "results"
    out = args.out or results_dir / f"site-{stamp}"
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} is not empty: the full build must start from an empty folder")
    home = paths().home
    print(f"warehouse {home} (read only), site into {out}", flush=True)
    url = Warehouse().url(ANALYST_ROLE)
    base = floor_read(url)
    print(f"floor: the site's queries copied in {base['read_seconds']:.1f} s", flush=True)
    site, full = full_build(url, out / "site")
    print(f"full site: {full['pages']} pages in {full['seconds']:.1f} s", flush=True)
    base.update(floor_write(full["files"], full["bytes"], out / "floor"))
    nightly = night(site, out / "site", args.share, args.seed)
    print(table(full, base, nightly))
    results_dir.mkdir(exist_ok=True)
    result = results_dir / f"site-{stamp}.json"
    meta = {"home": str(home), "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()}
    body = {"meta": meta, "full": full, "floor": base, "night": nightly, "share": args.share}
    result.write_text(json.dumps(body, indent=2), encoding="utf-8")
    print(f"results: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
