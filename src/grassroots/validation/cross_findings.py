"""The cross checks' unexpected rows as findings, stored in landing.validation_findings.

A finding's message is its check's template (rules.yaml) filled with the row's columns;
a rerun replaces the findings of these rules for the checked files (one insert per rule).
"""

from __future__ import annotations

from typing import Any

import psycopg

from grassroots.safe_text import shown

CHANGE_VI = {"new": "mới xuất hiện", "missing": "không còn trong danh sách"}


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _shown(value: Any) -> str:
    if value is None:
        return "(trống)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if "." in text and text.replace(".", "", 1).lstrip("-").isdigit():
        text = text.rstrip("0").rstrip(".")
    return text


def finding_rows(item, rows: list[dict], identity: dict, run_id) -> list[tuple]:
    """One landing.validation_findings row per unexpected row of a GX result `item`."""
    meta = item.expectation_config.meta
    out = []
    for row in rows:
        values = {k: shown(_shown(v)) for k, v in row.items()}
        if "change" in row:
            values["change_vi"] = CHANGE_VI.get(row["change"], row["change"])
        file_id = int(row["file_id"])
        form_code, unit_code, period = identity[file_id]
        number = row.get("row_number")
        out.append(
            (
                file_id, form_code, unit_code, period, meta["rule_id"], meta["severity"],
                int(number) if number is not None else None, row.get("column_name"),
                None if row.get("value") is None else shown(row["value"]),
                meta["message_vi"].format_map(_Missing(values)),
                meta["message_en"].format_map(_Missing(values)),
                run_id,
            )
        )  # fmt: skip
    return out


def store(
    conn: psycopg.Connection,
    rules: tuple[str, ...],
    findings: dict[str, list[tuple]],
    file_ids: list[int],
) -> None:
    """Replace these rules' findings for the checked files: one insert per rule."""
    with conn.transaction():
        conn.execute(
            "delete from landing.validation_findings where rule_id = any(%s) and file_id = any(%s)",
            (list(rules), file_ids),
        )
        for rule_id in rules:
            rows = findings.get(rule_id) or []
            if not rows:
                continue
            columns = list(zip(*rows, strict=True))
            conn.execute(
                "insert into landing.validation_findings (file_id, form_code, unit_code,"
                " period, rule_id, severity, row_number, column_name, value, message_vi,"
                " message_en, run_id)"
                " select * from unnest(%s::bigint[], %s::text[], %s::text[], %s::text[],"
                " %s::text[], %s::text[], %s::integer[], %s::text[], %s::text[], %s::text[],"
                " %s::text[], %s::text[])",
                [list(c) for c in columns],
            )
