"""The nightly DAG, run for real by Airflow (`airflow dags test`) on the sample inbox, its
intake cut into batches of 100 files: several mapped load_batch tasks."""

from __future__ import annotations

import json
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from grassroots.cli import trigger_run
from grassroots.config import DEMO_INBOX, paths
from grassroots.intake import account
from grassroots.registry import Registry
from grassroots.reports.site import PageKey
from tests.conftest import reset_intake
from tests.e2e.demo_expectations import (
    EXPECTED_INDICATORS,
    EXPECTED_QUARANTINE,
    EXPECTED_WARNINGS,
)
from tests.smtp_server import MailSink, free_port

pytestmark = pytest.mark.e2e


def _fill_inbox():
    inbox = paths().inbox
    inbox.mkdir(parents=True, exist_ok=True)
    for source in DEMO_INBOX.iterdir():
        shutil.copy2(source, inbox / source.name)
    return inbox


def _snapshot(conn) -> dict:
    marts = conn.execute(
        "select indicator_code, geography, unit_level, unit_code, year, numerator, denominator,"
        " value, units_expected, units_reported from marts.fct_indicator_values"
        " order by 1, 2, 3, 4, 5"
    ).fetchall()
    raw = {
        table: conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
        for table in ("form_cb", "form_dv", "form_tc", "form_ct")
    }
    return {"marts": marts, "raw": raw}


@pytest.fixture(scope="module")
def smtp(warehouse):
    """A real SMTP server; the DAG reaches it through AIRFLOW_CONN_GRASSROOTS_SMTP."""
    from aiosmtpd.controller import Controller

    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ["AIRFLOW_CONN_GRASSROOTS_SMTP"] = json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": port,
         "extra": {"from_email": "grassroots@test.example"}}
    )  # fmt: skip
    yield sink
    controller.stop()
    os.environ.pop("AIRFLOW_CONN_GRASSROOTS_SMTP", None)


# The demo inbox (278 files) in three batches: three mapped load_batch tasks.
BATCH_SIZE = 100


@pytest.fixture(scope="module")
def small_batches():
    from grassroots.intake import BATCH_SIZE_ENV

    os.environ[BATCH_SIZE_ENV] = str(BATCH_SIZE)
    yield BATCH_SIZE
    os.environ.pop(BATCH_SIZE_ENV, None)


@pytest.fixture(scope="module")
def first_run(warehouse, smtp, small_batches):
    reset_intake(warehouse)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        conn.execute("truncate landing.overdue_alerts")  # K1 lists nothing twice
    inbox = _fill_inbox()
    assert trigger_run(inbox) == 0
    # Autocommit: an open read transaction would block dbt's table swaps in later runs.
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        yield conn


def test_every_file_is_accounted_for(first_run):
    counts = account(first_run)
    submitted = len(list(DEMO_INBOX.iterdir()))
    assert counts["received"] == 0
    assert counts["loaded"] + counts["quarantined"] + counts["superseded"] == submitted
    assert counts["quarantined"] == len(EXPECTED_QUARANTINE)
    assert list(paths().inbox.iterdir()) == []


def _batch_tasks(warehouse, run_id: str) -> list[tuple]:
    """The load_batch task instances of a run, from Airflow's own database."""
    url = warehouse.airflow_metadata_url().replace("postgresql+psycopg2://", "postgresql://")
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select map_index, state, rendered_map_index from task_instance"
            " where dag_id = 'nightly_submissions' and task_id = 'load_batch' and run_id = %s"
            " order by map_index",
            (run_id,),
        ).fetchall()


