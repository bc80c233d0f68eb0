"""A run id names its folders one way (grassroots.run_folders)."""

from __future__ import annotations

import pytest

from grassroots import run_folders

pytestmark = pytest.mark.unit

RUN = "scheduled__2026-01-31T20:00:00+00:00"


def test_a_run_id_becomes_one_folder_name():
    assert run_folders.folder_name(RUN) == "scheduled__2026-01-31T20_00_00_00_00"
    assert run_folders.folder_name("ok-name_1") == "ok-name_1"


def test_every_run_folder_uses_that_name(tmp_path, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_HOME", str(tmp_path))
    name = run_folders.folder_name(RUN)
    assert run_folders.data_docs_dir(RUN) == tmp_path / "data_docs" / name
    assert run_folders.digests_dir(RUN) == tmp_path / "digests" / name
    assert run_folders.validation_results_dir(RUN) == tmp_path / "validation_results" / name
    assert (
        run_folders.data_docs_dir(RUN, home=tmp_path / "x") == tmp_path / "x" / "data_docs" / name
    )
    assert run_folders.pruned_parents() == [tmp_path / "data_docs", tmp_path / "validation_results"]
