"""Rules X1-X4 and P1-P6 in the real warehouse: GX SQL expectations over the loaded files.

Each test loads, in one intake batch, a minimal file that breaks the rule and a minimal
one that keeps it (other communes or years), runs the cross checks for that run and
asserts the exact findings: rule, file, row as staff see it, column, value.
"""

from __future__ import annotations

import psycopg
import pytest

from grassroots import intake
from grassroots.config import paths
from grassroots.validation.cross_checks import run_cross_checks
from tests.conftest import reset_intake

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bare_warehouse():
    """The embedded warehouse only: these checks need neither Airflow nor dbt."""
    from grassroots.warehouse import Warehouse

    wh = Warehouse()
    was_running = wh.is_running()
    wh.start()
    yield wh
    if not was_running:  # leave a server the session's fixture started running
        wh.stop()


@pytest.fixture
def empty_warehouse(bare_warehouse):
    reset_intake(bare_warehouse)
    return bare_warehouse


DV_HEADER = (
    "report_year,commune_code,population,members_start,admitted,transferred_in,"
    "transferred_out,deceased,expelled,removed,members_end,probationary_end"
)
CB_HEADER = (
    "report_year,commune_code,village_code,village_name,branch_status,host_village_code,"
    "members,branch_rating"
)
TC_HEADER = (
    "report_year,district_code,org_code,org_name,org_type,members,subordinate_units,rating,"
    "rating_points"
)


def dv(year, commune, members_start, admitted=2, population=5000, members_end=None) -> str:
    end = members_start + admitted if members_end is None else members_end
    moved = end - members_start - admitted  # keep the C1 identity: transfers balance it
    tin, tout = (moved, 0) if moved >= 0 else (0, -moved)
    return (
        f"{DV_HEADER}\n{year},{commune},{population},{members_start},{admitted},{tin},"
        f"{tout},0,0,0,{end},1\n"
    )


def cb(year, commune, villages) -> str:
    """villages: (number, members, rating) with status independent."""
    lines = [CB_HEADER]
    for number, members, rating in villages:
        lines.append(
            f"{year},{commune},{commune}-{number:03d},Thôn {number},independent,,{members},{rating}"
        )
    return "\n".join(lines) + "\n"


def tc(year, district, rows) -> str:
    """rows: (org_code, org_type, members, rating, points or '')."""
    lines = [TC_HEADER]
    for org_code, org_type, members, rating, points in rows:
        lines.append(
            f"{year},{district},{org_code},Tổ chức {org_code},{org_type},{members},3,{rating},"
            f"{points}"
        )
    return "\n".join(lines) + "\n"


def _load(conn, tmp_path, files: dict[str, str], run_id: str) -> dict[str, int]:
    inbox = tmp_path / run_id
    inbox.mkdir()
    for name, text in files.items():
        (inbox / name).write_text(text, encoding="utf-8")
    intake.register(conn, intake.discover(inbox), paths().archive, run_id)
    summary = intake.process_pending(conn, paths().quarantine, run_id)
    assert summary.quarantined == 0, conn.execute(
        "select rule_id, message_en from landing.validation_findings where severity = 'error'"
    ).fetchall()
    return dict(
        conn.execute(
            "select original_name, file_id from landing.received_files where run_id = %s",
            (run_id,),
        ).fetchall()
    )


def _findings(conn, rule_id: str) -> set[tuple]:
    rows = conn.execute(
        "select f.original_name, v.row_number, v.column_name, v.value, v.severity"
        " from landing.validation_findings v join landing.received_files f using (file_id)"
        " where v.rule_id = %s",
        (rule_id,),
    ).fetchall()
    assert all(r[4] == "warning" for r in rows)
    return {r[:4] for r in rows}


def _night(warehouse, tmp_path, files, history=None) -> psycopg.Connection:
    """Load the history in a first run, tonight's files in a second, check the second."""
    conn = psycopg.connect(warehouse.url(), autocommit=True)
    if history:
        _load(conn, tmp_path, history, "history")
        run_cross_checks(warehouse.url(), "history", save_results=False)
        conn.execute("delete from landing.validation_findings")
    _load(conn, tmp_path, files, "tonight")
    run_cross_checks(warehouse.url(), "tonight")
    return conn


