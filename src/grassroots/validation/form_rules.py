"""The rules of each form beyond its columns' kinds: codes (S6), duplicates (S7) and
the content rules (C1-C5). CB's rules are in cb_rules."""

from __future__ import annotations

import great_expectations.expectations as gxe

from grassroots.forms import Form
from grassroots.validation import frames as fr
from grassroots.validation.cb_rules import cb_rules
from grassroots.validation.code_rules import ORG_REGEX, commune_registry, in_registry, shape, unique
from grassroots.validation.expect import expect, quoted


def _dv_rules(form: Form) -> list:
    movement = fr.DV_BALANCE_PLUS, fr.DV_BALANCE_MINUS
    plus = " + ".join(form.column(c).label_vi for c in movement[0])
    minus = "".join(f" − {form.column(c).label_vi}" for c in movement[1])
    end = form.column("members_end")
    probationary = form.column("probationary_end")
    return [
        *commune_registry(form),
        unique(form, "biểu DV chỉ có một dòng cho mỗi xã", "one row per commune"),
        expect(
            gxe.ExpectColumnPairValuesToBeEqual,
            column="members_end",
            rule="C1",
            inputs=(*movement[0], *movement[1]),
            vi=f"{quoted(end.label_vi)} (“{{value}}”) phải bằng {plus}{minus} = {{expected}}. "
            "Kiểm tra lại các số biến động đảng viên.",
            en="members_end ('{value}') must equal members_start + admitted + transferred_in "
            "- transferred_out - deceased - expelled - removed = {expected}.",
            placeholders={"expected": fr.EXPECTED_MEMBERS_END},
            column_A=fr.parsed("members_end"),
            column_B=fr.EXPECTED_MEMBERS_END,
            ignore_row_if="either_value_is_missing",
        ),
        expect(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            column="probationary_end",
            rule="C2",
            inputs=("members_end",),
            vi=f"{quoted(probationary.label_vi)} (“{{value}}”) không được lớn hơn "
            f"{quoted(end.label_vi)} ({{members_end}}).",
            en="probationary_end ('{value}') must not exceed members_end ({members_end}).",
            placeholders={"members_end": fr.parsed("members_end")},
            column_A=fr.parsed("members_end"),
            column_B=fr.parsed("probationary_end"),
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
    ]


def _tc_rules(form: Form) -> list:
    last = fr.LAST_DISTRICT_YEAR
    return [
        in_registry(
            form,
            "district_code",
            ("report_year",),
            f"không hợp lệ cho năm {{year}}: đến năm {last} ghi mã huyện (3 chữ số), từ năm "
            f"{last + 1} ghi mã tỉnh (2 chữ số), theo danh mục còn hiệu lực.",
            f"district_code '{{value}}' is not valid for {{year}}: a district (3 digits) "
            f"up to {last}, a province (2 digits) after.",
            {"year": fr.parsed("report_year")},
        ),
        shape(
            form.column("org_code"),
            ORG_REGEX,
            "ghi mã xã (5 chữ số) hoặc mã huyện/tỉnh gửi biểu, dấu gạch ngang, một chữ cái "
            "in hoa và 2 chữ số, ví dụ 178-Q01",
            "a commune code (5 digits) or <sender code>-<letter><2 digits>, e.g. 178-Q01",
        ),
        expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="org_code",
            rule="S6",
            inputs=("district_code", "report_year"),
            vi=f"{quoted(form.column('org_code').label_vi)} “{{value}}” không thuộc đơn vị gửi "
            "biểu {sender} năm {year}: mã xã phải là xã thuộc đơn vị đó trong năm, tổ chức "
            "khác ghi {sender}-<chữ cái><2 chữ số>.",
            en="org_code '{value}' does not belong to sender {sender} in {year}.",
            placeholders={"sender": fr.code("district_code"), "year": fr.parsed("report_year")},
            domain=fr.belongs("org_code"),
            value_set=[True],
        ),
        unique(form, "mỗi tổ chức cơ sở đảng chỉ ghi một dòng", "one row per organization"),
    ]


def _ct_rules(form: Form) -> list:
    return [
        in_registry(
            form,
            "unit_code",
            ("term",),
            "không có trong danh mục: ghi mã xã (5 chữ số) hoặc mã huyện (3 chữ số) còn "
            "hiệu lực năm đầu nhiệm kỳ ({start}).",
            "unit_code '{value}' is not a commune or district valid in {start}.",
            {"start": fr.TERM_START},
        ),
        unique(
            form,
            "mỗi chỉ tiêu với một cách tính chỉ ghi một dòng",
            "one row per indicator and basis",
        ),
    ]


def form_rules(form: Form) -> list:
    """The form's own rules, in suite order."""
    builders = {"CB": cb_rules, "DV": _dv_rules, "TC": _tc_rules, "CT": _ct_rules}
    return builders[form.code](form)
