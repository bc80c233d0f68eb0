"""The value-level expectations of a form suite, generated from each column's kind.

S2: required cells, readable numbers within bounds, codes that kept their leading
zeros; S3: coded values and ratings on the scale of the year; S5: terms and the
report year.
"""

from __future__ import annotations

from collections.abc import Callable

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column as Col

from grassroots.forms import RATINGS_BEFORE_2018, RATINGS_FROM_2018, Column, Form
from grassroots.validation import frames as fr
from grassroots.validation.expect import expect, quoted
from grassroots.validation.values import (
    INT_REGEX,
    NUMBER_REGEX,
    SIGNED_INT_REGEX,
    SIGNED_NUMBER_REGEX,
    TERM_REGEX,
    TERM_YEARS,
)

FIRST_YEAR = 2000
CURRENT_YEAR = {"$PARAMETER": fr.CURRENT_YEAR_PARAMETER}  # filled in at validation time
# (integer, signed) -> the regex a readable number matches.
_NUMBER_REGEX = {
    (True, False): INT_REGEX,
    (True, True): SIGNED_INT_REGEX,
    (False, False): NUMBER_REGEX,
    (False, True): SIGNED_NUMBER_REGEX,
}


def _value(kind: type, column: Column, rule: str, vi: str, en: str, **kwargs):
    """An expectation on the cell itself (stage 1): an error unless a variant says not."""
    return expect(kind, column=column.name, rule=rule, vi=vi, en=en, stage=1, **kwargs)


def _signed(column: Column) -> bool:
    return column.minimum is None or column.minimum < 0


def _choices_vi(column: Column) -> str:
    parts = []
    for code, labels in column.choices.items():
        parts.append(f"{code} ({labels[0]})" if labels else code)
    return ", ".join(parts)


def _ratings_vi(scale: dict[str, tuple[str, str]]) -> str:
    return ", ".join(f"{abbr} ({text})" for text, abbr in scale.values())


def _required(form: Form, column: Column) -> list:
    if not column.required:
        return []
    name, label = column.name, quoted(column.label_vi)
    return [
        _value(
            gxe.ExpectColumnValuesToNotBeNull,
            column,
            "S2",
            vi=f"Ô {label} đang trống: cột này bắt buộc phải ghi.",
            en=f"{name} is empty: a value is required.",
            domain=name,
        )
    ]


def _numeric(form: Form, column: Column) -> list:
    name, label = column.name, quoted(column.label_vi)
    integer, signed = column.kind == "int", _signed(column)
    what_vi = ("một số nguyên" if integer else "một số") + ("" if signed else " không âm")
    example = "61491 hoặc 61.491" if integer else "87,8 hoặc 61.491,5"
    out = [
        _value(
            gxe.ExpectColumnValuesToMatchRegex,
            column,
            "S2",
            vi=f"{label} phải là {what_vi} (ví dụ {example}); không đọc được giá trị “{{value}}”.",
            en=f"{name} must be a{'n integer' if integer else ' number'}"
            f"{'' if signed else ' >= 0'}; cannot read '{{value}}'.",
            domain=name,
            regex=_NUMBER_REGEX[(integer, signed)],
        )
    ]
    bounds = {}
    if column.maximum is not None:
        bounds["max_value"] = column.maximum
    if column.minimum is not None and (signed or column.minimum > 0):
        bounds["min_value"] = column.minimum
    if bounds:
        low = column.minimum if column.minimum is not None else "-∞"
        high = column.maximum if column.maximum is not None else "∞"
        out.append(
            _value(
                gxe.ExpectColumnValuesToBeBetween,
                column,
                "S2",
                vi=f"{label} phải nằm trong khoảng {low:g} đến {high:g}; đang ghi “{{value}}”.",
                en=f"{name} must be between {low:g} and {high:g}; found '{{value}}'.",
                domain=fr.parsed(name),
                **bounds,
            )
        )
    return out


