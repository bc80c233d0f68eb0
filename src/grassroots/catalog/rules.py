"""The validation rules as data: rules.yaml beside this module, read once.

Suites and cross checks take their rule ids, severities and check lists from here;
docs/rules.md shows the same catalogue as a table (`render_table`, rewritten by
`python -m grassroots.catalog.rules`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CATALOG_FILE = Path(__file__).with_name("rules.yaml")
DOC_FILE = Path(__file__).resolve().parents[3] / "docs" / "rules.md"
FAMILIES = ("structure", "content", "cross-form", "plausibility")
SEVERITIES = ("error", "warning")
TABLE_START = "<!-- rules table: generated from src/grassroots/catalog/rules.yaml -->"
TABLE_END = "<!-- end of rules table -->"


@dataclass(frozen=True)
class Check:
    """One SQL check of a cross-form or plausibility rule."""

    rule_id: str
    name: str
    description: str
    message_vi: str
    message_en: str

    @property
    def sql_file(self) -> str:
        return f"{self.rule_id}_{self.name}.sql"


@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    forms: tuple[str, ...]
    severity: str
    title_vi: str
    description: str
    variants: dict[str, str] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()

    def severity_of(self, variant: str | None = None) -> str:
        """The severity of the rule, or of its named variant (rules.yaml `variants`)."""
        if variant is None:
            return self.severity
        return self.variants[variant]


def _load(path: Path = CATALOG_FILE) -> dict[str, Rule]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules: dict[str, Rule] = {}
    for entry in data["rules"]:
        rule_id = entry["id"]
        checks = tuple(Check(rule_id=rule_id, **check) for check in entry.get("checks", ()))
        rule = Rule(
            id=rule_id,
            family=entry["family"],
            forms=tuple(entry["forms"]),
            severity=entry["severity"],
            title_vi=entry["title_vi"],
            description=" ".join(entry["description"].split()),
            variants=dict(entry.get("variants") or {}),
            checks=checks,
        )
        if rule.family not in FAMILIES:
            raise ValueError(f"{path}: rule {rule_id}: unknown family {rule.family!r}")
        if {rule.severity, *rule.variants.values()} - set(SEVERITIES):
            raise ValueError(f"{path}: rule {rule_id}: severity must be one of {SEVERITIES}")
        if rule_id in rules:
            raise ValueError(f"{path}: rule {rule_id} is listed twice")
        rules[rule_id] = rule
    return rules


RULES: dict[str, Rule] = _load()


def rule(rule_id: str) -> Rule:
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"rule {rule_id} is not in {CATALOG_FILE.name}") from None


def ids(*families: str) -> tuple[str, ...]:
    """Rule ids of the given families (all with none), in catalogue order."""
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown rule families: {sorted(unknown)}")
    return tuple(r.id for r in RULES.values() if not families or r.family in families)


def file_rule_ids() -> tuple[str, ...]:
    """The rules each file is checked against before it loads (the form suites)."""
    return ids("structure", "content")


def cross_rule_ids() -> tuple[str, ...]:
    """The rules checked in PostgreSQL on the night's loaded files."""
    return ids("cross-form", "plausibility")


# --- docs/rules.md ------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_table() -> str:
    """The catalogue as a Markdown table (the generated part of docs/rules.md)."""
    lines = [
        "| rule | family | forms | severity | tên (tiếng Việt) | what it checks |",
        "|---|---|---|---|---|---|",
    ]
    for r in RULES.values():
        severity = r.severity + "".join(
            f"; {name.replace('_', ' ')}: {level}" for name, level in r.variants.items()
        )
        lines.append(
            f"| {r.id} | {r.family} | {', '.join(r.forms)} | {severity} | {_cell(r.title_vi)}"
            f" | {_cell(r.description)} |"
        )
    return "\n".join(lines)


def table_in(text: str) -> str:
    """The generated table of a docs/rules.md text (between the marker comments)."""
    start = text.index(TABLE_START) + len(TABLE_START)
    return text[start : text.index(TABLE_END)].strip("\n")


def write_doc(path: Path = DOC_FILE) -> Path:
    """Replace the table between the markers of docs/rules.md by the rendered one."""
    text = path.read_text(encoding="utf-8")
    head = text[: text.index(TABLE_START) + len(TABLE_START)]
    tail = text[text.index(TABLE_END) :]
    path.write_text(f"{head}\n{render_table()}\n{tail}", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_doc(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC_FILE))