def test_x1_cb_members_must_add_up_to_dv(empty_warehouse, tmp_path):
    files = {
        "dv_bad.csv": dv(2023, "06193", 100, admitted=0),  # CB says 60: off by 40 %
        "cb_bad.csv": cb(2023, "06193", [(1, 30, "good"), (2, 30, "good")]),
        "dv_ok.csv": dv(2023, "06196", 100, admitted=0),  # CB says 101: within 2 %
        "cb_ok.csv": cb(2023, "06196", [(1, 50, "good"), (2, 51, "good")]),
    }
    conn = _night(empty_warehouse, tmp_path, files)
    assert _findings(conn, "X1") == {("dv_bad.csv", 2, "members_end", "100")}
    message = conn.execute(
        "select message_vi from landing.validation_findings where rule_id = 'X1'"
    ).fetchone()[0]
    assert "(60)" in message and "(100)" in message


def test_x1_a_cb_resent_alone_is_checked_against_the_accepted_dv(empty_warehouse, tmp_path):
    history = {"dv.csv": dv(2023, "06193", 100, admitted=0)}
    files = {"cb_bad.csv": cb(2023, "06193", [(1, 30, "good"), (2, 30, "good")])}
    conn = _night(empty_warehouse, tmp_path, files, history)
    assert _findings(conn, "X1") == {("cb_bad.csv", None, "members", "60")}


def test_x2_members_start_must_equal_last_years_end(empty_warehouse, tmp_path):
    history = {
        "dv_2022_a.csv": dv(2022, "06193", 98, admitted=2),  # ends 100
        "dv_2022_b.csv": dv(2022, "06196", 98, admitted=2),  # ends 100
    }
    files = {
        "dv_bad.csv": dv(2023, "06193", 97, admitted=3),  # starts 97, not 100
        "dv_ok.csv": dv(2023, "06196", 100, admitted=3),
    }
    conn = _night(empty_warehouse, tmp_path, files, history)
    assert _findings(conn, "X2") == {("dv_bad.csv", 2, "members_start", "97")}


def test_x3_commune_tc_row_must_match_its_dv(empty_warehouse, tmp_path):
    files = {
        "dv_a.csv": dv(2023, "06193", 100, admitted=0),
        "dv_b.csv": dv(2023, "06196", 100, admitted=0),
        "tc.csv": tc(
            2023,
            "183",
            [
                ("06193", "commune", 80, "good", ""),  # 20 % off
                ("06196", "commune", 101, "good", ""),  # within 2 %
                ("183-Q01", "military", 40, "good", ""),  # not a commune: no DV to match
            ],
        ),
    }
    conn = _night(empty_warehouse, tmp_path, files)
    assert _findings(conn, "X3") == {("tc.csv", 2, "members", "80")}


def test_x4_missing_and_new_villages_are_reported(empty_warehouse, tmp_path):
    history = {
        "cb_2022_a.csv": cb(2022, "06193", [(1, 10, "good"), (2, 10, "good")]),
        "cb_2022_b.csv": cb(2022, "06196", [(1, 10, "good"), (2, 10, "good")]),
    }
    files = {
        # village 002 disappeared (merged?), 003 appeared
        "cb_bad.csv": cb(2023, "06193", [(1, 10, "good"), (3, 10, "good")]),
        "cb_ok.csv": cb(2023, "06196", [(1, 10, "good"), (2, 11, "good")]),
    }
    conn = _night(empty_warehouse, tmp_path, files, history)
    assert _findings(conn, "X4") == {
        ("cb_bad.csv", None, "village_code", "06193-002"),
        ("cb_bad.csv", 3, "village_code", "06193-003"),
    }


def test_p1_member_growth_beyond_20_percent(empty_warehouse, tmp_path):
    history = {
        "dv_2022_a.csv": dv(2022, "06193", 100, admitted=0),
        "dv_2022_b.csv": dv(2022, "06196", 100, admitted=0),
        "tc_2022.csv": tc(2022, "183", [("183-Q01", "military", 50, "good", "")]),
    }
    files = {
        "dv_bad.csv": dv(2023, "06193", 100, admitted=1, members_end=125),  # +25 %
        "dv_ok.csv": dv(2023, "06196", 100, admitted=1, members_end=119),  # +19 %
        "tc.csv": tc(2023, "183", [("183-Q01", "military", 30, "good", "")]),  # -40 %
    }
    conn = _night(empty_warehouse, tmp_path, files, history)
    assert _findings(conn, "P1") == {
        ("dv_bad.csv", 2, "members_end", "125"),
        ("tc.csv", 2, "members", "30"),
    }


