"""Intake against the real PostgreSQL and GX: register, validate, load, quarantine, supersede."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from grassroots import intake
from grassroots.config import DEMO_INBOX, paths
from grassroots.intake import loading  # load_batch is looked up there
from tests.conftest import REPO_ROOT, reset_intake

pytestmark = pytest.mark.integration

DV_HEADER = (
    "report_year,commune_code,population,members_start,admitted,transferred_in,"
    "transferred_out,deceased,expelled,removed,members_end,probationary_end\n"
)


def _dv(members_end: int, admitted: int = 5) -> str:
    start = members_end - admitted
    return DV_HEADER + f"2023,06193,12.345,{start},{admitted},0,0,0,0,0,{members_end},3\n"


def _run(conn, tmp_path, files: dict[str, str]) -> intake.IntakeSummary:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    for name, text in files.items():
        (inbox / name).write_text(text, encoding="utf-8")
    registered = intake.register(conn, intake.discover(inbox), paths().archive, "test")
    summary = intake.process_pending(conn, paths().quarantine, "test")
    summary.registered, summary.duplicates = registered.registered, registered.duplicates
    return summary


def test_good_file_loads_with_text_codes_and_parsed_numbers(empty_warehouse, tmp_path):
    with psycopg.connect(empty_warehouse.url()) as conn:
        summary = _run(conn, tmp_path, {"dv.csv": _dv(100)})
        assert (summary.loaded, summary.quarantined, summary.rows_loaded) == (1, 0, 1)
        row = conn.execute(
            "select commune_code, population, members_end from raw.form_dv"
        ).fetchone()
        assert row == ("06193", 12345, 100)
        status = conn.execute(
            "select status, form_code, unit_code, period from landing.received_files"
        ).fetchone()
        assert status == ("loaded", "DV", "06193", "2023")
    assert not (tmp_path / "inbox" / "dv.csv").exists()


def test_bad_file_is_quarantined_whole_with_reasons(empty_warehouse, tmp_path):
    bad = _dv(100).replace(",100,3", ",105,3")  # identity off by 5: C1
    with psycopg.connect(empty_warehouse.url()) as conn:
        summary = _run(conn, tmp_path, {"bad.csv": bad})
        assert (summary.loaded, summary.quarantined) == (0, 1)
        assert conn.execute("select count(*) from raw.form_dv").fetchone() == (0,)
        finding = conn.execute(
            "select rule_id, severity, row_number, column_name, value"
            " from landing.validation_findings"
        ).fetchone()
        assert finding == ("C1", "error", 2, "members_end", "105")
        file_id = conn.execute("select file_id from landing.received_files").fetchone()[0]
    assert (paths().quarantine / f"{file_id:08d}.csv").read_text(encoding="utf-8") == bad
    assert "C1" in (paths().quarantine / f"{file_id:08d}.reasons.txt").read_text(encoding="utf-8")


def test_same_bytes_twice_load_once_and_a_new_version_supersedes(empty_warehouse, tmp_path):
    with psycopg.connect(empty_warehouse.url()) as conn:
        _run(conn, tmp_path, {"v1.csv": _dv(100)})
        again = _run(conn, tmp_path, {"v1 copy.csv": _dv(100)})
        assert (again.registered, again.duplicates, again.loaded) == (0, 1, 0)
        _run(conn, tmp_path, {"v2.csv": _dv(120)})
        statuses = conn.execute(
            "select original_name, status from landing.received_files order by file_id"
        ).fetchall()
        assert statuses == [
            ("v1.csv", "superseded"),
            ("v1 copy.csv", "duplicate"),
            ("v2.csv", "loaded"),
        ]
        counts = intake.account(conn)
        assert sum(counts.values()) == 3 and counts["received"] == 0


def test_a_batch_analyzes_the_registry_only_when_the_planner_misjudges_it(
    empty_warehouse, tmp_path
):
    """A batch analyzes when the accepted receipts exceed the planner's estimate of them
    by over 10 %; a small night on statistics that are near enough does not pay it."""

    def analyzed_rows(conn) -> float:
        return conn.execute(
            "select reltuples from pg_class where oid = 'landing.received_files'::regclass"
        ).fetchone()[0]

    with psycopg.connect(empty_warehouse.url()) as conn:
        first = _run(conn, tmp_path, {f"v{n}.csv": _dv(100 + n) for n in range(12)})
        assert first.loaded == 12
        assert analyzed_rows(conn) == 12  # never analyzed before: analyzed first
        # 13 accepted against an estimate of 12: within 10 %, planned on the statistics.
        second = _run(conn, tmp_path, {"v12.csv": _dv(112)})
        assert (second.loaded, second.superseded) == (1, 1)
        assert analyzed_rows(conn) == 12
        # 15 accepted against an estimate of 12: over 10 %, analyzed with the new receipts.
        _run(conn, tmp_path, {"v13.csv": _dv(113), "v14.csv": _dv(114)})
        assert analyzed_rows(conn) == 15
        versions = conn.execute(
            "select count(*) filter (where status = 'loaded'), max(version)"
            " from landing.received_files"
        ).fetchone()
        assert versions == (1, 15)


def test_a_bulk_load_keeps_the_statistics_of_accepted_receipts_current(empty_warehouse, tmp_path):
    """A bulk load registers everything first, then processes it in batches that are each
    a small share of the registry: the statistics, taken while nothing was accepted yet,
    must still follow the accepted receipts (the national history's load took 212 s
    instead of 40 when no batch analyzed)."""

    accepted = "from landing.received_files where status in ('loaded', 'superseded')"

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(20):
        (inbox / f"v{n}.csv").write_text(_dv(100 + n), encoding="utf-8")
    with psycopg.connect(empty_warehouse.url()) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, "test")
        conn.execute("analyze landing.received_files")  # as autovacuum would: none accepted
        conn.commit()
        # Batches of 2 files: each a tenth of the registry's analyzed rows, or less.
        summary = intake.process_pending(conn, paths().quarantine, "test", batch_size=2, parallel=1)
        assert (summary.loaded, summary.superseded) == (20, 19)
        plan = conn.execute(f"explain (format json) select 1 {accepted}").fetchone()[0]
        estimated = plan[0]["Plan"]["Plan Rows"]
        counted = conn.execute(f"select count(*) {accepted}").fetchone()[0]
    assert counted == 20
    assert estimated >= 0.8 * counted  # not 1 row: the statistics saw the accepted files


def test_archive_is_content_addressed_and_read_only(empty_warehouse, tmp_path):
    with psycopg.connect(empty_warehouse.url()) as conn:
        _run(conn, tmp_path, {"x.csv": _dv(100)})
        sha, archived = conn.execute(
            "select sha256, archived_path from landing.received_files"
        ).fetchone()
    assert archived.endswith(sha) and "x.csv" not in archived
    # Read-only, and to the service user only: the archive holds every file ever sent.
    assert oct(os.stat(archived).st_mode)[-3:] == "400"


def test_an_archive_copy_left_incomplete_by_a_crash_is_replaced(empty_warehouse, tmp_path):
    # A crash between the in-place write and the batch's sync can leave a short copy
    # (and no receipt, so the file is still in the inbox): the next run must not trust it.
    import hashlib

    content = _dv(100).encode("utf-8")
    sha = hashlib.sha256(content).hexdigest()
    damaged = intake.archive_path(paths().archive, sha)
    damaged.parent.mkdir(parents=True, exist_ok=True)
    damaged.write_bytes(content[:20])
    damaged.chmod(0o444)
    with psycopg.connect(empty_warehouse.url()) as conn:
        summary = _run(conn, tmp_path, {"x.csv": _dv(100)})
    assert summary.loaded == 1
    assert damaged.read_bytes() == content
    assert oct(damaged.stat().st_mode)[-3:] == "400"
    assert not list(damaged.parent.glob("*.partial"))


def test_a_batch_the_database_refuses_is_loaded_in_halves(empty_warehouse, tmp_path, monkeypatch):
    """If the batch load fails, its halves load on their own, down to single files."""
    original = intake.load_batch
    calls = []

    def flaky(conn, parsed, result, run_id):
        calls.append(len(parsed))
        if len(parsed) > 1:
            raise psycopg.errors.SerializationFailure("simulated batch failure")
        return original(conn, parsed, result, run_id)

    monkeypatch.setattr(loading, "load_batch", flaky)
    files = {
        f"dv{i}.csv": _dv(100 + i).replace("06193", code)
        for i, code in enumerate(["06193", "06211"])
    }
    with psycopg.connect(empty_warehouse.url()) as conn:
        summary = _run(conn, tmp_path, files)
        assert calls == [2, 1, 1]
        assert summary.loaded == 2
        assert conn.execute("select count(*) from raw.form_dv").fetchone() == (2,)


def test_a_batch_whose_server_went_away_fails_without_splitting(
    empty_warehouse, tmp_path, monkeypatch
):
    """The batch's connection ended by the server (as when PostgreSQL dies mid-load): the
    attempt fails at once, for its retry, without loading halves on a dead connection."""
    original = intake.load_batch
    calls = []

    def cut_off(conn, parsed, result, run_id):
        calls.append(len(parsed))
        with psycopg.connect(empty_warehouse.url(), autocommit=True) as other:
            other.execute("select pg_terminate_backend(%s)", (conn.info.backend_pid,))
        return original(conn, parsed, result, run_id)

    monkeypatch.setattr(loading, "load_batch", cut_off)
    files = {
        f"dv{i}.csv": _dv(100 + i).replace("06193", code)
        for i, code in enumerate(["06193", "06211"])
    }
    with psycopg.connect(empty_warehouse.url()) as conn, pytest.raises(psycopg.OperationalError):
        _run(conn, tmp_path, files)
    assert calls == [2]
    with psycopg.connect(empty_warehouse.url()) as conn:
        assert intake.account(conn)["received"] == 2  # left for the retry


def test_versions_are_numbered_and_dated(empty_warehouse, tmp_path):
    with psycopg.connect(empty_warehouse.url()) as conn:
        _run(conn, tmp_path, {"v1.csv": _dv(100)})
        _run(conn, tmp_path, {"v2.csv": _dv(110)})
        _run(conn, tmp_path, {"v3.csv": _dv(120)})
        rows = conn.execute(
            "select original_name, version, status, loaded_at is not null,"
            " superseded_at is not null from landing.received_files order by file_id"
        ).fetchall()
    assert rows == [
        ("v1.csv", 1, "superseded", True, True),
        ("v2.csv", 2, "superseded", True, True),
        ("v3.csv", 3, "loaded", True, False),
    ]


def test_two_versions_in_one_batch_keep_only_the_newest_current(empty_warehouse, tmp_path):
    with psycopg.connect(empty_warehouse.url()) as conn:
        summary = _run(conn, tmp_path, {"a.csv": _dv(100), "b.csv": _dv(130)})
        assert summary.superseded == 1
        current = conn.execute(
            "select count(*) from landing.received_files where status = 'loaded'"
        ).fetchone()
    assert current == (1,)


def test_inbox_may_be_object_storage(empty_warehouse, tmp_path):
    """A file:// inbox goes through Airflow's ObjectStoragePath."""
    inbox = tmp_path / "bucket"
    inbox.mkdir()
    (inbox / "dv.csv").write_text(_dv(100), encoding="utf-8")
    found = intake.discover(f"file://{inbox}")
    assert [type(p).__name__ for p in found] == ["ObjectStoragePath"]
    with psycopg.connect(empty_warehouse.url()) as conn:
        registered = intake.register(conn, found, paths().archive, "object-storage")
        intake.process_pending(conn, paths().quarantine, "object-storage")
        assert registered.registered == 1
        assert conn.execute("select status from landing.received_files").fetchone() == ("loaded",)
    assert list(inbox.iterdir()) == []


