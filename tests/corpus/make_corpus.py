"""Write the bad-input corpus (tests/corpus/files/) and its expectations (EXPECTED.csv).

Deterministic: the same bytes on every run (XLSX zips get fixed timestamps), so the
committed files can be regenerated and diffed: `.venv/bin/python tests/corpus/make_corpus.py`.
The 50 MB file is not here: the integration test generates it at runtime.

Each loadable file has its own (unit, period) so that no good file supersedes another.
Communes are real (Cao Lộc district 183, Lạng Sơn), valid in the registry until 2025.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from grassroots.forms import FORMS
from grassroots.templates import fill_template

HERE = Path(__file__).resolve().parent
FILES_DIR = HERE / "files"
EXPECTED = HERE / "EXPECTED.csv"
FIXED_TIME = (2024, 1, 31, 8, 0, 0)
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # the combining marks Windows-1258 has

CB_LABELS = [
    "Năm báo cáo",
    "Mã xã",
    "Mã thôn",
    "Tên thôn",
    "Tình trạng chi bộ",
    "Mã thôn sinh hoạt ghép",
    "Số đảng viên",
    "Xếp loại chi bộ",
]
DV_LABELS = [c.label_vi for c in FORMS["DV"].columns]
COMMUNES = [
    "06184", "06187", "06190", "06193", "06196", "06199", "06202", "06205", "06208",
    "06211", "06214", "06217", "06220", "06223", "06226", "06232", "06235", "06238",
    "06241", "06244", "06247", "06250",
]  # fmt: skip
VILLAGE_NAMES = ["Thôn Nà Phặc", "Bản Khuổi Cáp", "Tổ dân phố Đồng Đăng", "Thôn Phai Luông"]


@dataclass
class Entry:
    name: str
    content: bytes
    outcome: str  # loaded | quarantined | duplicate
    rules: str = ""  # rule ids of all findings (errors and warnings), ";"-separated
    rows: str = ""  # sheet rows of those findings, ";"-separated; empty = file-level
    note: str = ""


_units = iter(COMMUNES)


def next_commune() -> str:
    """A commune no other file of the corpus uses (each accepted file its own unit)."""
    return next(_units)


def cb_rows(commune: str, year: int = 2023, villages: int = 3) -> list[list[str]]:
    return [
        [str(year), commune, f"{commune}-{i + 1:03d}", VILLAGE_NAMES[i % 4],
         "Sinh hoạt độc lập", "", str(5 + i), "Hoàn thành tốt nhiệm vụ"]
        for i in range(villages)
    ]  # fmt: skip


def dv_row(commune: str, year: int = 2023) -> list[str]:
    # 100 + 5 + 2 - 1 - 1 - 0 - 0 = 105 (C1), probationary 10 <= 105 (C2)
    return [str(year), commune, "12.345", "100", "5", "2", "1", "1", "0", "0", "105", "10"]


def to_csv(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


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


def deterministic_xlsx(content: bytes, cached: dict[str, str] | None = None) -> bytes:
    """Rewrite an openpyxl zip with fixed timestamps; give formula cells cached values
    (`cached`: cell ref -> value) as Excel would have saved them."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-31T08:00:00Z", data)
            if cached and info.filename.startswith("xl/worksheets/"):
                for ref, value in cached.items():
                    data = re.sub(
                        rf'(<c r="{ref}"[^>]*>(<f>[^<]*</f>))<v\s*/>'.encode(),
                        rb"\1<v>" + value.encode() + b"</v>",
                        data,
                    )
            entry = zipfile.ZipInfo(info.filename, FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, data)
    return out.getvalue()