def test_p2_admissions_above_15_percent(empty_warehouse, tmp_path):
    files = {
        "dv_bad.csv": dv(2023, "06193", 100, admitted=16),
        "dv_ok.csv": dv(2023, "06196", 100, admitted=15),
    }
    conn = _night(empty_warehouse, tmp_path, files)
    assert _findings(conn, "P2") == {("dv_bad.csv", 2, "admitted", "16")}


def test_p3_members_above_25_percent_of_population(empty_warehouse, tmp_path):
    files = {
        "dv_bad.csv": dv(2023, "06193", 100, admitted=2, population=400),  # 25.5 %
        "dv_ok.csv": dv(2023, "06196", 100, admitted=0, population=400),  # 25 %
    }
    conn = _night(empty_warehouse, tmp_path, files)
    assert _findings(conn, "P3") == {("dv_bad.csv", 2, "members_end", "102")}


def test_p4_rating_two_steps_in_a_year_across_the_scale_change(empty_warehouse, tmp_path):
    history = {
        # 2017 is on the old scale: clean_strong maps to excellent, weak to not_completed.
        "cb_2017.csv": cb(2017, "06193", [(1, 10, "clean_strong"), (2, 10, "weak")]),
        "tc_2017.csv": tc(
            2017,
            "183",
            [("183-Q01", "military", 50, "good", ""), ("183-Q02", "police", 50, "good", "")],
        ),
    }
    files = {
        "cb.csv": cb(2018, "06193", [(1, 10, "completed"), (2, 10, "completed")]),
        "tc.csv": tc(
            2018,
            "183",
            [
                ("183-Q01", "military", 50, "not_completed", ""),
                ("183-Q02", "police", 50, "completed", ""),
            ],
        ),
    }
    conn = _night(empty_warehouse, tmp_path, files, history)
    assert _findings(conn, "P4") == {
        ("cb.csv", 2, "branch_rating", "completed"),  # excellent -> completed
        ("tc.csv", 2, "rating", "not_completed"),  # good -> not_completed
    }


def test_p5_outlier_on_the_units_own_series(empty_warehouse, tmp_path):
    history = {}
    for year, (a, b) in zip(range(2016, 2022), [(100, 100), (102, 101)] * 3, strict=True):
        history[f"dv_{year}_a.csv"] = dv(year, "06193", a - 2, admitted=2)
        history[f"dv_{year}_b.csv"] = dv(year, "06196", b - 2, admitted=2)
    files = {
        "dv_bad.csv": dv(2022, "06193", 100, admitted=2, members_end=160),
        "dv_ok.csv": dv(2022, "06196", 100, admitted=2, members_end=103),
    }
    conn = _night(empty_warehouse, tmp_path, files, history)
    assert _findings(conn, "P5") == {("dv_bad.csv", 2, "members_end", "160")}


def test_p5_constant_series_mad_zero(empty_warehouse, tmp_path):
    """MAD = 0: a change of one member is not an outlier, a doubling is."""
    history = {}
    for year in range(2016, 2022):
        history[f"a_{year}.csv"] = dv(year, "06193", 200, admitted=5)
        history[f"b_{year}.csv"] = dv(year, "06196", 200, admitted=5)
    files = {
        "a.csv": dv(2022, "06193", 200, admitted=6),  # admitted 6 after 5,5,5,5,5,5
        "b.csv": dv(2022, "06196", 200, admitted=5, members_end=410),  # 205 -> 410
    }
    conn = _night(empty_warehouse, tmp_path, files, history)
    assert _findings(conn, "P5") == {("b.csv", 2, "members_end", "410")}


