"""The sender's own workbook back with every wrong cell marked: filled (red for an error,
yellow for a warning) and given a Vietnamese comment (the message and what to do). A CSV
comes back as an XLSX of its cells. A last sheet lists every finding.

Only a file the reader could open is marked up (its zip already passed decode's size
guards before openpyxl opens it); one it could not read gets the findings sheet alone.
"""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from grassroots.check.core import CheckResult, SheetFinding
from grassroots.decode import Unreadable, read_rows

FINDINGS_SHEET = "Kết quả kiểm tra"
AUTHOR = "grassroots"
FILLS = {
    "error": PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE"),
    "warning": PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C"),
}
SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
_HEADERS = ("Mức", "Quy tắc", "Dòng", "Cột", "Tiêu đề cột", "Giá trị", "Nội dung", "Cách sửa")


def _data_sheet(workbook, result: CheckResult):
    """The worksheet the reader took the table from: visible, with the header the
    reader matched at the header row; None if none matches."""
    parsed = result.parsed
    for sheet in workbook.worksheets:
        if sheet.sheet_state != "visible" or parsed.header_row is None:
            continue
        cells = {
            name: sheet.cell(parsed.header_row, at + 1).value
            for name, at in parsed.columns_at.items()
        }
        if all(str(v or "").strip() == parsed.headers[n] for n, v in cells.items()):
            return sheet
    return None


def _csv_workbook(content: bytes):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Báo cáo"
    sheets, _, _, _ = read_rows(content)
    for row in sheets[0]:
        sheet.append(list(row))
    # A CSV cell is text: one starting with "=" must not become a live formula here.
    for cells in sheet.iter_rows():
        for cell in cells:
            if cell.data_type == "f":
                cell.data_type = "s"
    return workbook, sheet


def _open(content: bytes, result: CheckResult):
    """(workbook, data sheet or None)."""
    parsed = result.parsed
    if parsed is None or parsed.encoding is None:
        workbook = Workbook()
        workbook.remove(workbook.active)
        return workbook, None
    if parsed.encoding == "xlsx":
        workbook = load_workbook(io.BytesIO(content))
        return workbook, _data_sheet(workbook, result)
    try:
        return _csv_workbook(content)
    except Unreadable:
        workbook = Workbook()
        workbook.remove(workbook.active)
        return workbook, None


def _cell_of(result: CheckResult, f: SheetFinding) -> tuple[int, int]:
    """The cell a finding is written on: its own, its column's header, its row's first
    cell, or the header row's first cell for the whole file."""
    parsed = result.parsed
    column = parsed.columns_at.get(f.column) if f.column and f.letter else None
    header_row = parsed.header_row or 1
    row = f.row or header_row
    return row, (column + 1 if column is not None else 1)


def comment_text(f: SheetFinding) -> str:
    return f"[{SEVERITY_VI[f.severity]} {f.rule_id}] {f.message_vi}\n→ {f.todo_vi}"


def _mark(sheet, result: CheckResult) -> None:
    texts: dict[tuple[int, int], list[str]] = {}
    worst: dict[tuple[int, int], str] = {}
    for f in result.findings:
        at = _cell_of(result, f)
        texts.setdefault(at, []).append(comment_text(f))
        if worst.get(at) != "error":
            worst[at] = f.severity
    for (row, column), lines in texts.items():
        cell = sheet.cell(row, column)
        cell.fill = FILLS[worst[(row, column)]]
        comment = Comment("\n\n".join(lines), AUTHOR)
        comment.width, comment.height = 420, min(600, 90 + 60 * len(lines))
        cell.comment = comment


def _findings_sheet(workbook, result: CheckResult) -> None:
    sheet = workbook.create_sheet(FINDINGS_SHEET)
    sheet.append([f"Tệp “{result.name}”: {result.errors} lỗi, {result.warnings} cảnh báo"])
    sheet.append(list(_HEADERS))
    for f in result.findings:
        sheet.append(
            [SEVERITY_VI[f.severity], f.rule_id, f.row, f.letter, f.header, f.value,
             f.message_vi, f.todo_vi]
        )  # fmt: skip
        sheet.cell(sheet.max_row, 1).fill = FILLS[f.severity]
    for letter, width in zip("ABCDEFGH", (10, 8, 7, 6, 24, 20, 80, 60), strict=True):
        sheet.column_dimensions[letter].width = width


def marked_workbook(content: bytes, result: CheckResult) -> bytes:
    """The XLSX to send back: the sender's sheet with its findings marked."""
    workbook, sheet = _open(content, result)
    if sheet is not None:
        _mark(sheet, result)
    _findings_sheet(workbook, result)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