def workbook_bytes(book: Workbook, cached: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return deterministic_xlsx(buffer.getvalue(), cached)


def cb_csv(rows: list[list[str]], **kwargs) -> bytes:
    return to_csv([CB_LABELS, *rows], **kwargs).encode("utf-8")


def good_files() -> list[Entry]:
    entries = [
        Entry(
            "good_utf8_cb.csv",
            cb_csv(cb_rows(next_commune())),
            "loaded",
            note="UTF-8 without BOM, Vietnamese labels",
        ),
        Entry(
            "good_utf8_bom_dv.csv",
            b"\xef\xbb\xbf" + to_csv([DV_LABELS, dv_row(next_commune())]).encode("utf-8"),
            "loaded",
            note="UTF-8 with BOM (Excel 'CSV UTF-8'), population 12.345",
        ),
        Entry(
            "good_utf16_tab_cb.txt",
            to_csv([CB_LABELS, *cb_rows(next_commune())], delimiter="\t").encode("utf-16"),
            "loaded",
            note="Excel 'Unicode text': UTF-16 LE with BOM, tab-separated",
        ),
        Entry(
            "good_cp1258_cb.csv",
            to_cp1258(to_csv([CB_LABELS, *cb_rows(next_commune())])),
            "loaded",
            note="Windows-1258 with combining tone marks, NFC after decoding",
        ),
        Entry(
            "good_semicolon_dv.csv",
            to_csv([DV_LABELS, dv_row(next_commune())], delimiter=";").encode("utf-8"),
            "loaded",
            note="semicolons; a label holds a comma (Xóa tên, xin ra khỏi Đảng)",
        ),
    ]
    commune = next_commune()
    mixed = "\n".join(to_csv([r]).rstrip("\r\n") for r in [CB_LABELS, *cb_rows(commune)[:1]])
    mixed += "\r\n" + to_csv(cb_rows(commune)[1:2]).rstrip("\r\n") + "\r"
    mixed += to_csv(cb_rows(commune)[2:3], newline="\n")
    entries.append(
        Entry(
            "good_mixed_line_endings_cb.csv",
            mixed.encode("utf-8"),
            "loaded",
            note="LF, CRLF and CR line endings in one file",
        )
    )
    commune = next_commune()
    padded = [[*row, "", ""] for row in [CB_LABELS, *cb_rows(commune)]]
    padded += [[""] * 10, [""] * 10, [""] * 10]
    entries.append(
        Entry(
            "good_trailing_empty_rows_cols_cb.csv",
            to_csv(padded).encode(),
            "loaded",
            note="two empty trailing columns, three empty trailing rows",
        )
    )
    commune = next_commune()
    lost = [[*row[:1], commune.lstrip("0"), *row[2:]] for row in cb_rows(commune)]
    entries.append(
        Entry(
            "lost_leading_zeros_cb.csv",
            cb_csv(lost),
            "loaded",
            "S2",
            "2;3;4",
            "Excel dropped the leading zero (6193 for 06193): padded, S2 warning",
        )
    )
    commune = next_commune()
    rows = cb_rows(commune)
    rows[0][3] = '=HYPERLINK("http://x","click")'
    entries.append(
        Entry(
            "formula_injection_cb.csv",
            cb_csv(rows),
            "loaded",
            "S2",
            "2",
            "formula in a text cell: stored as inert text, S2 warning",
        )
    )
    commune = next_commune()
    rows = cb_rows(commune)
    rows[1][3] = "x'); drop table raw.form_cb; --"
    entries.append(
        Entry(
            "sql_injection_cb.csv",
            cb_csv(rows),
            "loaded",
            note="SQL in a village name loads as plain text",
        )
    )
    entries.append(
        Entry(
            "..%2F..%2Fetc%2Fpasswd.csv",
            cb_csv(cb_rows(next_commune())),
            "loaded",
            note="path-traversal name: stored as text, never a path",
        )
    )
    entries.append(
        Entry(
            "good_utf8_cb_copy.csv",
            entries[0].content,
            "duplicate",
            note="byte-identical resend of good_utf8_cb.csv",
        )
    )
    entries.append(
        Entry(
            "good_tc.csv",
            to_csv(
                [
                    [c.name for c in FORMS["TC"].columns],
                    [
                        "2023",
                        "183",
                        "06193",
                        "Đảng bộ xã Thanh Lòa",
                        "Xã",
                        "120",
                        "6",
                        "HTTNV",
                        "80,5",
                    ],
                    [
                        "2023",
                        "183",
                        "183-Q01",
                        "Chi bộ Quân sự huyện",
                        "Quân sự",
                        "15",
                        "0",
                        "HTNV",
                        "",
                    ],
                ]
            ).encode("utf-8"),
            "loaded",
            note="TC with English codes as headers, decimal comma",
        )
    )
    entries.append(
        Entry(
            "good_ct.csv",
            to_csv(
                [
                    [
                        "Nhiệm kỳ",
                        "Mã đơn vị",
                        "Mã chỉ tiêu",
                        "Giá trị chỉ tiêu",
                        "Cách tính",
                        "Chiều",
                    ],
                    ["2020-2025", "06199", "members_total", "120", "Hằng năm", ""],
                    ["2020-2025", "06199", "admissions", "25", "Cả nhiệm kỳ", "Tối thiểu"],
                ]
            ).encode("utf-8"),
            "loaded",
            note="CT, Vietnamese enum labels",
        )
    )
    return entries  # fmt: skip


def xlsx_files() -> list[Entry]:
    entries = []
    # Merged title cells, header on row 4, identity from the info sheet.
    commune = next_commune()
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
    commune = next_commune()
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
    # A hidden sheet with junk (and another form's header) before the data sheet.
    commune = next_commune()
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
    commune = next_commune()
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
    import datetime

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
    # Damaged workbooks.
    whole = entries[0].content
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


def bad_files() -> list[Entry]:
    good = cb_rows("06193")
    return [
        Entry("empty.csv", b"", "quarantined", "S8", note="0 bytes"),
        Entry("header_only_cb.csv", cb_csv([]), "quarantined", "S8", note="no data rows"),
        Entry("binary_junk.csv", bytes((i * 197 + 11) % 256 for i in range(3000)),
              "quarantined", "S2", note="binary bytes (holds NUL)"),
        Entry("binary_junk_no_nul.csv", bytes((i * 37 + 129) % 255 + 1 for i in range(800)),
              "quarantined", "S2", note="binary bytes without NUL: bytes neither encoding has"),
        Entry("truncated_mid_row_cb.csv", cb_csv(good)[: cb_csv(good).rindex(b",Sinh")],
              "quarantined", "S2", "4", "cut in the middle of the last row"),
        Entry("truncated_in_quote_cb.csv", cb_csv(good).rstrip(b"\r\n") + ',"Thôn Nà'.encode(),
              "quarantined", "S2", note="cut inside a quoted cell"),
        Entry("wrong_form.csv", b"ho_ten,ngay_sinh,que_quan\nNguyen Van A,1990-01-01,Ha Noi\n",
              "quarantined", "S1", note="headers of no form"),
        Entry("two_units_cb.csv", cb_csv([*cb_rows("06193")[:2], *cb_rows("06196")[:1]]),
              "quarantined", "S4", note="two communes in one file"),
        Entry("future_year_dv.csv", to_csv([DV_LABELS, dv_row("06193", 2099)]).encode(),
              "quarantined", "S5", "2", "year 2099"),
        Entry("duplicate_keys_cb.csv", cb_csv([*good, good[1]]), "quarantined", "S7", "3;5",
              "village 06193-002 twice"),
        Entry("negative_members_cb.csv", cb_csv([good[0], [*good[1][:6], "-4", good[1][7]]]),
              "quarantined", "S2", "3", "negative member count"),
        Entry("garbage_in_number_cb.csv", cb_csv([[*good[0][:6], "mười hai", good[0][7]]]),
              "quarantined", "S2", "2", "words in 'Số đảng viên'"),
        Entry("mojibake_double_encoded_cb.csv",
              to_csv([FORMS["CB"].column_names, *good[:2]]).encode("utf-8").decode("cp1252")
              .encode("utf-8"), "quarantined", "S2",
              note="UTF-8 read as Windows-1252 and saved again ('Thôn' -> 'ThÃ´n')"),
        Entry("utf8_as_cp1258_cb.csv",
              to_csv([CB_LABELS, *good]).encode("utf-8").decode("cp1258", "ignore")
              .encode("utf-8"), "quarantined", "S2",
              note="UTF-8 read as Windows-1258 and saved again"),
        Entry("utf16_no_bom_cb.csv", to_csv([CB_LABELS, *good]).encode("utf-16-le"),
              "quarantined", "S2", note="UTF-16 without BOM: NUL bytes"),
        Entry("cp1258_with_control_chars.csv",
              to_cp1258(to_csv([CB_LABELS, *good])).replace(b"Th", b"T\x02h", 1),
              "quarantined", "S2", note="valid Windows-1258 bytes, but a C0 control char"),
        Entry("replacement_chars_cb.csv", cb_csv(good).replace("ô".encode(), "\ufffd".encode()),
              "quarantined", "S2", note="text already lost in a conversion (U+FFFD)"),
        Entry("undecodable_bytes.csv", cb_csv(good) + b"\x81\x8d\x8e\x8f\x90",
              "quarantined", "S2", note="bytes undefined in both UTF-8 and Windows-1258"),
        Entry("utf8_bom_invalid.csv", b"\xef\xbb\xbf" + to_cp1258(to_csv([CB_LABELS, *good])),
              "quarantined", "S2", note="says UTF-8 (BOM) but is Windows-1258"),
        Entry("old_scale_rating_cb.csv",
              cb_csv([[*r[:7], "Trong sạch, vững mạnh"] for r in good]), "quarantined", "S3",
              "2;3;4", "rating of the pre-2018 scale in 2023"),
    ]  # fmt: skip


def all_entries() -> list[Entry]:
    return [*good_files(), *xlsx_files(), *bad_files()]


def main() -> None:
    FILES_DIR.mkdir(exist_ok=True)
    for stale in FILES_DIR.iterdir():
        stale.unlink()
    entries = all_entries()
    with EXPECTED.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file", "expected_outcome", "rule_ids", "rows", "note"])
        for entry in entries:
            assert len(entry.content) < 20_000, entry.name
            (FILES_DIR / entry.name).write_bytes(entry.content)
            writer.writerow([entry.name, entry.outcome, entry.rules, entry.rows, entry.note])
    print(f"wrote {len(entries)} files to {FILES_DIR} and {EXPECTED}")


if __name__ == "__main__":
    main()