def _code(form: Form, column: Column) -> list:
    if not fr.has_fixed_width(form.code, column.name):
        return []
    name, label = column.name, quoted(column.label_vi)
    return [
        expect(
            gxe.ExpectColumnValuesToBeInSet,
            column=name,
            rule="S2",
            variant="lost_leading_zeros",
            vi=f"{label} “{{value}}” đã mất số 0 ở đầu (Excel đổi mã thành số) và được "
            "hiểu là “{code}”. Hãy định dạng cột mã là Văn bản (Text) để giữ số 0 đầu.",
            en=f"{name} '{{value}}' lost its leading zeros (Excel turned it into a "
            "number); read as '{code}'. Format code columns as text.",
            placeholders={"code": fr.code(name)},
            domain=fr.intact(name),
            value_set=[True],
        )
    ]


def _enum(form: Form, column: Column) -> list:
    name, label = column.name, quoted(column.label_vi)
    return [
        _value(
            gxe.ExpectColumnValuesToBeInSet,
            column,
            "S3",
            vi=f"{label} “{{value}}” không hợp lệ; chỉ được ghi: {_choices_vi(column)}.",
            en=f"{name} '{{value}}' is not valid; allowed: {', '.join(column.choices)}.",
            domain=fr.code(name),
            value_set=sorted(column.choices),
        )
    ]


def _rating(form: Form, column: Column) -> list:
    name, label = column.name, quoted(column.label_vi)
    return [
        _value(
            gxe.ExpectColumnValuesToBeInSet,
            column,
            "S3",
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
        for scale_name, scale, when_vi in (
            (fr.SCALE_FROM_2018, RATINGS_FROM_2018, "từ năm 2018"),
            (fr.SCALE_BEFORE_2018, RATINGS_BEFORE_2018, "trước năm 2018"),
        )
    ]


def _term(form: Form, column: Column) -> list:
    name, label = column.name, quoted(column.label_vi)
    return [
        _value(
            gxe.ExpectColumnValuesToMatchRegex,
            column,
            "S5",
            vi=f"{label} “{{value}}” phải ghi dạng năm đầu-năm cuối, ví dụ 2020-2025.",
            en=f"{name} '{{value}}' must look like 2020-2025.",
            domain=name,
            regex=TERM_REGEX,
        ),
        _value(
            gxe.ExpectColumnValuesToBeBetween,
            column,
            "S5",
            vi=f"{label} “{{value}}” không hợp lệ: năm đầu nhiệm kỳ phải từ {FIRST_YEAR} "
            "và không sau năm hiện tại.",
            en=f"{name} '{{value}}': the term must start in {FIRST_YEAR} or later and "
            "not in the future.",
            domain=fr.TERM_START,
            min_value=FIRST_YEAR,
            max_value=CURRENT_YEAR,
        ),
        _value(
            gxe.ExpectColumnValuesToBeInSet,
            column,
            "S5",
            vi=f"{label} “{{value}}” phải kéo dài đúng {TERM_YEARS} năm, ví dụ 2020-2025.",
            en=f"{name} '{{value}}' must span {TERM_YEARS} years, e.g. 2020-2025.",
            domain=fr.TERM_SPAN,
            value_set=[TERM_YEARS],
        ),
    ]


def _report_year(form: Form, column: Column) -> list:
    if column.name != "report_year":
        return []
    name, label = column.name, quoted(column.label_vi)
    return [
        _value(
            gxe.ExpectColumnValuesToBeBetween,
            column,
            "S5",
            vi=f"{label} “{{value}}” không hợp lệ: năm báo cáo phải từ {FIRST_YEAR} "
            "đến năm hiện tại.",
            en=f"{name} '{{value}}' must be between {FIRST_YEAR} and the current year.",
            domain=fr.parsed(name),
            min_value=FIRST_YEAR,
            max_value=CURRENT_YEAR,
        )
    ]


_Builder = Callable[[Form, Column], list]
# The checks of a column's kind, after the required check and before the report year's.
_BY_KIND: dict[str, _Builder] = {
    "int": _numeric,
    "number": _numeric,
    "code": _code,
    "enum": _enum,
    "rating": _rating,
    "term": _term,
}


def column_expectations(form: Form, column: Column) -> list:
    by_kind = _BY_KIND.get(column.kind)
    return [
        *_required(form, column),
        *(by_kind(form, column) if by_kind else []),
        *_report_year(form, column),
    ]
