"""Submitted text (file names, cells, headers) in a form safe to show people.

Anything a submitter typed can reach a digest, a quarantine reasons file, the Data Docs
or a spreadsheet an analyst opens. Three rules, defined here once:

- `shown`: control characters (C0, C1, line and paragraph separators, bidi and other
  invisible format characters) are written out visibly (a newline as the two characters
  backslash-n), so a name cannot start a line or reorder what follows; long values are
  cut with an ellipsis and their length.
- `for_html`: every string of a JSON document shown, then HTML-escaped: GX renders the
  values of a validation result into the Data Docs as they are.
- `is_formula`: a text that a spreadsheet would run (starts with = + - @, tab or CR and
  is not a plain number). The marts neutralise these with a leading quote
  (dbt macro excel_safe, the same rule in SQL).
"""

from __future__ import annotations

import html
import re
from typing import Any

# Long enough for any real file name, village or column name; a pasted page is cut.
SHOWN_LIMIT = 200
# Messages quote a few shown values: a bound for the message as a whole.
MESSAGE_LIMIT = 1000
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
FORMULA_PREFIXES = "=+-@\t\r"
# A signed number as staff type it (-5, +3,5, -12.345): a number, not a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9.,]*%?")


def _visible(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\u{ord(char):04x}"


def shown(value: Any, limit: int = SHOWN_LIMIT) -> str:
    """`value` as one line of plain text: control and bidi characters visible, at most
    `limit` characters of it kept (then "…" and its length)."""
    text = "" if value is None else str(value)
    cut = text[:limit]
    safe = _INVISIBLE.sub(_visible, cut)
    if len(text) > limit:
        safe += f"… ({len(text)} ký tự)"
    return safe


def for_html(value: Any, limit: int = SHOWN_LIMIT) -> Any:
    """A JSON-like document with every string (keys too) shown and HTML-escaped."""
    if isinstance(value, str):
        return html.escape(shown(value, limit), quote=True)
    if isinstance(value, dict):
        return {for_html(k, limit): for_html(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [for_html(v, limit) for v in value]
    return value


def is_formula(value: str | None) -> bool:
    """Whether a spreadsheet would treat this text as a formula (CSV injection)."""
    return bool(value) and value[0] in FORMULA_PREFIXES and not _PLAIN_NUMBER.fullmatch(value)


def results_for_html(document: dict) -> dict:
    """A GX validation result (to_json_dict) ready to store for the Data Docs: what each
    expectation observed (unexpected values and rows, counts, details, exceptions, meta:
    where submitted cells, headers and names appear) made safe for HTML. The suites'
    own configuration is ours and left as it is."""
    observed = ("result", "exception_info", "meta")
    safe = dict(document)
    safe["results"] = [
        {**item, **{key: for_html(item[key]) for key in observed if key in item}}
        for item in document.get("results", [])
    ]
    return safe
