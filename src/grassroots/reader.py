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

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import pandas as pd

from grassroots.forms import FORMS, Form, fold, header_index, label_keys, strip_diacritics
from grassroots.safe_text import is_formula, shown

INFO_SHEET_KEYS = label_keys("info", "Thông tin")
FILE_ID, ROW_NUMBER = "file_id", "row_number"

# A submission is one form of one unit: a few hundred rows at most (a province's TC
# file is ~100 KB). Anything far larger is a mistake or an attack, refused before decoding.
MAX_FILE_BYTES = 10 * 1024 * 1024
# Zip bombs: an XLSX whose parts unpack to more than this is refused unread.
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
# Header rows are looked for among the first rows (title rows above the table).
HEADER_SEARCH_ROWS = 20

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (Excel 97-2003) and password-protected workbooks
# C0/C1 control characters other than tab, LF and CR never occur in a real table.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Double encoding: UTF-8 bytes of Vietnamese read as Windows-1252/1258 and saved again
# ("NÄƒm", "Sá»‘", "Ã ") -- a UTF-8 lead byte's character followed by a continuation
# byte's character. Real Vietnamese text never has these pairs.
_CONTINUATION_CHARS = (
    "\u00a0-\u00bf"  # 0xA0-0xBF are Latin-1 in both code pages
    "\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d"
    "\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178"
)
_MOJIBAKE = re.compile(f"[ÂÃĂÄÅÆáâ][{_CONTINUATION_CHARS}]")
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


class _Unreadable(Exception):
    """The file cannot be read; carries the staff and log messages (without file name)."""

    def __init__(self, message_vi: str, message_en: str, rule_id: str = "S2") -> None:
        super().__init__(message_en)
        self.message_vi, self.message_en, self.rule_id = message_vi, message_en, rule_id


# --- CSV ------------------------------------------------------------------------------


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def decode_csv(content: bytes) -> tuple[str, str]:
    """(text, encoding) of CSV bytes, NFC-normalized; raises _Unreadable when the bytes
    are not text in an accepted encoding. Never guesses silently: BOMs decide, then
    strict UTF-8, then strict Windows-1258, and the decoded text must look like a table
    (no control characters, no replacement characters, no double-encoded UTF-8)."""
    if content.startswith(_UTF16_BOMS):
        try:
            text, encoding = content.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise _Unreadable(
                f"có BOM UTF-16 nhưng không giải mã được ({error.reason}): tệp bị cắt hoặc hỏng",
                f"UTF-16 BOM but not valid UTF-16 ({error.reason}): truncated or damaged",
            ) from error
    elif b"\x00" in content:
        raise _Unreadable(
            "chứa byte NUL: tệp nhị phân hoặc UTF-16 không có BOM, không phải CSV",
            "contains NUL bytes: a binary file or UTF-16 without BOM, not CSV",
        )
    elif content.startswith(_UTF8_BOM):
        try:
            text, encoding = content.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise _Unreadable(
                f"có BOM UTF-8 nhưng byte thứ {error.start} không phải UTF-8: tệp bị hỏng",
                f"UTF-8 BOM but byte {error.start} is not UTF-8: damaged file",
            ) from error
    else:
        try:
            text, encoding = content.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = content.decode("cp1258"), "cp1258"
            except UnicodeDecodeError as error:
                byte = content[error.start]
                raise _Unreadable(
                    f"không phải UTF-8 cũng không phải Windows-1258 (byte 0x{byte:02X} ở vị trí"
                    f" {error.start}): hãy lưu lại dạng CSV UTF-8",
                    f"neither UTF-8 nor Windows-1258 (byte 0x{byte:02X} at offset"
                    f" {error.start}): save again as CSV UTF-8",
                ) from error
    text = text.removesuffix("\x1a")  # DOS end-of-file marker of old exports
    _check_plausible_text(text, encoding)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        # Windows-1258 writes tone marks as combining characters.
        text = unicodedata.normalize("NFC", text)
    return text, encoding


