"""Rules S1-S8 and C1-C5: a minimal failing and a minimal passing file for each.

Real GX (pandas, in process); the registry is a small fake passed in.
Row numbers are as staff see them: header = row 1, first data row = 2.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

import pandas as pd
import pytest

from grassroots.reader import parse_content
from grassroots.validation.runner import Finding, ValidationResult, validate_batch

pytestmark = pytest.mark.unit

TODAY = date(2026, 3, 1)


class FakeRegistry:
    """Communes and districts with validity years (inclusive)."""

    communes: ClassVar[dict] = {  # code -> (district, first year, last year)
        "06253": ("178", 2000, 9999),
        "06256": ("178", 2000, 9999),
        "06299": ("178", 2000, 2019),
        "00001": ("001", 2000, 9999),
    }
    districts: ClassVar[dict] = {"178": ("17", 2000, 2025), "001": ("01", 2000, 2025)}
    provinces: ClassVar[dict] = {"17": ("", 2000, 9999), "01": ("", 2000, 9999)}

    def _table(self, level):
        return {"commune": self.communes, "district": self.districts, "province": self.provinces}[
            level
        ]

    def valid_in_year(self, level, codes, years):
        table = self._table(level)
        out = [
            c in table and table[c][1] <= int(y) <= table[c][2]
            for c, y in zip(codes, years, strict=True)
        ]
        return pd.Series(out, index=codes.index, dtype=bool)

    def commune_belongs_to(self, codes, years, sender_codes):
        out = []
        for code, year, sender in zip(codes, years, sender_codes, strict=True):
            row = self.communes.get(code)
            ok = row is not None and row[1] <= int(year) <= row[2]
            ok = ok and (row[0] == sender or self.districts[row[0]][0] == sender)
            out.append(ok)
        return pd.Series(out, index=codes.index, dtype=bool)


CB_COLUMNS = [
    "report_year", "commune_code", "village_code", "village_name",
    "branch_status", "host_village_code", "members", "branch_rating",
]  # fmt: skip
DV_COLUMNS = [
    "report_year", "commune_code", "population", "members_start", "admitted",
    "transferred_in", "transferred_out", "deceased", "expelled", "removed",
    "members_end", "probationary_end",
]  # fmt: skip
TC_COLUMNS = [
    "report_year", "district_code", "org_code", "org_name", "org_type",
    "members", "subordinate_units", "rating", "rating_points",
]  # fmt: skip
CT_COLUMNS = ["term", "unit_code", "indicator_code", "target_value", "basis", "direction"]

CB_A = dict(
    report_year="2024", commune_code="06253", village_code="06253-001", village_name="Thôn 1",
    branch_status="independent", host_village_code="", members="12", branch_rating="HTTNV",
)  # fmt: skip
CB_B = dict(
    CB_A, village_code="06253-002", village_name="Thôn 2", branch_status="joint",
    host_village_code="06253-001", members="2", branch_rating="",
)  # fmt: skip
DV_A = dict(
    report_year="2024", commune_code="06253", population="12.345", members_start="100",
    admitted="5", transferred_in="2", transferred_out="1", deceased="1", expelled="0",
    removed="0", members_end="105", probationary_end="10",
)  # fmt: skip
TC_A = dict(
    report_year="2024", district_code="178", org_code="06253", org_name="Đảng bộ xã",
    org_type="Xã", members="100", subordinate_units="5", rating="HTTNV", rating_points="80,5",
)  # fmt: skip
TC_B = dict(TC_A, org_code="178-Q01", org_name="Quân sự", org_type="military", rating_points="")
CT_A = dict(
    term="2020-2025", unit_code="06253", indicator_code="members_total", target_value="100",
    basis="per_year", direction="",
)  # fmt: skip


def csv_file(columns, rows, file_id=1, headers=None):
    lines = [",".join(headers or columns)]
    for row in rows:
        lines.append(",".join(f'"{row.get(c, "")}"' for c in columns))
    return parse_content(file_id, "f.csv", ("\n".join(lines) + "\n").encode("utf-8"))


def run(*parsed) -> ValidationResult:
    return validate_batch(list(parsed), registry=FakeRegistry(), today=TODAY)


def only(result: ValidationResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule]


def one(result: ValidationResult, rule: str) -> Finding:
    found = only(result, rule)
    assert len(found) == 1, result.findings
    return found[0]


def assert_clean(result: ValidationResult) -> None:
    assert result.findings == []


# --- passing files ----------------------------------------------------------------------


def test_good_files_of_every_form_pass():
    result = run(
        csv_file(CB_COLUMNS, [CB_A, CB_B], file_id=1),
        csv_file(DV_COLUMNS, [DV_A], file_id=2),
        csv_file(TC_COLUMNS, [TC_A, TC_B], file_id=3),
        csv_file(CT_COLUMNS, [CT_A, dict(CT_A, basis="Cả nhiệm kỳ")], file_id=4),
    )
    assert_clean(result)
    assert result.files_with_errors() == set()
    assert result.file_identity() == {
        1: ("CB", "06253", "2024"),
        2: ("DV", "06253", "2024"),
        3: ("TC", "178", "2024"),
        4: ("CT", "06253", "2020-2025"),
    }


def test_typed_rows_match_raw_tables():
    result = run(
        csv_file(CB_COLUMNS, [CB_A, dict(CB_B, branch_status="Sinh hoạt ghép")], file_id=1),
        csv_file(DV_COLUMNS, [DV_A], file_id=2),
        csv_file(CT_COLUMNS, [CT_A], file_id=4),
    )
    cb = result.typed["CB"]
    assert list(cb.columns) == ["file_id", "row_number", *CB_COLUMNS]
    assert cb["row_number"].tolist() == [2, 3]
    assert cb["branch_status"].tolist() == ["independent", "joint"]
    assert cb["branch_rating"].tolist()[0] == "good"
    assert str(cb["members"].dtype) == "Int64"
    assert cb["commune_code"].tolist() == ["06253", "06253"]
    assert result.typed["DV"]["population"].tolist() == [12345]
    assert result.typed["CT"]["direction"].tolist() == ["at_least"]  # default when empty


def test_vietnamese_headers_without_diacritics():
    headers = ["Nam bao cao", "Ma xa", "Ma thon", "Ten thon", "Tinh trang chi bo",
               "Ma thon sinh hoat ghep", "So dang vien", "Xep loai chi bo"]  # fmt: skip
    assert_clean(run(csv_file(CB_COLUMNS, [CB_A, CB_B], headers=headers)))


# --- S1 ---------------------------------------------------------------------------------


def test_s1_missing_required_column_is_one_error_and_nothing_else_about_it():
    columns = [c for c in CB_COLUMNS if c != "members"]
    result = run(csv_file(columns, [CB_A, CB_B]))
    finding = one(result, "S1")
    assert (finding.severity, finding.column, finding.row_number) == ("error", "members", None)
    assert "Số đảng viên" in finding.message_vi
    assert [f.rule_id for f in result.findings] == ["S1"]  # no C5 etc. on the missing column


def test_s1_unknown_column_is_a_warning():
    result = run(csv_file([*CB_COLUMNS, "ghi_chu"], [CB_A, CB_B]))
    finding = one(result, "S1")
    assert (finding.severity, finding.value, finding.row_number) == ("warning", "ghi_chu", None)
    assert result.files_with_errors() == set()


# --- S2 ---------------------------------------------------------------------------------


def test_s2_unparseable_number():
    result = run(csv_file(CB_COLUMNS, [CB_A, dict(CB_B, members="hai")]))
    finding = one(result, "S2")
    assert (finding.severity, finding.row_number, finding.column, finding.value) == (
        "error", 3, "members", "hai",
    )  # fmt: skip
    assert "Số đảng viên" in finding.message_vi and "hai" in finding.message_vi


def test_s2_value_that_failed_is_not_checked_again():
    # "abc" members of an independent branch: S2 only, no C5 on the same value.
    result = run(csv_file(CB_COLUMNS, [dict(CB_A, members="abc"), CB_B]))
    assert [f.rule_id for f in result.findings] == ["S2"]


def test_s2_empty_required_cell():
    result = run(csv_file(DV_COLUMNS, [dict(DV_A, deceased="")]))
    finding = one(result, "S2")
    assert (finding.row_number, finding.column, finding.severity) == (2, "deceased", "error")
    assert only(result, "C1") == []  # the balance cannot be checked without it


def test_s2_vietnamese_number_formats_pass():
    assert_clean(run(csv_file(DV_COLUMNS, [dict(DV_A, population="61.491")])))


def test_s2_code_that_lost_its_leading_zero_is_a_warning():
    result = run(csv_file(CB_COLUMNS, [dict(CB_A, commune_code="6253"), CB_B]))
    finding = one(result, "S2")
    assert (finding.severity, finding.row_number, finding.column, finding.value) == (
        "warning", 2, "commune_code", "6253",
    )  # fmt: skip
    assert "06253" in finding.message_vi
    assert result.files_with_errors() == set()
    assert result.typed["CB"]["commune_code"].tolist() == ["06253", "06253"]


def test_s2_number_out_of_range():
    result = run(csv_file(TC_COLUMNS, [dict(TC_A, rating_points="120"), TC_B]))
    finding = one(result, "S2")
    assert (finding.row_number, finding.column, finding.value) == (2, "rating_points", "120")


# --- S3 ---------------------------------------------------------------------------------


def test_s3_unknown_enum_value():
    result = run(csv_file(CB_COLUMNS, [CB_A, dict(CB_B, branch_status="tạm ngưng")]))
    finding = one(result, "S3")
    assert (finding.row_number, finding.column, finding.value, finding.severity) == (
        3, "branch_status", "tạm ngưng", "error",
    )  # fmt: skip
    assert only(result, "C3") == []  # follow-ups on an unknown status are suppressed


def test_s3_rating_from_the_wrong_scale():
    result = run(csv_file(CB_COLUMNS, [dict(CB_A, branch_rating="TSVM"), CB_B]))
    finding = one(result, "S3")
    assert (finding.row_number, finding.column, finding.value) == (2, "branch_rating", "TSVM")
    assert "2024" in finding.message_vi


def test_s3_old_scale_rating_is_fine_before_2018():
    rows = [dict(CB_A, report_year="2016", branch_rating="Trong sạch, vững mạnh"),
            dict(CB_B, report_year="2016")]  # fmt: skip
    result = run(csv_file(CB_COLUMNS, rows))
    assert_clean(result)
    assert result.typed["CB"]["branch_rating"].tolist()[0] == "clean_strong"
    result = run(csv_file(CB_COLUMNS, [dict(rows[0], branch_rating="HTXSNV"), rows[1]]))
    assert one(result, "S3").value == "HTXSNV"


# --- S4 ---------------------------------------------------------------------------------


def test_s4_two_units_in_one_file():
    result = run(csv_file(CB_COLUMNS, [CB_A, dict(CB_B, commune_code="06256")]))
    finding = one(result, "S4")
    assert (finding.row_number, finding.column, finding.severity) == (None, "commune_code", "error")
    assert finding.value == "06253, 06256"
    assert result.file_identity()[1] == ("CB", None, "2024")


def test_s4_two_periods_in_one_file():
    result = run(csv_file(CB_COLUMNS, [CB_A, dict(CB_B, report_year="2023")]))
    finding = one(result, "S4")
    assert (finding.column, finding.value) == ("report_year", "2023, 2024")


# --- S5 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["2027", "1999"])
def test_s5_year_in_the_future_or_before_2000(year):
    result = run(csv_file(DV_COLUMNS, [dict(DV_A, report_year=year)]))
    finding = one(result, "S5")
    assert (finding.row_number, finding.column, finding.value) == (2, "report_year", year)
    assert only(result, "S6") == []  # registry lookups for that year are not attempted


def test_s5_current_year_is_allowed():
    assert_clean(run(csv_file(DV_COLUMNS, [dict(DV_A, report_year="2025")])))


@pytest.mark.parametrize("term", ["2020-2024", "2020/2025", "2030-2035"])
def test_s5_bad_term(term):
    result = run(csv_file(CT_COLUMNS, [dict(CT_A, term=term)]))
    finding = one(result, "S5")
    assert (finding.row_number, finding.column, finding.value) == (2, "term", term)


# --- S6 ---------------------------------------------------------------------------------


def test_s6_commune_not_in_registry_for_the_year():
    result = run(csv_file(DV_COLUMNS, [dict(DV_A, commune_code="06299")]))
    finding = one(result, "S6")
    assert (finding.row_number, finding.column, finding.value) == (2, "commune_code", "06299")
    assert_clean(run(csv_file(DV_COLUMNS, [dict(DV_A, commune_code="06299", report_year="2019")])))


def test_s6_village_of_another_commune_or_wrong_shape():
    rows = [CB_A, CB_B, dict(CB_A, village_code="06256-003"), dict(CB_A, village_code="06253-4")]
    result = run(csv_file(CB_COLUMNS, rows))
    found = [(f.row_number, f.column, f.value) for f in only(result, "S6")]
    assert found == [(4, "village_code", "06256-003"), (5, "village_code", "06253-4")]


def test_s6_organization_not_under_the_sender():
    rows = [TC_A, dict(TC_B, org_code="179-Q01"), dict(TC_A, org_code="00001")]
    result = run(csv_file(TC_COLUMNS, rows))
    found = [(f.row_number, f.column, f.value) for f in only(result, "S6")]
    assert found == [(3, "org_code", "179-Q01"), (4, "org_code", "00001")]


def test_s6_tc_sender_must_be_a_province_from_2025():
    rows = [dict(TC_A, report_year="2025"), dict(TC_B, report_year="2025")]
    result = run(csv_file(TC_COLUMNS, rows))
    assert {(f.column, f.value) for f in only(result, "S6")} == {("district_code", "178")}
    province = [dict(r, district_code="17", org_code=r["org_code"].replace("178-", "17-"))
                for r in rows]  # fmt: skip
    assert_clean(run(csv_file(TC_COLUMNS, province)))


# --- S7 ---------------------------------------------------------------------------------


def test_s7_duplicate_village():
    result = run(csv_file(CB_COLUMNS, [CB_A, CB_B, dict(CB_A, village_name="Thôn 1 bis")]))
    found = [(f.row_number, f.column, f.value, f.severity) for f in only(result, "S7")]
    assert found == [
        (2, "village_code", "06253-001", "error"),
        (4, "village_code", "06253-001", "error"),
    ]


def test_s7_duplicate_indicator_and_basis_after_normalizing():
    result = run(csv_file(CT_COLUMNS, [CT_A, dict(CT_A, basis="Hằng năm")]))
    assert [f.row_number for f in only(result, "S7")] == [2, 3]
    assert_clean(run(csv_file(CT_COLUMNS, [CT_A, dict(CT_A, basis="term_total")])))


def test_s7_same_key_in_two_files_is_fine():
    assert_clean(
        run(
            csv_file(CB_COLUMNS, [CB_A, CB_B], file_id=1),
            csv_file(CB_COLUMNS, [CB_A, CB_B], file_id=2),
        )
    )


# --- S8 ---------------------------------------------------------------------------------


def test_s8_file_without_data_rows_is_only_s8():
    result = run(csv_file(CB_COLUMNS, []))
    finding = one(result, "S8")
    assert (finding.severity, finding.row_number) == ("error", None)
    assert [f.rule_id for f in result.findings] == ["S8"]
    assert result.files_with_errors() == {1}


def test_unreadable_and_unknown_files_are_errors():
    unknown = parse_content(7, "x.csv", b"a,b\n1,2\n")
    result = run(unknown, csv_file(DV_COLUMNS, [DV_A], file_id=8))
    assert result.files_with_errors() == {7}
    assert one(result, "S1").file_id == 7


# --- C1 - C5 ----------------------------------------------------------------------------


def test_c1_membership_balance():
    result = run(csv_file(DV_COLUMNS, [dict(DV_A, members_end="104")]))
    finding = one(result, "C1")
    assert (finding.row_number, finding.column, finding.value, finding.severity) == (
        2, "members_end", "104", "error",
    )  # fmt: skip
    assert "= 105" in finding.message_vi


def test_c2_probationary_not_above_members():
    result = run(csv_file(DV_COLUMNS, [dict(DV_A, probationary_end="106")]))
    finding = one(result, "C2")
    assert (finding.row_number, finding.column, finding.value) == (2, "probationary_end", "106")
    assert_clean(run(csv_file(DV_COLUMNS, [dict(DV_A, probationary_end="105")])))


def test_c3_joint_needs_a_host():
    result = run(csv_file(CB_COLUMNS, [CB_A, dict(CB_B, host_village_code="")]))
    finding = one(result, "C3")
    assert (finding.row_number, finding.column, finding.value) == (3, "host_village_code", None)


def test_c3_host_only_when_joint():
    result = run(csv_file(CB_COLUMNS, [dict(CB_A, host_village_code="06253-002"), CB_B]))
    finding = one(result, "C3")
    assert (finding.row_number, finding.column, finding.value) == (
        2,
        "host_village_code",
        "06253-002",
    )


@pytest.mark.parametrize("host", ["06253-009", "06253-003"])
def test_c3_host_must_be_an_independent_village_of_the_file(host):
    third = dict(CB_B, village_code="06253-003", host_village_code=host)
    result = run(csv_file(CB_COLUMNS, [CB_A, CB_B, third]))
    finding = one(result, "C3")
    assert (finding.row_number, finding.column, finding.value) == (4, "host_village_code", host)


def test_c4_no_branch_means_no_members_and_no_rating():
    none = dict(CB_A, village_code="06253-003", branch_status="Chưa có chi bộ", members="0",
                branch_rating="")  # fmt: skip
    assert_clean(run(csv_file(CB_COLUMNS, [CB_A, CB_B, none])))
    result = run(csv_file(CB_COLUMNS, [CB_A, CB_B, dict(none, members="2")]))
    finding = one(result, "C4")
    assert (finding.row_number, finding.column, finding.value) == (4, "members", "2")


def test_c4_rating_exactly_for_independent_branches():
    result = run(
        csv_file(CB_COLUMNS, [dict(CB_A, branch_rating=""), dict(CB_B, branch_rating="HTNV")])
    )
    found = [(f.row_number, f.column, f.value) for f in only(result, "C4")]
    assert found == [(2, "branch_rating", None), (3, "branch_rating", "HTNV")]


def test_c5_independent_branch_needs_three_members():
    result = run(csv_file(CB_COLUMNS, [dict(CB_A, members="2"), CB_B]))
    finding = one(result, "C5")
    assert (finding.row_number, finding.column, finding.value, finding.severity) == (
        2, "members", "2", "error",
    )  # fmt: skip
    assert_clean(run(csv_file(CB_COLUMNS, [dict(CB_A, members="3"), CB_B])))


# --- batching ---------------------------------------------------------------------------


def test_a_batch_of_500_files_is_one_gx_run_per_form_and_frame(monkeypatch):
    from great_expectations.datasource.fluent.interfaces import Batch

    calls = []
    original = Batch.validate

    def counting(self, *args, **kwargs):
        calls.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Batch, "validate", counting)
    parsed = []
    for file_id in range(500):
        if file_id % 2:
            rows = [CB_A, CB_B] if file_id != 301 else [CB_A, dict(CB_B, members="x")]
            parsed.append(csv_file(CB_COLUMNS, rows, file_id=file_id))
        else:
            parsed.append(csv_file(DV_COLUMNS, [DV_A], file_id=file_id))
    result = run(*parsed)
    assert len(calls) == 4  # CB and DV, files frame and rows frame each
    assert result.gx_runs == 4
    assert [(f.file_id, f.rule_id, f.row_number) for f in result.findings] == [(301, "S2", 3)]
    assert len(result.typed["CB"]) == 500 and len(result.typed["DV"]) == 250
