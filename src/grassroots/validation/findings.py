"""Findings: GX's unexpected rows of a form suite turned into what staff read.

A finding names the file, the row as staff see it, the column, the value (shown safely,
cut to FINDING_VALUE_LIMIT) and the message filled from the expectation's templates.
Follow-up findings are dropped (`suppress`) and a file keeps at most FINDINGS_PER_RULE
findings per rule and severity (`capped`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from grassroots.forms import Form
from grassroots.reader import ParsedFile
from grassroots.safe_text import shown
from grassroots.validation import frames as fr

# Findings a file keeps per (rule, severity); one more finding counts the rest. A header
# of 10,000 unknown cells or a file of 10,000 bad rows stays a readable digest.
FINDINGS_PER_RULE = 20
# A finding's value (and each value a message quotes) is cut to this many characters.
FINDING_VALUE_LIMIT = 200
# The unknown-columns finding names this many columns, then the count.
LISTED_COLUMNS = 5


@dataclass(frozen=True)
class Finding:
    file_id: int
    rule_id: str
    severity: str
    row_number: int | None
    column: str | None
    value: str | None
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class Raw:
    finding: Finding
    inputs: tuple[str, ...]
    stage: int


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _show(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _format(template: str, values: dict[str, Any]) -> str:
    texts = {
        k: (shown(_show(v), FINDING_VALUE_LIMIT) if _show(v) is not None else "(trống)")
        for k, v in values.items()
    }
    return template.format_map(_Missing(texts))


def _name_list(names: list[str]) -> str:
    """The first LISTED_COLUMNS names, then how many there are in all."""
    listed = ", ".join(shown(n, FINDING_VALUE_LIMIT) for n in names[:LISTED_COLUMNS])
    if len(names) > LISTED_COLUMNS:
        listed += f"… ({len(names)} cột / columns)"
    return listed


def row_findings(form: Form, rows: pd.DataFrame, result) -> list[Raw]:
    out: list[Raw] = []
    for item in result.results:
        if item.success:
            continue
        meta = item.expectation_config.meta
        column = meta.get("column")
        placeholders = meta.get("placeholders", {})
        for entry in item.result.get("unexpected_index_list") or []:
            position = int(entry[fr.POSITION])
            value = _show(rows.at[position, column]) if column else None
            values = {k: rows.at[position, c] for k, c in placeholders.items()}
            values["value"] = value
            finding = Finding(
                file_id=int(entry[fr.FILE_ID]),
                rule_id=meta["rule_id"],
                severity=meta["severity"],
                row_number=int(entry[fr.ROW_NUMBER]),
                column=column,
                value=value,
                message_vi=_format(meta["message_vi"], values),
                message_en=_format(meta["message_en"], values),
            )
            out.append(Raw(finding, tuple(meta.get("inputs", ())), int(meta.get("stage", 2))))
    return out


def file_findings(form: Form, files: pd.DataFrame, result) -> list[Raw]:
    out: list[Raw] = []
    for item in result.results:
        if item.success:
            continue
        meta = item.expectation_config.meta
        domain = item.expectation_config.kwargs["column"]
        for entry in item.result.get("unexpected_index_list") or []:
            position = int(entry[fr.POSITION])
            file_id = int(entry[fr.FILE_ID])
            raw_value = files.at[position, meta.get("value_column") or domain]
            if meta.get("one_finding"):
                items = [_name_list(str(raw_value).split(fr.LIST_SEPARATOR))]
            elif meta.get("split"):
                items = str(raw_value).split(fr.LIST_SEPARATOR)
            else:
                items = [_show(raw_value)]
            for value in items:
                column = meta.get("column")
                values: dict[str, Any] = {"value": value}
                if meta.get("split") and meta["rule_id"] == "S1" and meta["severity"] == "error":
                    column = value  # one finding per missing column, naming it
                    values.update(name=value, label=f"“{form.column(value).label_vi}”")
                finding = Finding(
                    file_id=file_id,
                    rule_id=meta["rule_id"],
                    severity=meta["severity"],
                    row_number=None,
                    column=column,
                    value=value,
                    message_vi=_format(meta["message_vi"], values),
                    message_en=_format(meta["message_en"], values),
                )
                inputs = tuple(meta.get("inputs", ())) or ((column,) if column else ())
                out.append(Raw(finding, inputs, 1))
    return out


def suppress(raw: list[Raw], missing: dict[int, set[str]]) -> list[Finding]:
    """Drop follow-up findings: a file without data rows gets only S8; nothing but S1
    about a missing column; no stage-2 check on a value that already failed stage 1."""
    empty_files = {r.finding.file_id for r in raw if r.finding.rule_id == "S8"}
    failed: set[tuple[int, int | None, str]] = {
        (r.finding.file_id, r.finding.row_number, r.finding.column)
        for r in raw
        if r.stage == 1 and r.finding.severity == "error" and r.finding.column
    }
    kept: list[Finding] = []
    for r in raw:
        f = r.finding
        if f.file_id in empty_files and f.rule_id != "S8":
            continue
        if f.rule_id != "S1" and missing.get(f.file_id, set()) & set(r.inputs):
            continue
        if r.stage == 2 and any((f.file_id, f.row_number, c) in failed for c in r.inputs):
            continue
        kept.append(f)
    return kept


def problem_findings(item: ParsedFile) -> list[Finding]:
    return [
        Finding(
            item.file_id,
            p.rule_id,
            p.severity,
            p.row_number,
            p.column,
            p.value,
            p.message_vi,
            p.message_en,
        )
        for p in item.problems
    ]


def bounded(finding: Finding) -> Finding:
    """The finding with its value shown safely and cut (a huge cell is not copied whole
    into the findings table and the digests)."""
    if finding.value is None:
        return finding
    value = shown(finding.value, FINDING_VALUE_LIMIT)
    return finding if value == finding.value else replace(finding, value=value)


def capped(findings: list[Finding]) -> list[Finding]:
    """At most FINDINGS_PER_RULE findings per (file, rule, severity), in order, and one
    more per group cut that counts the rest (same severity: a rejected file stays so)."""
    seen: dict[tuple[int, str, str], int] = {}
    kept: list[Finding] = []
    for f in findings:
        key = (f.file_id, f.rule_id, f.severity)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= FINDINGS_PER_RULE:
            kept.append(f)
    for (file_id, rule_id, severity), count in seen.items():
        if count > FINDINGS_PER_RULE:
            rest = count - FINDINGS_PER_RULE
            kept.append(
                Finding(
                    file_id, rule_id, severity, None, None, str(rest),
                    f"Còn {rest} phát hiện khác của quy tắc {rule_id} trong tệp này không"
                    f" được liệt kê (chỉ nêu {FINDINGS_PER_RULE} phát hiện đầu tiên).",
                    f"{rest} more findings of rule {rule_id} in this file are not listed"
                    f" (only the first {FINDINGS_PER_RULE} are).",
                )
            )  # fmt: skip
    return kept
