"""The four submission forms, read from the catalog (grassroots.catalog, forms.yaml).

Parser, loader, Great Expectations suites, templates and docs all read these definitions;
this module adds what they share on top of the data: header and enum matching, form
detection, the templates' number formats.
"""

from __future__ import annotations

import re
import unicodedata

from grassroots.catalog import CATALOG, FORMS, Column, Form
from grassroots.catalog import INDICATOR_CODES as INDICATOR_CODES  # re-exported
from grassroots.catalog import KINDS as KINDS  # re-exported

BRANCH_STATUS = CATALOG.enums["branch_status"]
ORG_TYPES = CATALOG.enums["org_types"]
BASIS = CATALOG.enums["basis"]
DIRECTION = CATALOG.enums["direction"]

# Ratings: code -> (Vietnamese text, abbreviation), per scale.
RATINGS_FROM_2018 = CATALOG.ratings_from
RATINGS_BEFORE_2018 = CATALOG.ratings_before
RATING_SCALE_CHANGE_YEAR = CATALOG.rating_change_year
# Old scale -> new scale, for multi-year comparison (submission-forms.md).
OLD_TO_NEW_RATING = CATALOG.old_to_new_rating
ALL_RATINGS = {**RATINGS_BEFORE_2018, **RATINGS_FROM_2018}


def ratings_for_year(year: int) -> dict[str, tuple[str, str]]:
    return RATINGS_FROM_2018 if year >= RATING_SCALE_CHANGE_YEAR else RATINGS_BEFORE_2018


# A column name means the same on every form that has it (e.g. members, report_year).
LABELS_VI: dict[str, str] = {c.name: c.label_vi for f in FORMS.values() for c in f.columns}


def describe_column(column: str) -> str:
    """How staff messages name a column: its Vietnamese label, then the canonical name."""
    return f"“{LABELS_VI.get(column, column)}” ({column})"


# --- spreadsheet number formats (blank templates) ------------------------------------

TEXT_FORMAT = "@"  # Excel "Text": codes keep their leading zeros as typed
YEAR_FORMAT = "0"  # no grouping: 2024, not 2.024
INT_FORMAT = "#,##0"
NUMBER_FORMAT = "#,##0.0#"


def excel_number_format(column: Column) -> str:
    """The cell format a template gives the column (Excel shows grouping per locale)."""
    if column.name == "report_year":
        return YEAR_FORMAT
    if column.kind == "int":
        return INT_FORMAT
    if column.kind == "number":
        return NUMBER_FORMAT
    return TEXT_FORMAT


# --- text folding shared by header matching and enum matching -------------------

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFC, case fold and collapse whitespace: the comparison key for labels."""
    text = unicodedata.normalize("NFC", str(text)).casefold()
    return _SPACES.sub(" ", text).strip()


def strip_diacritics(text: str) -> str:
    """Vietnamese without tone marks: 'Số đảng viên' -> 'so dang vien'."""
    decomposed = unicodedata.normalize("NFD", fold(text).replace("đ", "d"))
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    )


def label_keys(*labels: str) -> set[str]:
    """Every accepted spelling of the given labels, folded."""
    keys: set[str] = set()
    for label in labels:
        keys.add(fold(label))
        keys.add(strip_diacritics(label))
    return keys


def header_index(form: Form) -> dict[str, str]:
    """Folded header spelling -> canonical column name."""
    index: dict[str, str] = {}
    for column in form.columns:
        for key in label_keys(column.name, column.label_vi, *column.aliases_vi):
            index[key] = column.name
    return index


def enum_index(column: Column) -> dict[str, str]:
    """Folded enum spelling (code or Vietnamese label) -> code."""
    index: dict[str, str] = {}
    for code, labels in column.choices.items():
        for key in label_keys(code, *labels):
            index[key] = code
    return index


def rating_index() -> dict[str, set[str]]:
    """Folded rating spelling -> the rating codes it may mean (both scales).

    'HTTNV' is 'good' on either scale; the scale is decided by the year.
    """
    index: dict[str, set[str]] = {}
    for code, (text_vi, abbreviation) in ALL_RATINGS.items():
        for key in label_keys(code, text_vi, abbreviation):
            index.setdefault(key, set()).add(code)
    return index


def detect_form(headers: list[str]) -> Form | None:
    """The form whose required columns the headers cover best (None if none fits)."""
    folded = {fold(h) for h in headers} | {strip_diacritics(h) for h in headers}
    best: tuple[int, Form] | None = None
    for form in FORMS.values():
        index = header_index(form)
        matched = {index[h] for h in folded if h in index}
        required = {c.name for c in form.columns if c.required}
        score = len(matched & required)
        # A form is a candidate only if its identity columns are present.
        if form.unit_column not in matched or form.period_column not in matched:
            continue
        if best is None or score > best[0]:
            best = (score, form)
    return best[1] if best else None
