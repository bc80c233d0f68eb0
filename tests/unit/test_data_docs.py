"""GX Data Docs of a run: the site is written under <home>/data_docs/<run>/."""

from __future__ import annotations

import os
import time

import pytest

from grassroots.data_docs import build_data_docs, docs_dir, docs_link, prune_old_runs

pytestmark = pytest.mark.unit


def test_a_run_without_stored_results_still_documents_every_suite(tmp_path, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_HOME", str(tmp_path))
    built = build_data_docs("manual__2026-01-01T01:00:00+00:00")
    site = docs_dir("manual__2026-01-01T01:00:00+00:00")
    assert site.parent == tmp_path / "data_docs" and ":" not in site.name
    assert built["validations"] == 0 and (site / "index.html").exists()
    pages = {p.name for p in (site / "expectations").rglob("*.html")}
    assert pages == {"form_cb.html", "form_dv.html", "form_tc.html", "form_ct.html",
                     "cross_checks.html"}  # fmt: skip


def test_the_link_uses_the_published_address_when_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_HOME", str(tmp_path))
    monkeypatch.delenv("GRASSROOTS_DATA_DOCS_URL", raising=False)
    assert docs_link("r1") == (tmp_path / "data_docs" / "r1" / "index.html").as_uri()
    monkeypatch.setenv("GRASSROOTS_DATA_DOCS_URL", "https://dq.example.vn/docs/")
    assert docs_link("r 1") == "https://dq.example.vn/docs/r_1/index.html"


def test_runs_older_than_the_retention_are_pruned_and_the_others_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_HOME", str(tmp_path))
    monkeypatch.setenv("GRASSROOTS_DATA_DOCS_KEEP_DAYS", "30")
    now = time.time()
    ages = {"old": 31, "recent": 29, "tonight": 400}  # tonight is kept whatever its age
    for run, days in ages.items():
        for parent in ("data_docs", "validation_results"):
            folder = tmp_path / parent / run
            folder.mkdir(parents=True)
            (folder / "index.html").write_text("x")
            os.utime(folder, (now - days * 86400, now - days * 86400))
    assert prune_old_runs(keep="tonight", now=now) == ["old"]
    for parent in ("data_docs", "validation_results"):
        assert sorted(p.name for p in (tmp_path / parent).iterdir()) == ["recent", "tonight"]
    monkeypatch.setenv("GRASSROOTS_DATA_DOCS_KEEP_DAYS", "0")  # 0 keeps everything
    assert prune_old_runs(now=now + 1000 * 86400) == []
