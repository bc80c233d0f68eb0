"""Issue 3: a nightly dbt build costs what changed, not the size of the warehouse.

Three reporting years (2022-2024) of two communes are loaded and built in full. Then:
* a night with no new file rebuilds nothing: every incremental model keeps its built_at,
  the incremental models compile to `where false`, and the data tests read only the rows
  built in this run (none);
* a night that changes 2023 rebuilds 2023 (and 2024 in fct_indicator_values, whose
  changes against earlier years depend on 2023) and keeps 2022 as it was;
* a new version of one commune's report rewrites that commune's rows and the district,
  province and nation rows, keeps the other commune's, and leaves fct_indicator_values
  equal to a full rebuild.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from grassroots import intake
from grassroots.config import DBT_PROJECT_DIR, paths
from grassroots.runtime import run_tool, runtime_env
from tests.integration.test_cross_checks import cb, dv, tc
from tests.integration.test_marts_reform import CT_HEADER

pytestmark = pytest.mark.integration

INCREMENTAL = {
    "intermediate.int_cb_current": "report_year",
    "intermediate.int_dv_current": "report_year",
    "intermediate.int_tc_current": "report_year",
    "intermediate.int_indicator_components": "year",
    "marts.fct_indicator_values_villages": "year",
    "marts.fct_indicator_values_rolled_up": "year",
    "marts.fct_indicator_lineage": "year",
}
# The two tables behind the view fct_indicator_values, built at once.
FIV_TABLES = ("marts.fct_indicator_values_villages", "marts.fct_indicator_values_rolled_up")
ROLLED_UP = "fct_indicator_values_rolled_up"


def _row_test(compiled_models: Path) -> Path:
    """The compiled data test of fct_indicator_values_rolled_up that reads its rows (its
    year's relationship to dim_year; the others check the catalog)."""
    (test,) = [
        path
        for path in (compiled_models / "marts" / f"{ROLLED_UP}.yml").glob("relationships_*.sql")
        if "dim_year" in path.read_text()
    ]
    return test


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
            f"tc_183_{year}.csv": tc(
                year,
                "183",
                [
                    ("06193", "commune", members, "good", ""),
                    ("06196", "commune", members // 3, "excellent", ""),
                ],
            ),
        }
        for commune, size in (("06193", members), ("06196", members // 3)):
            files[f"dv_{commune}_{year}.csv"] = dv(year, commune, size)
            files[f"cb_{commune}_{year}.csv"] = cb(
                year, commune, [(1, size // 2, "good"), (2, 5, "completed")]
            )
        for name, text in files.items():
            (inbox / name).write_text(text, encoding="utf-8")
    # Congress-term targets: two past terms of 06193 and the running one of today's 06211.
    for term, commune in (("2015-2020", "06193"), ("2020-2025", "06193"), ("2025-2030", "06211")):
        (inbox / f"ct_{commune}_{term}.csv").write_text(
            f"{CT_HEADER}{term},{commune},admissions,3,per_year,at_least\n", encoding="utf-8"
        )
    conn = psycopg.connect(warehouse.url(), autocommit=True)
    intake.register(conn, intake.discover(inbox), paths().archive, "dbt_night")
    assert intake.process_pending(conn, paths().quarantine, "dbt_night").loaded == 18
    _build(warehouse, tmp / "full", "--full-refresh")
    yield conn, tmp
    conn.close()


def test_full_build_has_the_three_years_and_built_at_indexes(night):
    conn, _ = night
    state = _built_at(conn)
    for fiv_table in FIV_TABLES:
        assert {year for table, year in state if table == fiv_table} == {2022, 2023, 2024}
    for table in INCREMENTAL:
        schema, name = table.split(".")
        indexed = conn.execute(
            "select count(*) from pg_indexes where schemaname = %s and tablename = %s"
            " and indexdef like '%%(built_at)'",
            (schema, name),
        ).fetchone()[0]
        assert indexed == 1, table
    # A full build wrote every row: analyzed, not vacuumed (nothing to reclaim); the
    # year partitions with it.
    maintenance = _maintenance(conn)
    assert [maintenance[table] for table in FIV_TABLES] == [(0, 1), (0, 1)]
    partitions = {key: counts for key, counts in maintenance.items() if "@" in key}
    assert len(partitions) > 40
    assert {f"{table}@2023" for table in FIV_TABLES} <= partitions.keys()
    assert set(partitions.values()) == {(0, 1)}


@pytest.mark.parametrize("table", FIV_TABLES)
def test_indicator_values_are_partitioned_by_year_out_of_the_analysts_sight(night, table):
    conn, _ = night
    kind, partitions = conn.execute(
        "select parent.relkind, array_agg(distinct child.relnamespace::regnamespace::text)"
        " from pg_inherits as link join pg_class as parent on parent.oid = link.inhparent"
        " join pg_class as child on child.oid = link.inhrelid"
        " where parent.oid = %s::regclass group by 1",
        (table,),
    ).fetchone()
    assert (kind, partitions) == ("p", ["marts_partitions"])
    # A year's rows sit in that year's partition: a night touches only its years.
    located = conn.execute(f"select year, count(distinct tableoid) from {table} group by 1")
    assert {year: tables for year, tables in located} == {2022: 1, 2023: 1, 2024: 1}


def test_the_view_holds_each_row_of_its_two_tables_once(night):
    conn, _ = night
    counts = [
        conn.execute(f"select count(*) from {relation}").fetchone()[0]
        for relation in ("marts.fct_indicator_values", *FIV_TABLES)
    ]
    assert counts[0] == counts[1] + counts[2] and counts[1] > 0 and counts[2] > 0
    # A question above the village reads only the rolled-up table: the village table's
    # CHECK (unit_level = 'village') excludes it from the plan.
    plan = "\n".join(
        line
        for (line,) in conn.execute(
            "explain select * from marts.fct_indicator_values where unit_level = 'district'"
        )
    )
    assert "fct_indicator_values_villages" not in plan and ROLLED_UP in plan


def _maintenance(conn) -> dict[str, tuple[int, int]]:
    """Incremental table -> (manual vacuums, manual analyzes) since it was created; the
    year partitions of the tables of fct_indicator_values as `<table>@<year>`."""
    counts = {
        f"{schema}.{name}": (vacuums, analyzes)
        for schema, name, vacuums, analyzes in conn.execute(
            "select schemaname, relname, vacuum_count, analyze_count from pg_stat_user_tables"
            " where schemaname || '.' || relname = any(%s)",
            (list(INCREMENTAL),),
        )
    }
    for table, bound, vacuums, analyzes in conn.execute(
        "select link.inhparent::regclass::text, pg_get_expr(child.relpartbound, child.oid),"
        " stats.vacuum_count, stats.analyze_count from pg_inherits as link"
        " join pg_class as child on child.oid = link.inhrelid"
        " join pg_stat_user_tables as stats on stats.relid = child.oid"
        " where link.inhparent::regclass::text = any(%s)",
        (list(FIV_TABLES),),
    ):
        year = bound.split("(")[1].split(")")[0] if "FROM" in bound else "default"
        counts[f"{table}@{year}"] = (vacuums, analyzes)
    return counts


@pytest.mark.parametrize("table", FIV_TABLES)
def test_indicator_key_is_a_unique_index_that_rejects_a_duplicate(night, table):
    conn, _ = night
    (indexdef,) = conn.execute(
        "select indexdef from pg_indexes where schemaname || '.' || tablename = %s"
        " and indexdef like 'CREATE UNIQUE%%'",
        (table,),
    ).fetchone()
    assert indexdef.endswith("(unit_code, indicator_code, geography, unit_level, year)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(f"insert into {table} select * from {table} limit 1")


def test_the_rows_above_the_commune_have_their_own_index(night):
    # One indicator for every district: a partial index of the rolled-up table.
    conn, _ = night
    (partial,) = conn.execute(
        "select indexdef from pg_indexes where schemaname = 'marts'"
        " and tablename = %s and indexdef like '%% WHERE %%'",
        (ROLLED_UP,),
    ).fetchone()
    assert "(indicator_code, unit_level, geography, unit_code, year)" in partial
    assert "district" in partial


def test_idle_night_rebuilds_nothing_and_tests_no_rows(warehouse, night):
    conn, tmp = night
    before = _built_at(conn)
    maintained = _maintenance(conn)
    target = tmp / "idle"
    results = _build(warehouse, target)
    assert _built_at(conn) == before
    # Nothing written: no table vacuumed or analyzed again (13 M rows: 6 s a night).
    assert _maintenance(conn) == maintained
    rows = {
        r["unique_id"].split(".")[-1]: r["adapter_response"].get("rows_affected")
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }
    assert rows["fct_indicator_values_villages"] == rows[ROLLED_UP] == 0
    assert rows["int_cb_current"] == 0
    assert rows["fct_submission_versions"] == 0
    # No registry row changed is_current since the last build, no unit was sent.
    assert rows["dim_unit"] == 0
    # The registry's tables hold this calendar year already: nothing to add.
    assert rows["int_unit_years"] == rows["int_unit_lineage"] == 0
    assert rows["int_expected_submissions"] == 0
    # No version loaded or superseded: no submission, no congress term selected again.
    assert rows["int_current_submissions"] == rows["fct_term_targets"] == 0
    # Nor the running congress term: this year's lineage is as it was.
    assert rows["mart_targets"] == 0
    # The build years were resolved at run time: nothing changed, so the filter is false.
    assert "year in (" not in _compiled(target, "fct_indicator_values")
    assert "where false" in _compiled(target, "fct_indicator_values")
    # Data tests of the incremental models read only this run's rows (built_at index);
    # the views over them only the years built in this run (none: `where false`).
    tests = target / "compiled" / "grassroots" / "models"
    assert "built_at >= cast(" in _row_test(tests).read_text()
    # The wide marts pivot only the long rows written since their own last build: none.
    assert rows["mart_membership"] == rows["mart_ratings"] == rows["mart_village_branches"] == 0
    assert "and built_at > cast(" in _compiled(target, "mart_membership")
    # Tables rebuilt in full (not incremental) are still tested in full.
    dim = next(tests.glob("marts/dim_year.yml/*.sql"))
    assert "built_at" not in dim.read_text()


_BUILDS = (
    "select command, whole_project, succeeded from landing.dbt_builds"
    " order by finished_at desc limit %s"
)


def test_night_scope_follows_the_recorded_builds_and_the_files(warehouse, night):
    """dbt's on-run-end hook records each build; a night with no file changed since the
    newest complete build of the whole project selects only what follows the date."""
    from grassroots.dbt_scope import DATE_ONLY, night_scope
    from grassroots.orchestration import NIGHTLY_DBT_FLAGS

    conn, tmp = night
    # The full refresh and the idle night above: whole project, nothing failed.
    assert conn.execute(_BUILDS, (2,)).fetchall() == [("build", True, True)] * 2
    assert night_scope(conn).select == DATE_ONLY
    # That night's build: the models reading today's date and their tests, recorded as
    # not the whole project (it leaves the next night's decision as it was).
    results = _build(warehouse, tmp / "scoped", *NIGHTLY_DBT_FLAGS, "--select", *DATE_ONLY)
    models = {r["unique_id"] for r in results["results"] if r["unique_id"].startswith("model.")}
    assert models == {"model.grassroots.dim_unit", "model.grassroots.fct_submission_completeness"}
    assert {r["status"] for r in results["results"]} == {"success", "pass"}
    assert conn.execute(_BUILDS, (1,)).fetchone() == ("build", False, True)
    assert night_scope(conn).select == DATE_ONLY

    # A file received, loaded or superseded since: the whole project.
    for column in ("received_at", "loaded_at", "superseded_at"):
        with conn.transaction(force_rollback=True):
            conn.execute(
                f"update landing.received_files set {column} = now()"
                " where file_id = (select min(file_id) from landing.received_files)"
            )
            scope = night_scope(conn)
            assert scope.whole and scope.reason.startswith("1 file changes since"), column

    # A build that failed is not complete: a file loaded before it still counts.
    with conn.transaction(force_rollback=True):
        conn.execute(
            "update landing.received_files set loaded_at = (select max(started_at)"
            " from landing.dbt_builds where whole_project and succeeded) + interval '1 ms'"
            " where file_id = (select min(file_id) from landing.received_files)"
        )
        conn.execute(
            "insert into landing.dbt_builds"
            " (invocation_id, command, whole_project, succeeded, started_at)"
            " values ('failed', 'build', true, false, now())"
        )
        assert night_scope(conn).whole
    # The hook records a failed build as such.
    conn.execute(
        "insert into raw.form_cb select file_id, 999, report_year, commune_code, village_code,"
        " village_name, branch_status, host_village_code, members, 'bogus' from raw.form_cb"
        " where file_id = (select min(file_id) from raw.form_cb) and row_number = 2"
    )
    try:
        command = ["dbt", "build", "--select", "stg_form_cb", *NIGHTLY_DBT_FLAGS]
        # (built_since: a night that started before the file was loaded reads its rows.)
        command += ["--vars", json.dumps({"built_since": "2000-01-01"})]
        command += ["--target-path", str(tmp / "failed")]
        assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) != 0
    finally:
        conn.execute("delete from raw.form_cb where row_number = 999")
    assert conn.execute(_BUILDS, (1,)).fetchone() == ("build", False, False)

    # A new calendar year since the last complete build: the whole project (the models
    # tagged follows_year add the year).
    with conn.transaction(force_rollback=True):
        conn.execute("update landing.dbt_builds set started_at = started_at - interval '1 year'")
        scope = night_scope(conn)
        assert scope.whole and scope.reason.startswith("the calendar year changed")
    # No complete build recorded (a new warehouse): the whole project.
    with conn.transaction(force_rollback=True):
        conn.execute("update landing.dbt_builds set succeeded = false")
        assert night_scope(conn).reason == "no complete build of the whole project recorded"
    assert night_scope(conn).select == DATE_ONLY


REGISTRY_YEARS = {
    "intermediate.int_unit_years": "year",
    "intermediate.int_unit_lineage": "year",
    "intermediate.int_expected_submissions": "report_year",
}


def _registry_years(conn) -> dict[str, list[tuple]]:
    """Registry table -> its rows (built_at left out), sorted."""
    return {
        table: sorted(
            conn.execute(f"select to_jsonb(t) - 'built_at' from {table} as t").fetchall(),
            key=str,
        )
        for table in REGISTRY_YEARS
    }


def test_registry_tables_add_only_a_new_calendar_year(warehouse, night):
    # Tables that follow the registry and the calendar: as if built last December (the
    # newest year missing), the night adds that year and leaves the others alone.
    conn, tmp = night
    before = _registry_years(conn)
    newest = {}
    for table, column in REGISTRY_YEARS.items():
        newest[table] = conn.execute(f"select max({column}) from {table}").fetchone()[0]
        conn.execute(f"delete from {table} where {column} = %s", (newest[table],))
    kept = {
        table: conn.execute(f"select count(*), max(built_at) from {table}").fetchone()
        for table in REGISTRY_YEARS
    }
    results = _build(warehouse, tmp / "new_year")
    rows = {
        r["unique_id"].split(".")[-1]: r["adapter_response"].get("rows_affected")
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }
    assert _registry_years(conn) == before
    for table, column in REGISTRY_YEARS.items():
        count, built = kept[table]
        added = conn.execute(
            f"select count(*), min({column}), max({column}) from {table} where built_at > %s",
            (built,),
        ).fetchone()
        assert added[1:] == (newest[table], newest[table]), table
        assert added[0] == rows[table.split(".")[1]] == len(before[table]) - count, table


def test_staging_tests_read_the_files_of_this_run_only(warehouse, night):
    # A night's staging tests read the rows of the files it received, loaded or
    # superseded (the DAG passes its start as built_since); earlier nights tested the
    # rest, and the weekly check reads everything.
    conn, tmp = night
    (file_id, loaded_at) = conn.execute(
        "select file_id, loaded_at from landing.received_files"
        " where form_code = 'CB' and status = 'loaded' order by file_id limit 1"
    ).fetchone()
    conn.execute(
        "insert into raw.form_cb select file_id, 999, report_year, commune_code,"
        " village_code, village_name, branch_status, host_village_code, members, 'bogus'"
        " from raw.form_cb where file_id = %s and row_number = 2",
        (file_id,),
    )

    def staging_build(name: str, since) -> int:
        command = ["dbt", "build", "--select", "stg_form_cb", "--target-path", str(tmp / name)]
        # As the night runs it: without unit tests (they read fixtures, not rows).
        command += ["--exclude-resource-type", "unit_test"]
        command += ["--vars", json.dumps({"built_since": since.isoformat()})]
        return run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR)

    try:
        # The file was loaded before this "run" started: its rows are not read.
        assert staging_build("staging_later", loaded_at + timedelta(seconds=1)) == 0
        compiled = (tmp / "staging_later" / "compiled").rglob("stg_form_cb.yml/*.sql")
        # (enforced_unique and enforced_not_null read the catalog, not rows.)
        tests = [path for path in compiled if not path.name.startswith("enforced_")]
        assert len(tests) == 3
        assert all("changed_files.received_at >" in path.read_text() for path in tests)
        # A run that started before the load reads them and finds the bad rating.
        assert staging_build("staging_earlier", loaded_at - timedelta(seconds=1)) != 0
    finally:
        conn.execute("delete from raw.form_cb where file_id = %s and row_number = 999", (file_id,))


def test_finding_tests_read_the_findings_written_in_this_run(warehouse, night):
    # A cross check of tonight may write a finding about a file loaded long ago: the
    # findings' tests slice on when the finding was written, not on its file.
    conn, tmp = night
    (file_id,) = conn.execute(
        "select min(file_id) from landing.received_files where status = 'loaded'"
    ).fetchone()
    (finding_id, written_at) = conn.execute(
        "insert into landing.validation_findings (file_id, rule_id, severity, message_vi,"
        " message_en) values (%s, 'Z1', 'warning', 'thử', 'test')"
        " returning finding_id, created_at",
        (file_id,),
    ).fetchone()

    def findings_build(name: str, since) -> int:
        command = ["dbt", "build", "--select", "fct_validation_findings"]
        command += ["--target-path", str(tmp / name)]
        command += ["--vars", json.dumps({"built_since": since.isoformat()})]
        return run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR)

    try:
        assert findings_build("findings_later", written_at + timedelta(seconds=1)) == 0
        compiled = list((tmp / "findings_later" / "compiled").rglob("*.yml/*.sql"))
        assert compiled
        assert all("created_at >= cast(" in path.read_text() for path in compiled)
        # Written after the run started: read, and its rule family Z is refused.
        assert findings_build("findings_earlier", written_at - timedelta(seconds=1)) != 0
    finally:
        conn.execute("delete from landing.validation_findings where finding_id = %s", (finding_id,))


def test_one_year_night_rebuilds_that_year_and_keeps_the_others(warehouse, night):
    conn, tmp = night
    before = _built_at(conn)
    maintained = _maintenance(conn)
    values_before = conn.execute(
        "select indicator_code, geography, unit_level, unit_code, year, value,"
        " change_vs_previous_year from marts.fct_indicator_values order by 1, 2, 3, 4, 5"
    ).fetchall()
    conn.execute(
        "update landing.received_files set loaded_at = now() where period = '2023'"
        " and loaded_at is not null"
    )
    target = tmp / "one_year"
    _build(warehouse, target)
    after = _built_at(conn)
    assert after.keys() == before.keys()
    kept = {key for key in after if after[key] == before[key]}
    # Whole years (fct_indicator_values: the partitions of the changed communes and the
    # upper levels; the communes that sent nothing keep their rows, see the last test).
    rebuilt = {key for key in after if after[key][1] > before[key][2]}
    touched = {key for key in after if after[key][2] > before[key][2]}
    assert {key for key in rebuilt | kept if key[0] not in FIV_TABLES} == {
        key for key in after if key[0] not in FIV_TABLES
    }
    # (The village table holds only villages that reported: each rewritten year whole.)
    assert {key for key in rebuilt if key[0] not in FIV_TABLES} == {
        (table, 2023) for table in INCREMENTAL if table not in FIV_TABLES
    }
    for fiv_table in FIV_TABLES:
        assert {year for table, year in touched if table == fiv_table} == {2023, 2024}
        assert (fiv_table, 2022) in kept
    # Rows were replaced: every table analyzed once more, the marts by vacuum (analyze);
    # of fct_indicator_values only the partitions of the years rewritten, not its parent.
    after_maintenance = _maintenance(conn)
    assert after_maintenance.keys() == maintained.keys()
    for table, (vacuums, analyzes) in maintained.items():
        if table.startswith("marts.fct_indicator_values"):
            rewritten = table.split("@")[-1] in {"2023", "2024"}
            assert after_maintenance[table] == (vacuums + rewritten, analyzes + rewritten), table
        else:
            vacuumed = table.startswith("marts.")
            assert after_maintenance[table] == (vacuums + vacuumed, analyzes + 1), table
    # Output years: 2023 and the two after; inputs from two years before.
    compiled = _compiled(target, "fct_indicator_values")
    assert "year in (2023, 2024, 2025)" in compiled
    assert "year in (2021, 2022, 2023, 2024, 2025)" in compiled
    # Its delete named the years of the rows it replaced (each key starts with its year),
    # so it read those partitions only.
    for fiv_table in FIV_TABLES:
        executed = target / "run" / "grassroots" / "models" / "marts" / f"{fiv_table[6:]}.sql"
        assert "DBT_INTERNAL_DEST.year in (2023, 2024)" in executed.read_text()
    # Same content as before: the incremental rebuild equals what the full build made.
    values_after = conn.execute(
        "select indicator_code, geography, unit_level, unit_code, year, value,"
        " change_vs_previous_year from marts.fct_indicator_values order by 1, 2, 3, 4, 5"
    ).fetchall()
    assert values_after == values_before
    # The wide marts replaced the rows of the partitions rewritten: 2023 and 2024.
    rewritten_years = conn.execute(
        "select array_agg(distinct year order by year) from marts.mart_membership"
        " where built_at > (select max(built_at) from marts.fct_indicator_values_rolled_up)"
    ).fetchone()[0]
    assert rewritten_years == [2023, 2024]


def _by_first_column(conn, query: str) -> dict:
    """first column -> the rest of its row."""
    return {row[0]: row[1:] for row in conn.execute(query)}


def _term_builds(conn) -> dict[str, tuple]:
    """congress_term -> (rows, min built_at, max built_at) of mart_targets."""
    return _by_first_column(
        conn,
        "select congress_term, count(*), min(built_at), max(built_at)"
        " from marts.mart_targets group by 1",
    )


def _targets(conn) -> list[tuple]:
    return conn.execute(
        "select geography, unit_level, unit_code, congress_term, indicator_code, basis,"
        " target_value, term_target, years_reported, actual_value, progress_pct, is_met,"
        " is_derived from marts.mart_targets order by 1, 2, 3, 4, 5, 6"
    ).fetchall()


def test_targets_rebuild_the_units_a_night_touches_and_equal_a_full_build(warehouse, night):
    conn, tmp = night
    before = _term_builds(conn)
    assert set(before) == {"2015-2020", "2020-2025", "2025-2030"}
    # A resent 2015-2020 CT: that term alone. The running term maps its targets through
    # this year's lineage, which no night rewrites but a new calendar year's (or a
    # registry rebuild): 2020-2025 and 2025-2030 keep their rows.
    conn.execute("update landing.received_files set loaded_at = now() where period = '2015-2020'")
    target = tmp / "ct_night"
    _build(warehouse, target)
    assert "congress_term in ('2015-2020')" in _compiled(target, "mart_targets")
    after_ct = _term_builds(conn)
    assert after_ct["2015-2020"][1] > before["2015-2020"][2]
    for term in ("2020-2025", "2025-2030"):
        assert after_ct[term] == before[term], term
    # A changed 2023: targets of the terms within two years of it (2020-2025, 2025-2030),
    # of the units whose rows of 2023-2025 were rebuilt; none of 2015-2020.
    conn.execute(
        "update landing.received_files set loaded_at = now() where period = '2023'"
        " and loaded_at is not null"
    )
    _build(warehouse, tmp / "year_night")
    after_year = _term_builds(conn)
    assert after_year["2015-2020"] == after_ct["2015-2020"]
    for term in ("2020-2025", "2025-2030"):
        assert after_year[term][2] > after_ct[term][2], term
    # One commune's 2023 file again: of the communes' targets, only that commune's are
    # rewritten (as reported; on today's boundaries, its current commune's).
    (commune,) = conn.execute(
        "select targets.unit_code from marts.mart_targets as targets"
        " inner join landing.received_files as files on targets.unit_code = files.unit_code"
        " where targets.geography = 'as_reported' and targets.unit_level = 'commune'"
        " and targets.congress_term = '2020-2025' and files.period = '2023'"
        " and files.form_code in ('CB', 'DV') and files.loaded_at is not null"
        " order by 1 limit 1"
    ).fetchone()
    (stamp,) = conn.execute("select max(built_at) from marts.mart_targets").fetchone()
    conn.execute(
        "update landing.received_files set loaded_at = now() where period = '2023'"
        " and unit_code = %s and loaded_at is not null",
        (commune,),
    )
    _build(warehouse, tmp / "commune_night")
    rewritten = conn.execute(
        "select distinct geography, unit_code from marts.mart_targets"
        " where built_at > %s and unit_level = 'commune'",
        (stamp,),
    ).fetchall()
    assert {code for geography, code in rewritten if geography == "as_reported"} == {commune}
    successors = conn.execute(
        "select current_commune_code from intermediate.int_unit_lineage"
        " where unit_level = 'commune' and unit_code = %s",
        (commune,),
    ).fetchall()
    assert {code for geography, code in rewritten if geography == "current"} <= {
        code for (code,) in successors
    }
    # The incremental table holds what a full rebuild makes.
    incremental = _targets(conn)
    assert any(row[9] is not None for row in incremental)  # 2022-2024 actuals reached it
    _build(warehouse, tmp / "targets_full", "--select", "mart_targets", "--full-refresh")
    assert _targets(conn) == incremental


def test_full_tests_var_tests_whole_relations(warehouse, night):
    _, tmp = night
    target = tmp / "full_tests"
    command = ["dbt", "test", "--select", ROLLED_UP, "--exclude", "test_type:unit"]
    command += ["--target-path", str(target), "--log-path", str(target / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0
    fiv_test = _row_test(target / "compiled" / "grassroots" / "models").read_text()
    assert "built_at" not in fiv_test
    assert "dbt_subquery" not in fiv_test


@pytest.mark.parametrize("given_in", ["environment", "vars"])
def test_built_since_slices_the_tests_of_a_dag_run(warehouse, night, given_in):
    """The DAG passes its run's start as built_since (in the environment; by hand, --vars
    too): in the modes that run one `dbt build` per model, a view's tests then see what
    its base table built in an earlier task (2023 here, the one-year night above), and
    detached `dbt test` tasks are sliced the same way."""
    conn, tmp = night
    since = conn.execute("select max(built_at) from intermediate.int_cb_current").fetchone()[0]
    target = tmp / f"built_since_{given_in}"
    env = runtime_env(warehouse)
    command = ["dbt", "test", "--select", "fct_village_branches", ROLLED_UP]
    command += ["--exclude", "test_type:unit"]
    if given_in == "vars":
        command += ["--vars", json.dumps({"built_since": str(since)})]
    else:
        env["GRASSROOTS_DBT_BUILT_SINCE"] = str(since)
    command += ["--target-path", str(target), "--log-path", str(target / "logs")]
    assert run_tool(command, env, cwd=DBT_PROJECT_DIR) == 0
    compiled = target / "compiled" / "grassroots" / "models" / "marts"
    view_test = next(compiled.glob("fct_village_branches.yml/unique_combination_*.sql"))
    assert "report_year in (2023)" in view_test.read_text()
    table_test = _row_test(compiled.parent)
    assert f"built_at >= cast('{since}' as timestamptz)" in table_test.read_text()


def test_a_new_night_start_needs_no_new_parse(warehouse, tmp_path):
    """Each night passes another start: dbt must reuse its parse of the project (partial
    parsing), not parse every file again, as it does when the command's vars change."""
    target = tmp_path / "target"
    command = ["dbt", "parse", "--target-path", str(target), "--log-path", str(tmp_path)]
    parsed = []
    for night in ("2026-01-01T01:00:00+07:00", "2026-01-02T01:00:00+07:00"):
        env = {**runtime_env(warehouse), "GRASSROOTS_DBT_BUILT_SINCE": night}
        assert run_tool(command, env, cwd=DBT_PROJECT_DIR) == 0
        perf = json.loads((target / "perf_info.json").read_text())
        parsed.append(perf["parsed_path_count"])
    assert parsed[0] > 100 and parsed[1] == 0, parsed


def _indicator_rows(conn) -> dict[tuple, tuple]:
    """Key -> (value, change, coverage, partition, built_at) of every fct_indicator_values row."""
    return {
        row[:5]: row[5:]
        for row in conn.execute(
            "select indicator_code, geography, unit_level, unit_code, year, value,"
            " change_vs_previous_year, units_reported, units_expected, build_partition,"
            " built_at from marts.fct_indicator_values"
        )
    }


def _resend(conn, inbox: Path, name: str, text: str) -> None:
    """One new version of a submission, received and loaded (no dbt build)."""
    inbox.mkdir()
    (inbox / name).write_text(text, encoding="utf-8")
    intake.register(conn, intake.discover(inbox), paths().archive, inbox.name)
    assert intake.process_pending(conn, paths().quarantine, inbox.name).loaded == 1


def test_a_resent_commune_rewrites_its_partitions_and_equals_a_full_build(warehouse, night):
    conn, tmp = night
    before = _indicator_rows(conn)
    # 06193 sends 2022 again with more members: its 2022 value and the changes of 2023
    # and 2024 (member growth two years on reads 2022 through the 2023 growth) move.
    _resend(conn, tmp / "resend", "dv_06193_2022_v2.csv", dv(2022, "06193", 80))
    target = tmp / "resend_build"
    _build(warehouse, target, "--select", "+fct_indicator_values")
    after = _indicator_rows(conn)
    assert after.keys() == before.keys()
    rewritten = {key for key in after if after[key][-1] != before[key][-1]}
    partitions = {after[key][-2] for key in rewritten}
    assert partitions == {
        f"{year}:{partition}"
        for year in (2022, 2023, 2024)
        # 06193 belongs to today's 06211 (Cao Lộc) since the 2025 reform
        for partition in ("as_reported:06193", "current:06211", "as_reported", "current")
    }
    # The other commune (today's 06196, Ba Sơn) and its villages were not touched.
    assert not {key for key in rewritten if key[3].startswith("06196")}
    growth = ("member_growth_pct", "as_reported", "commune", "06193")
    assert after[(*growth, 2023)][0] != before[(*growth, 2023)][0]
    assert after[(*growth, 2024)][1] != before[(*growth, 2024)][1]
    # The incremental result is what a full rebuild makes of the same submissions.
    incremental = {key: row[:-1] for key, row in after.items()}
    full = ("--select", "fct_indicator_values_villages", ROLLED_UP, "fct_indicator_values")
    _build(warehouse, tmp / "resend_full", *full, "--full-refresh")
    assert {key: row[:-1] for key, row in _indicator_rows(conn).items()} == incremental


def _versions(conn) -> dict[int, tuple]:
    """file_id -> (form, unit, period, version, is_current, built_at)."""
    return _by_first_column(
        conn,
        "select file_id, form_code, unit_code, period, submission_version, is_current,"
        " built_at from marts.fct_submission_versions",
    )


def test_versions_rewrite_every_version_of_the_touched_submissions_only(warehouse, night):
    conn, tmp = night
    before = _versions(conn)
    text = cb(2024, "06196", [(1, 20, "good"), (2, 5, "excellent")])
    _resend(conn, tmp / "versions", "cb_06196_2024_v2.csv", text)
    _build(warehouse, tmp / "versions_build", "--select", "fct_submission_versions")
    after = _versions(conn)
    rewritten = {
        file_id
        for file_id, row in after.items()
        if file_id not in before or row[-1] != before[file_id][-1]
    }
    # Both versions of the resent CB and of the DV resent by the test above (its build
    # did not select this model), nothing else.
    touched = {(row[0], row[1], row[2]) for file_id, row in after.items() if file_id in rewritten}
    assert touched == {("CB", "06196", "2024"), ("DV", "06193", "2022")}
    assert rewritten == {
        file_id for file_id, row in after.items() if (row[0], row[1], row[2]) in touched
    }
    resent = sorted(row[3:5] for row in after.values() if row[:3] == ("CB", "06196", "2024"))
    assert resent == [(1, False), (2, True)]
    incremental = {file_id: row[:-1] for file_id, row in after.items()}
    _build(
        warehouse, tmp / "versions_full", "--select", "fct_submission_versions", "--full-refresh"
    )
    assert {file_id: row[:-1] for file_id, row in _versions(conn).items()} == incremental


def _units(conn) -> dict[str, tuple]:
    """dim_unit: unit_key -> (its columns but built_at, built_at)."""
    return {
        key: (row, built)
        for key, row, built in conn.execute(
            "select unit_key, to_jsonb(u) - 'built_at', built_at from marts.dim_unit as u"
        )
    }


def test_units_rebuild_the_villages_a_night_names_and_equal_a_full_build(warehouse, night):
    conn, tmp = night
    before = _units(conn)
    # 06196 sends 2024 again without village 002 and with a new village 003.
    text = cb(2024, "06196", [(1, 30, "good"), (3, 4, "good")])
    _resend(conn, tmp / "units", "cb_06196_2024_v3.csv", text)
    _build(warehouse, tmp / "units_build", "--select", "+dim_unit")
    after = _units(conn)
    rewritten = {key for key in after if key not in before or after[key][1] != before[key][1]}
    # The villages of both versions, and nothing else (no registry row changed
    # is_current since the last build, the same day).
    assert rewritten == {"village:06196-001:", "village:06196-002:", "village:06196-003:"}
    assert after.keys() == before.keys() | {"village:06196-003:"}
    left_out = after["village:06196-002:"][0]
    assert (left_out["last_seen_year"], left_out["valid_to"]) == (2023, "2023-12-31")
    assert after["village:06196-003:"][0]["first_seen_year"] == 2024
    # The incremental result is what a full rebuild makes of the same submissions.
    _build(warehouse, tmp / "units_full", "--select", "dim_unit", "--full-refresh")
    assert {key: row for key, (row, _) in _units(conn).items()} == {
        key: row for key, (row, _) in after.items()
    }


def _current_submissions(conn) -> dict[tuple, tuple]:
    """int_current_submissions: (form, unit, period) -> (its columns but built_at, built_at)."""
    return {
        (form, unit, period): (row, built)
        for form, unit, period, row, built in conn.execute(
            "select form_code, unit_code, period, to_jsonb(c) - 'built_at', built_at"
            " from intermediate.int_current_submissions as c"
        )
    }


def _term_targets(conn) -> list[tuple]:
    return conn.execute(
        "select congress_term, unit_code, indicator_code, basis, target_value, file_id,"
        " built_at from marts.fct_term_targets order by 1, 2, 3, 4"
    ).fetchall()


def test_current_versions_and_targets_rewrite_the_touched_keys_and_equal_a_full_build(
    warehouse, night
):
    conn, tmp = night
    models = ("--select", "int_current_submissions", "fct_term_targets")
    _build(warehouse, tmp / "current_sync", *models)  # whatever earlier tests left unbuilt
    before, targets_before = _current_submissions(conn), _term_targets(conn)
    # 06193 sends its 2020-2025 targets again: version 2, a new admissions target.
    text = f"{CT_HEADER}2020-2025,06193,admissions,4,per_year,at_least\n"
    _resend(conn, tmp / "targets_v2", "ct_06193_2020-2025_v2.csv", text)
    _build(warehouse, tmp / "current_build", *models)
    after = _current_submissions(conn)
    assert after.keys() == before.keys()
    rewritten = {key for key in after if after[key][1] != before[key][1]}
    assert rewritten == {("CT", "06193", "2020-2025")}
    current = after[("CT", "06193", "2020-2025")][0]
    assert current["versions_received"] == 2
    assert current["file_id"] != before[("CT", "06193", "2020-2025")][0]["file_id"]
    # fct_term_targets: 06193's 2020-2025 targets rewritten from the new version, the
    # other submissions' rows kept.
    targets_after = _term_targets(conn)
    assert [row for row in targets_after if row[0] != "2020-2025"] == [
        row for row in targets_before if row[0] != "2020-2025"
    ]
    resent = [row for row in targets_after if row[0] == "2020-2025"]
    assert [(row[1], row[4], row[5]) for row in resent] == [("06193", 4, current["file_id"])]
    assert all(row[6] > max(r[6] for r in targets_before) for row in resent)
    # Both incremental tables hold what a full rebuild makes.
    _build(warehouse, tmp / "current_full", *models, "--full-refresh")
    assert {key: row for key, (row, _) in _current_submissions(conn).items()} == {
        key: row for key, (row, _) in after.items()
    }
    assert [row[:-1] for row in _term_targets(conn)] == [row[:-1] for row in targets_after]


WIDE_MARTS = ("mart_membership", "mart_ratings", "mart_village_branches")


def _wide_rows(conn) -> dict[str, dict[tuple, tuple]]:
    """mart -> key -> (row as json without built_at, built_at) of the wide marts."""
    return {
        mart: {
            row[:4]: row[4:]
            for row in conn.execute(
                "select geography, unit_level, unit_code, year, to_jsonb(m) - 'built_at',"
                f" built_at from marts.{mart} as m"
            )
        }
        for mart in WIDE_MARTS
    }


def test_wide_marts_rewrite_the_long_table_partitions_and_equal_a_full_build(warehouse, night):
    conn, tmp = night
    marts = [f"+{mart}" for mart in WIDE_MARTS]
    # Everything they read in step first (the tests above build parts of the project);
    # last in this module, so its resent file reaches no other test.
    _build(warehouse, tmp / "wide_marts", "--select", *marts)
    before = _wide_rows(conn)
    # 06196 sends its village branches of 2023 again, with other sizes and ratings.
    _resend(conn, tmp / "resend_cb", "cb_06196_2023_v2.csv", cb(2023, "06196", [(1, 9, "good")]))
    _build(warehouse, tmp / "resend_cb_build", "--select", *marts)
    after = _wide_rows(conn)
    for mart in WIDE_MARTS:
        built_before = {key: row[1] for key, row in before[mart].items()}
        rewritten = {key for key, row in after[mart].items() if row[1] != built_before.get(key)}
        partitions = {after[mart][key][0]["build_partition"] for key in rewritten}
        # The commune's partitions (as reported, and today's commune) and the upper
        # levels, of 2023 and the two years after that the build covers.
        assert "2023:as_reported:06196" in partitions, mart
        assert not {p for p in partitions if p.split(":")[0] < "2023"}, mart
        assert not {key for key in rewritten if key[2].startswith("06193")}, mart
    incremental = {mart: {k: row[0] for k, row in after[mart].items()} for mart in WIDE_MARTS}
    _build(warehouse, tmp / "resend_cb_full", "--select", *WIDE_MARTS, "--full-refresh")
    full = _wide_rows(conn)
    assert {mart: {k: row[0] for k, row in full[mart].items()} for mart in WIDE_MARTS} == (
        incremental
    )


def test_declared_not_null_columns_are_constraints_and_their_test_can_fail(warehouse, night):
    # A mart's enforced_not_null columns are NOT NULL in its table (the marts' post-hook):
    # PostgreSQL rejects a null; the test reads the catalog and fails when one is not.
    # (Last: its partial `dbt run` is a recorded build the scope test above would see.)
    conn, tmp = night
    with pytest.raises(psycopg.errors.NotNullViolation):
        conn.execute("insert into marts.mart_targets (geography) values (null)")

    def enforced(name: str, *command: str) -> int:
        command = [*command, "--target-path", str(tmp / name), "--log-path", str(tmp / name)]
        return run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR)

    test = ("dbt", "test", "--select", "mart_targets,test_name:enforced_not_null")
    conn.execute("alter table marts.mart_targets alter column basis drop not null")
    try:
        assert enforced("nullable", *test) != 0
    finally:
        # The post-hook of the next build of the model makes it NOT NULL again.
        assert enforced("restored", "dbt", "run", "--select", "mart_targets") == 0
    assert enforced("enforced", *test) == 0


def test_declared_rules_are_check_constraints_and_their_test_can_fail(warehouse, night):
    # The enforced_check rules of fct_indicator_values' tables are CHECK constraints of
    # each table (the marts' post-hook): PostgreSQL rejects a row that breaks one; the
    # test reads the catalog and fails when the constraint is gone. (After the not-null
    # test, for the same reason: its `dbt run` is a recorded build.)
    conn, tmp = night
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            f"update marts.{ROLLED_UP} set units_reported = units_expected + 1"
            f" where ctid = (select ctid from marts.{ROLLED_UP}"
            " where unit_level = 'commune' limit 1)"
        )
    (name,) = conn.execute(
        "select conname from pg_constraint"
        f" where conrelid = 'marts.{ROLLED_UP}'::regclass and contype = 'c'"
        " and pg_get_constraintdef(oid) like '%units_reported <= units_expected%'"
    ).fetchone()

    def checked(label: str, *command: str) -> int:
        command = [*command, "--target-path", str(tmp / label), "--log-path", str(tmp / label)]
        return run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR)

    test = ("dbt", "test", "--select", f"{ROLLED_UP},test_name:enforced_check")
    conn.execute(f"alter table marts.{ROLLED_UP} drop constraint {name}")
    try:
        assert checked("unchecked", *test) != 0
    finally:
        # The post-hook of the next build of the model adds it again.
        assert checked("rechecked", "dbt", "run", "--select", ROLLED_UP) == 0
    assert checked("checked", *test) == 0
