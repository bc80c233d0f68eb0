"""GRASSROOTS_DBT_EXECUTION_MODE picks how the night's dbt build runs (build by default)."""

import pytest

from grassroots.orchestration import DBT_EXECUTION_MODES, dbt_execution_mode

pytestmark = pytest.mark.unit


def test_unset_or_empty_is_the_default_build(monkeypatch):
    monkeypatch.delenv("GRASSROOTS_DBT_EXECUTION_MODE", raising=False)
    assert dbt_execution_mode() == "build"
    monkeypatch.setenv("GRASSROOTS_DBT_EXECUTION_MODE", " ")
    assert dbt_execution_mode() == "build"


@pytest.mark.parametrize("mode", DBT_EXECUTION_MODES)
def test_each_mode_is_taken_whatever_its_case(monkeypatch, mode):
    monkeypatch.setenv("GRASSROOTS_DBT_EXECUTION_MODE", f" {mode.upper()} ")
    assert dbt_execution_mode() == mode


def test_an_unknown_mode_is_refused_naming_the_choices(monkeypatch):
    monkeypatch.setenv("GRASSROOTS_DBT_EXECUTION_MODE", "kubernetes")
    with pytest.raises(ValueError, match="build, watcher, local"):
        dbt_execution_mode()
