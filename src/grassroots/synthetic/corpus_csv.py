"""The bad-input corpus's CSV and text files: encodings, odd layouts, defects."""

from __future__ import annotations

from collections.abc import Iterator

from grassroots.forms import FORMS
from grassroots.synthetic.corpus_parts import (
    CB_LABELS,
    DV_LABELS,
    Entry,
    cb_csv,
    cb_rows,
    dv_row,
)
from grassroots.synthetic.files import to_cp1258, to_csv


def _encoding_files(units: Iterator[str]) -> list[Entry]:
    entries = [
        Entry(
            "good_utf8_cb.csv",
            cb_csv(cb_rows(next(units))),
            "loaded",
            note="UTF-8 without BOM, Vietnamese labels",
        ),
        Entry(
            "good_utf8_bom_dv.csv",
            b"\xef\xbb\xbf" + to_csv([DV_LABELS, dv_row(next(units))]).encode("utf-8"),
            "loaded",
            note="UTF-8 with BOM (Excel 'CSV UTF-8'), population 12.345",
        ),
        Entry(
            "good_utf16_tab_cb.txt",
            to_csv([CB_LABELS, *cb_rows(next(units))], delimiter="\t").encode("utf-16"),
            "loaded",
            note="Excel 'Unicode text': UTF-16 LE with BOM, tab-separated",
        ),
        Entry(
            "good_cp1258_cb.csv",
            to_cp1258(to_csv([CB_LABELS, *cb_rows(next(units))])),
            "loaded",
            note="Windows-1258 with combining tone marks, NFC after decoding",
        ),
        Entry(
            "good_semicolon_dv.csv",
            to_csv([DV_LABELS, dv_row(next(units))], delimiter=";").encode("utf-8"),
            "loaded",
            note="semicolons; a label holds a comma (Xóa tên, xin ra khỏi Đảng)",
        ),
    ]
    return entries  # fmt: skip


def _odd_layout_files(units: Iterator[str]) -> list[Entry]:
    entries = []
    commune = next(units)
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
    commune = next(units)
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
    commune = next(units)
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
    commune = next(units)
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
    commune = next(units)
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
    return entries  # fmt: skip


def _other_files(units: Iterator[str], first: Entry) -> list[Entry]:
    entries = []
    entries.append(
        Entry(
            "..%2F..%2Fetc%2Fpasswd.csv",
            cb_csv(cb_rows(next(units))),
            "loaded",
            note="path-traversal name: stored as text, never a path",
        )
    )
    entries.append(
        Entry(
            "good_utf8_cb_copy.csv",
            first.content,
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


def good_files(units: Iterator[str]) -> list[Entry]:
    """Files that load (each on its own commune from `units`) and one resent duplicate."""
    encodings = _encoding_files(units)
    return [*encodings, *_odd_layout_files(units), *_other_files(units, encodings[0])]


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
