"""Codes and keys, shared by the forms' rules: registry lookups and shapes (S6),
duplicate keys (S7)."""

from __future__ import annotations

import great_expectations.expectations as gxe

from grassroots.forms import Column, Form
from grassroots.validation import frames as fr
from grassroots.validation.expect import expect, quoted

VILLAGE_REGEX = r"^\d{5}-\d{3}$"
ORG_REGEX = r"^(?:\d{5}|\d{2,3}-[A-Z]\d{2})$"


def in_registry(
    form: Form, name: str, inputs: tuple[str, ...], vi: str, en: str, placeholders: dict
):
    """S6: the code names a unit of the registry valid in the report's year."""
    return expect(
        gxe.ExpectColumnValuesToBeInSet,
        column=name,
        rule="S6",
        inputs=inputs,
        vi=f"{quoted(form.column(name).label_vi)} “{{value}}” {vi}",
        en=en,
        placeholders=placeholders,
        domain=fr.valid(name),
        value_set=[True],
    )


def commune_registry(form: Form) -> list:
    return [
        in_registry(
            form,
            "commune_code",
            ("report_year",),
            "không có trong danh mục đơn vị hành chính còn hiệu lực năm {year}: ghi mã xã "
            "5 chữ số theo danh mục của Tổng cục Thống kê.",
            "commune_code '{value}' is not a commune of the registry valid in {year}.",
            {"year": fr.parsed("report_year")},
        )
    ]


def shape(column: Column, regex: str, example_vi: str, example_en: str):
    return expect(
        gxe.ExpectColumnValuesToMatchRegex,
        column=column.name,
        rule="S6",
        stage=1,
        vi=f"{quoted(column.label_vi)} “{{value}}” sai dạng: {example_vi}.",
        en=f"{column.name} '{{value}}' has the wrong shape: {example_en}.",
        domain=fr.code(column.name),
        regex=regex,
    )


def unique(form: Form, what_vi: str, what_en: str):
    keys = form.key_columns
    labels = " + ".join(quoted(form.column(k).label_vi) for k in keys)
    value_vi = " / ".join(f"{{{k}}}" for k in keys)
    return expect(
        gxe.ExpectCompoundColumnsToBeUnique,
        column=keys[0],
        rule="S7",
        inputs=keys,
        vi=f"{labels} “{value_vi}” bị trùng trong tệp: {what_vi}.",
        en=f"Duplicate {' + '.join(keys)} '{value_vi}' in the file: {what_en}.",
        placeholders={k: fr.code(k) for k in keys},
        column_list=[fr.FILE_ID, *(fr.code(k) for k in keys)],
    )