def test_each_batch_commits_on_its_own(empty_warehouse, tmp_path, monkeypatch):
    """A failure in batch 2 leaves batch 1 loaded: progress is kept, not one long transaction."""
    original = intake.load_batch
    calls = []

    def fail_second(conn, parsed, result, run_id):
        calls.append(parsed[0].file_id)
        if len(calls) == 2:
            raise RuntimeError("simulated crash in the second batch")
        return original(conn, parsed, result, run_id)

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, code in enumerate(["06193", "06211"]):
        (inbox / f"dv{i}.csv").write_text(_dv(100 + i).replace("06193", code), encoding="utf-8")
    monkeypatch.setattr(loading, "load_batch", fail_second)
    with psycopg.connect(empty_warehouse.url()) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, "t")
        with pytest.raises(RuntimeError):
            intake.process_pending(conn, paths().quarantine, "t", batch_size=1, parallel=1)
        conn.rollback()
    with psycopg.connect(empty_warehouse.url()) as other:
        statuses = dict(
            other.execute("select file_id, status from landing.received_files").fetchall()
        )
    first, second = calls
    assert statuses == {first: "loaded", second: "received"}


def test_plan_batches_gives_each_batch_the_same_mix_in_a_descriptor_of_a_few_numbers():
    import json

    files = list(range(1, 10_001))

    def sizes(plan):
        return [b.files for b in plan]

    def members(plan):
        return [[f for f in files if b.takes(f)] for b in plan]

    # One batch at a time: batches of about batch_size (a hash deals them).
    assert len(intake.plan_batches(files, 4_000, parallel=1)) == 3
    # Two at once, fewer files than one batch: split in two so both cores work.
    assert len(intake.plan_batches(files, 25_000, parallel=2)) == 2
    # Too few files to be worth a second batch: one batch.
    assert sizes(intake.plan_batches(files[:3_000], 25_000, parallel=2)) == [3_000]
    planned = intake.plan_batches(files, 3_000, parallel=2)
    assert all(2_300 < n < 2_700 for n in sizes(planned))  # about equal
    dealt = members(planned)
    assert [len(m) for m in dealt] == sizes(planned)
    assert sorted(f for batch in dealt for f in batch) == files  # each file in one batch
    # Shuffled: files alternating between two forms (odd: CB, even: DV) are not dealt
    # by form; the plan is the same on every run and on every worker.
    assert all(0.45 < sum(f % 2 for f in batch) / len(batch) < 0.55 for batch in dealt)
    assert intake.plan_batches(files, 3_000, parallel=2) == planned
    assert intake.plan_batches([], 25_000, parallel=2) == []
    # A descriptor is a few numbers whatever the batch's size (an XCom, not a file list).
    descriptor = planned[0].as_dict()
    assert len(json.dumps(descriptor)) < 120
    assert intake.Batch.of(json.loads(json.dumps(descriptor))) == planned[0]


