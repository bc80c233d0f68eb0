"""Read submitted files (CSV or XLSX) into text records with canonical column names.

Reading never judges content: every cell stays text (codes keep their leading zeros,
empty cells become None) and typing happens in validation, where a bad value becomes
a finding instead of an exception. What reading itself cannot do (an unreadable or
undecodable file, headers of no known form) is reported as a file-level problem.

Per-file work is plain Python (decode, the csv module or calamine, a list of tuples):
at national scale a year is ~22,000 small files and a pandas frame per file would cost
more than reading them. Frames are built once per form and batch by `batch_frame`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import pandas as pd

from grassroots.decode import HEADER_SEARCH_ROWS, Unreadable, read_rows
from grassroots.forms import FORMS, Form, fold, header_index, strip_diacritics
from grassroots.safe_text import is_formula, shown

FILE_ID, ROW_NUMBER = "file_id", "row_number"
_TEXT_KINDS = ("text", "code")


@dataclass
class FileProblem:
    """Something reading found: an error quarantines the file, a warning is stored."""

    rule_id: str
    message_vi: str
    message_en: str
    severity: str = "error"
    row_number: int | None = None
    column: str | None = None
    value: str | None = None


@dataclass
class ParsedFile:
    """One received file, read.

    records: one tuple per data row, `(row_number, *values)` with one value per column
    of `form.column_names` (text or None; None also for columns the file lacks).
    row_number is the row as staff see it in their sheet (header = its own row number).
    present_columns: the form's columns the header (or the info sheet) provided.
    """

    file_id: int
    original_name: str
    form: Form | None
    records: list[tuple] = field(default_factory=list)
    present_columns: tuple[str, ...] = ()
    unknown_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    encoding: str | None = None  # utf-8, utf-8-sig, utf-16, cp1258 or xlsx
    # Where the table sits in the sheet, for messages in sheet coordinates (grassroots
    # check): the header's row number and each known column's 0-based position in it.
    header_row: int | None = None
    columns_at: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # column -> its header cell

    @cached_property
    def frame(self) -> pd.DataFrame:
        """This file alone as a frame (row_number + present columns): for tests and
        debugging; the pipeline uses `batch_frame` for many files at once."""
        if self.form is None:
            return pd.DataFrame({ROW_NUMBER: pd.Series(dtype="int64")})
        full = _frame_from_records(
            [ROW_NUMBER, *self.form.column_names], self.records, leading_ints=1
        )
        return full[[ROW_NUMBER, *[c for c in self.form.column_names if c in self.present_columns]]]


def _frame_from_records(columns: list[str], records: list[tuple], leading_ints: int):
    """Column-wise construction: object columns for text (pandas would infer `str`)."""
    values = list(zip(*records, strict=True)) if records else [() for _ in columns]
    data = {
        name: pd.Series(column, dtype="int64" if i < leading_ints else object)
        for i, (name, column) in enumerate(zip(columns, values, strict=True))
    }
    return pd.DataFrame(data, columns=columns)


def batch_frame(parsed_files: list[ParsedFile], form: Form) -> pd.DataFrame:
    """One frame for every row of the batch's files of `form` (others are skipped):
    file_id, row_number and every column of the form (object: text or None)."""
    records = [
        (item.file_id, *record)
        for item in parsed_files
        if item.form is not None and item.form.code == form.code
        for record in item.records
    ]
    return _frame_from_records([FILE_ID, ROW_NUMBER, *form.column_names], records, 2)


def _truncated_last_row(
    name: str, text: str, rows: list[list[str]], header: list[str | None]
) -> FileProblem | None:
    """A file that stops mid-row: no final line break and a last row shorter than the
    header. (Excel always writes every cell of a row, empty or not.)"""
    header_width = max((i + 1 for i, cell in enumerate(header) if cell), default=0)
    if not rows or text.endswith(("\n", "\r")) or len(rows[-1]) >= header_width:
        return None
    return FileProblem(
        "S2",
        f"Tệp “{shown(name)}”: dòng {len(rows)} có {len(rows[-1])}/{header_width} ô và tệp không"
        " kết thúc bằng xuống dòng: tệp có thể bị cắt, hãy gửi lại",
        f"File “{shown(name)}”: row {len(rows)} has {len(rows[-1])} of {header_width} cells and the"
        " file has no final line break: it looks truncated, send it again",
        row_number=len(rows),
    )


# --- header matching -------------------------------------------------------------------

# Forms and their labels are static: index them once, not once per file.
_HEADER_INDEXES = {code: header_index(form) for code, form in FORMS.items()}
_REQUIRED = {code: {c.name for c in form.columns if c.required} for code, form in FORMS.items()}


@lru_cache(maxsize=8192)
def _header_keys(header: str) -> tuple[str, ...]:
    folded = fold(header)
    return folded, strip_diacritics(header), folded.replace(" ", "_")


def _column_in(index: dict[str, str], header: str) -> str | None:
    for key in _header_keys(header):
        if key in index:
            return index[key]
    return None


def canonical_column(index: dict[str, str], header: str) -> str | None:
    """Canonical column name for a header cell, or None if the form has no such column."""
    return _column_in(index, header)


def _matched(form_code: str, cells: list[str]) -> set[str]:
    index = _HEADER_INDEXES[form_code]
    return {name for cell in cells if (name := _column_in(index, cell)) is not None}


def _find_header_row(rows: list[list[str | None]], info_keys: list[str]) -> tuple[int, Form | None]:
    """The first of the top rows that names a form: its identity columns (from the row
    or the info sheet) and at least two of the form's columns in the row itself; the
    form covering most required columns wins."""
    info = tuple(info_keys)
    for position, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = tuple(cell for cell in row if cell)
        if len(cells) < 2:
            continue
        code = _header_form(cells, info)
        if code is not None:
            return position, FORMS[code]
    return 0, None


@lru_cache(maxsize=4096)
def _header_form(cells: tuple[str, ...], info_keys: tuple[str, ...]) -> str | None:
    """The form a row of header cells names, or None. Cached: thousands of files of a
    batch share a handful of header (and title) rows."""
    best: tuple[int, str] | None = None
    for code, form in FORMS.items():
        own = _matched(code, list(cells))
        if len(own) < 2:  # a title row plus the info sheet's keys is not a header
            continue
        matched = own | _matched(code, list(info_keys))
        if form.unit_column not in matched or form.period_column not in matched:
            continue
        score = len(matched & _REQUIRED[code])
        if best is None or score > best[0]:
            best = (score, code)
    return best[1] if best is not None else None


def _info_values(form: Form, info: dict[str, str | None]) -> dict[str, str | None]:
    """The identity columns the info sheet declares (value None when left empty)."""
    index = _HEADER_INDEXES[form.code]
    values: dict[str, str | None] = {}
    for key, value in info.items():
        name = _column_in(index, key)
        if name in (form.unit_column, form.period_column) and values.get(name) is None:
            values[name] = value
    return values


# --- parse ----------------------------------------------------------------------------


def _problem(name: str, unreadable: Unreadable) -> FileProblem:
    return FileProblem(
        unreadable.rule_id,
        f"Tệp “{shown(name)}”: {unreadable.message_vi}",
        f"File “{shown(name)}”: {unreadable.message_en}",
    )


def parse_content(file_id: int, original_name: str, content: bytes) -> ParsedFile:
    """Parse one file's bytes. Never raises for bad content: problems are recorded.

    original_name is informational (messages only); it is never used as a path.
    """
    try:
        sheets, info, encoding, csv_text = read_rows(content)
    except Unreadable as unreadable:
        return ParsedFile(
            file_id, original_name, None, problems=[_problem(original_name, unreadable)]
        )

    info_keys = list(info)
    header_at, form, rows = 0, None, []
    for rows in sheets:  # the first visible sheet holding a form's header is the data
        header_at, form = _find_header_row(rows, info_keys)
        if form is not None:
            break
    if form is None:
        return ParsedFile(
            file_id,
            original_name,
            None,
            encoding=encoding,
            problems=[
                FileProblem(
                    "S1",
                    f"Tệp “{shown(original_name)}”: không nhận ra biểu mẫu, tiêu đề cột không"
                    " khớp biểu CB, DV, TC hay CT",
                    f"File “{shown(original_name)}”: headers match none of the forms"
                    " CB, DV, TC, CT",
                )
            ],
        )

    header = rows[header_at]
    positions, unknown = _map_header(form, header)
    # Identity columns may come from the info sheet instead of the table.
    info_values = _info_values(form, info)
    records, problems = _records(
        form, original_name, rows[header_at + 1 :], header_at + 2, positions, info_values
    )

    if (
        csv_text is not None
        and (truncated := _truncated_last_row(original_name, csv_text, rows, header)) is not None
    ):
        problems.append(truncated)

    present = set(positions) | set(info_values)
    missing = [c.name for c in form.columns if c.required and c.name not in present]
    return ParsedFile(
        file_id,
        original_name,
        form,
        records=records,
        present_columns=tuple(c for c in form.column_names if c in present),
        unknown_columns=unknown,
        missing_columns=missing,
        problems=problems,
        encoding=encoding,
        header_row=header_at + 1,
        columns_at=positions,
        headers={name: str(header[at]).strip() for name, at in positions.items()},
    )


def _map_header(form: Form, header: list) -> tuple[dict[str, int], list[str]]:
    """Each known column's position in the header row, and the cells no column matches."""
    index = _HEADER_INDEXES[form.code]
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for position, cell in enumerate(header):
        if not cell:
            continue
        cell = cell.strip()
        name = _column_in(index, cell)
        if name is None:
            unknown.append(cell)
        elif name not in positions:
            positions[name] = position
    return positions, unknown


