"""The SQL of the cross checks: one file per check under checks/, read and expanded here.

Each file is the query GX runs, with `{batch}` for the night's batch table. Two
expressions that recur across the year-on-year checks are written as a call in the
file and expanded here, so each file stays short and readable:
- `{{ no_break(code, year) }}`: the row's year does not start a new series of its
  commune (landing.commune_series_breaks: a lineage event in the 2025 reform);
- `{{ step(rating) }}`: a rating on one ordinal scale (the pre-2018 scale mapped onto
  the four levels).
Leading `--` lines are the file's header comment and are not part of the query.
"""

from __future__ import annotations

import re
from pathlib import Path

CHECKS_DIR = Path(__file__).with_name("checks")

_NO_BREAK = (
    "not exists (select 1 from landing.commune_series_breaks as b"
    " where b.commune_code = {code} and b.break_year = {year})"
)
_STEP = (
    "case {r} when 'excellent' then 4 when 'clean_strong' then 4 when 'good' then 3"
    " when 'completed' then 2 when 'not_completed' then 1 when 'weak' then 1 end"
)
_CALL = re.compile(r"\{\{\s*(\w+)\(([^()]*)\)\s*\}\}")


def _no_break(code: str, year: str) -> str:
    return _NO_BREAK.replace("{code}", code).replace("{year}", year)


def _step(rating: str) -> str:
    return _STEP.replace("{r}", rating)


_FRAGMENTS = {"no_break": _no_break, "step": _step}


def expand(text: str) -> str:
    """The query of a check file: header dropped, calls expanded, lines right-trimmed."""
    lines = text.strip().splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)

    def call(match: re.Match) -> str:
        name, args = match.group(1), [a.strip() for a in match.group(2).split(",")]
        if name not in _FRAGMENTS:
            raise ValueError(f"unknown SQL fragment {name!r}")
        return _FRAGMENTS[name](*args)

    query = _CALL.sub(call, "\n".join(lines))
    return "\n".join(line.rstrip() for line in query.strip().splitlines())


def read_check(file_name: str, directory: Path = CHECKS_DIR) -> str:
    return expand((directory / file_name).read_text(encoding="utf-8"))
