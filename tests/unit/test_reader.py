import io
import unicodedata

import pytest
from openpyxl import Workbook

from grassroots.forms import FORMS, detect_form, strip_diacritics
from grassroots.reader import parse_content

pytestmark = pytest.mark.unit


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


@pytest.mark.parametrize(
    "header",
    [
        "report_year,commune_code,members_start,admitted",
        "Năm báo cáo,Mã xã,Đảng viên đầu năm,Kết nạp mới",
        "Nam bao cao,Ma xa,Dang vien dau nam,Ket nap moi",
        "  NĂM   BÁO CÁO ,MÃ XÃ,ĐẢNG VIÊN ĐẦU NĂM,KẾT NẠP MỚI",
    ],
)
def test_headers_match_in_english_vietnamese_and_without_diacritics(header):
    parsed = parse_content(1, "f.csv", _csv(header + "\n2023,06193,100,4\n"))
    assert parsed.form is FORMS["DV"]
    assert list(parsed.frame.columns[:5]) == [
        "row_number",
        "report_year",
        "commune_code",
        "members_start",
        "admitted",
    ]
    assert parsed.frame.loc[0, "admitted"] == "4"


def test_decomposed_unicode_headers_are_normalized():
    header = unicodedata.normalize(
        "NFD", "Năm báo cáo,Mã xã,Mã thôn,Tình trạng chi bộ,Số đảng viên"
    )
    parsed = parse_content(1, "f.csv", _csv(header + "\n2023,06193,06193-001,independent,5\n"))
    assert parsed.form is FORMS["CB"]
    assert parsed.missing_columns == []


def test_codes_stay_text_with_leading_zeros_and_empty_cells_are_missing():
    parsed = parse_content(
        1,
        "f.csv",
        _csv(
            "report_year,commune_code,village_code,branch_status,host_village_code,members\n"
            "2023,00769,00769-001,independent,,12\n"
        ),
    )
    row = parsed.frame.iloc[0]
    assert row["commune_code"] == "00769"
    assert row["village_code"] == "00769-001"
    assert row["host_village_code"] is None or row["host_village_code"] != row["host_village_code"]
    assert row["row_number"] == 2


def test_unknown_and_missing_columns_are_reported():
    parsed = parse_content(
        1, "f.csv", _csv("report_year,commune_code,members_start,colour\n2023,06193,1,x\n")
    )
    assert parsed.form is FORMS["DV"]
    assert parsed.unknown_columns == ["colour"]
    assert "admitted" in parsed.missing_columns and "members_end" in parsed.missing_columns


def to_cp1258(text: str) -> bytes:
    """Encode as legacy Windows-1258 does: base letter plus a combining tone mark."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", decomposed[:-1])
            out += (base + decomposed[-1]).encode("cp1258")
    return out


def test_bom_utf16_and_cp1258_are_decoded():
    text = "Năm báo cáo\tMã xã\tĐảng viên đầu năm\n2023\t06193\t100\n"
    for content in (
        text.encode("utf-16"),
        b"\xef\xbb\xbf" + text.replace("\t", ",").encode("utf-8"),
        to_cp1258(text.replace("\t", ",")),
    ):
        parsed = parse_content(1, "f.csv", content)
        assert parsed.form is FORMS["DV"], content[:20]
        assert parsed.frame.loc[0, "commune_code"] == "06193"


def test_xlsx_with_title_rows_and_info_sheet():
    book = Workbook()
    sheet = book.active
    sheet.title = "CB"
    sheet.append(["BIỂU CB: CHI BỘ THÔN"])
    sheet.append([])
    sheet.append(["Mã thôn", "Tình trạng chi bộ", "Số đảng viên"])
    sheet.append(["06193-001", "Sinh hoạt độc lập", 7])
    info = book.create_sheet("Thông tin")
    info.append(["Năm báo cáo", 2022])
    info.append(["Mã xã", "06193"])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parse_content(3, "f.xlsx", buffer.getvalue())
    assert parsed.form is FORMS["CB"]
    row = parsed.frame.iloc[0]
    assert (row["row_number"], row["commune_code"], row["report_year"]) == (4, "06193", "2022")
    assert row["members"] == "7"


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary", b"PK\x03\x04 not really a zip"])
def test_unreadable_or_unknown_content_becomes_a_problem_not_an_exception(content):
    parsed = parse_content(9, "junk.csv", content)
    assert parsed.form is None
    assert parsed.problems and parsed.problems[0].rule_id in {"S1", "S2", "S8"}


def test_detect_form_tells_tc_from_cb():
    assert detect_form(["report_year", "district_code", "org_code", "members"]) is FORMS["TC"]
    assert detect_form(["term", "unit_code", "indicator_code"]) is FORMS["CT"]
    assert detect_form(["nothing", "here"]) is None


def test_strip_diacritics_handles_d_bar():
    assert strip_diacritics("Số Đảng viên") == "so dang vien"
