"""Blank XLSX templates for staff, built from the same form definitions the parser reads.

One workbook per form (`CB.xlsx`, ...):
- the data sheet (named by the form code): a merged title row, a note, then the header
  row with the Vietnamese labels (the parser's own spellings) and, in each header
  cell's comment, the canonical column code and what the column holds. A comment, not
  a hidden second header row: staff see one header and row numbers stay as in Excel.
  Drop-down lists for enums and ratings (Vietnamese labels), whole/decimal number
  checks, number formats, and code/text columns formatted as Text ("@") so leading
  zeros survive typing. The unit and period columns are not on the data sheet:
- `Thông tin` holds them as `key | value` rows (the parser reads them there);
- `Hướng dẫn` tells staff, in Vietnamese, how to fill in and send the file;
- `Danh mục` (hidden; hidden sheets are ignored by the parser) holds the drop-down lists.

`fill_template` writes rows into a template (tests, demo files). Text is always
written as a text cell, never as a formula, whatever it starts with.
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from grassroots.forms import (
    FORMS,
    INT_FORMAT,
    NUMBER_FORMAT,
    RATINGS_BEFORE_2018,
    RATINGS_FROM_2018,
    TEXT_FORMAT,
    Column,
    Form,
    excel_number_format,
)

TITLE_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = HEADER_ROW + 1
# Drop-downs and number checks cover this many rows below the header.
PREPARED_ROWS = 1000
INFO_SHEET, INSTRUCTIONS_SHEET, LISTS_SHEET = "Thông tin", "Hướng dẫn", "Danh mục"

_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
_OPTIONAL_FILL = PatternFill("solid", fgColor="E2EFDA")
_BOLD = Font(bold=True)

_KIND_VI = {
    "int": "số nguyên",
    "number": "số (có thể có phần thập phân)",
    "code": "mã, giữ nguyên số 0 ở đầu",
    "text": "chữ",
    "enum": "chọn trong danh sách",
    "rating": "xếp loại, chọn trong danh sách",
    "term": "nhiệm kỳ, dạng 2020-2025",
}


def data_columns(form: Form) -> list[Column]:
    """The data sheet's columns: all but the unit and period (they are in `Thông tin`)."""
    return [c for c in form.columns if c.name not in (form.unit_column, form.period_column)]


def info_columns(form: Form) -> list[Column]:
    return [form.column(form.period_column), form.column(form.unit_column)]


def choice_labels(column: Column) -> list[str]:
    """What a drop-down offers: the first Vietnamese label of each code (the code itself
    when it has none); ratings of both scales, newest first."""
    if column.kind == "rating":
        labels = [text for text, _ in RATINGS_FROM_2018.values()]
        labels += [text for text, _ in RATINGS_BEFORE_2018.values() if text not in labels]
        return labels
    return [labels[0] if labels else code for code, labels in column.choices.items()]


def _info_key(form: Form, column: Column) -> str:
    # TC: "Mã huyện (hoặc mã tỉnh)" says that provinces send it from 1 July 2025.
    return column.aliases_vi[-1] if column.aliases_vi else column.label_vi


def _hint(column: Column) -> str:
    parts = [f"Mã cột: {column.name}", _KIND_VI[column.kind]]
    parts.append("bắt buộc" if column.required else "không bắt buộc (để trống nếu không có)")
    if column.minimum is not None:
        parts.append(f"≥ {column.minimum:g}")
    if column.maximum is not None:
        parts.append(f"≤ {column.maximum:g}")
    if column.template_note:
        parts.append(column.template_note)
    return "; ".join(parts)


def _add_list(lists: Worksheet, column: Column) -> str:
    """Write the column's choices to the hidden lists sheet; the range formula."""
    letter = get_column_letter(lists.max_column + 1 if lists["A1"].value else 1)
    lists[f"{letter}1"] = column.name
    labels = choice_labels(column)
    for offset, label in enumerate(labels, start=2):
        lists[f"{letter}{offset}"] = label
    return f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(labels) + 1}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _validation(column: Column, lists: Worksheet) -> DataValidation | None:
    if column.kind in ("enum", "rating"):
        validation = DataValidation(type="list", formula1=_add_list(lists, column))
        validation.error = "Hãy chọn một giá trị trong danh sách."
    elif column.kind in ("int", "number"):
        kind = "whole" if column.kind == "int" else "decimal"
        low = column.minimum if column.minimum is not None else -1e12
        high = column.maximum if column.maximum is not None else 1e12
        validation = DataValidation(
            type=kind, operator="between", formula1=_number(low), formula2=_number(high)
        )
        validation.error = (
            f"Hãy nhập {_KIND_VI[column.kind]} từ {_number(low)} đến {_number(high)}."
        )
    else:
        return None
    validation.allow_blank = True
    validation.showErrorMessage = True
    validation.errorTitle = column.label_vi
    validation.promptTitle = column.label_vi[:32]  # Excel's limit for a prompt title
    validation.prompt = _hint(column)[:255]
    validation.showInputMessage = True
    return validation