def test_p5_and_year_on_year_rules_restart_the_series_at_a_2025_merger(empty_warehouse, tmp_path):
    """06184 (Đồng Đăng) absorbed four communes on 2025-07-01: its 2025 report is the
    first of a new series, not an outlier; 00859 kept its territory, so the same jump
    is flagged there."""
    history = {}
    for year in range(2019, 2025):
        history[f"merged_{year}.csv"] = dv(year, "06184", 100, admitted=0)
        history[f"kept_{year}.csv"] = dv(year, "00859", 100, admitted=0)
    files = {
        "merged_2025.csv": dv(2025, "06184", 480, admitted=0, population=40000),
        "kept_2025.csv": dv(2025, "00859", 480, admitted=0, population=40000),
    }
    conn = _night(empty_warehouse, tmp_path, files, history)
    assert _findings(conn, "P5") == {("kept_2025.csv", 2, "members_end", "480")}
    # X2 (start 480 vs last year's end 100) and P1 (+380 %) skip the merger too.
    assert _findings(conn, "X2") == {("kept_2025.csv", 2, "members_start", "480")}
    assert _findings(conn, "P1") == {("kept_2025.csv", 2, "members_end", "480")}


def test_p6_excellent_share_and_points_band(empty_warehouse, tmp_path):
    bad = [("183-Q01", "military", 50, "excellent", "95")] + [
        (f"183-Q{n:02d}", "agency", 50, "good", "80") for n in range(2, 5)
    ]  # 1 excellent of 4 good or above: 25 %
    bad.append(("183-Q05", "school", 50, "completed", "92.5"))  # completed is 50 to < 70
    ok = [("180-Q01", "military", 50, "excellent", "")] + [
        (f"180-Q{n:02d}", "agency", 50, "good", "70") for n in range(2, 6)
    ]  # 1 of 5: 20 %
    files = {"tc_bad.csv": tc(2023, "183", bad), "tc_ok.csv": tc(2023, "180", ok)}
    conn = _night(empty_warehouse, tmp_path, files)
    assert _findings(conn, "P6") == {
        ("tc_bad.csv", None, "rating", "1"),
        ("tc_bad.csv", 6, "rating_points", "92.5"),
    }


def test_rerunning_the_night_does_not_duplicate_findings(empty_warehouse, tmp_path):
    files = {"dv.csv": dv(2023, "06193", 100, admitted=16, population=400)}
    conn = _night(empty_warehouse, tmp_path, files)
    count = "select rule_id, count(*) from landing.validation_findings group by 1 order by 1"
    before = conn.execute(count).fetchall()
    assert before == [("P2", 1), ("P3", 1)]
    run_cross_checks(empty_warehouse.url(), "tonight")
    assert conn.execute(count).fetchall() == before


def test_validation_results_are_kept_for_data_docs(empty_warehouse, tmp_path, monkeypatch):
    import great_expectations.util

    from grassroots.validation import stored_results
    from grassroots.validation.cross_run import RESULTS_NAME

    # GX converts a Decimal after inspecting the whole call stack (56 s for a national
    # night in an Airflow task): the stored figures must reach it as floats already.
    def no_stack_inspection():
        raise AssertionError("GX converted a Decimal itself")

    monkeypatch.setattr(great_expectations.util, "stack", no_stack_inspection)
    conn = _night(empty_warehouse, tmp_path, {"dv.csv": dv(2023, "06193", 100, admitted=16)})
    # In the warehouse, where the data_docs task reads them on whichever worker.
    stored = dict(stored_results.load(conn, "tonight"))[RESULTS_NAME]
    failed = [r for r in stored["results"] if not r["success"]]
    assert [r["expectation_config"]["meta"]["rule_id"] for r in failed] == ["P2"]
    (row,) = failed[0]["result"]["details"]["unexpected_rows"]
    assert [v for v in row.values() if isinstance(v, float)], row  # the figures, as numbers


def test_warnings_reach_the_district_digest_with_row_column_and_value(empty_warehouse, tmp_path):
    from grassroots.alerts import build_digests

    conn = _night(empty_warehouse, tmp_path, {"dv.csv": dv(2023, "06193", 100, admitted=16)})
    digests = {d.recipient: d for d in build_digests(conn, "tonight")}
    text = digests["bantochuc.caoloc@langson.example.vn"].body  # 06193 is in district 183
    assert "“dv.csv”" in text and "đã nạp, có cảnh báo" in text
    assert "[P2, cảnh báo] dòng 2, cột" in text and "giá trị “16”" in text
    assert "vượt 15%" in text
    assert "- P2 (warning): 1" in digests["dulieu@bantochuc.example.vn"].body
