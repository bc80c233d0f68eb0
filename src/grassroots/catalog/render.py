"""Every file made from the catalog, and the check that they match it.

`grassroots catalog sync` writes them; `grassroots catalog check` (and
tests/unit/test_catalog.py) lists those that differ from what the catalog renders, so
a column or an indicator added in one place only fails the tests. Whole files are
rendered (staging models, the indicator seed) or the section between two marker lines
(the raw tables in warehouse.sql, the tables of docs/forms.md and docs/indicators.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grassroots.catalog import render_docs, rules
from grassroots.catalog.forms import load_forms
from grassroots.catalog.indicators import CATALOG_DIR, load_indicators
from grassroots.catalog.render_dbt import (
    indicator_seed,
    raw_table_ddl,
    staging_sql,
    staging_yml,
)
from grassroots.config import REPO_ROOT

SQL_MARKERS = (
    "-- catalog:raw-forms begin (`grassroots catalog sync` writes it from forms.yaml)",
    "-- catalog:raw-forms end",
)
DOC_MARKERS = (
    "<!-- catalog begin: `grassroots catalog sync` writes it from src/grassroots/catalog -->",
    "<!-- catalog end -->",
)


class RenderError(RuntimeError):
    pass


@dataclass(frozen=True)
class Target:
    path: str  # relative to the repository root
    # current text (None: the file does not exist) -> the text it should have
    render: Callable[[str | None], str]


def _between(markers: tuple[str, str], section: str) -> Callable[[str | None], str]:
    """Replace what is between the two marker lines of the current text."""
    begin, end = markers

    def render(current: str | None) -> str:
        if current is None or begin not in current or end not in current:
            raise RenderError(f"markers missing: {begin!r} ... {end!r}")
        head, rest = current.split(begin, 1)
        tail = rest.split(end, 1)[1]
        return f"{head}{begin}\n{section}{end}{tail}"

    return render


def targets(catalog_dir: Path = CATALOG_DIR) -> list[Target]:
    """What the catalog in catalog_dir renders, file by file."""
    forms = load_forms(Path(catalog_dir))
    indicators = load_indicators(Path(catalog_dir))
    staging = "dbt_project/models/staging"
    found = [
        Target("src/grassroots/sql/warehouse.sql", _between(SQL_MARKERS, raw_table_ddl(forms)))
    ]
    for form in forms.forms.values():
        sql = staging_sql(forms, form)
        found.append(Target(f"{staging}/{form.staging_model}.sql", lambda _, sql=sql: sql))
        found.append(
            Target(
                f"{staging}/{form.staging_model}.yml",
                lambda current, form=form: staging_yml(forms, form, current),
            )
        )
    seed = indicator_seed(indicators)
    found += [
        Target("seeds/registry/ref_indicators.csv", lambda _: seed),
        Target("docs/forms.md", _between(DOC_MARKERS, render_docs.forms_section(forms))),
        Target(
            "docs/indicators.md",
            _between(DOC_MARKERS, render_docs.indicators_section(indicators, forms)),
        ),
        Target("docs/rules.md", _rules_doc),
    ]
    return found


def _rules_doc(current: str | None) -> str:
    """docs/rules.md with the rule catalogue's table between its markers."""
    if current is None or rules.TABLE_START not in current or rules.TABLE_END not in current:
        raise RenderError(f"markers missing: {rules.TABLE_START!r} ... {rules.TABLE_END!r}")
    head = current[: current.index(rules.TABLE_START) + len(rules.TABLE_START)]
    return f"{head}\n{rules.render_table()}\n{current[current.index(rules.TABLE_END) :]}"


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def stale(root: Path = REPO_ROOT, catalog_dir: Path = CATALOG_DIR) -> list[str]:
    """The files under root that differ from what the catalog renders."""
    differ = []
    for target in targets(catalog_dir):
        current = _read(root / target.path)
        try:
            same = current == target.render(current)
        except RenderError:  # its markers are gone: it differs too
            same = False
        if not same:
            differ.append(target.path)
    return differ


def sync(root: Path = REPO_ROOT, catalog_dir: Path = CATALOG_DIR) -> list[str]:
    """Write every file that differs from its render; the files written."""
    written = []
    for target in targets(catalog_dir):
        path = root / target.path
        current = _read(path)
        text = target.render(current)
        if text != current:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(target.path)
    return written
