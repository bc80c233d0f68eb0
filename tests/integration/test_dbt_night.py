"""Issue 3: a nightly dbt build costs what changed, not the size of the warehouse.

Three reporting years (2022-2024) of one commune are loaded and built in full. Then:
* a night with no new file rebuilds nothing: every incremental model keeps its built_at,
  the incremental models compile to `where false`, and the data tests read only the rows
  built in this run (none);
* a night that changes 2022 rebuilds 2022 (and 2023 in fct_indicator_values, whose
  change against the previous year depends on 2022) and keeps 2024 as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from grassroots import intake
from grassroots.config import DBT_PROJECT_DIR, paths
from grassroots.runtime import run_tool, runtime_env
from tests.integration.test_cross_checks import cb, dv, tc

pytestmark = pytest.mark.integration

INCREMENTAL = {
    "intermediate.int_cb_current": "report_year",
    "intermediate.int_dv_current": "report_year",
    "intermediate.int_tc_current": "report_year",
    "intermediate.int_indicator_components": "year",
    "marts.fct_indicator_values": "year",
    "marts.fct_indicator_lineage": "year",
}


def _build(warehouse, target: Path, *extra: str) -> dict:
    command = ["dbt", "build", "--exclude", "resource_type:seed", *extra]
    command += ["--target-path", str(target), "--log-path", str(target / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0
    return json.loads((target / "run_results.json").read_text())


def _built_at(conn) -> dict[tuple[str, int], tuple]:
    """(table, year) -> (rows, min built_at, max built_at)."""
    state = {}
    for table, year in INCREMENTAL.items():
        for row in conn.execute(
            f"select {year}, count(*), min(built_at), max(built_at) from {table} group by 1"
        ):
            state[(table, row[0])] = row[1:]
    return state


def _compiled(target: Path, prefix: str) -> str:
    matches = sorted(target.glob(f"compiled/grassroots/models/**/{prefix}*.sql"))
    assert matches, prefix
    return "\n".join(path.read_text() for path in matches)


@pytest.fixture(scope="module")
def night(warehouse, tmp_path_factory):
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    tmp = tmp_path_factory.mktemp("dbt_night")
    inbox = tmp / "inbox"
    inbox.mkdir()
    for year, members in ((2022, 90), (2023, 95), (2024, 100)):
        files = {
            f"dv_06193_{year}.csv": dv(year, "06193", members),
            f"cb_06193_{year}.csv": cb(
                year, "06193", [(1, members // 2, "good"), (2, 5, "completed")]
            ),
            f"tc_183_{year}.csv": tc(year, "183", [("06193", "commune", members, "good", "")]),
        }
        for name, text in files.items():
            (inbox / name).write_text(text, encoding="utf-8")
    conn = psycopg.connect(warehouse.url(), autocommit=True)
    intake.register(conn, intake.discover(inbox), paths().archive, "dbt_night")
    assert intake.process_pending(conn, paths().quarantine, "dbt_night").loaded == 9
    _build(warehouse, tmp / "full", "--full-refresh")
    yield conn, tmp
    conn.close()


def test_full_build_has_the_three_years_and_built_at_indexes(night):
    conn, _ = night
    state = _built_at(conn)
    assert {year for table, year in state if table == "marts.fct_indicator_values"} == {
        2022,
        2023,
        2024,
    }
    for table in INCREMENTAL:
        schema, name = table.split(".")
        indexed = conn.execute(
            "select count(*) from pg_indexes where schemaname = %s and tablename = %s"
            " and indexdef like '%%(built_at)'",
            (schema, name),
        ).fetchone()[0]
        assert indexed == 1, table


def test_idle_night_rebuilds_nothing_and_tests_no_rows(warehouse, night):
    conn, tmp = night
    before = _built_at(conn)
    target = tmp / "idle"
    results = _build(warehouse, target)
    assert _built_at(conn) == before
    rows = {
        r["unique_id"].split(".")[-1]: r["adapter_response"].get("rows_affected")
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }
    assert rows["fct_indicator_values"] == 0
    assert rows["int_cb_current"] == 0
    # The build years were resolved at run time: nothing changed, so the filter is false.
    assert "year in (" not in _compiled(target, "fct_indicator_values")
    assert "where false" in _compiled(target, "fct_indicator_values")
    # Data tests of the incremental models read only this run's rows (built_at index);
    # the views over them only the years built in this run (none: `where false`).
    tests = target / "compiled" / "grassroots" / "models"
    unique_fiv = next(tests.glob("marts/fct_indicator_values.yml/unique_combination_fct_*.sql"))
    assert "built_at >= cast(" in unique_fiv.read_text()
    mart = next(tests.glob("marts/mart_membership.yml/unique_combination_mart_*.sql"))
    assert "where false" in mart.read_text()
    # Tables rebuilt in full (not incremental) are still tested in full.
    dim = next(tests.glob("marts/dim_unit.yml/*.sql"))
    assert "built_at" not in dim.read_text()


def test_one_year_night_rebuilds_that_year_and_keeps_the_others(warehouse, night):
    conn, tmp = night
    before = _built_at(conn)
    values_before = conn.execute(
        "select indicator_code, geography, unit_level, unit_code, year, value,"
        " change_vs_previous_year from marts.fct_indicator_values order by 1, 2, 3, 4, 5"
    ).fetchall()
    conn.execute(
        "update landing.received_files set loaded_at = now() where period = '2022'"
        " and loaded_at is not null"
    )
    target = tmp / "one_year"
    _build(warehouse, target)
    after = _built_at(conn)
    assert after.keys() == before.keys()
    rebuilt = {key for key in after if after[key][1] > before[key][2]}
    kept = {key for key in after if after[key] == before[key]}
    assert rebuilt | kept == set(after)
    assert {(table, year) for table, year in rebuilt if table != "marts.fct_indicator_values"} == {
        (table, 2022) for table in INCREMENTAL if table != "marts.fct_indicator_values"
    }
    assert {year for table, year in rebuilt if table == "marts.fct_indicator_values"} == {
        2022,
        2023,
    }
    assert ("marts.fct_indicator_values", 2024) in kept
    assert "year in (2022, 2023)" in _compiled(target, "fct_indicator_values")
    # Same content as before: the incremental rebuild equals what the full build made.
    values_after = conn.execute(
        "select indicator_code, geography, unit_level, unit_code, year, value,"
        " change_vs_previous_year from marts.fct_indicator_values order by 1, 2, 3, 4, 5"
    ).fetchall()
    assert values_after == values_before
    # The tests of the rebuilt tables ran on this run's rows, the mart views on 2022-2023.
    mart = next(
        (target / "compiled" / "grassroots" / "models").glob(
            "marts/mart_membership.yml/unique_combination_mart_*.sql"
        )
    )
    assert "year in (2022, 2023)" in mart.read_text()


def test_full_tests_var_tests_whole_relations(warehouse, night):
    _, tmp = night
    target = tmp / "full_tests"
    command = ["dbt", "test", "--select", "fct_indicator_values", "--exclude", "test_type:unit"]
    command += ["--target-path", str(target), "--log-path", str(target / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0
    compiled = target / "compiled" / "grassroots" / "models" / "marts" / "fct_indicator_values.yml"
    unique_fiv = next(compiled.glob("unique_combination_fct_*.sql")).read_text()
    assert "built_at" not in unique_fiv
    assert "dbt_subquery" not in unique_fiv


def test_built_since_var_slices_the_tests_of_a_dag_run(warehouse, night):
    """The DAG runs one `dbt build` per model and passes its run's start as built_since:
    a view's tests then see what its base table built in an earlier task (2022 here, the
    one-year night above), and detached `dbt test` tasks are sliced the same way."""
    conn, tmp = night
    since = conn.execute("select max(built_at) from intermediate.int_cb_current").fetchone()[0]
    target = tmp / "built_since"
    command = ["dbt", "test", "--select", "fct_village_branches", "fct_indicator_values"]
    command += ["--exclude", "test_type:unit", "--vars", json.dumps({"built_since": str(since)})]
    command += ["--target-path", str(target), "--log-path", str(target / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0
    compiled = target / "compiled" / "grassroots" / "models" / "marts"
    view_test = next(compiled.glob("fct_village_branches.yml/unique_combination_*.sql"))
    assert "report_year in (2022)" in view_test.read_text()
    table_test = next(compiled.glob("fct_indicator_values.yml/unique_combination_*.sql"))
    assert f"built_at >= cast('{since}' as timestamptz)" in table_test.read_text()
