"""Reader: encodings told from garbage, XLSX layouts, the batch frame, limits."""

from __future__ import annotations

import csv
import io
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from grassroots.decode import MAX_FILE_BYTES, decode_csv
from grassroots.forms import FORMS
from grassroots.reader import batch_frame, parse_content

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "files"
CB_HEADER = "Năm báo cáo,Mã xã,Mã thôn,Tình trạng chi bộ,Số đảng viên\n"
VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)


def _cb(rows: str, header: str = CB_HEADER) -> bytes:
    return (header + rows).encode("utf-8")


# Why each corpus file is refused: the reason must be the real one, not any S2.
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("binary_junk.csv", "NUL bytes"),
        ("binary_junk_no_nul.csv", "neither UTF-8 nor Windows-1258"),
        ("utf16_no_bom_cb.csv", "UTF-16 without BOM"),
        ("mojibake_double_encoded_cb.csv", "double-encoded"),
        ("utf8_as_cp1258_cb.csv", "double-encoded"),
        ("cp1258_with_control_chars.csv", "control character U+0002"),
        ("replacement_chars_cb.csv", "replacement character"),
        ("undecodable_bytes.csv", "neither UTF-8 nor Windows-1258"),
        ("utf8_bom_invalid.csv", "UTF-8 BOM but"),
        ("truncated_in_quote_cb.csv", "malformed CSV at line 4"),
        ("truncated_mid_row_cb.csv", "row 4 has 4 of 8 cells"),
        ("xlsx_truncated.xlsx", "damaged or truncated"),
        ("zip_of_text.xlsx", "not an XLSX workbook"),
        ("old_excel.xls", "Excel 97-2003"),
        ("empty.csv", "empty file"),
    ],
)
def test_refused_files_name_the_file_and_the_real_problem(name, reason):
    parsed = parse_content(5, name, (CORPUS / name).read_bytes())
    errors = [p for p in parsed.problems if p.severity == "error"]
    assert len(errors) == 1
    assert reason in errors[0].message_en and name in errors[0].message_en
    assert f"“{name}”" in errors[0].message_vi


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("good_utf8_cb.csv", "utf-8"),
        ("good_utf8_bom_dv.csv", "utf-8-sig"),
        ("good_utf16_tab_cb.txt", "utf-16"),
        ("good_cp1258_cb.csv", "cp1258"),
    ],
)
def test_accepted_encodings_read_the_same_vietnamese_text(name, encoding):
    parsed = parse_content(1, name, (CORPUS / name).read_bytes())
    assert parsed.encoding == encoding and parsed.problems == []
    if parsed.form is FORMS["CB"]:
        names = dict(zip(FORMS["CB"].column_names, parsed.records[0][1:], strict=True))
        assert names["village_name"] == "Thôn Nà Phặc"  # NFC, whatever the encoding
        assert names["branch_status"] == "Sinh hoạt độc lập"


@settings(max_examples=50, deadline=None)
@given(st.text(VIETNAMESE + VIETNAMESE.upper() + string.ascii_letters + " .-'", min_size=1))
def test_real_vietnamese_is_never_taken_for_garbage(text):
    line = text.replace("\n", " ")
    for content in (line.encode("utf-8"), line.encode("utf-16")):
        assert decode_csv(content)[0] == line


def test_semicolons_with_decimal_commas_are_split_on_semicolons():
    header = CB_HEADER.replace(",", ";")
    parsed = parse_content(1, "f.csv", _cb("2023;06193;06193-001;Độc lập;1,5\n", header))
    assert parsed.form is FORMS["CB"] and parsed.missing_columns == []
    assert parsed.frame.loc[0, "members"] == "1,5"


def test_row_numbers_count_records_not_lines_and_skip_empty_rows():
    content = _cb('2023,06193,06193-001,"Độc\nlập",5\n,,,,\n2023,06193,06193-002,Ghép,0\n')
    parsed = parse_content(1, "f.csv", content)
    assert [r[0] for r in parsed.records] == [2, 4]


