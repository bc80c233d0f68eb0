"""The report site's workbooks as a reader sees them: numbers as numbers, dates as dates,
text kept as text, and never half a file."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from grassroots.reports import xlsx

pytestmark = pytest.mark.unit


def test_cells_read_back_as_written(tmp_path):
    path = tmp_path / "p.xlsx"
    rows = [
        ["=SUM(A1:A9)", "http://example.invalid/x", Decimal("12.5"), 3, None, date(2026, 1, 31)],
        ["Xã Tân Phú", "có", float("nan"), -1.25, "", None],
    ]
    xlsx.save([xlsx.Sheet("Chỉ tiêu", ["a", "b", "c", "d", "e", "f"], rows)], path)

    book = load_workbook(path)
    sheet = book["Chỉ tiêu"]
    assert sheet.freeze_panes == "A2"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("a", "b", "c", "d", "e", "f")
    first = values[1]
    assert first[:5] == ("=SUM(A1:A9)", "http://example.invalid/x", 12.5, 3, None)
    assert sheet["A2"].data_type == "s"  # text, not a formula
    assert sheet["B2"].hyperlink is None
    assert first[5] == datetime(2026, 1, 31) and sheet["F2"].number_format == "dd/mm/yyyy"
    assert values[2][0:2] == ("Xã Tân Phú", "có") and values[2][3] == -1.25
    assert values[2][2] is not None  # NaN as Excel's #NUM!, not a refused workbook
    assert not list(tmp_path.glob("*.part"))


def test_a_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "p.xlsx"
    path.write_bytes(b"the last good workbook")
    with pytest.raises(TypeError):
        xlsx.save([xlsx.Sheet("x", ["a"], [[object()]])], path)
    assert path.read_bytes() == b"the last good workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.xlsx"]


def test_page_workbook_sheets_in_page_order():
    page = {
        "headline": [],
        "indicator_names": {"members_total": "Tổng số đảng viên"},
        "series": {
            "members_total": [
                {
                    "year": 2024,
                    "value": 10,
                    "numerator": 10,
                    "denominator": None,
                    "units_reported": 1,
                    "units_expected": 1,
                    "is_estimate": False,
                }
            ]
        },
        "ratings": [],
        "targets": [],
        "ranking": {"indicators": ["members_total"], "rows": []},
        "geography": "current",
    }
    book = xlsx.page_workbook(page)
    assert [s.title for s in book] == ["Chỉ tiêu", "Diễn biến", "Đơn vị trực thuộc"]
    assert book[1].rows == [
        ["Tổng số đảng viên", "members_total", 2024, 10, 10, None, 1, 1, "không"]
    ]
