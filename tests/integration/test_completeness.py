"""K1: the completeness mart built by dbt on the real registry, and its digest lines.

Expected counts are recomputed here straight from the registry seed (communes in force
on 31 December), independently of the dbt models: district 183 (Cao Lộc, Lạng Sơn) to
2024, province 20 (Lạng Sơn) from 2025. Commune 06190 (Bảo Lâm) was merged into 06184
(Đồng Đăng) on 2025-07-01: expected for 2024 under district 183, not for 2025.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg
import pytest

from grassroots import intake
from grassroots.alerts import build_digests
from grassroots.config import DBT_PROJECT_DIR, SEEDS_DIR, paths
from grassroots.overdue import mark_overdue_listed
from grassroots.runtime import run_tool, runtime_env
from tests.integration.test_cross_checks import cb, dv, tc

pytestmark = pytest.mark.integration

LANG_SON = "bantochuc@langson.example.vn"
CAO_LOC = "bantochuc.caoloc@langson.example.vn"


def _communes_in_force(parent: str, day: str) -> set[str]:
    table = pd.read_csv(SEEDS_DIR / "registry" / "ref_communes.csv", dtype=str)
    table = table[table.parent_code == parent]
    starts = table.valid_from.fillna("0000-00-00") <= day
    ends = table.valid_to.fillna("9999-12-31") >= day
    return set(table[starts & ends].code)


def _dbt(warehouse, tmp_path, select: str, as_of: str, deadline: str = "01-31") -> None:
    vars_ = f'{{"completeness_as_of": "{as_of}", "submission_deadline_month_day": "{deadline}"}}'
    command = ["dbt", "build", "--select", select, "--vars", vars_]
    command += ["--indirect-selection", "cautious"]
    command += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0


@pytest.fixture(scope="module")
def completeness(warehouse, tmp_path_factory):
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    tmp = tmp_path_factory.mktemp("k1")
    inbox = tmp / "inbox"
    inbox.mkdir()
    files = {
        "dv_06193_2024.csv": dv(2024, "06193", 100, admitted=0),
        "cb_06193_2024.csv": cb(2024, "06193", [(1, 50, "good"), (2, 50, "good")]),
        "tc_183_2024.csv": tc(2024, "183", [("06193", "commune", 100, "good", "")]),
        "dv_06184_2025.csv": dv(2025, "06184", 400, admitted=0),
    }
    for name, text in files.items():
        (inbox / name).write_text(text, encoding="utf-8")
    conn = psycopg.connect(warehouse.url(), autocommit=True)
    conn.execute("truncate landing.overdue_alerts")  # K1 lists nothing twice
    intake.register(conn, intake.discover(inbox), paths().archive, "k1")
    assert intake.process_pending(conn, paths().quarantine, "k1").loaded == 4
    received = {  # Vietnam time is UTC+7: 2025-01-31 23:30 there is on time.
        "dv_06193_2024.csv": "2025-01-31 16:30+00",
        "cb_06193_2024.csv": "2025-01-31 17:30+00",  # 1 February 00:30 in Hà Nội: late
        "tc_183_2024.csv": "2025-01-10 00:00+00",
        "dv_06184_2025.csv": "2026-01-20 00:00+00",
    }
    for name, at in received.items():
        conn.execute(
            "update landing.received_files set received_at = %s where original_name = %s",
            (at, name),
        )
    _dbt(warehouse, tmp, "+fct_submission_completeness", as_of="2026-03-01")
    yield conn, tmp
    conn.close()


def _row(conn, level, code, year, form) -> dict:
    cursor = conn.execute(
        "select * from marts.fct_submission_completeness where scope_level = %s"
        " and scope_code = %s and report_year = %s and form_code = %s",
        (level, code, year, form),
    )
    names = [c.name for c in cursor.description]
    row = cursor.fetchone()
    return dict(zip(names, row, strict=True)) if row else {}


def test_expected_units_come_from_the_registry_in_force_that_year(completeness):
    conn, _ = completeness
    cao_loc_2024 = _communes_in_force("183", "2024-12-31")
    lang_son_2025 = _communes_in_force("20", "2025-12-31")
    assert len(cao_loc_2024) == 22 and "06190" in cao_loc_2024
    assert "06184" in lang_son_2025 and "06190" not in lang_son_2025
    for form in ("CB", "DV"):
        assert _row(conn, "district", "183", 2024, form)["expected_count"] == 22
        assert _row(conn, "province", "20", 2025, form)["expected_count"] == len(lang_son_2025)
    assert _row(conn, "district", "183", 2024, "TC")["expected_count"] == 1
    assert _row(conn, "province", "20", 2025, "TC")["expected_count"] == 1
    # No district exists at the end of 2025: nothing is expected from 183 any more.
    assert _row(conn, "district", "183", 2025, "DV") == {}


def test_received_on_time_late_and_overdue(completeness):
    conn, _ = completeness
    dv_2024 = _row(conn, "district", "183", 2024, "DV")
    assert dv_2024["deadline"] == date(2025, 1, 31)
    assert (dv_2024["received_count"], dv_2024["on_time_count"], dv_2024["late_count"]) == (
        1,
        1,
        0,
    )
    assert dv_2024["overdue_count"] == 21
    assert float(dv_2024["reporting_rate"]) == pytest.approx(1 / 22, abs=1e-4)
    assert float(dv_2024["on_time_rate"]) == pytest.approx(1 / 22, abs=1e-4)
    assert "06190" in dv_2024["overdue_unit_codes"]  # merged in 2025, still owed 2024
    assert "06193" not in dv_2024["overdue_unit_codes"]
    cb_2024 = _row(conn, "district", "183", 2024, "CB")
    assert (cb_2024["received_count"], cb_2024["on_time_count"], cb_2024["late_count"]) == (
        1,
        0,
        1,
    )
    assert _row(conn, "district", "183", 2024, "TC")["on_time_count"] == 1
    dv_2025 = _row(conn, "province", "20", 2025, "DV")
    assert (dv_2025["received_count"], dv_2025["on_time_count"]) == (1, 1)
    assert "06184" not in dv_2025["overdue_unit_codes"]
    assert "06190" not in dv_2025["overdue_unit_codes"]
    assert dv_2025["overdue_count"] == dv_2025["expected_count"] - 1


def test_deadline_and_as_of_are_configurable(completeness, warehouse):
    conn, tmp = completeness
    try:
        # Deadline 1 March: the CB sent on 1 February is on time; as of 20 February
        # 2025 the 2024 deadline has not passed, so nothing of 2024 is overdue yet.
        _dbt(warehouse, tmp, "fct_submission_completeness", as_of="2025-02-20", deadline="03-01")
        cb_2024 = _row(conn, "district", "183", 2024, "CB")
        assert cb_2024["deadline"] == date(2025, 3, 1)
        assert (cb_2024["on_time_count"], cb_2024["overdue_count"]) == (1, 0)
        assert cb_2024["is_deadline_passed"] is False
    finally:
        _dbt(warehouse, tmp, "fct_submission_completeness", as_of="2026-03-01")


def test_a_settled_year_is_judged_again_only_when_its_files_change(completeness, warehouse):
    conn, tmp = completeness

    def builds() -> dict[int, object]:
        return dict(
            conn.execute(
                "select report_year, max(built_at) from marts.fct_submission_completeness"
                " group by 1"
            ).fetchall()
        )

    def content() -> list[tuple]:
        return conn.execute(
            "select to_jsonb(t) - 'built_at' from marts.fct_submission_completeness as t"
            " order by scope_level, scope_code, report_year, form_code"
        ).fetchall()

    before, rows = builds(), content()
    _dbt(warehouse, tmp, "fct_submission_completeness", as_of="2026-03-01")
    after = builds()
    # Every deadline up to 2025's (31 January 2026) had passed on 1 March 2026: those
    # years are settled and kept; later ones are judged again.
    assert {year for year in after if after[year] != before[year]} == {
        year for year in after if year >= 2026
    }
    conn.execute(
        "update landing.received_files set loaded_at = now()"
        " where original_name = 'cb_06193_2024.csv'"
    )
    _dbt(warehouse, tmp, "fct_submission_completeness", as_of="2026-03-01")
    again = builds()
    assert {year for year in again if again[year] != after[year]} == {2024} | {
        year for year in again if year >= 2026
    }
    assert content() == rows


def test_digest_lists_overdue_units_once_to_the_responsible_staff(completeness):
    conn, _ = completeness
    digests = {d.recipient: d for d in build_digests(conn, "k1", docs_link="file:///docs")}
    # 2025 is the latest closed year: provinces answer for it, Lạng Sơn lists its units.
    lang_son = digests[LANG_SON]
    assert "Báo cáo quá hạn chưa nộp" in lang_son.body
    dv_line = next(line for line in lang_son.body.splitlines() if "Biểu DV" in line)
    assert "năm 2025" in dv_line and "06184" not in dv_line and "06187" in dv_line
    cb_line = next(line for line in lang_son.body.splitlines() if "Biểu CB" in line)
    assert "06184 Xã Đồng Đăng" in cb_line
    assert ("DV", "06184", "2025") not in lang_son.overdue
    assert ("CB", "06184", "2025") in lang_son.overdue
    assert CAO_LOC not in digests  # no district answers for 2025
    board = digests["dulieu@bantochuc.example.vn"]
    assert "Tình hình nộp báo cáo năm 2025 (hạn nộp 31/01/2026)" in board.body
    assert "file:///docs" in board.body
    # Listed once: the next night the province gets nothing new, the board its summary.
    mark_overdue_listed(conn, list(digests.values()), "k1")
    again = build_digests(conn, "k1-next")
    assert [d.recipient for d in again] == ["dulieu@bantochuc.example.vn"]