def _check_plausible_text(text: str, encoding: str) -> None:
    if text.isascii() and not _CONTROL_CHARS.search(text):
        return
    control = _CONTROL_CHARS.search(text)
    if control:
        line = _line_of(text, control.start())
        raise _Unreadable(
            f"giải mã theo {encoding} ra ký tự điều khiển U+{ord(control.group()):04X} ở dòng"
            f" {line}: tệp nhị phân hoặc sai bảng mã",
            f"decoded as {encoding} it holds control character U+{ord(control.group()):04X}"
            f" on line {line}: binary content or wrong encoding",
        )
    replacement = text.find("\ufffd")
    if replacement >= 0:
        line = _line_of(text, replacement)
        raise _Unreadable(
            f"dòng {line} chứa ký tự thay thế “\ufffd”: chữ đã bị mất khi chuyển bảng mã",
            f"line {line} holds the replacement character U+FFFD: text was lost in an"
            " earlier conversion",
        )
    mojibake = _MOJIBAKE.search(text)
    if mojibake:
        line = _line_of(text, mojibake.start())
        raise _Unreadable(
            f"dòng {line} có chữ bị lỗi mã hóa kép (“{mojibake.group()}”, UTF-8 bị đọc"
            f" thành Windows-1252/1258): hãy xuất lại tệp dạng CSV UTF-8",
            f"line {line} holds double-encoded text ({mojibake.group()!r}: UTF-8 read as"
            " Windows-1252/1258 and saved again): export the file again as CSV UTF-8",
        )


@lru_cache(maxsize=1)
def _all_header_keys() -> frozenset[str]:
    return frozenset(key for form in FORMS.values() for key in header_index(form))


