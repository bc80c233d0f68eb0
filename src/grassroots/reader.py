"""Read submitted files (CSV or XLSX) into text frames with canonical column names.

Reading never judges content: every cell stays text (codes keep their leading zeros,
empty cells become None) and typing happens in validation, where a bad value becomes
a finding instead of an exception. What reading itself cannot do (an unreadable
file, headers of no known form) is reported as a file-level problem.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from grassroots.forms import (
    FORMS,
    Form,
    detect_form,
    fold,
    header_index,
    label_keys,
    strip_diacritics,
)

INFO_SHEET_KEYS = label_keys("info", "Thông tin")
CSV_ENCODINGS = ("utf-8-sig", "cp1258")


@dataclass
class FileProblem:
    rule_id: str
    message_vi: str
    message_en: str


@dataclass
class ParsedFile:
    """One received file, read.

    frame: one row per data row; columns are the canonical names of the form's
    columns that the header matched (text or None), plus `row_number`, the row as
    staff see it in their sheet (header = the header's own row number).
    """

    file_id: int
    original_name: str
    form: Form | None
    frame: pd.DataFrame
    unknown_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)


def _clean_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


def _decode(content: bytes) -> tuple[str, str]:
    """Decode CSV bytes: BOMs decide, else strict UTF-8, else Windows-1258."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16"), "utf-16"
    for encoding in CSV_ENCODINGS:
        try:
            return content.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("unknown", content, 0, 1, "not UTF-8 nor Windows-1258")


def _rows_from_csv(content: bytes) -> list[list[str | None]]:
    text, _ = _decode(content)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    if delimiter == "," and sample.count(";") > sample.count(","):
        delimiter = ";"
    return [
        [_clean_cell(cell) for cell in row]
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    ]


def _rows_from_xlsx(content: bytes) -> tuple[list[list[str | None]], dict[str, str]]:
    """Rows of the first visible data sheet, and key/value pairs of the info sheet."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    info: dict[str, str] = {}
    data_rows: list[list[str | None]] | None = None
    for sheet_meta in workbook.sheets_metadata:
        if str(sheet_meta.visible).lower().endswith(("hidden", "veryhidden")):
            continue
        sheet = workbook.get_sheet_by_name(sheet_meta.name)
        rows = [
            [_clean_cell(cell if cell != "" else None) for cell in row] for row in sheet.to_python()
        ]
        # calamine's range starts at the first used cell: pad so row numbers are the sheet's.
        rows = [[] for _ in range(sheet.start[0])] + rows
        if fold(sheet_meta.name) in INFO_SHEET_KEYS:
            for row in rows:
                if len(row) >= 2 and row[0]:
                    info[row[0]] = row[1]
        elif data_rows is None:
            data_rows = rows
    return data_rows or [], info


def canonical_column(index: dict[str, str], header: str) -> str | None:
    """Canonical column name for a header cell, or None if the form has no such column."""
    for key in (fold(header), strip_diacritics(header), fold(header).replace(" ", "_")):
        if key in index:
            return index[key]
    return None


def _find_header_row(rows: list[list[str | None]], info_keys: list[str]) -> tuple[int, Form | None]:
    """The first of the top rows whose cells (with the info sheet's keys) name a form."""
    for index, row in enumerate(rows[:20]):
        headers = [cell for cell in row if cell]
        form = detect_form(headers + info_keys)
        if form is None:
            continue
        # A title row plus the info sheet's keys is not a header: the row must name
        # at least two of the form's columns itself.
        own = {canonical_column(header_index(form), cell) for cell in headers} - {None}
        if len(own) >= 2:
            return index, form
    return 0, None


def parse_content(file_id: int, original_name: str, content: bytes) -> ParsedFile:
    """Parse one file's bytes. Never raises for bad content: problems are recorded."""
    empty = pd.DataFrame({"row_number": pd.Series(dtype="int64")})
    info: dict[str, str] = {}
    try:
        if zipfile.is_zipfile(io.BytesIO(content)):
            rows, info = _rows_from_xlsx(content)
        else:
            rows = _rows_from_csv(content)
    except Exception as error:  # any reader failure means the file cannot be read
        return ParsedFile(
            file_id,
            original_name,
            None,
            empty,
            problems=[
                FileProblem(
                    "S2",
                    f"Không đọc được tệp (không phải CSV/XLSX hợp lệ): {type(error).__name__}",
                    f"File cannot be read as CSV or XLSX: {error}",
                )
            ],
        )

    header_at, form = _find_header_row(rows, list(info))
    if form is None:
        return ParsedFile(
            file_id,
            original_name,
            None,
            empty,
            problems=[
                FileProblem(
                    "S1",
                    "Không nhận ra biểu mẫu: tiêu đề cột không khớp biểu CB, DV, TC hay CT",
                    "Headers match none of the forms CB, DV, TC, CT",
                )
            ],
        )

    index = header_index(form)
    header = rows[header_at]
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for position, cell in enumerate(header):
        if not cell:
            continue
        name = canonical_column(index, cell)
        if name is None:
            unknown.append(cell)
        elif name not in positions:
            positions[name] = position

    # Identity columns may come from the info sheet instead of the table.
    info_values = _info_values(form, info)

    records: list[dict[str, object]] = []
    for offset, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not any(row):
            continue
        record: dict[str, object] = {"row_number": offset}
        for name, position in positions.items():
            record[name] = row[position] if position < len(row) else None
        for name, value in info_values.items():
            if record.get(name) is None:
                record[name] = value
        records.append(record)

    present = set(positions) | set(info_values)
    columns = ["row_number", *[c for c in form.column_names if c in present]]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame = frame.astype({c: "object" for c in columns if c != "row_number"})
    frame["row_number"] = frame["row_number"].astype("int64")
    missing = [c.name for c in form.columns if c.required and c.name not in present]
    return ParsedFile(file_id, original_name, form, frame, unknown, missing)


def _info_values(form: Form, info: dict[str, str]) -> dict[str, str]:
    if not info:
        return {}
    index = header_index(form)
    values: dict[str, str] = {}
    for key, value in info.items():
        name = canonical_column(index, key)
        if name in (form.unit_column, form.period_column) and value is not None:
            values[name] = value
    return values


def parse_file(file_id: int, path: Path, original_name: str | None = None) -> ParsedFile:
    return parse_content(file_id, original_name or path.name, path.read_bytes())


def forms_in(parsed: list[ParsedFile]) -> dict[str, list[ParsedFile]]:
    """Group parsed files by form code (files of no known form are left out)."""
    groups: dict[str, list[ParsedFile]] = {code: [] for code in FORMS}
    for item in parsed:
        if item.form is not None:
            groups[item.form.code].append(item)
    return groups
