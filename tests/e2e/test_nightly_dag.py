"""The nightly DAG, run for real by Airflow (`airflow dags test`) on the sample inbox."""

from __future__ import annotations

import shutil
from decimal import Decimal

import psycopg
import pytest

from grassroots.cli import trigger_run
from grassroots.config import DEMO_INBOX, paths
from grassroots.intake import account
from tests.conftest import reset_intake
from tests.e2e.demo_expectations import EXPECTED_INDICATORS, EXPECTED_QUARANTINE

pytestmark = pytest.mark.e2e


def _fill_inbox():
    inbox = paths().inbox
    inbox.mkdir(parents=True, exist_ok=True)
    for source in DEMO_INBOX.iterdir():
        shutil.copy2(source, inbox / source.name)
    return inbox


def _snapshot(conn) -> dict:
    marts = conn.execute(
        "select indicator_code, unit_level, unit_code, year, numerator, denominator, value,"
        " units_expected, units_reported from marts.fct_indicator_values order by 1, 2, 3, 4"
    ).fetchall()
    raw = {
        table: conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
        for table in ("form_cb", "form_dv", "form_tc", "form_ct")
    }
    return {"marts": marts, "raw": raw}


@pytest.fixture(scope="module")
def first_run(warehouse):
    reset_intake(warehouse)
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


def test_rerun_with_the_same_files_changes_nothing(first_run, warehouse):
    before = _snapshot(first_run)
    counts_before = account(first_run)
    # The same night again with an empty inbox, then every file delivered a second time.
    assert trigger_run(paths().inbox) == 0
    _fill_inbox()
    assert trigger_run(paths().inbox) == 0
    assert _snapshot(first_run) == before
    counts = account(first_run)
    submitted = len(list(DEMO_INBOX.iterdir()))
    assert counts["duplicate"] == submitted
    assert {k: v for k, v in counts.items() if k != "duplicate"} == {
        k: v for k, v in counts_before.items() if k != "duplicate"
    }
