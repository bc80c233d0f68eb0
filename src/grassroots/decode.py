"""Bytes of a submitted file to rows of text cells: CSV (encoding found, delimiter
sniffed) or XLSX (calamine), with the limits that refuse what no real submission is.

What cannot be read raises Unreadable with the staff's and the log's message; the
parser (reader.py) turns it into a file-level problem naming the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from functools import lru_cache

from grassroots.forms import FORMS, fold, header_index, label_keys

INFO_SHEET_KEYS = label_keys("info", "Thông tin")
# Header rows are looked for among the first rows (title rows above the table).
HEADER_SEARCH_ROWS = 20

# A submission is one form of one unit: a few hundred rows at most (a province's TC
# file is ~100 KB). Anything far larger is a mistake or an attack, refused before decoding.
MAX_FILE_BYTES = 10 * 1024 * 1024
# Zip bombs: an XLSX whose parts unpack to more than this is refused unread.
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024

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


class Unreadable(Exception):
    """The file cannot be read; carries the staff and log messages (without file name)."""

    def __init__(self, message_vi: str, message_en: str, rule_id: str = "S2") -> None:
        super().__init__(message_en)
        self.message_vi, self.message_en, self.rule_id = message_vi, message_en, rule_id


# --- CSV ------------------------------------------------------------------------------


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def decode_csv(content: bytes) -> tuple[str, str]:
    """(text, encoding) of CSV bytes, NFC-normalized; raises Unreadable when the bytes
    are not text in an accepted encoding. Never guesses silently: BOMs decide, then
    strict UTF-8, then strict Windows-1258, and the decoded text must look like a table
    (no control characters, no replacement characters, no double-encoded UTF-8)."""
    if content.startswith(_UTF16_BOMS):
        try:
            text, encoding = content.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise Unreadable(
                f"có BOM UTF-16 nhưng không giải mã được ({error.reason}): tệp bị cắt hoặc hỏng",
                f"UTF-16 BOM but not valid UTF-16 ({error.reason}): truncated or damaged",
            ) from error
    elif b"\x00" in content:
        raise Unreadable(
            "chứa byte NUL: tệp nhị phân hoặc UTF-16 không có BOM, không phải CSV",
            "contains NUL bytes: a binary file or UTF-16 without BOM, not CSV",
        )
    elif content.startswith(_UTF8_BOM):
        try:
            text, encoding = content.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise Unreadable(
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
                raise Unreadable(
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
        raise Unreadable(
            f"giải mã theo {encoding} ra ký tự điều khiển U+{ord(control.group()):04X} ở dòng"
            f" {line}: tệp nhị phân hoặc sai bảng mã",
            f"decoded as {encoding} it holds control character U+{ord(control.group()):04X}"
            f" on line {line}: binary content or wrong encoding",
        )
    replacement = text.find("\ufffd")
    if replacement >= 0:
        line = _line_of(text, replacement)
        raise Unreadable(
            f"dòng {line} chứa ký tự thay thế “\ufffd”: chữ đã bị mất khi chuyển bảng mã",
            f"line {line} holds the replacement character U+FFFD: text was lost in an"
            " earlier conversion",
        )
    mojibake = _MOJIBAKE.search(text)
    if mojibake:
        line = _line_of(text, mojibake.start())
        raise Unreadable(
            f"dòng {line} có chữ bị lỗi mã hóa kép (“{mojibake.group()}”, UTF-8 bị đọc"
            f" thành Windows-1252/1258): hãy xuất lại tệp dạng CSV UTF-8",
            f"line {line} holds double-encoded text ({mojibake.group()!r}: UTF-8 read as"
            " Windows-1252/1258 and saved again): export the file again as CSV UTF-8",
        )


@lru_cache(maxsize=1)
def _all_header_keys() -> frozenset[str]:
    return frozenset(key for form in FORMS.values() for key in header_index(form))


@lru_cache(maxsize=4096)
def _is_known_header(cell: str) -> bool:
    # Cached: every file of a form repeats the same header cells, and folding them
    # (NFC, case fold) was most of the delimiter's cost.
    return bool(cell.strip()) and fold(cell) in _all_header_keys()


def _delimiter(text: str) -> str:
    """Comma, tab or semicolon: the one that splits the header line (the first of the top
    lines naming two known columns) into the most known headers -- a Vietnamese label
    may hold a comma, a number a decimal comma. With no recognizable header, the one
    the first lines show most."""
    sample = text[:8192]
    for line in sample.splitlines()[:HEADER_SEARCH_ROWS]:
        scores = {}
        for delimiter in (",", "\t", ";"):
            try:
                cells = next(csv.reader([line], delimiter=delimiter), [])
            except csv.Error:
                continue
            scores[delimiter] = sum(map(_is_known_header, cells))
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
        raise Unreadable(
            f"CSV sai cấu trúc ở dòng {reader.line_num} ({error}): có thể tệp bị cắt",
            f"malformed CSV at line {reader.line_num} ({error}): the file may be truncated",
        ) from error
    return rows


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
        raise Unreadable(
            "tệp XLSX bị hỏng hoặc bị cắt (không mở được dạng nén)",
            f"XLSX file damaged or truncated (not a readable zip: {error})",
        ) from error
    with archive:
        names = archive.namelist()
        if "xl/workbook.xml" not in names:
            shown = ", ".join(names[:3]) or "(trống)"
            raise Unreadable(
                f"tệp nén (zip) nhưng không phải bảng tính XLSX (chứa: {shown})",
                f"a zip archive but not an XLSX workbook (holds: {shown})",
            )
        if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
            raise Unreadable(
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
    except Unreadable:
        raise
    except Exception as error:  # calamine: XmlError, ZipError, CalamineError, ...
        raise Unreadable(
            f"không đọc được bảng tính XLSX ({type(error).__name__})",
            f"XLSX workbook cannot be read: {type(error).__name__}: {error}",
        ) from error
    return sheets, info


# --- a file ----------------------------------------------------------------------------


def read_rows(content: bytes) -> tuple[list[list], dict[str, str | None], str, str | None]:
    """(candidate sheets' rows, info pairs, encoding, the CSV text or None for XLSX);
    raises Unreadable."""
    if len(content) > MAX_FILE_BYTES:
        raise Unreadable(
            f"tệp {len(content) / 1e6:.1f} MB vượt giới hạn {MAX_FILE_BYTES // 2**20} MB"
            " của một biểu báo cáo",
            f"file of {len(content) / 1e6:.1f} MB exceeds the {MAX_FILE_BYTES // 2**20} MiB"
            " limit for a submission",
        )
    if not content.strip():
        raise Unreadable("tệp rỗng, không có dữ liệu", "empty file, no data", rule_id="S8")
    if content.startswith(_ZIP_MAGIC) or (
        content.startswith(b"PK") and zipfile.is_zipfile(io.BytesIO(content))
    ):
        sheets, info = _xlsx_sheets(content)
        return sheets, info, "xlsx", None
    if content.startswith(_OLE2_MAGIC):
        raise Unreadable(
            "bảng tính Excel 97-2003 (.xls) hoặc có mật khẩu: hãy lưu dạng .xlsx không mật khẩu",
            "Excel 97-2003 (.xls) or password-protected workbook: save as .xlsx without password",
        )
    text, encoding = decode_csv(content)
    if not text.strip():
        raise Unreadable("tệp rỗng, không có dữ liệu", "empty file, no data", rule_id="S8")
    return [_rows_from_csv(text)], {}, encoding, text
