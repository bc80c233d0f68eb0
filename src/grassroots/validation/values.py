"""Reading cell text as numbers and codes: pure functions, no Great Expectations.

The regexes here are the single definition of what a number may look like: the GX suites
check raw cells against them (rule S2) and the parsers below only give a value to text
they accept, so a cell is either reported or parsed, never silently misread.

Decisions (a statistics office reading Vietnamese and Excel-exported tables):
- Grouping: `.` `,` or a space between groups of exactly three digits is a thousands
  separator, in int AND number columns: `61.491` = `61,491` = `61 491` = 61491. The
  group separator must be the same throughout (`1.234,567` is not grouping). A lone
  separator followed by a number of digits other than three is the decimal mark:
  `87,8` = `87.8` = 87.8, and `0,125` = 0.125 (a leading `0` never starts a group).
  Forms hold counts and percentages with at most two decimals, so three digits after
  a lone separator are read as thousands (`1,500` = 1500), as Vietnamese tables write.
- With grouping, the decimal mark is the other separator: `61.491,5` and `61,491.5`.
- Int columns accept a zero fraction (`12,0`, `12.00`: Excel output) but no `%`.
- Number columns accept a trailing `%` (with or without a space); the value stays in
  percent units: `12%` = 12.0, never 0.12.
- A minus sign (`-` or `−`) is accepted only in columns that allow negative values.
- Empty text (or None) is a missing value, never zero.
- Codes stay text. An all-digit code shorter than its column's fixed width lost its
  leading zeros in Excel (`6193` or `6193.0` for commune `06193`): it is read padded,
  and the caller reports a warning so that staff fix the column format. Codes with a
  dash (villages, organizations) are never padded.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

_GROUP_SEPARATORS = ".,\u0020\u00a0\u202f"  # dot, comma, space, no-break and narrow spaces
_SIGN = "[-\u2212]"


def number_regex(*, integer: bool, signed: bool) -> str:
    """The accepted spellings of an int (integer=True) or decimal number column."""
    sign = f"(?P<sign>{_SIGN})?" if signed else ""
    grouped = rf"[1-9]\d{{0,2}}(?P<sep>[{_GROUP_SEPARATORS}])\d{{3}}(?:(?P=sep)\d{{3}})*"
    whole = rf"(?P<whole>{grouped}|\d+)"
    # The decimal mark may not be the grouping separator (negative lookahead).
    fraction = (
        r"(?:(?!(?P=sep))[.,](?P<fraction>0+))?"
        if integer
        else (r"(?:(?!(?P=sep))[.,](?P<fraction>\d+))?")
    )
    percent = "" if integer else r"(?:\s?%)?"
    return f"^{sign}{whole}{fraction}{percent}$"


INT_REGEX = number_regex(integer=True, signed=False)
SIGNED_INT_REGEX = number_regex(integer=True, signed=True)
NUMBER_REGEX = number_regex(integer=False, signed=False)
SIGNED_NUMBER_REGEX = number_regex(integer=False, signed=True)

TERM_REGEX = r"^\d{4}-\d{4}$"
TERM_YEARS = 5


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _blank(text: object) -> str | None:
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return None
    stripped = str(text).strip()
    return stripped or None


def _parse(text: object, pattern: str) -> tuple[str, str, str] | None:
    """(sign, whole digits, fraction digits) of accepted text; None if missing.

    Raises ValueError if the text is not a number of that kind.
    """
    value = _blank(text)
    if value is None:
        return None
    match = _compiled(pattern).fullmatch(value)
    if match is None:
        raise ValueError(f"not a number: {value!r}")
    whole = match.group("whole")
    separator = match.group("sep")
    if separator:
        whole = whole.replace(separator, "")
    sign = "-" if match.groupdict().get("sign") else ""
    return sign, whole, match.group("fraction") or ""


def parse_int(text: object, *, signed: bool = False) -> int | None:
    """`61.491` -> 61491; empty -> None; anything else raises ValueError."""
    parts = _parse(text, SIGNED_INT_REGEX if signed else INT_REGEX)
    if parts is None:
        return None
    sign, whole, _ = parts
    return int(sign + whole)


def parse_number(text: object, *, signed: bool = False) -> float | None:
    """`87,8` -> 87.8, `61.491,5` -> 61491.5, `12%` -> 12.0; empty -> None."""
    parts = _parse(text, SIGNED_NUMBER_REGEX if signed else NUMBER_REGEX)
    if parts is None:
        return None
    sign, whole, fraction = parts
    return float(f"{sign}{whole}.{fraction or '0'}")


def _safe(parser, text: object, signed: bool):
    try:
        return parser(text, signed=signed)
    except ValueError:
        return None


def parse_ints(values: pd.Series, *, signed: bool = False) -> pd.Series:
    """Vectorized parse_int: Int64, <NA> where missing or not an int (S2 reports those)."""
    uniques = {v: _safe(parse_int, v, signed) for v in values.dropna().unique()}
    return pd.Series(values.map(uniques), index=values.index, dtype="Int64")


def parse_numbers(values: pd.Series, *, signed: bool = False) -> pd.Series:
    """Vectorized parse_number: Float64, <NA> where missing or not a number."""
    uniques = {v: _safe(parse_number, v, signed) for v in values.dropna().unique()}
    return pd.Series(values.map(uniques), index=values.index, dtype="Float64")


_EXCEL_FLOAT = re.compile(r"^(\d+)\.0+$")


def normalize_code(text: object, widths: tuple[int, ...] = ()) -> tuple[str | None, bool]:
    """(code as text, whether leading zeros had to be restored).

    `widths` are the fixed widths the column allows (e.g. (5,) for a commune, (3, 5)
    for a district or commune). An all-digit code shorter than the widest allowed is
    padded to the narrowest allowed width that holds it; otherwise the text is kept.
    """
    value = _blank(text)
    if value is None:
        return None, False
    excel = _EXCEL_FLOAT.fullmatch(value)
    digits = excel.group(1) if excel else value
    if widths and digits.isdigit() and len(digits) < max(widths):
        if len(digits) in widths:
            return digits, excel is not None
        width = min(w for w in widths if w > len(digits))
        return digits.zfill(width), True
    if excel and widths:
        return digits, True
    return value, False


def parse_term(text: object) -> tuple[int, int] | None:
    """`2020-2025` -> (2020, 2025); None if missing or not of that shape."""
    value = _blank(text)
    if value is None or not _compiled(TERM_REGEX).fullmatch(value):
        return None
    start, end = value.split("-")
    return int(start), int(end)