def test_the_intake_ran_as_several_mapped_batch_tasks_each_file_loaded_once(first_run, warehouse):
    (run_id,) = first_run.execute("select distinct run_id from landing.received_files").fetchone()
    submitted = len(list(DEMO_INBOX.iterdir()))
    tasks = _batch_tasks(warehouse, run_id)
    count = -(-submitted // BATCH_SIZE)
    assert [t[0] for t in tasks] == list(range(count)), tasks
    assert {t[1] for t in tasks} == {"success"}
    assert all(t[2].startswith("batch ") for t in tasks)  # named in the UI: "batch 1/3 (…)"
    # Each file loaded once: one final status per file.
    once = first_run.execute(
        "select count(*), count(distinct file_id) from landing.received_files"
        " where status in ('loaded', 'quarantined', 'superseded')"
    ).fetchone()
    assert once == (submitted, submitted)


@pytest.mark.parametrize("name", sorted(EXPECTED_QUARANTINE))
def test_broken_file_is_quarantined_with_its_rule_and_row(first_run, name):
    rule_id, row_number, column = EXPECTED_QUARANTINE[name]
    status, file_id = first_run.execute(
        "select status, file_id from landing.received_files where original_name = %s", (name,)
    ).fetchone()
    assert status == "quarantined"
    findings = first_run.execute(
        "select rule_id, row_number, column_name from landing.validation_findings"
        " where file_id = %s and severity = 'error'",
        (file_id,),
    ).fetchall()
    assert (rule_id, row_number, column) in findings or (
        column is None and any(f[0] == rule_id and f[1] == row_number for f in findings)
    ), findings
    kept = paths().quarantine / f"{file_id:08d}.reasons.txt"
    assert kept.exists() and rule_id in kept.read_text(encoding="utf-8")


@pytest.mark.parametrize("key", sorted(EXPECTED_INDICATORS, key=str))
def test_indicator_values_match_hand_computed(first_run, key):
    indicator, level, unit, year = key
    row = first_run.execute(
        "select value from marts.fct_indicator_values where indicator_code = %s"
        " and unit_level = %s and unit_code = %s and year = %s and geography = 'as_reported'",
        (indicator, level, unit, year),
    ).fetchone()
    assert row is not None, key
    assert round(Decimal(row[0]), 2) == Decimal(str(EXPECTED_INDICATORS[key]))


def _district_of(unit_code: str, period: str) -> str | None:
    if len(unit_code) == 3:
        return unit_code
    parent = (
        Registry.load()
        .commune_parents_in_year(pd.Series([unit_code]), pd.Series([int(period[:4])]))
        .iloc[0]
    )
    return parent if isinstance(parent, str) else None


def test_each_district_gets_one_digest_naming_its_files_rows_columns_and_rules(first_run, smtp):
    routing = {"183": "bantochuc.caoloc@langson.example.vn",
               "180": "bantochuc.trangdinh@langson.example.vn",
               "073": "bantochuc.chiemhoa@tuyenquang.example.vn",
               "027": "bantochuc.meovac@hagiang.example.vn"}  # fmt: skip
    quarantined = first_run.execute(
        "select f.original_name, f.unit_code, f.period, v.rule_id, v.row_number"
        " from landing.received_files f join landing.validation_findings v using (file_id)"
        " where f.status = 'quarantined' and v.severity = 'error'"
    ).fetchall()
    checked = 0
    for name, unit, period, rule_id, row_number in quarantined:
        district = _district_of(unit, period) if unit and period else None
        if district not in routing:
            continue
        messages = smtp.to(routing[district])
        assert len(messages) == 1, (district, len(messages))
        text = messages[0].text
        assert name in text and f"[{rule_id}," in text
        if row_number:
            assert f"dòng {row_number}" in text
        assert "cột “" in text or "cả tệp" in text
        checked += 1
    assert checked >= 10
    board = smtp.to("dulieu@bantochuc.example.vn")
    assert len(board) == 1 and "bị trả lại: 14" in board[0].text


def test_cross_check_warnings_are_stored_and_reach_the_district(first_run, smtp):
    warnings = first_run.execute(
        "select f.original_name, v.rule_id, v.row_number, v.column_name, f.status"
        " from landing.validation_findings v join landing.received_files f using (file_id)"
        " where v.rule_id ~ '^[XP]'"
    ).fetchall()
    assert {w[:4] for w in warnings} == EXPECTED_WARNINGS
    assert {w[4] for w in warnings} == {"loaded"}  # warnings never stop a file
    (digest,) = smtp.to("bantochuc.trangdinh@langson.example.vn")  # district 180
    for name, rule_id, row_number, _column in EXPECTED_WARNINGS:
        assert name in digest.text and f"[{rule_id}, cảnh báo] dòng {row_number}" in digest.text
    mart = first_run.execute(
        "select count(*), count(*) filter (where rule_family = 'P' and file_status = 'loaded')"
        " from marts.fct_validation_findings"
    ).fetchone()
    total = first_run.execute("select count(*) from landing.validation_findings").fetchone()[0]
    assert mart == (total, len(EXPECTED_WARNINGS))


def test_data_docs_are_built_for_the_run_and_linked(first_run, smtp):
    from grassroots.data_docs import docs_dir

    (run_id,) = first_run.execute("select distinct run_id from landing.received_files").fetchone()
    site = docs_dir(run_id)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "cross_checks" in index
    pages = list((site / "validations").rglob("*.html"))
    (cross_checks,) = [page for page in pages if "cross_checks" in page.parts]
    assert "P5" in cross_checks.read_text(encoding="utf-8")
    # Every intake batch shows its S/C results, one page per form and frame, under the
    # committed form suite; the demo inbox holds all four forms.
    intake = {page.name for page in pages if page is not cross_checks}
    assert all(re.fullmatch(r"intake_\d{9}_(cb|ct|dv|tc)_(files|rows)\.html", n) for n in intake)
    assert {name.split("_")[2] for name in intake} == {"cb", "ct", "dv", "tc"}
    (board,) = smtp.to("dulieu@bantochuc.example.vn")
    assert (site / "index.html").as_uri() in board.text


def test_overdue_units_reach_the_responsible_staff_and_the_board_summary(first_run, smtp):
    year, missing = first_run.execute(
        "select report_year, overdue_unit_codes from marts.fct_submission_completeness"
        " where scope_level = 'province' and scope_code = '20' and form_code = 'DV'"
        " and report_year = (select max(report_year) from marts.fct_submission_completeness"
        " where is_deadline_passed)"
    ).fetchone()
    assert missing  # the demo inbox holds no file for the latest closed year
    (lang_son,) = smtp.to("bantochuc@langson.example.vn")
    assert "Báo cáo quá hạn chưa nộp" in lang_son.text
    assert all(code in lang_son.text for code in missing)
    listed = first_run.execute(
        "select count(*) from landing.overdue_alerts where recipient = %s"
        " and form_code = 'DV' and period = %s",
        ("bantochuc@langson.example.vn", str(year)),
    ).fetchone()[0]
    assert listed == len(missing)
    (board,) = smtp.to("dulieu@bantochuc.example.vn")
    assert f"Tình hình nộp báo cáo năm {year}" in board.text


def test_the_night_rebuilds_the_report_site(first_run):
    assert (paths().reports / PageKey("as_reported", "district", "183").path).is_file()
    assert (paths().reports / PageKey("as_reported", "nation", "VN").path).is_file()


def test_rerun_with_the_same_files_changes_nothing(first_run, warehouse, smtp):
    before = _snapshot(first_run)
    counts_before = account(first_run)
    # The same night again with an empty inbox (a clean night: the summary only, linking
    # the nation's page the first night's site left; the first night's digests were built
    # beside that site, so whether they link it is a race) ...
    smtp.received.clear()
    assert trigger_run(paths().inbox) == 0
    assert [r.recipients for r in smtp.received] == [["dulieu@bantochuc.example.vn"]]
    nation = PageKey("as_reported", "nation", "VN").path
    assert paths().reports.resolve().as_uri() + "/" + nation in smtp.received[0].text
    # ... then every file delivered a second time.
    _fill_inbox()
    assert trigger_run(paths().inbox) == 0
    assert _snapshot(first_run) == before
    counts = account(first_run)
    submitted = len(list(DEMO_INBOX.iterdir()))
    assert counts["duplicate"] == submitted
    assert {k: v for k, v in counts.items() if k != "duplicate"} == {
        k: v for k, v in counts_before.items() if k != "duplicate"
    }


def test_a_night_without_new_figures_renders_no_page(first_run, warehouse):
    """report_site's result, from Airflow's XComs: the reruns above changed no figure,
    so the last night rendered no page again."""
    url = warehouse.airflow_metadata_url().replace("postgresql+psycopg2://", "postgresql://")
    with psycopg.connect(url) as conn:
        (last,) = conn.execute(
            "select value from xcom where dag_id = 'nightly_submissions'"
            " and task_id = 'report_site' and key = 'return_value'"
            " order by timestamp desc limit 1"
        ).fetchone()
    last = json.loads(last) if isinstance(last, str) else last
    assert last["pages"] > 100
    assert (last["pages_rebuilt"], last["pages_skipped"]) == (0, last["pages"])


def test_weekly_full_checks_catch_what_the_nightly_sliced_tests_skip(first_run):
    # A night tests only the rows it rebuilt; a duplicate left in a year no night
    # rebuilds (an old built_at) is found by the weekly run of every test on whole tables.
    from grassroots.cli import WEEKLY_CHECKS_DAG_ID

    assert trigger_run(None, verbose=False, dag_id=WEEKLY_CHECKS_DAG_ID) == 0
    # (A duplicate key cannot be planted: the key is a unique index; nor a row breaking a
    # rule of fct_indicator_values: those are CHECK constraints. A member count that does
    # not add up is a rule of the view fct_membership_movement, tested by reading rows.)
    key = first_run.execute(
        "update intermediate.int_dv_current set members_end = members_end + 1"
        " where ctid = (select ctid from intermediate.int_dv_current"
        " where report_year = (select min(report_year) from intermediate.int_dv_current)"
        " limit 1)"
        " returning file_id, source_row_number"
    ).fetchone()
    assert key
    try:
        assert trigger_run(None, verbose=False, dag_id=WEEKLY_CHECKS_DAG_ID) != 0
        log = sorted((paths().home / "logs").glob(f"{WEEKLY_CHECKS_DAG_ID}-*.log"))[-1]
        text = log.read_text(encoding="utf-8")
        assert "Failure in test expression_is_true_fct_membership_movement" in text
        assert text.count("Done. PASS=") == 1  # a failing data test is not retried
    finally:
        first_run.execute(
            "update intermediate.int_dv_current set members_end = members_end - 1"
            " where (file_id, source_row_number) = (%s, %s)",
            key,
        )


def _private_mode_problems(home) -> list[str]:
    """Entries under the state folder that another local user could read or enter."""
    from grassroots.files import PASSAGE_DIR_MODE

    passages = {home, home / "postgres"}
    problems, me = [], os.geteuid()
    for folder, dirs, files in os.walk(home):
        here = Path(folder)
        for name in [*dirs, *files]:
            entry = here / name
            info = entry.lstat()
            if entry.is_symlink():
                continue
            mode = info.st_mode & 0o777
            if info.st_uid != me:  # the embedded server's cluster (root runs it as nobody)
                if mode & 0o077:
                    problems.append(f"{entry} {oct(mode)} (uid {info.st_uid})")
                dirs[:] = [d for d in dirs if here / d != entry]
                continue
            allowed = PASSAGE_DIR_MODE if entry in passages else 0o700
            if mode & ~allowed & 0o077:
                problems.append(f"{entry} {oct(mode)}")
    return problems


def test_every_file_the_product_wrote_is_private(first_run):
    """Issue 17: after real nights (archive, quarantine, staging, Data Docs, validation
    results, digests, Airflow's logs and config, dbt's logs and copies), no entry of the
    state folder is readable by another local user, and such a user reads nothing."""
    import subprocess

    home = paths().home
    assert (home / "archive").exists() and (home / "quarantine").exists()
    assert (home / "data_docs").exists() and (home / "digests").exists()
    assert _private_mode_problems(home) == []
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root: the read attempt as another user must run there")
        pytest.skip("reading as another local user needs root (setpriv); CI runs it")
    stranger = ["setpriv", "--reuid=4242", "--regid=4242", "--clear-groups"]
    found = subprocess.run(
        [*stranger, "find", str(home), "-readable", "-type", "f"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.stdout == ""
    secrets = subprocess.run(
        [*stranger, "cat", str(paths().secrets), str(home / "postgres" / "server.json")],
        capture_output=True,
        check=False,
    )
    assert secrets.returncode != 0 and secrets.stdout == b""