def _records(
    form: Form,
    original_name: str,
    body: list,
    first_row_number: int,
    positions: dict[str, int],
    info_values: dict,
) -> tuple[list[tuple], list[FileProblem]]:
    """The data rows as tuples in the form's column order (row number first), and the
    formula warnings. The loop is the parser's hot path: slots are precomputed."""
    target = {name: i for i, name in enumerate(form.column_names)}
    pairs = [(target[name], position) for name, position in positions.items()]
    fills = [(target[name], value) for name, value in info_values.items() if value is not None]
    text_targets = {
        target[c.name]: c.name
        for c in form.columns
        if c.kind in _TEXT_KINDS and c.name in positions
    }
    width = len(form.column_names)
    problems: list[FileProblem] = []
    records: list[tuple] = []
    for row_number, row in enumerate(body, start=first_row_number):
        values: list[str | None] = [None] * width
        length = len(row)
        filled = False
        for slot, position in pairs:
            if position < length:
                cell = row[position]
                if cell is not None:
                    cell = cell.strip() or None
                values[slot] = cell
                filled = filled or cell is not None
        if not filled and not any(c and c.strip() for c in row):
            continue  # an empty row (Excel leaves them below and between tables)
        for slot, value in fills:
            if values[slot] is None:
                values[slot] = value
        for slot, name in text_targets.items():
            value = values[slot]
            # A cell a spreadsheet would run (CSV injection): loaded, reported, and
            # neutralised in the marts (safe_text.is_formula, dbt macro excel_safe).
            if is_formula(value):
                problems.append(_formula_warning(original_name, row_number, name, value))
        records.append((row_number, *values))
    return records, problems


def _formula_warning(name: str, row_number: int, column: str, value: str) -> FileProblem:
    return FileProblem(
        "S2",
        f"Tệp “{shown(name)}”: ô bắt đầu bằng “{shown(value[0])}” giống công thức bảng tính;"
        " được lưu nguyên văn bản, không bao giờ được tính, và trong kho phân tích có thêm"
        " dấu ' ở đầu để Excel không chạy",
        f"File “{shown(name)}”: cell starts with “{shown(value[0])}” like a spreadsheet"
        " formula; stored as plain text, never evaluated, and prefixed with ' in the marts"
        " so that Excel does not run it",
        severity="warning",
        row_number=row_number,
        column=column,
        value=value,
    )


def forms_in(parsed: list[ParsedFile]) -> dict[str, list[ParsedFile]]:
    """Group parsed files by form code (files of no known form are left out)."""
    groups: dict[str, list[ParsedFile]] = {code: [] for code in FORMS}
    for item in parsed:
        if item.form is not None:
            groups[item.form.code].append(item)
    return groups
