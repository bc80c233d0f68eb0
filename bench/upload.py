"""Upload page benchmark: time from upload to answer for typical commune files, next to
the bare GX validation of the same file measured in the same run (`make bench-upload`).

On its own state folder ($GRASSROOTS_HOME or .state/bench-upload): starts the warehouse,
generates a province's submissions of two years (grassroots.synthetic, not timed), takes the
communes' village-branch (CB) files, issues each commune a signed link, serves the app
with uvicorn on 127.0.0.1 and sends every file through its link, one at a time:
  answer  POST of the file until the JSON answer is read: body, link check, the check
          (read + GX), the warehouse-side checks of a file that would load (a rolled-back
          transaction), the inbox write, the log row, the marked-up workbook
  floor   the bare GX validation of the same file (validate_batch on the parsed file)
Median and p95 of each, and their ratio. Results: bench/results/upload-<timestamp>.json.

    .venv/bin/python bench/upload.py                  # 300 files of a province, 2023-2024
    .venv/bin/python bench/upload.py --files 50
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
os.environ.setdefault("GRASSROOTS_HOME", str(REPO / ".state" / "bench-upload"))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def _serve():
    """The app under /grassroots on a free port of 127.0.0.1, in a thread."""
    import uvicorn
    from fastapi import FastAPI

    from grassroots.web.app import URL_PREFIX, create_app

    root = FastAPI()
    root.mount(URL_PREFIX, create_app())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}{URL_PREFIX}/gui-bao-cao/"


def _files(work: Path, count: int, years: list[int]) -> list[Path]:
    from grassroots.synthetic.national import generate

    files = []
    for year in years:
        out = work / f"generated-{year}"
        if not out.exists():
            generate(out, scale="province", years=[year], manifest=work / f"manifest-{year}.csv")
        files += sorted(p for p in out.iterdir() if p.name.startswith("CB_"))
    if len(files) < count:
        raise SystemExit(f"only {len(files)} CB files generated; ask for fewer (--files)")
    return files[:count]


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(ordered) * 1e3, "p95_ms": p95 * 1e3}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--years", default="2023,2024", help="years generated (comma-separated)")
    parser.add_argument("--work", type=Path, default=REPO / ".state" / "bench-upload-data")
    args = parser.parse_args()

    import httpx
    import psycopg

    from grassroots.check import links
    from grassroots.check.core import check_content
    from grassroots.reader import parse_content
    from grassroots.registry import Registry
    from grassroots.validation.runner import validate_batch
    from grassroots.warehouse import Warehouse

    warehouse = Warehouse()
    warehouse.start()
    years = [int(y) for y in args.years.split(",")]
    files = _files(args.work, args.files, years)
    units = {p: check_content(p.name, p.read_bytes()).unit_code for p in files}  # warms GX
    files = [p for p in files if units[p] is not None]  # a defect that hides the commune (S4)
    with psycopg.connect(warehouse.url()) as conn:
        tokens = {unit: links.issue(conn, unit, days=1)[1] for unit in set(units.values())}
    server, page = _serve()
    registry = Registry.load()
    answer, floor, outcomes = [], [], {}
    with httpx.Client(timeout=None) as client:
        for number, path in enumerate(files, start=1):
            content = path.read_bytes()
            started = time.perf_counter()
            reply = client.post(
                page + tokens[units[path]], content=content,
                headers={"X-File-Name": quote(path.name), "Accept": "application/json"},
            )  # fmt: skip
            data = reply.json()
            answer.append(time.perf_counter() - started)
            outcomes[data["reason"] or "accepted"] = (
                outcomes.get(data["reason"] or "accepted", 0) + 1
            )
            parsed = parse_content(number, path.name, content)
            started = time.perf_counter()
            validate_batch([parsed], registry=registry)
            floor.append(time.perf_counter() - started)
    server.should_exit = True
    sizes = [p.stat().st_size for p in files]
    result = {
        "files": len(files),
        "years": years,
        "median_file_bytes": statistics.median(sizes),
        "outcomes": outcomes,
        "answer": _percentiles(answer),
        "floor_gx_validation": _percentiles(floor),
    }
    result["ratio_median"] = (
        result["answer"]["median_ms"] / result["floor_gx_validation"]["median_ms"]
    )
    out = BENCH_DIR / "results" / f"upload-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