def _data_sheet(book: Workbook, form: Form, lists: Worksheet) -> Worksheet:
    sheet = book.active
    sheet.title = form.code
    columns = data_columns(form)
    last = get_column_letter(len(columns))
    sheet["A1"] = form.title_vi.upper()
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    sheet[f"A{NOTE_ROW}"] = (
        f"Điền từ dòng {FIRST_DATA_ROW}, mỗi dòng một {_row_noun(form)}. Năm/nhiệm kỳ và mã"
        f" đơn vị điền ở trang “{INFO_SHEET}”. Không đổi tên cột."
    )
    sheet[f"A{NOTE_ROW}"].font = Font(italic=True)
    sheet.merge_cells(f"A{NOTE_ROW}:{last}{NOTE_ROW}")
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        cell = sheet.cell(HEADER_ROW, position, column.label_vi)
        cell.font = _BOLD
        cell.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.comment = Comment(_hint(column), "grassroots", width=300, height=120)
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(14, min(40, len(column.label_vi) + 4))
        # Column style: what Excel gives a cell staff type into (Text keeps "06193").
        dimension.number_format = excel_number_format(column)
        validation = _validation(column, lists)
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{HEADER_ROW + PREPARED_ROWS}")
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    return sheet


def _row_noun(form: Form) -> str:
    return {
        "CB": "thôn, tổ dân phố",
        "DV": "đơn vị (chỉ một dòng)",
        "TC": "tổ chức cơ sở đảng",
    }.get(form.code, "chỉ tiêu")


def _info_sheet(book: Workbook, form: Form) -> Worksheet:
    sheet = book.create_sheet(INFO_SHEET)
    sheet.append(["Mục", "Giá trị", "Ghi chú"])
    for cell in sheet[1]:
        cell.font = _BOLD
    for row, column in enumerate(info_columns(form), start=2):
        sheet.cell(row, 1, _info_key(form, column)).font = _BOLD
        value = sheet.cell(row, 2)
        value.number_format = excel_number_format(column)
        value.fill = _REQUIRED_FILL
        sheet.cell(row, 3, _hint(column))
    sheet.cell(4, 1, "Biểu")
    sheet.cell(4, 2, form.code).number_format = TEXT_FORMAT
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["C"].width = 80
    return sheet


def _instructions_sheet(book: Workbook, form: Form) -> Worksheet:
    sheet = book.create_sheet(INSTRUCTIONS_SHEET)
    period = "năm báo cáo" if form.period_column == "report_year" else "nhiệm kỳ (vd. 2020-2025)"
    lines = [
        f"Hướng dẫn điền {form.title_vi}",
        "",
        f"1. Trang “{INFO_SHEET}”: điền {period} và mã đơn vị gửi báo cáo"
        " (mã giữ nguyên số 0 ở đầu, vd. 06193).",
        f"2. Trang “{form.code}”: điền từ dòng {FIRST_DATA_ROW}; ô vàng là bắt buộc, ô xanh"
        " có thể để trống. Di chuột lên tên cột để xem mã cột và cách ghi.",
        "3. Cột có danh sách: chọn trong danh sách. Số: ghi số, không ghi chữ; ô trống là"
        " “không có số liệu”, không phải số 0 (ghi 0 nếu bằng 0).",
        "4. Không đổi tên, không xóa cột; không ghi công thức hay ký tự “=” ở đầu ô chữ.",
        "5. Mỗi tệp chỉ một biểu, một đơn vị, một kỳ báo cáo. Lưu dạng .xlsx (không đặt"
        " mật khẩu) và gửi; gửi lại tệp mới sẽ thay thế tệp cũ của cùng kỳ.",
        "6. Tệp có lỗi sẽ được trả lại cùng lý do (dòng, cột, giá trị) để sửa và gửi lại.",
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 110
    return sheet


def build_template(form: Form) -> Workbook:
    book = Workbook()
    lists = book.create_sheet(LISTS_SHEET)
    _data_sheet(book, form, lists)
    _info_sheet(book, form)
    _instructions_sheet(book, form)
    book.move_sheet(lists, offset=len(book.sheetnames) - 1 - book.index(lists))  # last
    lists.sheet_state = "hidden"
    book.active = 0
    return book


def write_templates(out_dir: Path) -> list[Path]:
    """One blank template per form: `<out_dir>/<form code>.xlsx`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for code, form in FORMS.items():
        path = out_dir / f"{code}.xlsx"
        build_template(form).save(path)
        written.append(path)
    return written


def _write_value(sheet: Worksheet, row: int, position: int, column: Column, value) -> None:
    cell = sheet.cell(row, position)
    if value is None or value == "":
        return
    if column.kind in ("int", "number") and isinstance(value, int | float):
        cell.value = value
        cell.number_format = INT_FORMAT if column.kind == "int" else NUMBER_FORMAT
        return
    # Text (codes, names, labels, or a number given as text) is stored as a string cell:
    # openpyxl would turn "=..." into a formula, which a template must never re-emit.
    cell.value = str(value)
    cell.data_type = "s"
    cell.number_format = TEXT_FORMAT


def fill_template(form: Form, info: dict[str, object], rows: list[dict[str, object]]) -> bytes:
    """The form's template with `info` (period and unit, by column name) and data rows
    (by column name) filled in, as XLSX bytes."""
    book = build_template(form)
    data = book[form.code]
    for row, record in enumerate(rows, start=FIRST_DATA_ROW):
        for position, column in enumerate(data_columns(form), start=1):
            _write_value(data, row, position, column, record.get(column.name))
    sheet = book[INFO_SHEET]
    for row, column in enumerate(info_columns(form), start=2):
        _write_value(sheet, row, 2, column, info.get(column.name))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
