"""The intake's own GX validations (S/C rules) are kept in the warehouse for the night's
Data Docs, which any worker builds from there."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from grassroots import intake
from grassroots.config import paths
from grassroots.data_docs import build_data_docs
from grassroots.run_folders import folder_name
from grassroots.validation import runner, stored_results

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
    on_disk = paths().home / "validation_results" / folder_name(run_id)  # older releases'
    shutil.rmtree(on_disk, ignore_errors=True)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.csv").write_text(_dv("06193", 100), encoding="utf-8")
    # Identity off by 5 (C1), on many rows: more unexpected rows than the docs keep.
    rows = ["2023,06193,12.345,95,5,0,0,0,0,0,105,3\n" for _ in range(40)]
    (inbox / "bad.csv").write_text(DV_HEADER + "".join(rows), encoding="utf-8")
    monkeypatch.setattr(runner, "DOCS_LIST_CAP", 7)
    with psycopg.connect(empty_warehouse.url()) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, run_id)
        summary = intake.process_pending(conn, paths().quarantine, run_id)
        assert (summary.loaded, summary.quarantined) == (1, 1)
        stored = dict(stored_results.load(conn, run_id))
    # In the warehouse, not on this machine's disk (no validation_results folder).
    assert not on_disk.exists()
    # One batch, named by its first file_id (files 1 and 2 of an empty warehouse).
    assert sorted(stored) == ["intake_000000001_dv_files", "intake_000000001_dv_rows"]
    document = stored["intake_000000001_dv_rows"]
    assert document["suite_name"] == "grassroots.form_dv"  # the committed suite docs show
    assert document["success"] is False
    failed = [r for r in document["results"] if not r["success"]]
    assert failed and any(r["expectation_config"]["meta"]["rule_id"] == "C1" for r in failed)
    for item in failed:  # 40 failing rows, lists capped for the docs
        lists = [v for v in item["result"].values() if isinstance(v, list)]
        assert lists and all(len(v) <= 7 for v in lists)
        assert item["result"]["unexpected_count"] >= 40

    built = build_data_docs(run_id, empty_warehouse.url())
    assert built["validations"] == len(stored)
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


def test_stored_results_of_old_runs_are_pruned_with_the_sites(empty_warehouse, monkeypatch):
    dsn = empty_warehouse.url()
    document = {"suite_name": "grassroots.form_dv", "success": True, "results": []}
    with psycopg.connect(dsn) as conn:
        for run in ("old", "recent", "tonight"):
            stored_results.store(conn, run, "intake_000000001_dv_rows", document)
        conn.execute(
            "update landing.validation_results set created_at = now() - interval '31 days'"
            " where run_id in ('old', 'tonight')"
        )
    monkeypatch.setenv("GRASSROOTS_DATA_DOCS_KEEP_DAYS", "30")
    built = build_data_docs("tonight", dsn)
    assert "old" in built["pruned_runs"]
    with psycopg.connect(dsn) as conn:
        runs = conn.execute("select distinct run_id from landing.validation_results").fetchall()
    assert sorted(r for (r,) in runs) == ["recent", "tonight"]  # tonight kept whatever its age
