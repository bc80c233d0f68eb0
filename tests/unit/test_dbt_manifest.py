"""What decides what setup has to redo (grassroots.dbt_manifest)."""

from __future__ import annotations

import json
import os

import pytest

from grassroots import dbt_manifest

pytestmark = pytest.mark.unit


@pytest.fixture
def dbt_project(tmp_path, monkeypatch):
    for name in ("dbt_project.yml", "profiles.yml", "models/m.sql", "seeds/s.csv"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
        os.utime(path, (1_000, 1_000))
    manifest = tmp_path / "target" / "manifest.json"
    monkeypatch.setattr(dbt_manifest, "DBT_PROJECT_DIR", tmp_path)
    monkeypatch.setattr(dbt_manifest, "MANIFEST", manifest)
    return tmp_path


def test_no_manifest_means_parse(dbt_project):
    assert not dbt_manifest.manifest_is_fresh()


def test_manifest_newer_than_every_project_file_is_fresh(dbt_project):
    manifest = dbt_project / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    os.utime(manifest, (2_000, 2_000))
    assert dbt_manifest.manifest_is_fresh()


@pytest.mark.parametrize("changed", ["models/m.sql", "seeds/s.csv", "dbt_project.yml"])
def test_a_changed_model_seed_or_project_file_means_parse(dbt_project, changed):
    manifest = dbt_project / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    os.utime(manifest, (2_000, 2_000))
    os.utime(dbt_project / changed, (3_000, 3_000))
    assert not dbt_manifest.manifest_is_fresh()


def _manifest(
    tmp_path, incremental_code: str, table_code: str, macro_sql: str, inner_sql: str = "i",
    since_sql: str = "s", runtime_macros: tuple[str, ...] = (), staging_code: str = "v",
    safe_sql: str = "e",
):  # fmt: skip
    """macro years calls macro changed (inner_sql); the incremental model's code calls
    since_filter (since_sql) at run time only, so `dbt parse` does not list it.
    runtime_macros: what a `dbt build` adds to a model's depends_on when it writes the
    manifest (macros its Jinja called at run time only)."""

    def model(name, materialized, code, parents=(), macros=None):
        if macros is None:
            macros = ["macro.grassroots.years", "macro.dbt.is_incremental", *runtime_macros]
        return {
            "unique_id": f"model.grassroots.{name}",
            "resource_type": "model",
            "package_name": "grassroots",
            "raw_code": code,
            "config": {"materialized": materialized},
            "depends_on": {"macros": macros, "nodes": list(parents)},
        }

    def macro(name, package, sql, calls=()):
        return {
            "name": name,
            "package_name": package,
            "macro_sql": sql,
            "depends_on": {"macros": list(calls)},
        }

    manifest = {
        "nodes": {
            "model.grassroots.big": model(
                "big", "incremental", incremental_code, ["model.grassroots.inter"]
            ),
            "model.grassroots.small": model("small", "table", table_code),
            # big <- inter (a table) <- stg (a view calling macro safe) <- a source
            "model.grassroots.inter": model(
                "inter", "table", "select * from stg", ["model.grassroots.stg"], []
            ),
            "model.grassroots.stg": model(
                "stg", "view", staging_code, ["source.grassroots.raw.form_cb"], []
            ),
        },
        "macros": {
            "macro.grassroots.years": macro(
                "years",
                "grassroots",
                macro_sql,
                ["macro.grassroots.changed", "macro.dbt.run_query"],
            ),
            "macro.grassroots.changed": macro("changed", "grassroots", inner_sql),
            "macro.grassroots.since_filter": macro("since_filter", "grassroots", since_sql),
            "macro.grassroots.safe": macro("safe", "grassroots", safe_sql),
            "macro.dbt.is_incremental": macro("is_incremental", "dbt", "dbt's own"),
            "macro.dbt.run_query": macro("run_query", "dbt", "dbt's own"),
        },
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def test_full_build_fingerprint_follows_incremental_models_and_their_macros(tmp_path, monkeypatch):
    """A change to an incremental model (or a project macro it calls) must rebuild the
    warehouse in full at setup; a change to a table rebuilt every night must not."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "ref.csv").write_text("code\n01\n")
    monkeypatch.setattr(dbt_manifest, "SEEDS_REGISTRY_DIR", seeds)

    def fingerprint(**changes):
        arguments = {
            "incremental_code": "select 1 {% if since %}where {{ since_filter(since) }}{% endif %}",
            "table_code": "select 2",
            "macro_sql": "m",
        }
        arguments.update(changes)
        monkeypatch.setattr(dbt_manifest, "MANIFEST", _manifest(tmp_path, **arguments))
        return dbt_manifest.full_build_fingerprint()

    base = fingerprint()
    assert fingerprint() == base
    assert fingerprint(table_code="select 3") == base
    assert fingerprint(incremental_code="select 1, 2") != base
    assert fingerprint(macro_sql="m2") != base
    # A macro called through another one counts too ...
    assert fingerprint(inner_sql="i2") != base
    # ... and a manifest written by `dbt build`, which lists it on the model as well,
    # gives the same fingerprint as `dbt parse` (it used to differ: a full rebuild of the
    # national warehouse at the next setup after any manual `grassroots dbt build`).
    assert fingerprint(runtime_macros=("macro.grassroots.changed",)) == base
    # A macro the model's own body calls at run time only: changing it counts, and a
    # build's manifest that lists it gives the parse's fingerprint (it used to differ:
    # fct_submission_versions calls changed_since so).
    assert fingerprint(since_sql="s2") != base
    assert fingerprint(runtime_macros=("macro.grassroots.since_filter",)) == base
    (seeds / "ref.csv").write_text("code\n02\n")
    assert fingerprint() != base


def test_full_build_fingerprint_follows_the_models_incremental_models_are_built_from(
    tmp_path, monkeypatch
):
    """Incremental models keep the rows an older version of a staging view gave them (the
    excel_safe neutralisation, say): a change to any model upstream of one, or to a macro
    such a model calls, rebuilds the warehouse once; a model downstream of none does not."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    monkeypatch.setattr(dbt_manifest, "SEEDS_REGISTRY_DIR", seeds)

    def fingerprint(**changes):
        arguments = {
            "incremental_code": "select * from inter",
            "table_code": "select 2",
            "macro_sql": "m",
            "staging_code": "select {{ safe('name') }} from raw",
        }
        arguments.update(changes)
        monkeypatch.setattr(dbt_manifest, "MANIFEST", _manifest(tmp_path, **arguments))
        return dbt_manifest.full_build_fingerprint()

    base = fingerprint()
    assert fingerprint(staging_code="select {{ safe('name') }}, 1 from raw") != base
    assert fingerprint(safe_sql="e2") != base
    assert fingerprint(table_code="select 3") == base
