"""The runtime helpers that decide what setup has to redo (grassroots.runtime)."""

from __future__ import annotations

import os

import pytest

from grassroots import runtime

pytestmark = pytest.mark.unit


@pytest.fixture
def dbt_project(tmp_path, monkeypatch):
    for name in ("dbt_project.yml", "profiles.yml", "models/m.sql", "seeds/s.csv"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
        os.utime(path, (1_000, 1_000))
    manifest = tmp_path / "target" / "manifest.json"
    monkeypatch.setattr(runtime, "DBT_PROJECT_DIR", tmp_path)
    monkeypatch.setattr(runtime, "MANIFEST", manifest)
    return tmp_path


def test_no_manifest_means_parse(dbt_project):
    assert not runtime.manifest_is_fresh()


def test_manifest_newer_than_every_project_file_is_fresh(dbt_project):
    manifest = dbt_project / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    os.utime(manifest, (2_000, 2_000))
    assert runtime.manifest_is_fresh()


@pytest.mark.parametrize("changed", ["models/m.sql", "seeds/s.csv", "dbt_project.yml"])
def test_a_changed_model_seed_or_project_file_means_parse(dbt_project, changed):
    manifest = dbt_project / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    os.utime(manifest, (2_000, 2_000))
    os.utime(dbt_project / changed, (3_000, 3_000))
    assert not runtime.manifest_is_fresh()