def test_batch_size_and_parallel_batches_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(intake.BATCH_SIZE_ENV, "7")
    monkeypatch.setenv(intake.PARALLEL_ENV, "3")
    assert (intake.batch_size(), intake.parallel_batches()) == (7, 3)
    assert len(intake.plan_batches(list(range(1, 71)))) == 10
    monkeypatch.delenv(intake.BATCH_SIZE_ENV)
    monkeypatch.delenv(intake.PARALLEL_ENV)
    assert (intake.batch_size(), intake.parallel_batches()) == (
        intake.BATCH_SIZE,
        intake.PARALLEL_BATCHES,
    )


def _outcome(conn) -> dict:
    return {
        "files": conn.execute(
            "select original_name, status, form_code, unit_code, period, version"
            " from landing.received_files order by original_name"
        ).fetchall(),
        "rows": [
            conn.execute(f"select count(*) from raw.form_{form}").fetchone()[0]
            for form in ("cb", "dv", "tc", "ct")
        ],
        "findings": conn.execute(
            "select f.original_name, v.rule_id, v.severity, v.row_number, v.column_name,"
            " v.value, v.message_en from landing.validation_findings as v"
            " join landing.received_files as f using (file_id)"
            " order by 1, 2, 4 nulls first, 5, 6, 7"
        ).fetchall(),
    }


