"""Great Expectations suites, one per form, built from grassroots.forms.

`python -m grassroots.validation.suites` (or `write_suites`) writes them to
expectations/<form>.json; those committed files are what the runner loads, and a unit
test keeps them equal to what this module builds.

Each suite checks two frames that the runner builds per batch of files (frames.py):
- "files": one row per file (rules S1, S4, S8),
- "rows": one row per data row of every file: raw text plus derived columns computed
  in pandas where GX has no expectation for the check (parsed numbers, normalized
  codes, registry lookups, the C1 balance).
Every expectation's `meta` holds: `frame` (which frame it reads), `rule_id`, `severity`
(error/warning), `column` (the form column staff must fix), `inputs` (the form columns
it reads, to suppress follow-up findings), `stage` (1: the value itself, 2: a check
built on values), `message_vi` / `message_en` (templates: `{value}` is the cell as
written, other placeholders are frame columns named in `placeholders`).
Cross-file and history rules (X*, P*, K*) can be added as further frames the same way.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations.expectations as gxe
from great_expectations.core import ExpectationSuite
from great_expectations.expectations.row_conditions import Column as Col

from grassroots.forms import (
    FORMS,
    RATINGS_BEFORE_2018,
    RATINGS_FROM_2018,
    Column,
    Form,
)
from grassroots.validation import frames as fr
from grassroots.validation.values import (
    INT_REGEX,
    NUMBER_REGEX,
    SIGNED_INT_REGEX,
    SIGNED_NUMBER_REGEX,
    TERM_REGEX,
    TERM_YEARS,
)

DEFAULT_SUITES_DIR = Path(__file__).resolve().parents[3] / "expectations"
FIRST_YEAR = 2000
CURRENT_YEAR = {"$PARAMETER": fr.CURRENT_YEAR_PARAMETER}  # filled in at validation time

VILLAGE_REGEX = r"^\d{5}-\d{3}$"
ORG_REGEX = r"^(?:\d{5}|\d{2,3}-[A-Z]\d{2})$"


def _expect(
    kind: type,
    *,
    rule: str,
    severity: str,
    column: str | None,
    vi: str,
    en: str,
    frame: str = fr.ROWS,
    inputs: tuple[str, ...] = (),
    stage: int = 2,
    placeholders: dict[str, str] | None = None,
    extra_meta: dict | None = None,
    domain: str | None = None,
    **kwargs,
):
    if domain is not None:
        kwargs["column"] = domain  # the frame column GX reads
    meta = {
        "rule_id": rule,
        "severity": severity,
        "column": column,
        "frame": frame,
        "inputs": sorted(set(inputs) | ({column} if column else set())),
        "stage": stage,
        "message_vi": vi,
        "message_en": en,
        **(extra_meta or {}),
    }
    if placeholders:
        meta["placeholders"] = placeholders
    # GX's own severity mirrors ours, so GX-native tooling reads the same thing.
    gx_severity = "critical" if severity == "error" else "warning"
    return kind(meta=meta, severity=gx_severity, **kwargs)


def _q(text: str) -> str:
    return f"“{text}”"


# --- file-level expectations (S1, S4, S8) ------------------------------------------------


def _file_expectations(form: Form) -> list:
    unit = form.column(form.unit_column)
    period = form.column(form.period_column)
    files = {"frame": fr.FILES, "stage": 1}
    return [
        _expect(
            gxe.ExpectColumnValuesToBeBetween,
            column=None,
            rule="S8",
            severity="error",
            vi=f"Tệp không có dòng số liệu nào: {form.title_vi} phải có ít nhất một dòng.",
            en=f"The file has no data rows: form {form.code} needs at least one row.",
            **files,
            domain=fr.N_ROWS,
            min_value=1,
        ),
        _expect(
            gxe.ExpectColumnValuesToBeNull,
            column=None,
            rule="S1",
            severity="error",
            vi="Thiếu cột bắt buộc {label} ({name}): thêm cột này vào dòng tiêu đề.",
            en="Required column {name} ({label}) is missing from the header row.",
            **files,
            domain=fr.MISSING_REQUIRED,
            extra_meta={"split": True},
        ),
        _expect(
            gxe.ExpectColumnValuesToBeNull,
            column=None,
            rule="S1",
            severity="warning",
            vi=f"Cột “{{value}}” không thuộc {form.title_vi} nên bị bỏ qua; "
            "kiểm tra lại tên cột nếu đây là cột cần thiết.",
            en=f"Column '{{value}}' is not part of form {form.code} and was ignored.",
            **files,
            domain=fr.UNKNOWN_COLUMNS,
            # One finding per file listing the first names and the count: a header of
            # 10,000 unknown cells must not make 10,000 findings.
            extra_meta={"split": True, "one_finding": True},
        ),
        _expect(
            gxe.ExpectColumnValuesToBeInSet,
            column=unit.name,
            rule="S4",
            severity="error",
            vi=f"Tệp phải chứa số liệu của đúng một đơn vị ({_q(unit.label_vi)}); "
            "tệp đang ghi: {value}. Mỗi đơn vị gửi một tệp riêng.",
            en=f"A file must hold exactly one reporting unit ({unit.name}); found: {{value}}.",
            **files,
            domain=fr.N_UNITS,
            extra_meta={"value_column": fr.UNITS},
            value_set=[1],
        ),
        _expect(
            gxe.ExpectColumnValuesToBeInSet,
            column=period.name,
            rule="S4",
            severity="error",
            vi=f"Tệp phải chứa số liệu của đúng một kỳ báo cáo ({_q(period.label_vi)}); "
            "tệp đang ghi: {value}. Mỗi kỳ gửi một tệp riêng.",
            en=f"A file must hold exactly one period ({period.name}); found: {{value}}.",
            **files,
            domain=fr.N_PERIODS,
            extra_meta={"value_column": fr.PERIODS},
            value_set=[1],
        ),
    ]


# --- value-level expectations, generated from the column kinds ---------------------------


def _signed(column: Column) -> bool:
    return column.minimum is None or column.minimum < 0


def _choices_vi(column: Column) -> str:
    parts = []
    for code, labels in column.choices.items():
        parts.append(f"{code} ({labels[0]})" if labels else code)
    return ", ".join(parts)


def _ratings_vi(scale: dict[str, tuple[str, str]]) -> str:
    return ", ".join(f"{abbr} ({text})" for text, abbr in scale.values())


def _column_expectations(form: Form, column: Column) -> list:
    name, label = column.name, _q(column.label_vi)
    out: list = []
    if column.required:
        out.append(
            _expect(
                gxe.ExpectColumnValuesToNotBeNull,
                column=name,
                rule="S2",
                severity="error",
                stage=1,
                vi=f"Ô {label} đang trống: cột này bắt buộc phải ghi.",
                en=f"{name} is empty: a value is required.",
                domain=name,
            )
        )
    if column.kind in ("int", "number"):
        integer = column.kind == "int"
        signed = _signed(column)
        regex = {
            (True, False): INT_REGEX,
            (True, True): SIGNED_INT_REGEX,
            (False, False): NUMBER_REGEX,
            (False, True): SIGNED_NUMBER_REGEX,
        }[(integer, signed)]
        what_vi = "một số nguyên" if integer else "một số"
        what_vi += "" if signed else " không âm"
        example = "61491 hoặc 61.491" if integer else "87,8 hoặc 61.491,5"
        out.append(
            _expect(
                gxe.ExpectColumnValuesToMatchRegex,
                column=name,
                rule="S2",
                severity="error",
                stage=1,
                vi=f"{label} phải là {what_vi} (ví dụ {example}); "
                "không đọc được giá trị “{value}”.",
                en=f"{name} must be a{'n integer' if integer else ' number'}"
                f"{'' if signed else ' >= 0'}; cannot read '{{value}}'.",
                domain=name,
                regex=regex,
            )
        )
        bounds = {}
        if column.maximum is not None:
            bounds["max_value"] = column.maximum
        if column.minimum is not None and (signed or column.minimum > 0):
            bounds["min_value"] = column.minimum
        if bounds:
            low = column.minimum if column.minimum is not None else "-∞"
            high = column.maximum if column.maximum is not None else "∞"
            out.append(
                _expect(
                    gxe.ExpectColumnValuesToBeBetween,
                    column=name,
                    rule="S2",
                    severity="error",
                    stage=1,
                    vi=f"{label} phải nằm trong khoảng {low:g} đến {high:g}; đang ghi “{{value}}”.",
                    en=f"{name} must be between {low:g} and {high:g}; found '{{value}}'.",
                    domain=fr.parsed(name),
                    **bounds,
                )
            )
    elif column.kind == "code" and fr.has_fixed_width(form.code, name):
        out.append(
            _expect(
                gxe.ExpectColumnValuesToBeInSet,
                column=name,
                rule="S2",
                severity="warning",
                stage=2,
                vi=f"{label} “{{value}}” đã mất số 0 ở đầu (Excel đổi mã thành số) và được "
                "hiểu là “{code}”. Hãy định dạng cột mã là Văn bản (Text) để giữ số 0 đầu.",
                en=f"{name} '{{value}}' lost its leading zeros (Excel turned it into a "
                "number); read as '{code}'. Format code columns as text.",
                placeholders={"code": fr.code(name)},
                domain=fr.intact(name),
                value_set=[True],
            )
        )
    elif column.kind == "enum":
        out.append(
            _expect(
                gxe.ExpectColumnValuesToBeInSet,
                column=name,
                rule="S3",
                severity="error",
                stage=1,
                vi=f"{label} “{{value}}” không hợp lệ; chỉ được ghi: {_choices_vi(column)}.",
                en=f"{name} '{{value}}' is not valid; allowed: {', '.join(column.choices)}.",
                domain=fr.code(name),
                value_set=sorted(column.choices),
            )
        )
    elif column.kind == "rating":
        for scale_name, scale, when_vi in (
            (fr.SCALE_FROM_2018, RATINGS_FROM_2018, "từ năm 2018"),
            (fr.SCALE_BEFORE_2018, RATINGS_BEFORE_2018, "trước năm 2018"),
        ):
            out.append(
                _expect(
                    gxe.ExpectColumnValuesToBeInSet,
                    column=name,
                    rule="S3",
                    severity="error",
                    stage=1,
                    inputs=(form.period_column,),
                    vi=f"{label} “{{value}}” không thuộc thang xếp loại áp dụng cho năm "
                    f"{{year}}; {when_vi} chỉ được ghi: {_ratings_vi(scale)}.",
                    en=f"{name} '{{value}}' is not on the rating scale in force in {{year}}; "
                    f"allowed: {', '.join(scale)}.",
                    placeholders={"year": fr.parsed(form.period_column)},
                    domain=fr.code(name),
                    value_set=sorted(scale),
                    row_condition=Col(fr.RATING_SCALE) == scale_name,
                )
            )
    elif column.kind == "term":
        out += [
            _expect(
                gxe.ExpectColumnValuesToMatchRegex,
                column=name,
                rule="S5",
                severity="error",
                stage=1,
                vi=f"{label} “{{value}}” phải ghi dạng năm đầu-năm cuối, ví dụ 2020-2025.",
                en=f"{name} '{{value}}' must look like 2020-2025.",
                domain=name,
                regex=TERM_REGEX,
            ),
            _expect(
                gxe.ExpectColumnValuesToBeBetween,
                column=name,
                rule="S5",
                severity="error",
                stage=1,
                vi=f"{label} “{{value}}” không hợp lệ: năm đầu nhiệm kỳ phải từ {FIRST_YEAR} "
                "và không sau năm hiện tại.",
                en=f"{name} '{{value}}': the term must start in {FIRST_YEAR} or later and "
                "not in the future.",
                domain=fr.TERM_START,
                min_value=FIRST_YEAR,
                max_value=CURRENT_YEAR,
            ),
            _expect(
                gxe.ExpectColumnValuesToBeInSet,
                column=name,
                rule="S5",
                severity="error",
                stage=1,
                vi=f"{label} “{{value}}” phải kéo dài đúng {TERM_YEARS} năm, ví dụ 2020-2025.",
                en=f"{name} '{{value}}' must span {TERM_YEARS} years, e.g. 2020-2025.",
                domain=fr.TERM_SPAN,
                value_set=[TERM_YEARS],
            ),
        ]
    if name == "report_year":
        out.append(
            _expect(
                gxe.ExpectColumnValuesToBeBetween,
                column=name,
                rule="S5",
                severity="error",
                stage=1,
                vi=f"{label} “{{value}}” không hợp lệ: năm báo cáo phải từ {FIRST_YEAR} "
                "đến năm hiện tại.",
                en=f"{name} '{{value}}' must be between {FIRST_YEAR} and the current year.",
                domain=fr.parsed(name),
                min_value=FIRST_YEAR,
                max_value=CURRENT_YEAR,
            )
        )
    return out


# --- registry and shape checks (S6), duplicates (S7) ------------------------------------


def _commune_registry(form: Form) -> list:
    label = _q(form.column("commune_code").label_vi)
    return [
        _expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="commune_code",
            rule="S6",
            severity="error",
            inputs=("report_year",),
            vi=f"{label} “{{value}}” không có trong danh mục đơn vị hành chính còn hiệu lực "
            "năm {year}: ghi mã xã 5 chữ số theo danh mục của Tổng cục Thống kê.",
            en="commune_code '{value}' is not a commune of the registry valid in {year}.",
            placeholders={"year": fr.parsed("report_year")},
            domain=fr.valid("commune_code"),
            value_set=[True],
        )
    ]


def _shape(column: Column, regex: str, example_vi: str, example_en: str) -> object:
    return _expect(
        gxe.ExpectColumnValuesToMatchRegex,
        column=column.name,
        rule="S6",
        severity="error",
        stage=1,
        vi=f"{_q(column.label_vi)} “{{value}}” sai dạng: {example_vi}.",
        en=f"{column.name} '{{value}}' has the wrong shape: {example_en}.",
        domain=fr.code(column.name),
        regex=regex,
    )


def _unique(form: Form, what_vi: str, what_en: str) -> object:
    keys = form.key_columns
    labels = " + ".join(_q(form.column(k).label_vi) for k in keys)
    value_vi = " / ".join(f"{{{k}}}" for k in keys)
    return _expect(
        gxe.ExpectCompoundColumnsToBeUnique,
        column=keys[0],
        rule="S7",
        severity="error",
        inputs=keys,
        vi=f"{labels} “{value_vi}” bị trùng trong tệp: {what_vi}.",
        en=f"Duplicate {' + '.join(keys)} '{value_vi}' in the file: {what_en}.",
        placeholders={k: fr.code(k) for k in keys},
        column_list=[fr.FILE_ID, *(fr.code(k) for k in keys)],
    )


def _cb_rules(form: Form) -> list:
    village, host = form.column("village_code"), form.column("host_village_code")
    status_vi = _q(form.column("branch_status").label_vi)
    status = Col(fr.code("branch_status"))
    rating = form.column("branch_rating")
    members = form.column("members")
    shape_vi = "ghi mã xã, dấu gạch ngang và 3 chữ số, ví dụ 06253-004"
    shape_en = "<commune code>-<3 digits>, e.g. 06253-004"
    return [
        *_commune_registry(form),
        _shape(village, VILLAGE_REGEX, shape_vi, shape_en),
        _expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="village_code",
            rule="S6",
            severity="error",
            inputs=("commune_code",),
            vi=f"{_q(village.label_vi)} “{{value}}” phải bắt đầu bằng mã xã gửi biểu: "
            "{commune}-xxx.",
            en="village_code '{value}' must start with the sending commune's code: {commune}-xxx.",
            placeholders={"commune": fr.code("commune_code")},
            domain=fr.belongs("village_code"),
            value_set=[True],
        ),
        _shape(host, VILLAGE_REGEX, shape_vi, shape_en),
        _unique(form, "mỗi thôn, tổ dân phố chỉ ghi một dòng", "one row per village"),
        # C3: host village given exactly when joint, and it is an independent branch here.
        _expect(
            gxe.ExpectColumnValuesToNotBeNull,
            column="host_village_code",
            rule="C3",
            severity="error",
            inputs=("branch_status",),
            vi=f"Chi bộ sinh hoạt ghép phải ghi {_q(host.label_vi)}: mã thôn có chi bộ mà "
            "đảng viên của thôn này sinh hoạt cùng.",
            en="A joint branch needs host_village_code (the village whose branch its "
            "members attend).",
            domain="host_village_code",
            row_condition=status == "joint",
        ),
        _expect(
            gxe.ExpectColumnValuesToBeNull,
            column="host_village_code",
            rule="C3",
            severity="error",
            inputs=("branch_status",),
            vi=f"Chỉ ghi {_q(host.label_vi)} khi {status_vi} là Sinh hoạt ghép; thôn này ghi "
            "“{status}”. Xóa mã “{value}” hoặc sửa tình trạng chi bộ.",
            en="host_village_code is only for joint branches; this village is '{status}'.",
            placeholders={"status": "branch_status"},
            domain="host_village_code",
            row_condition=status.is_in(["independent", "none"]),
        ),
        _expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="host_village_code",
            rule="C3",
            severity="error",
            inputs=("village_code", "branch_status"),
            vi=f"{_q(host.label_vi)} “{{value}}” phải là một thôn khác trong cùng biểu này, "
            "có chi bộ Sinh hoạt độc lập.",
            en="host_village_code '{value}' must be another village of this file whose "
            "branch is independent.",
            domain=fr.HOST_OK,
            value_set=[True],
        ),
        # C4: no branch => no members; only independent branches are rated.
        _expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="members",
            rule="C4",
            severity="error",
            inputs=("branch_status",),
            vi=f"Thôn Chưa có chi bộ thì {_q(members.label_vi)} phải bằng 0; đang ghi "
            "“{value}”. Nếu thôn có đảng viên, ghi tình trạng Sinh hoạt ghép.",
            en="A village without a branch must have members = 0; found '{value}'.",
            domain=fr.parsed("members"),
            value_set=[0],
            row_condition=status == "none",
        ),
        _expect(
            gxe.ExpectColumnValuesToBeNull,
            column="branch_rating",
            rule="C4",
            severity="error",
            inputs=("branch_status",),
            vi=f"Chỉ xếp loại chi bộ Sinh hoạt độc lập: thôn có {status_vi} “{{status}}” "
            f"phải để trống {_q(rating.label_vi)} (đang ghi “{{value}}”).",
            en="branch_rating must be empty for a '{status}' village; found '{value}'.",
            placeholders={"status": "branch_status"},
            domain="branch_rating",
            row_condition=status.is_in(["none", "joint"]),
        ),
        _expect(
            gxe.ExpectColumnValuesToNotBeNull,
            column="branch_rating",
            rule="C4",
            severity="error",
            inputs=("branch_status",),
            vi=f"Chi bộ Sinh hoạt độc lập phải có {_q(rating.label_vi)}.",
            en="An independent branch needs a branch_rating.",
            domain="branch_rating",
            row_condition=status == "independent",
        ),
        # C5: a branch needs at least three members.
        _expect(
            gxe.ExpectColumnValuesToBeBetween,
            column="members",
            rule="C5",
            severity="error",
            inputs=("branch_status",),
            vi=f"Chi bộ Sinh hoạt độc lập phải có ít nhất 3 đảng viên; {_q(members.label_vi)} "
            "đang ghi “{value}”. Nếu chưa đủ 3 đảng viên, ghi tình trạng Sinh hoạt ghép.",
            en="An independent branch needs at least 3 members; found '{value}'.",
            domain=fr.parsed("members"),
            min_value=3,
            row_condition=status == "independent",
        ),
    ]


def _dv_rules(form: Form) -> list:
    movement = fr.DV_BALANCE_PLUS, fr.DV_BALANCE_MINUS
    plus = " + ".join(form.column(c).label_vi for c in movement[0])
    minus = "".join(f" − {form.column(c).label_vi}" for c in movement[1])
    end = form.column("members_end")
    probationary = form.column("probationary_end")
    return [
        *_commune_registry(form),
        _unique(form, "biểu DV chỉ có một dòng cho mỗi xã", "one row per commune"),
        _expect(
            gxe.ExpectColumnPairValuesToBeEqual,
            column="members_end",
            rule="C1",
            severity="error",
            inputs=(*movement[0], *movement[1]),
            vi=f"{_q(end.label_vi)} (“{{value}}”) phải bằng {plus}{minus} = {{expected}}. "
            "Kiểm tra lại các số biến động đảng viên.",
            en="members_end ('{value}') must equal members_start + admitted + transferred_in "
            "- transferred_out - deceased - expelled - removed = {expected}.",
            placeholders={"expected": fr.EXPECTED_MEMBERS_END},
            column_A=fr.parsed("members_end"),
            column_B=fr.EXPECTED_MEMBERS_END,
            ignore_row_if="either_value_is_missing",
        ),
        _expect(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            column="probationary_end",
            rule="C2",
            severity="error",
            inputs=("members_end",),
            vi=f"{_q(probationary.label_vi)} (“{{value}}”) không được lớn hơn "
            f"{_q(end.label_vi)} ({{members_end}}).",
            en="probationary_end ('{value}') must not exceed members_end ({members_end}).",
            placeholders={"members_end": fr.parsed("members_end")},
            column_A=fr.parsed("members_end"),
            column_B=fr.parsed("probationary_end"),
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
    ]


def _tc_rules(form: Form) -> list:
    sender, org = form.column("district_code"), form.column("org_code")
    return [
        _expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="district_code",
            rule="S6",
            severity="error",
            inputs=("report_year",),
            vi=f"{_q(sender.label_vi)} “{{value}}” không hợp lệ cho năm {{year}}: đến năm "
            f"{fr.LAST_DISTRICT_YEAR} ghi mã huyện (3 chữ số), từ năm "
            f"{fr.LAST_DISTRICT_YEAR + 1} ghi mã tỉnh (2 chữ số), theo danh mục còn hiệu lực.",
            en=f"district_code '{{value}}' is not valid for {{year}}: a district (3 digits) "
            f"up to {fr.LAST_DISTRICT_YEAR}, a province (2 digits) after.",
            placeholders={"year": fr.parsed("report_year")},
            domain=fr.valid("district_code"),
            value_set=[True],
        ),
        _shape(
            org,
            ORG_REGEX,
            "ghi mã xã (5 chữ số) hoặc mã huyện/tỉnh gửi biểu, dấu gạch ngang, một chữ cái "
            "in hoa và 2 chữ số, ví dụ 178-Q01",
            "a commune code (5 digits) or <sender code>-<letter><2 digits>, e.g. 178-Q01",
        ),
        _expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="org_code",
            rule="S6",
            severity="error",
            inputs=("district_code", "report_year"),
            vi=f"{_q(org.label_vi)} “{{value}}” không thuộc đơn vị gửi biểu {{sender}} năm "
            "{year}: mã xã phải là xã thuộc đơn vị đó trong năm, tổ chức khác ghi "
            "{sender}-<chữ cái><2 chữ số>.",
            en="org_code '{value}' does not belong to sender {sender} in {year}.",
            placeholders={"sender": fr.code("district_code"), "year": fr.parsed("report_year")},
            domain=fr.belongs("org_code"),
            value_set=[True],
        ),
        _unique(form, "mỗi tổ chức cơ sở đảng chỉ ghi một dòng", "one row per organization"),
    ]


def _ct_rules(form: Form) -> list:
    unit = form.column("unit_code")
    return [
        _expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="unit_code",
            rule="S6",
            severity="error",
            inputs=("term",),
            vi=f"{_q(unit.label_vi)} “{{value}}” không có trong danh mục: ghi mã xã (5 chữ số) "
            "hoặc mã huyện (3 chữ số) còn hiệu lực năm đầu nhiệm kỳ ({start}).",
            en="unit_code '{value}' is not a commune or district valid in {start}.",
            placeholders={"start": fr.TERM_START},
            domain=fr.valid("unit_code"),
            value_set=[True],
        ),
        _unique(
            form,
            "mỗi chỉ tiêu với một cách tính chỉ ghi một dòng",
            "one row per indicator and basis",
        ),
    ]


_FORM_RULES = {"CB": _cb_rules, "DV": _dv_rules, "TC": _tc_rules, "CT": _ct_rules}


def build_suite(form: Form) -> ExpectationSuite:
    expectations = _file_expectations(form)
    for column in form.columns:
        expectations += _column_expectations(form, column)
    expectations += _FORM_RULES[form.code](form)
    return ExpectationSuite(
        name=f"grassroots.form_{form.code.lower()}",
        expectations=expectations,
        meta={"form": form.code, "title_vi": form.title_vi},
    )


def build_suites() -> dict[str, ExpectationSuite]:
    return {code: build_suite(form) for code, form in FORMS.items()}


def suite_to_dict(suite: ExpectationSuite) -> dict:
    """JSON-ready dict without ids or the GX version (stable across runs)."""
    data = suite.to_json_dict()
    data.pop("id", None)
    data["meta"].pop("great_expectations_version", None)
    for expectation in data["expectations"]:
        expectation.pop("id", None)
    return data


def suite_path(directory: Path, form_code: str) -> Path:
    return Path(directory) / f"{form_code.lower()}.json"


def write_suites(directory: Path = DEFAULT_SUITES_DIR) -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for code, suite in build_suites().items():
        path = suite_path(directory, code)
        text = json.dumps(suite_to_dict(suite), ensure_ascii=False, indent=2, sort_keys=True)
        path.write_text(text + "\n", encoding="utf-8")
        paths.append(path)
    # The cross-form and plausibility suite (X1-X4, P1-P6) lives beside the form suites.
    from grassroots.validation.cross_checks import write_suite

    paths.append(write_suite(directory))
    return paths


def load_suite(directory: Path, form_code: str) -> ExpectationSuite:
    """The committed suite JSON, read back into a GX suite."""
    data = json.loads(suite_path(directory, form_code).read_text(encoding="utf-8"))
    return ExpectationSuite(**data)


if __name__ == "__main__":
    for written in write_suites(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SUITES_DIR):
        print(written)