def test_text_cells_that_look_like_formulas_load_as_text_with_a_warning():
    header = "report_year,commune_code,village_code,village_name,branch_status,members\n"
    rows = '2023,06193,06193-001,"=HYPERLINK(""http://x"",""y"")",independent,-5\n'
    parsed = parse_content(1, "f.csv", _cb(rows, header))
    assert parsed.frame.loc[0, "village_name"] == '=HYPERLINK("http://x","y")'
    (warning,) = parsed.problems  # the negative number is no formula (validation's S2)
    assert (warning.rule_id, warning.severity, warning.row_number, warning.column) == (
        "S2",
        "warning",
        2,
        "village_name",
    )


def test_oversize_content_is_refused_before_reading():
    content = _cb("2023,06193,06193-001,independent,5\n" * (MAX_FILE_BYTES // 30))
    parsed = parse_content(1, "big.csv", content)
    assert len(content) > MAX_FILE_BYTES
    assert parsed.form is None and parsed.records == []
    assert [p.rule_id for p in parsed.problems] == ["S2"]
    assert "limit" in parsed.problems[0].message_en


def test_a_path_like_name_is_only_text():
    name = "../../etc/passwd.csv"
    parsed = parse_content(1, name, b"\x00junk")
    assert parsed.original_name == name and name in parsed.problems[0].message_en


def _xlsx(build) -> bytes:
    book = Workbook()
    build(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_hidden_sheets_are_ignored_and_the_first_visible_table_is_read():
    def build(book):
        junk = book.active
        junk.title = "junk"
        junk.append(["report_year", "commune_code", "village_code", "branch_status", "members"])
        junk.append([1999, "99999", "x", "y", "z"])
        junk.sheet_state = "veryHidden"
        notes = book.create_sheet("Ghi chú")  # visible, no table: skipped
        notes.append(["Người lập biểu"])
        data = book.create_sheet("data")
        data.append([])
        data.append(["report_year", "commune_code", "village_code", "branch_status", "members"])
        data.append([2023, "06193", "06193-001", "independent", 5.0])

    parsed = parse_content(1, "f.xlsx", _xlsx(build))
    assert parsed.records == [
        (3, "2023", "06193", "06193-001", None, "independent", None, "5", None)
    ]


def test_xlsx_cached_formula_values_and_merged_title_are_read():
    parsed = parse_content(
        1,
        "f.xlsx",
        (CORPUS / "xlsx_formula_cached_dv.xlsx").read_bytes(),
    )
    assert parsed.frame.loc[0, "members_end"] == "105"
    merged = parse_content(2, "g.xlsx", (CORPUS / "xlsx_title_merged_info_cb.xlsx").read_bytes())
    assert [r[0] for r in merged.records] == [5, 6, 7]  # header on row 4, as in Excel


def test_batch_frame_stacks_the_files_of_one_form_with_every_column():
    first = parse_content(11, "a.csv", _cb("2023,06193,06193-001,independent,5\n"))
    second = parse_content(
        12,
        "b.csv",
        _cb("2023,06196,06196-001,,7\n2023,06196,06196-002,joint,2\n", CB_HEADER),
    )
    other = parse_content(13, "c.csv", b"report_year,commune_code,population\n2023,06193,5\n")
    frame = batch_frame([first, other, second], FORMS["CB"])
    assert list(frame.columns) == ["file_id", "row_number", *FORMS["CB"].column_names]
    assert frame[["file_id", "row_number"]].values.tolist() == [[11, 2], [12, 2], [12, 3]]
    assert str(frame["file_id"].dtype) == "int64"
    assert frame["commune_code"].tolist() == ["06193", "06196", "06196"]
    assert frame["branch_status"].tolist() == ["independent", None, "joint"]
    assert frame["village_name"].tolist() == [None, None, None]  # no such column in the files
    assert frame["members"].dtype == object
    assert batch_frame([], FORMS["DV"]).empty


def test_corpus_expectations_cover_every_committed_file():
    with (CORPUS.parent / "EXPECTED.csv").open(encoding="utf-8", newline="") as handle:
        listed = {row["file"] for row in csv.DictReader(handle)}
    assert listed == {p.name for p in CORPUS.iterdir()} and len(listed) >= 40