def test_several_batches_give_the_same_result_as_one(warehouse, tmp_path):
    """Batches of 25 load exactly what one batch loads (statuses, versions, findings)."""
    sample = sorted(DEMO_INBOX.iterdir())[:60] + sorted(DEMO_INBOX.glob("broken_*"))
    outcomes = {}
    for size in (None, 25):
        reset_intake(warehouse)
        inbox = tmp_path / f"inbox{size}"
        inbox.mkdir()
        for source in sample:
            (inbox / source.name).write_bytes(source.read_bytes())
        timings: dict[str, float] = {}
        with psycopg.connect(warehouse.url()) as conn:
            intake.register(conn, intake.discover(inbox), paths().archive, "w")
            summary = intake.process_pending(
                conn, paths().quarantine, "w", batch_size=size, timings=timings
            )
            assert timings["batches"] == (1 if size is None else 3)
            assert summary.loaded + summary.quarantined + summary.superseded > 0
            outcomes[size] = (_outcome(conn), sorted(os.listdir(paths().quarantine)))
    assert outcomes[25] == outcomes[None]
    assert outcomes[None][0]["findings"]  # the sample holds broken files


def _batch_workers(run_id: str, *batch_lists) -> list[subprocess.Popen]:
    """One process per list of batches, each running them as load_batch tasks do."""
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tests.batch_worker", run_id]
            + [json.dumps(b.as_dict()) for b in batches],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for batches in batch_lists
    ]


