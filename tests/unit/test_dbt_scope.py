"""The models that read the clock say so (grassroots.dbt_scope): a night with no new file
builds only those tagged follows_date, so a model reading today's date without the tag
would go stale on such nights."""

from __future__ import annotations

import re

import pytest
import yaml

from grassroots.config import DBT_PROJECT_DIR
from grassroots.dbt_scope import CLOCK_TAGS, DATE_ONLY

pytestmark = pytest.mark.unit

CLOCK = re.compile(r"current_date|current_timestamp|localtimestamp|date\.today\(")
MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\(.*?{%-?\s*endmacro", re.S)
COMMENTS = re.compile(r"{#.*?#}|--[^\n]*", re.S)


def _macros() -> dict[str, str]:
    found = {}
    for path in (DBT_PROJECT_DIR / "macros").rglob("*.sql"):
        for match in MACRO.finditer(path.read_text()):
            found[match.group(1)] = match.group(0)
    return found


def _reads_clock(code: str, macros: dict[str, str], seen: set[str]) -> bool:
    code = COMMENTS.sub("", code)
    if CLOCK.search(code):
        return True
    for name in re.findall(r"\b(\w+)\s*\(", code):
        if name in macros and name not in seen:
            seen.add(name)
            if _reads_clock(macros[name], macros, seen):
                return True
    return False


def _model_tags() -> dict[str, list[str]]:
    tags = {}
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            tags[model["name"]] = (model.get("config") or {}).get("tags") or []
    return tags


def test_every_model_reading_the_clock_is_tagged_and_no_other():
    macros, tags = _macros(), _model_tags()
    reading = {
        path.stem
        for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")
        if _reads_clock(path.read_text(), macros, set())
    }
    tagged = {name for name, given in tags.items() if set(given) & set(CLOCK_TAGS)}
    assert reading, "the scan found no model reading the clock: the pattern went wrong"
    assert reading - tagged == set(), "read the clock without a follows_date/follows_year tag"
    assert tagged - reading == set(), "tagged as reading the clock but do not"


def test_the_date_only_scope_selects_the_date_tag():
    assert DATE_ONLY == ("tag:follows_date",)
    assert any(f"tag:{tag}" in DATE_ONLY for tag in CLOCK_TAGS)
