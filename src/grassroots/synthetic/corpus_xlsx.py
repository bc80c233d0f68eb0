"""The bad-input corpus's workbooks: layouts staff use, and damaged or empty ones."""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterator

from openpyxl import Workbook

from grassroots.forms import FORMS
from grassroots.synthetic.corpus_parts import (
    CB_LABELS,
    DV_LABELS,
    FIXED_TIME,
    VILLAGE_NAMES,
    Entry,
    cb_rows,
    deterministic_xlsx,
    workbook_bytes,
)
from grassroots.templates import fill_template


def _title_and_formula_files(units: Iterator[str]) -> list[Entry]:
    entries = []
    # Merged title cells, header on row 4, identity from the info sheet.
    commune = next(units)
    book = Workbook()
    sheet = book.active
    sheet.title = "Biểu CB"
    sheet["A1"] = "BIỂU CB: CHI BỘ THÔN, TỔ DÂN PHỐ"
    sheet.merge_cells("A1:F1")
    sheet["A2"] = "Đảng ủy xã Thạch Đạn"
    sheet.merge_cells("A2:F2")
    sheet.append([])
    sheet.append(CB_LABELS[2:])
    for row in cb_rows(commune):
        sheet.append([*row[2:6], int(row[6]), row[7]])
    info = book.create_sheet("Thông tin")
    info.append(["Năm báo cáo", 2023])
    info.append(["Mã xã", commune])
    entries.append(
        Entry(
            "xlsx_title_merged_info_cb.xlsx",
            workbook_bytes(book),
            "loaded",
            note="merged title rows, header on row 4, unit/year on 'Thông tin'",
        )
    )
    # Formulas with cached values; header row 1.
    commune = next(units)
    book = Workbook()
    sheet = book.active
    sheet.append(DV_LABELS)
    sheet.append([2023, commune, 12345, 100, 5, 2, 1, 1, 0, 0, "=D2+E2+F2-G2-H2-I2-J2", 10])
    entries.append(
        Entry(
            "xlsx_formula_cached_dv.xlsx",
            workbook_bytes(book, cached={"K2": "105"}),
            "loaded",
            note="members_end is a formula: its cached value 105 is read",
        )
    )
    return entries  # fmt: skip


def _sheet_choice_files(units: Iterator[str]) -> list[Entry]:
    entries = []
    # A hidden sheet with junk (and another form's header) before the data sheet.
    commune = next(units)
    book = Workbook()
    junk = book.active
    junk.title = "nháp"
    junk.append(["Năm báo cáo", "Mã xã", "Dân số"])
    junk.append(["rác", "???", "x"])
    junk.sheet_state = "hidden"
    data = book.create_sheet("CB")
    data.append(CB_LABELS)
    for row in cb_rows(commune):
        data.append(row)
    entries.append(
        Entry(
            "xlsx_hidden_junk_sheet_cb.xlsx",
            workbook_bytes(book),
            "loaded",
            note="hidden scratch sheet ignored; codes typed as text",
        )
    )
    # The blank template, filled in.
    commune = next(units)
    rows = [dict(village_code=f"{commune}-00{i}", village_name=name,
                 branch_status="Sinh hoạt độc lập", members=4 + i,
                 branch_rating="Hoàn thành xuất sắc nhiệm vụ")
            for i, name in enumerate(VILLAGE_NAMES, start=1)]  # fmt: skip
    filled = fill_template(FORMS["CB"], {"report_year": 2023, "commune_code": commune}, rows)
    entries.append(
        Entry(
            "template_filled_cb.xlsx",
            deterministic_xlsx(filled),
            "loaded",
            note="grassroots templates output, filled in",
        )
    )
    return entries  # fmt: skip


def _refused_files() -> list[Entry]:
    entries = []
    # Data only on a hidden sheet: nothing visible to read.
    book = Workbook()
    book.active.title = "Trang 1"
    book.active["A1"] = "xem trang ẩn"
    hidden = book.create_sheet("data")
    hidden.append(CB_LABELS)
    hidden.append(cb_rows("06193")[0])
    hidden.sheet_state = "hidden"
    entries.append(
        Entry(
            "xlsx_data_only_hidden.xlsx",
            workbook_bytes(book),
            "quarantined",
            "S1",
            note="the only table is on a hidden sheet",
        )
    )
    # Identity columns neither in the table nor on an info sheet.
    book = Workbook()
    book.active.append(CB_LABELS[2:])
    book.active.append(cb_rows("06193")[0][2:])
    entries.append(
        Entry(
            "xlsx_no_info_sheet_cb.xlsx",
            workbook_bytes(book),
            "quarantined",
            "S1",
            note="no year or commune anywhere",
        )
    )
    # A date typed into a number column.
    book = Workbook()
    book.active.append(DV_LABELS)
    book.active.append([2023, "06193", datetime.date(2023, 5, 1), 100, 5, 2, 1, 1, 0, 0, 105, 10])
    entries.append(
        Entry(
            "xlsx_date_in_number_dv.xlsx",
            workbook_bytes(book),
            "quarantined",
            "S2",
            "2",
            "a date in 'Dân số'",
        )
    )
    return entries  # fmt: skip


def _damaged_files(whole: bytes) -> list[Entry]:
    """Damaged workbooks (`whole`: a good one, to cut in half)."""
    entries = []
    entries.append(
        Entry(
            "xlsx_truncated.xlsx",
            whole[: len(whole) // 2],
            "quarantined",
            "S2",
            note="XLSX cut in half: no zip directory",
        )
    )
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr(zipfile.ZipInfo("readme.txt", FIXED_TIME), "not a workbook")
        archive.writestr(zipfile.ZipInfo("data.csv", FIXED_TIME), "a,b\n1,2\n")
    entries.append(
        Entry(
            "zip_of_text.xlsx",
            other.getvalue(),
            "quarantined",
            "S2",
            note="a zip of other files named .xlsx",
        )
    )
    entries.append(
        Entry(
            "old_excel.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "quarantined",
            "S2",
            note="OLE2 (.xls / password-protected)",
        )
    )
    return entries  # fmt: skip


def xlsx_files(units: Iterator[str]) -> list[Entry]:
    """Workbooks: the first ones load (each on its own commune), the rest are refused."""
    loaded = [*_title_and_formula_files(units), *_sheet_choice_files(units)]
    return [*loaded, *_refused_files(), *_damaged_files(loaded[0].content)]