def test_batches_loading_at_once_number_the_versions_of_one_key_by_arrival(
    empty_warehouse, tmp_path
):
    """Eight batches of versions of the same report, loaded by two processes at once (as
    two workers take mapped tasks): versions follow arrival, whichever batch commits
    first; one stays current."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for number in range(40):
        path = inbox / f"v{number:02d}.csv"
        path.write_text(_dv(100 + number), encoding="utf-8")
        os.utime(path, (1_700_000_000 + number, 1_700_000_000 + number))
    with psycopg.connect(empty_warehouse.url()) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, "versions")
        batches = intake.plan_pending(conn, paths().quarantine, size=5, parallel=2)
    assert len(batches) == 8
    workers = _batch_workers("versions", batches[0::2], batches[1::2])
    summaries = []
    for worker in workers:
        out, _ = worker.communicate(timeout=600)
        assert worker.returncode == 0
        summaries += [json.loads(line) for line in out.splitlines()]
    assert sum(s["loaded"] for s in summaries) == 40
    assert sum(s["superseded"] for s in summaries) >= 1
    with psycopg.connect(empty_warehouse.url()) as conn:
        rows = conn.execute(
            "select original_name, version, status from landing.received_files order by file_id"
        ).fetchall()
        current = conn.execute(
            "select members_end from raw.form_dv join landing.received_files using (file_id)"
            " where status = 'loaded'"
        ).fetchall()
    assert rows == [
        (f"v{n:02d}.csv", n + 1, "loaded" if n == 39 else "superseded") for n in range(40)
    ]
    assert current == [(139,)]


def test_the_task_path_starts_no_process(empty_warehouse, tmp_path, monkeypatch):
    """plan_batches, load_batch and intake_summary (the DAG's functions) run in the
    task's own process: nothing forks or starts a pool (fragile in a Celery worker)."""
    import multiprocessing.process

    from grassroots import pipeline

    def forbidden(*args, **kwargs):
        raise AssertionError("a process was started inside a task")

    monkeypatch.setattr(os, "fork", forbidden)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", forbidden)
    monkeypatch.setenv(intake.BATCH_SIZE_ENV, "2")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, code in enumerate(["06193", "06211", "06214", "06217", "06220"]):
        (inbox / f"dv{i}.csv").write_text(_dv(100 + i).replace("06193", code), encoding="utf-8")
    dsn = empty_warehouse.url()
    pipeline.register_files(dsn, pipeline.discover_inbox(str(inbox)), "no-fork")
    planned = pipeline.plan_intake(dsn)
    assert len(planned) >= 2
    summary = pipeline.sum_intake([pipeline.load_intake_batch(dsn, b, "no-fork") for b in planned])
    assert (summary["loaded"], summary["batches"]) == (5, len(planned))
    with psycopg.connect(dsn) as conn:
        assert intake.account(conn)["loaded"] == 5
