"""Blank templates: built from forms.py, and what staff type into them reads back unchanged."""

from __future__ import annotations

import io
import string
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from grassroots.cli import main
from grassroots.forms import FORMS, INDICATOR_CODES, TEXT_FORMAT, Form
from grassroots.reader import parse_content
from grassroots.templates import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    INFO_SHEET,
    LISTS_SHEET,
    choice_labels,
    data_columns,
    fill_template,
)
from grassroots.validation.values import parse_int, parse_number

pytestmark = pytest.mark.unit

VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)
TEXT_ALPHABET = VIETNAMESE + VIETNAMESE.upper() + string.digits + " -,.'()=+@\"/"


def _text() -> st.SearchStrategy[str]:
    # What staff type: Vietnamese with diacritics, digits, punctuation, even a leading
    # "=" (must stay text); the reader strips outer spaces and reads NFC.
    return (
        st.text(TEXT_ALPHABET, min_size=1, max_size=40)
        .map(lambda s: unicodedata.normalize("NFC", s).strip())
        .filter(bool)
    )


CODE = st.from_regex(r"\A0\d{2,4}(-\d{3}|-[A-Z]\d{2})?\Z")


def _value(form: Form, name: str) -> st.SearchStrategy:
    column = form.column(name)
    if column.kind == "int":
        return st.integers(0, 10**7)
    if column.kind == "number":
        return st.integers(0, 10**6).map(lambda n: n / 100)
    if column.kind == "code":
        return CODE
    if column.kind in ("enum", "rating"):
        return st.sampled_from(choice_labels(column))
    return _text()


@st.composite
def submissions(draw, form: Form):
    """A submission valid per the form's columns: info (period, unit) and data rows."""
    period = form.column(form.period_column)
    year = draw(st.integers(2000, 2030))
    info = {
        form.period_column: year if period.kind == "int" else f"{year}-{year + 5}",
        form.unit_column: draw(CODE),
    }
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        row = {}
        for column in data_columns(form):
            value = _value(form, column.name)
            row[column.name] = draw(value if column.required else st.none() | value)
        rows.append(row)
    return info, rows


def _same(kind: str, written, read: str | None) -> bool:
    if written is None:
        return read is None
    if kind == "int":
        return parse_int(read) == written
    if kind == "number":
        return parse_number(read) == pytest.approx(written)
    return read == written


@pytest.mark.parametrize("form_code", sorted(FORMS))
def test_a_filled_template_reads_back_unchanged(form_code):
    form = FORMS[form_code]

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(submissions(form))
    def round_trip(submission):
        info, rows = submission
        parsed = parse_content(1, f"{form_code}.xlsx", fill_template(form, info, rows))
        assert parsed.form is form
        assert parsed.missing_columns == [] and parsed.unknown_columns == []
        assert [p for p in parsed.problems if p.severity == "error"] == []
        assert len(parsed.records) == len(rows)
        names = form.column_names
        for offset, (written, record) in enumerate(zip(rows, parsed.records, strict=True)):
            assert record[0] == FIRST_DATA_ROW + offset  # the row staff see in Excel
            read = dict(zip(names, record[1:], strict=True))
            for name, value in {**written, **info}.items():
                assert _same(form.column(name).kind, value, read[name]), (name, value, read)

    round_trip()


def test_templates_command_writes_one_workbook_per_form(tmp_path):
    assert main(["templates", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "CB.xlsx",
        "CT.xlsx",
        "DV.xlsx",
        "TC.xlsx",
    ]
    book = load_workbook(tmp_path / "CB.xlsx")
    assert book.sheetnames == ["CB", INFO_SHEET, "Hướng dẫn", LISTS_SHEET]
    assert book[LISTS_SHEET].sheet_state == "hidden"
    sheet = book["CB"]
    header = [cell.value for cell in sheet[HEADER_ROW] if cell.value]
    assert header == [c.label_vi for c in data_columns(FORMS["CB"])]
    # The canonical code is in the header cell's comment; code columns are Text.
    assert "village_code" in sheet.cell(HEADER_ROW, 1).comment.text
    assert sheet.column_dimensions["A"].number_format == TEXT_FORMAT
    # Drop-down for "Tình trạng chi bộ" (column C) from the hidden lists sheet.
    lists = book[LISTS_SHEET]
    list_column = next(c[0].column_letter for c in lists.columns if c[0].value == "branch_status")
    status_list = next(v for v in sheet.data_validations.dataValidation if v.type == "list"
                       and f"${list_column}$" in v.formula1)  # fmt: skip
    assert str(status_list.sqref).startswith(f"C{FIRST_DATA_ROW}:")
    labels = [cell.value for cell in lists[list_column][1:] if cell.value]
    assert labels == ["Sinh hoạt độc lập", "Sinh hoạt ghép", "Chưa có chi bộ"]
    info = book[INFO_SHEET]
    assert [info.cell(r, 1).value for r in (2, 3)] == ["Năm báo cáo", "Mã xã"]


def test_ct_drop_down_lists_every_indicator_code():
    column = FORMS["CT"].column("indicator_code")
    assert choice_labels(column) == list(INDICATOR_CODES)


def test_a_blank_template_reads_as_a_file_without_data_rows():
    parsed = parse_content(1, "CB.xlsx", fill_template(FORMS["CB"], {}, []))
    assert parsed.form is FORMS["CB"]
    assert parsed.records == []


def test_text_that_looks_like_a_formula_is_written_as_text_not_formula():
    content = fill_template(
        FORMS["CB"],
        {"report_year": 2024, "commune_code": "06193"},
        [{"village_code": "06193-001", "village_name": '=HYPERLINK("http://x","y")'}],
    )
    cell = load_workbook(io.BytesIO(content))["CB"].cell(FIRST_DATA_ROW, 2)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