def _delimiter(text: str) -> str:
    """Comma, tab or semicolon: the one that splits the header line (the first of the top
    lines naming two known columns) into the most known headers -- a Vietnamese label
    may hold a comma, a number a decimal comma. With no recognizable header, the one
    the first lines show most."""
    sample = text[:8192]
    known = _all_header_keys()
    for line in sample.splitlines()[:HEADER_SEARCH_ROWS]:
        scores = {}
        for delimiter in (",", "\t", ";"):
            try:
                cells = next(csv.reader([line], delimiter=delimiter), [])
            except csv.Error:
                continue
            scores[delimiter] = sum(1 for c in cells if c.strip() and _header_keys(c)[0] in known)
        best = max(scores, key=scores.__getitem__, default=",")
        if scores.get(best, 0) >= 2:
            return best
    counts = {d: sample.count(d) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _rows_from_csv(text: str) -> list[list[str]]:
    delimiter = _delimiter(text)
    # strict: an unclosed quote at the end (a file cut inside a cell) is an error.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as error:
        raise _Unreadable(
            f"CSV sai cấu trúc ở dòng {reader.line_num} ({error}): có thể tệp bị cắt",
            f"malformed CSV at line {reader.line_num} ({error}): the file may be truncated",
        ) from error
    return rows


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


# --- XLSX -----------------------------------------------------------------------------


def _cell_text(value: object) -> str | None:
    """An XLSX cell as text, as Excel displays it without grouping."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text and not text.isascii():
            text = unicodedata.normalize("NFC", text)
        return text or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")  # Excel shows 15 significant digits
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _check_zip(content: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise _Unreadable(
            "tệp XLSX bị hỏng hoặc bị cắt (không mở được dạng nén)",
            f"XLSX file damaged or truncated (not a readable zip: {error})",
        ) from error
    with archive:
        names = archive.namelist()
        if "xl/workbook.xml" not in names:
            shown = ", ".join(names[:3]) or "(trống)"
            raise _Unreadable(
                f"tệp nén (zip) nhưng không phải bảng tính XLSX (chứa: {shown})",
                f"a zip archive but not an XLSX workbook (holds: {shown})",
            )
        if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
            raise _Unreadable(
                "bảng tính giải nén quá lớn so với một biểu báo cáo",
                "the workbook unpacks to far more than a submission can hold",
            )


def _sheet_rows(sheet) -> list[list[str | None]]:
    rows = [[_cell_text(cell) for cell in row] for row in sheet.to_python(skip_empty_area=True)]
    # calamine's range starts at the first used cell: pad so row numbers are the sheet's.
    return [[] for _ in range(sheet.start[0])] + rows


def _xlsx_sheets(
    content: bytes,
) -> tuple[list[list[list[str | None]]], dict[str, str | None]]:
    """The visible worksheets' rows (info sheet excluded), and the info sheet's pairs."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    _check_zip(content)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        info: dict[str, str | None] = {}
        sheets: list[list[list[str | None]]] = []
        for meta in workbook.sheets_metadata:
            # Hidden sheets (lists behind drop-downs, scratch work) are not submissions.
            if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
                continue
            rows = _sheet_rows(workbook.get_sheet_by_name(meta.name))
            if fold(meta.name) in INFO_SHEET_KEYS:
                for row in rows:
                    # A key with an empty value still declares the column (a template
                    # sent back blank is a file without data, not of an unknown form).
                    if row and row[0]:
                        info.setdefault(row[0], row[1] if len(row) > 1 else None)
            else:
                sheets.append(rows)
    except _Unreadable:
        raise
    except Exception as error:  # calamine: XmlError, ZipError, CalamineError, ...
        raise _Unreadable(
            f"không đọc được bảng tính XLSX ({type(error).__name__})",
            f"XLSX workbook cannot be read: {type(error).__name__}: {error}",
        ) from error
    return sheets, info


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


def _problem(name: str, unreadable: _Unreadable) -> FileProblem:
    return FileProblem(
        unreadable.rule_id,
        f"Tệp “{shown(name)}”: {unreadable.message_vi}",
        f"File “{shown(name)}”: {unreadable.message_en}",
    )


def _read_rows(content: bytes) -> tuple[list[list], dict[str, str | None], str, str | None]:
    """(candidate sheets' rows, info pairs, encoding, the CSV text or None for XLSX);
    raises _Unreadable."""
    if len(content) > MAX_FILE_BYTES:
        raise _Unreadable(
            f"tệp {len(content) / 1e6:.1f} MB vượt giới hạn {MAX_FILE_BYTES // 2**20} MB"
            " của một biểu báo cáo",
            f"file of {len(content) / 1e6:.1f} MB exceeds the {MAX_FILE_BYTES // 2**20} MiB"
            " limit for a submission",
        )
    if not content.strip():
        raise _Unreadable("tệp rỗng, không có dữ liệu", "empty file, no data", rule_id="S8")
    if content.startswith(_ZIP_MAGIC) or (
        content.startswith(b"PK") and zipfile.is_zipfile(io.BytesIO(content))
    ):
        sheets, info = _xlsx_sheets(content)
        return sheets, info, "xlsx", None
    if content.startswith(_OLE2_MAGIC):
        raise _Unreadable(
            "bảng tính Excel 97-2003 (.xls) hoặc có mật khẩu: hãy lưu dạng .xlsx không mật khẩu",
            "Excel 97-2003 (.xls) or password-protected workbook: save as .xlsx without password",
        )
    text, encoding = decode_csv(content)
    if not text.strip():
        raise _Unreadable("tệp rỗng, không có dữ liệu", "empty file, no data", rule_id="S8")
    return [_rows_from_csv(text)], {}, encoding, text


def parse_content(file_id: int, original_name: str, content: bytes) -> ParsedFile:
    """Parse one file's bytes. Never raises for bad content: problems are recorded.

    original_name is informational (messages only); it is never used as a path.
    """
    try:
        sheets, info, encoding, csv_text = _read_rows(content)
    except _Unreadable as unreadable:
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
