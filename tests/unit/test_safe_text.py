"""Submitted text shown to people (grassroots.safe_text) and the findings' bounds."""

from __future__ import annotations

import pytest

from grassroots.reader import parse_content
from grassroots.safe_text import for_html, is_formula, results_for_html, shown
from grassroots.validation import runner
from tests.unit.test_validation_rules import CB_A, CB_COLUMNS, csv_file, only, run

pytestmark = pytest.mark.unit

FORMULAS = ["=cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "+1+cmd", "\t=1+1", "\r=1+1", "-", "- Thôn 1", "+84 912"]  # fmt: skip
NOT_FORMULAS = ["-5", "+3,5", "-12.345", "12%", "Thôn Nà Phặc", "", None, "a=b"]


def test_shown_makes_control_and_bidi_characters_visible():
    assert shown("a.csv\n  - [S9] giả\r\tx\u202egsl\u2066\x85\x00") == (
        "a.csv\\n  - [S9] giả\\r\\tx\\u202egsl\\u2066\\u0085\\u0000"
    )
    assert shown("Thôn Nà Phặc") == "Thôn Nà Phặc"
    assert shown(None) == ""


def test_shown_cuts_long_values_with_their_length():
    assert shown("x" * 100_000, 10) == "x" * 10 + "… (100000 ký tự)"
    assert shown("x" * 10, 10) == "x" * 10


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_payloads_are_formulas(value):
    assert is_formula(value)


@pytest.mark.parametrize("value", NOT_FORMULAS)
def test_numbers_and_plain_text_are_not_formulas(value):
    assert not is_formula(value)


def test_formula_payloads_are_flagged_by_the_reader():
    rows = [dict(CB_A, village_code=f"06253-{i:03d}", village_name=v)
            for i, v in enumerate(FORMULAS[:4], start=1)]  # fmt: skip
    parsed = csv_file(CB_COLUMNS, rows)
    flagged = [p for p in parsed.problems if p.rule_id == "S2" and p.severity == "warning"]
    assert [p.value for p in flagged] == FORMULAS[:4]


def test_html_escaped_for_the_data_docs():
    document = {
        "suite_name": "s",
        "results": [
            {
                "expectation_config": {"kwargs": {"regex": "^<x>$"}},
                "result": {"unexpected_list": ["<script>alert(1)</script>", 5]},
                "exception_info": {"exception_message": "<img src=x onerror=alert(1)>"},
            }
        ],
    }
    safe = results_for_html(document)
    item = safe["results"][0]
    assert item["result"]["unexpected_list"] == ["&lt;script&gt;alert(1)&lt;/script&gt;", 5]
    assert "<" not in item["exception_info"]["exception_message"]
    assert item["expectation_config"] == {"kwargs": {"regex": "^<x>$"}}  # ours, as it is
    assert for_html({"<k>": ("a\n",)}) == {"&lt;k&gt;": ["a\\n"]}


def test_ten_thousand_columns_make_one_bounded_finding():
    headers = [*CB_COLUMNS, *(f"extra_{i:05d}" for i in range(10_000))]
    result = run(csv_file(headers, [CB_A], headers=headers))
    unknown = only(result, "S1")
    assert len(unknown) == 1 and unknown[0].severity == "warning"
    assert unknown[0].value.startswith("extra_00000, extra_00001")
    assert "10000" in unknown[0].value and len(unknown[0].value) < 300
    assert len(result.findings) == 1


def test_findings_are_capped_per_file_and_rule_with_a_count():
    rows = [dict(CB_A, village_code=f"06253-{i:03d}", members="mười")
            for i in range(1, 31)]  # fmt: skip
    result = run(csv_file(CB_COLUMNS, rows))
    errors = only(result, "S2")
    assert len(errors) == runner.FINDINGS_PER_RULE + 1
    assert all(f.severity == "error" for f in errors)
    rest = [f for f in errors if f.row_number is None]
    assert len(rest) == 1 and rest[0].value == "10" and "10" in rest[0].message_vi
    assert result.files_with_errors() == {1}


def test_a_huge_cell_is_not_copied_whole_into_findings():
    content = (",".join(CB_COLUMNS) + "\n" + ",".join(
        '"' + (("x" * 100_000) if c == "members" else CB_A[c]) + '"' for c in CB_COLUMNS
    ) + "\n").encode()  # fmt: skip
    result = run(parse_content(1, "f.csv", content))
    (finding,) = only(result, "S2")
    assert len(finding.value) < 300 and len(finding.message_vi) < 1000
