"""File bytes: CSV in its encodings, XLSX (openpyxl or a fixed template), pinned zips.

Every writer is deterministic: the same rows give the same bytes (zip entry times and
document properties are pinned), so committed files can be regenerated and diffed.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path
from string import ascii_uppercase
from xml.sax.saxutils import escape

from openpyxl import Workbook

FIXED_TIMESTAMP = datetime(2025, 1, 1)
XLSX_SHEET = "Biểu"
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # the combining marks Windows-1258 has
_CORE_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_MODIFIED_STAMP = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def fresh_folder(path: Path) -> Path:
    """`path` created if missing, emptied of the files a previous run wrote."""
    path.mkdir(exist_ok=True)
    for stale in path.iterdir():
        stale.unlink()
    return path


def to_csv(rows: list[list[object]], delimiter: str = ",", newline: str = "\r\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


def csv_bytes(
    header: list[str], body: list[list[object]], *, bom: bool = False, crlf: bool = False
) -> bytes:
    text = to_csv([header, *body], newline="\r\n" if crlf else "\n")
    return text.encode("utf-8-sig" if bom else "utf-8")


def utf16_bytes(header: list[str], body: list[list[object]]) -> bytes:
    """Excel's "Unicode text": UTF-16 LE with BOM, tab-separated, CRLF."""
    return b"\xff\xfe" + to_csv([header, *body], delimiter="\t").encode("utf-16-le")


def to_cp1258(text: str) -> bytes:
    """Legacy Windows-1258: a base letter plus a combining tone mark where needed."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tone = next(c for c in decomposed if c in TONE_MARKS)
            base = unicodedata.normalize("NFC", decomposed.replace(tone, ""))
            out += (base + tone).encode("cp1258")
    return bytes(out)


def pin_zip(
    data: bytes,
    date_time: tuple[int, ...],
    core_stamp: bytes,
    *,
    only_modified: bool = False,
    keep_attributes: bool = False,
    cached: dict[str, str] | None = None,
) -> bytes:
    """Rewrite an openpyxl zip with fixed entry times and document-property stamps
    (openpyxl stamps them at save), so identical content gives identical bytes.
    `cached`: cell ref -> value given to formula cells, as Excel would have saved them."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                if only_modified:
                    content = _MODIFIED_STAMP.sub(rb"\g<1>" + core_stamp + rb"\g<2>", content)
                else:
                    content = _CORE_STAMP.sub(core_stamp, content)
            if cached and info.filename.startswith("xl/worksheets/"):
                for ref, value in cached.items():
                    content = re.sub(
                        rf'(<c r="{ref}"[^>]*>(<f>[^<]*</f>))<v\s*/>'.encode(),
                        rb"\1<v>" + value.encode() + b"</v>",
                        content,
                    )
            entry = zipfile.ZipInfo(info.filename, date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            if keep_attributes:
                entry.external_attr = info.external_attr
            target.writestr(entry, content)
    return out.getvalue()


def openpyxl_xlsx_bytes(header: list[str], body: list[list[object]]) -> bytes:
    """One-sheet workbook as Excel users save it (openpyxl), codes as text cells."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = XLSX_SHEET
    sheet.append(header)
    for row in body:
        sheet.append([None if v == "" else v for v in row])
    # Codes are text cells (leading zeros survive); mark them as text for Excel too.
    for column_cells in sheet.iter_cols(min_row=2):
        for cell in column_cells:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    workbook.properties.creator = "grassroots demo"
    workbook.properties.created = FIXED_TIMESTAMP
    workbook.properties.modified = FIXED_TIMESTAMP
    raw = io.BytesIO()
    workbook.save(raw)
    stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return pin_zip(
        raw.getvalue(),
        FIXED_TIMESTAMP.timetuple()[:6],
        stamp,
        only_modified=True,
        keep_attributes=True,
    )


# A minimal XLSX: one sheet, inline strings (no shared-string table), no styles.
_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{XLSX_SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_LETTERS = [*ascii_uppercase]


def xlsx_bytes(header: list[str], body: list[list[object]]) -> bytes:
    """One-sheet workbook from a fixed template (fast, no openpyxl); text as inline
    strings (codes keep leading zeros), numbers as numbers, empty cells omitted."""
    parts = [_SHEET_HEAD]
    for r, row in enumerate([header, *body], start=1):
        parts.append(f'<row r="{r}">')
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            ref = f"{_LETTERS[c]}{r}"
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                parts.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                text = escape(str(value))
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
        parts.append("</row>")
    parts.append("</sheetData></worksheet>")
    buffer = io.BytesIO()
    stamp = FIXED_TIMESTAMP.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in (*_XLSX_STATIC.items(), ("xl/worksheets/sheet1.xml", "".join(parts))):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"), compresslevel=1)
    return buffer.getvalue()
