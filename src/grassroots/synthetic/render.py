"""Planned values as staff write them: English codes, Vietnamese labels or Vietnamese
without diacritics, Vietnamese number formatting (`12.345`, `87,5`)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from grassroots.forms import ALL_RATINGS, BASIS, BRANCH_STATUS, DIRECTION, FORMS, ORG_TYPES, Form

STYLES = ("en", "vi", "ascii")
ENUM_LABELS = {
    "branch_status": BRANCH_STATUS,
    "org_type": ORG_TYPES,
    "basis": BASIS,
    "direction": DIRECTION,
}
# Columns the national generator writes with Vietnamese thousands separators.
THOUSANDS_COLUMNS = {"population", "members", "members_start", "members_end", "target_value"}


@dataclass(frozen=True)
class Style:
    language: str = "en"  # en | vi | ascii
    xlsx: bool = False
    bom: bool = False
    crlf: bool = False
    with_optional_points: bool = True  # TC rating_points column (empty) present


def ascii_text(text: str) -> str:
    """Vietnamese without tone marks, case kept: 'Số đảng viên' -> 'So dang vien'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def vn_thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def vn_decimal(number: float) -> str:
    text = f"{number:g}"
    return text.replace(".", ",")


def header_label(form: Form, name: str, language: str) -> str:
    if language == "en":
        return name
    label = form.column(name).label_vi
    return label if language == "vi" else ascii_text(label)


def render_value(form: Form, name: str, value: object, style: Style) -> object:
    """A planned value as this style writes it (XLSX keeps numbers numeric)."""
    if value == "" or value is None:
        return ""
    kind = form.column(name).kind
    language = style.language
    if kind == "rating":
        if language == "en" or value not in ALL_RATINGS:
            return value
        text_vi, abbreviation = ALL_RATINGS[value]
        return text_vi if language == "vi" else abbreviation
    if kind == "enum" and name in ENUM_LABELS and language != "en":
        labels = ENUM_LABELS[name].get(str(value))
        if labels:
            return labels[0] if language == "vi" else ascii_text(labels[0])
        return value
    if kind in ("int", "number") and isinstance(value, (int, float)):
        if style.xlsx:
            return value
        if language != "en" and isinstance(value, int) and name == "population":
            return vn_thousands(value)
        if language != "en" and isinstance(value, float) and not value.is_integer():
            return vn_decimal(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return str(value)


def render_table(
    form: Form, rows: list[dict], style: Style, drop: tuple[str, ...] = ()
) -> tuple[list[str], list[list[object]]]:
    """(header, body) of rows in a style, value by value (the demo inbox's way)."""
    columns = form.column_names
    if form.code == "TC" and not style.with_optional_points:
        columns = [c for c in columns if c != "rating_points"]
    columns = [c for c in columns if c not in drop]
    header = [header_label(form, c, style.language) for c in columns]
    body = [[render_value(form, c, row.get(c, ""), style) for c in columns] for row in rows]
    return header, body


def value_maps(form: Form, language: str) -> dict[str, dict[str, str]]:
    """Per column: code -> how this language writes it (enums and ratings)."""
    maps: dict[str, dict[str, str]] = {}
    for column in form.columns:
        if column.kind == "rating":
            maps[column.name] = {
                code: text if language == "vi" else abbreviation
                for code, (text, abbreviation) in ALL_RATINGS.items()
            }
        elif column.name in ENUM_LABELS:
            maps[column.name] = {
                code: labels[0] if language == "vi" else ascii_text(labels[0])
                for code, labels in ENUM_LABELS[column.name].items()
            }
    return {} if language == "en" else maps


class Renderer:
    """Rows -> (header, body) in a style, fast: the per-style maps are cached and values
    are written by type (the national generator's way)."""

    def __init__(self) -> None:
        self._cache: dict[tuple, tuple] = {}

    def _layout(self, form_code: str, style: Style, drop: tuple[str, ...]) -> tuple:
        key = (form_code, style.language, style.with_optional_points, drop)
        if key not in self._cache:
            form = FORMS[form_code]
            columns = [
                c
                for c in form.column_names
                if c not in drop and not (c == "rating_points" and not style.with_optional_points)
            ]
            header = [header_label(form, c, style.language) for c in columns]
            self._cache[key] = (columns, header, value_maps(form, style.language))
        return self._cache[key]

    def table(
        self, form_code: str, rows: list[dict], style: Style, drop: tuple[str, ...] = ()
    ) -> tuple[list[str], list[list[object]]]:
        columns, header, maps = self._layout(form_code, style, drop)
        vietnamese = style.language != "en"
        body = []
        for row in rows:
            out: list[object] = []
            for column in columns:
                value = row.get(column, "")
                if value == "":
                    out.append("" if not style.xlsx else None)
                elif isinstance(value, str):
                    mapping = maps.get(column)
                    out.append(mapping.get(value, value) if mapping else value)
                elif style.xlsx:
                    out.append(value)
                elif isinstance(value, float):
                    if value.is_integer():
                        out.append(str(int(value)))
                    else:
                        out.append(vn_decimal(value) if vietnamese else str(value))
                elif vietnamese and column in THOUSANDS_COLUMNS and value >= 1000:
                    out.append(vn_thousands(value))
                else:
                    out.append(str(value))
            body.append(out)
        return header, body
