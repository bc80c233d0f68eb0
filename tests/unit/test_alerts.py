import pandas as pd
import pytest

from grassroots.registry import Registry
from grassroots.routing import ROUTING_FILE, Routing, load_routing, responsible_scopes

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def registry():
    return Registry.load()


@pytest.fixture(scope="module")
def routing():
    return load_routing()


def _scope(registry, unit_code, period):
    return responsible_scopes(registry, [unit_code], [period])[0]


def test_a_commune_file_goes_to_its_district_staff(registry, routing):
    scope = _scope(registry, "06193", "2023")
    assert scope == ("district", "183", "20")
    assert Routing(routing).for_file(scope) == [
        ("bantochuc.caoloc@langson.example.vn", "Ban Tổ chức Huyện ủy Cao Lộc")
    ]


def test_a_district_without_its_own_address_falls_back_to_its_province(registry, routing):
    # 178 (Thành phố Lạng Sơn) has no row of its own: Lạng Sơn's board answers for it.
    scope = _scope(registry, "178", "2022")
    assert Routing(routing).for_file(scope)[0][0] == "bantochuc@langson.example.vn"


def test_after_the_reform_a_commune_goes_to_its_province(registry, routing):
    scope = _scope(registry, "06184", "2026")
    assert scope == ("province", "20", None)


def test_a_file_of_unknown_unit_goes_to_the_board(registry, routing):
    assert _scope(registry, "99999", "2023") is None
    assert _scope(registry, "06193", None) is None  # no period: no year to look up
    assert Routing(routing).for_file(None) == [
        ("dulieu@bantochuc.example.vn", "Bộ phận dữ liệu Ban Tổ chức")
    ]


def test_scopes_of_many_files_match_one_by_one(registry):
    """The night looks up every file at once; each answer is the one it would get alone."""
    units = ["06193", "178", "06184", "99999", "20", "06193", None]
    periods = ["2023", "2022", "2026", "2023", "2024", "bad", "2023"]
    together = responsible_scopes(registry, units, periods)
    alone = [_scope(registry, u, p) for u, p in zip(units, periods, strict=True)]
    assert together == alone
    assert together[:3] == [
        ("district", "183", "20"),
        ("district", "178", "20"),
        ("province", "20", None),
    ]
    assert together[3:] == [None, ("province", "20", None), None, None]


def test_routing_table_has_unique_rows():
    table = pd.read_csv(ROUTING_FILE, dtype=str)
    assert not table.duplicated(["scope_level", "scope_code", "recipient_email"]).any()


def test_overdue_lists_go_to_the_district_else_its_province_never_the_board(registry, routing):
    from grassroots.overdue import k1_recipients

    assert k1_recipients(Routing(routing), registry, "district", "183", 2024) == [
        ("bantochuc.caoloc@langson.example.vn", "Ban Tổ chức Huyện ủy Cao Lộc")
    ]
    # 178 has no address of its own: Lạng Sơn's staff answer for it.
    assert k1_recipients(Routing(routing), registry, "district", "178", 2024)[0][0] == (
        "bantochuc@langson.example.vn"
    )
    assert k1_recipients(Routing(routing), registry, "province", "20", 2025)[0][0] == (
        "bantochuc@langson.example.vn"
    )
    # Nobody answers for Hà Nội: counted in the board's summary, not listed to anyone.
    assert k1_recipients(Routing(routing), registry, "province", "01", 2025) == []


def test_board_summary_gives_rates_per_form_for_the_latest_closed_year():
    from datetime import date

    from grassroots.overdue import completeness_summary

    rows = pd.DataFrame(
        [
            ("province", "20", 2025, "DV", date(2026, 1, 31), 65, 13, 10, 52, ["06184"]),
            ("province", "08", 2025, "DV", date(2026, 1, 31), 35, 35, 35, 0, []),
            ("province", "20", 2025, "TC", date(2026, 1, 31), 1, 0, 0, 1, ["20"]),
        ],
        columns=[
            "scope_level", "scope_code", "report_year", "form_code", "deadline",
            "expected_count", "received_count", "on_time_count", "overdue_count",
            "overdue_unit_codes",
        ],
    )  # fmt: skip
    lines = completeness_summary(rows)
    assert lines[0] == "- Tình hình nộp báo cáo năm 2025 (hạn nộp 31/01/2026):"
    assert lines[1] == (
        "  DV: cần nộp 100, đã nhận 48 (tỷ lệ 48,0%), đúng hạn 45 (45,0%), quá hạn 52 ở 1"
        " huyện/tỉnh."
    )
    assert lines[2].startswith("  TC: cần nộp 1, đã nhận 0 (tỷ lệ 0,0%)")


def test_without_the_completeness_mart_the_summary_says_so():
    from grassroots.overdue import completeness_summary

    empty = pd.DataFrame(columns=["report_year", "form_code"])
    assert "chưa có số liệu" in completeness_summary(empty)[0]
