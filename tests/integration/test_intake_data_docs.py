"""The intake's own GX validations (S/C rules) are kept for the night's Data Docs."""

from __future__ import annotations

import json
import shutil

import psycopg
import pytest

from grassroots import intake
from grassroots.config import paths
from grassroots.data_docs import build_data_docs
from grassroots.validation import runner
from grassroots.validation.cross_checks import results_dir

pytestmark = pytest.mark.integration

DV_HEADER = (
    "report_year,commune_code,population,members_start,admitted,transferred_in,"
    "transferred_out,deceased,expelled,removed,members_end,probationary_end\n"
)


def _dv(commune: str, members_end: int, admitted: int = 5) -> str:
    start = members_end - admitted
    return DV_HEADER + f"2023,{commune},12.345,{start},{admitted},0,0,0,0,0,{members_end},3\n"


def test_intake_results_are_written_and_shown_in_the_data_docs(
    empty_warehouse, tmp_path, monkeypatch
):
    run_id = "scheduled__2026-11-23T01:00:00+00:00"
    shutil.rmtree(results_dir(run_id), ignore_errors=True)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.csv").write_text(_dv("06193", 100), encoding="utf-8")
    # Identity off by 5 (C1), on many rows: more unexpected rows than the docs keep.
    rows = ["2023,06193,12.345,95,5,0,0,0,0,0,105,3\n" for _ in range(40)]
    (inbox / "bad.csv").write_text(DV_HEADER + "".join(rows), encoding="utf-8")
    monkeypatch.setattr(runner, "DOCS_LIST_CAP", 7)
    with psycopg.connect(empty_warehouse.url()) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, run_id)
        summary = intake.process_pending(conn, paths().quarantine, run_id, workers=1)
    assert (summary.loaded, summary.quarantined) == (1, 1)

    stored = sorted(p.name for p in results_dir(run_id).glob("intake_*.json"))
    # One batch, named by its first file_id (files 1 and 2 of an empty warehouse).
    assert stored == ["intake_000000001_dv_files.json", "intake_000000001_dv_rows.json"]
    assert not list(results_dir(run_id).glob("*.partial"))
    rows_result = results_dir(run_id) / "intake_000000001_dv_rows.json"
    document = json.loads(rows_result.read_text(encoding="utf-8"))
    assert document["suite_name"] == "grassroots.form_dv"  # the committed suite docs show
    assert document["success"] is False
    failed = [r for r in document["results"] if not r["success"]]
    assert failed and any(r["expectation_config"]["meta"]["rule_id"] == "C1" for r in failed)
    for item in failed:  # 40 failing rows, lists capped for the docs
        lists = [v for v in item["result"].values() if isinstance(v, list)]
        assert lists and all(len(v) <= 7 for v in lists)
        assert item["result"]["unexpected_count"] >= 40

    built = build_data_docs(run_id)
    assert built["validations"] >= len(stored)
    index = (paths().home / "data_docs").glob("*/index.html")
    site = next(p for p in index if p.parent.name.startswith("scheduled__2026-11-23"))
    assert "grassroots.form_dv" in site.read_text(encoding="utf-8")
    # One validation page per stored result, under the form suite (grassroots/form_dv/...).
    pages = {
        p.name: p.relative_to(site.parent).parts[:3]
        for p in (site.parent / "validations").rglob("*.html")
    }
    assert pages["intake_000000001_dv_rows.html"] == ("validations", "grassroots", "form_dv")
    assert pages["intake_000000001_dv_files.html"] == ("validations", "grassroots", "form_dv")
