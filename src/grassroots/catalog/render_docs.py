"""The tables of docs/forms.md and docs/indicators.md, made from the catalog."""

from __future__ import annotations

import textwrap

from grassroots.catalog.forms import Column, Form, FormCatalog
from grassroots.catalog.indicators import Indicator

KIND_EN = {
    "int": "whole number",
    "number": "number (decimals allowed)",
    "code": "code (text: leading zeros kept)",
    "text": "text",
    "enum": "one of a list",
    "rating": "rating",
    "term": "congress term",
}
SENDERS = {
    "commune": "commune",
    "district_or_province": "district (from 2025-07-01: province)",
    "commune_or_district": "commune or district",
}


def _para(text: str, indent: str = "") -> str:
    """Prose wrapped like the hand-written docs; a list item's lines indented under it."""
    return textwrap.fill(" ".join(text.split()), 88, subsequent_indent=indent)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows),
    ]


def _number(value: float) -> str:
    return f"{value:g}"


def _allowed(column: Column) -> str:
    if column.kind == "enum" and column.choices and not any(column.choices.values()):
        return "an indicator code of [indicators.md](indicators.md)"
    if column.kind == "enum":
        return "; ".join(
            f"`{code}`" + (f" ({', '.join(labels)})" if labels else "")
            for code, labels in column.choices.items()
        )
    if column.kind == "rating":
        return "a rating of the year's scale (see below)"
    if column.kind == "term":
        return "`yyyy-yyyy`, such as 2020-2025"
    if column.minimum is not None and column.maximum is not None:
        return f"{_number(column.minimum)} to {_number(column.maximum)}"
    if column.minimum is not None:
        return f"≥ {_number(column.minimum)}"
    return ""


def _form_lines(form: Form) -> list[str]:
    keys = " and ".join(f"`{name}`" for name in form.key_columns)
    identify = "identifies" if len(form.key_columns) == 1 else "together identify"
    rows = [
        [
            c.label_vi + "".join(f"; {alias}" for alias in c.aliases_vi),
            f"`{c.name}`",
            c.description,
            KIND_EN[c.kind],
            _allowed(c),
            "yes" if c.required else "no",
        ]
        for c in form.columns
    ]
    return [
        f"## Form {form.code}: {form.title_en} ({form.title_vi})",
        "",
        _para(form.purpose),
        "",
        _para(
            f"**Sent by** {form.sender[0].lower()}{form.sender[1:]} A file holds one"
            f" {SENDERS[form.sender_level]}, `{form.unit_column}`, and one period,"
            f" `{form.period_column}`; within it {keys} {identify} a row. Raw table"
            f" `{form.raw_table}`, staging view `{form.staging_model}`."
        ),
        "",
        *_table(
            ["Header (Vietnamese)", "Column", "Meaning", "Type", "Allowed values", "Required"],
            rows,
        ),
        "",
    ]


def _rating_lines(catalog: FormCatalog) -> list[str]:
    year = catalog.rating_change_year
    rows = [
        [f"`{code}`", text, abbreviation, f"from {year}", ""]
        for code, (text, abbreviation) in catalog.ratings_from.items()
    ] + [
        [f"`{code}`", text, abbreviation, f"before {year}", f"`{catalog.old_to_new_rating[code]}`"]
        for code, (text, abbreviation) in catalog.ratings_before.items()
    ]
    return [
        "## Ratings",
        "",
        _para(
            f"Form CB's `branch_rating` and form TC's `rating` take the scale of their year:"
            f" the four-level scale from {year} on, the old one before. Staff may write the"
            " code, the Vietnamese text or its abbreviation. Across the change, the old scale"
            " is compared as the new rating it maps to."
        ),
        "",
        *_table(["Code", "Vietnamese", "Abbreviation", "Scale", "Compared as"], rows),
        "",
    ]


def forms_section(catalog: FormCatalog) -> str:
    lines: list[str] = []
    for form in catalog.forms.values():
        lines += _form_lines(form)
    lines += _rating_lines(catalog)
    return "\n".join(lines)


def _indicator_lines(indicator: Indicator, forms: FormCatalog) -> list[str]:
    sources = ", ".join(
        f"{code} ({forms.forms[code].title_en.lower()})" for code in indicator.source_forms
    )
    unit = "percent" if indicator.value_kind == "percent" else "count"
    lines = [
        f"### `{indicator.code}`: {indicator.name_en}",
        "",
        _para(f"{indicator.name_vi}. {indicator.definition}"),
        "",
        f"- Formula: {indicator.formula}",
        f"- Value: {unit}; source form {sources}.",
        f"- Levels (as reported): {', '.join(indicator.as_reported_levels)};"
        f" (current units): {', '.join(indicator.current_levels)}.",
    ]
    if indicator.uses_ratings:
        lines.append(
            f"- Counts ratings: before {forms.rating_change_year} the old scale is mapped"
            " onto the new one (`rating_scale_mapped`)."
        )
    if indicator.sums_over_term:
        lines.append(
            "- A flow: a `per_year` target adds up over the years of a congress term,"
            " and the term's actual is the sum of the years reported."
        )
    return [*(_para(line, "  ") if line.startswith("- ") else line for line in lines), ""]


def indicators_section(indicators: dict[str, Indicator], forms: FormCatalog) -> str:
    rows = [
        [f"`{i.code}`", i.name_en, i.name_vi, i.value_kind, ", ".join(i.source_forms)]
        for i in indicators.values()
    ]
    lines = [
        *_table(["Code", "Name", "Vietnamese name", "Value", "Source form"], rows),
        "",
    ]
    for indicator in indicators.values():
        lines += _indicator_lines(indicator, forms)
    return "\n".join(lines)
