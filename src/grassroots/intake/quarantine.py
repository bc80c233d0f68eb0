"""Quarantine: a refused file's copy and its reasons, next to the registry's record.

The registry is the source of truth: the copies are written after a batch commits, and
whatever a stopped run did not write is written again before the next plan.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from grassroots.forms import describe_column


def write_quarantine(conn, quarantine_dir: Path, file_ids: list[int]) -> None:
    """Copy each archived file and a reasons file (Vietnamese, then English) to quarantine.

    Two queries for the whole batch, however many files it quarantined.
    """
    from grassroots.safe_text import MESSAGE_LIMIT, shown

    if not file_ids:
        return
    files = conn.execute(
        "select file_id, original_name, archived_path, status_reason"
        " from landing.received_files where file_id = any(%s)",
        (file_ids,),
    ).fetchall()
    findings: dict[int, list[tuple]] = {}
    for file_id, *finding in conn.execute(
        "select file_id, rule_id, severity, row_number, column_name, value, message_vi,"
        " message_en from landing.validation_findings where file_id = any(%s)"
        " order by file_id, row_number nulls first, rule_id",
        (file_ids,),
    ).fetchall():
        findings.setdefault(file_id, []).append(finding)
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    for file_id, name, archived, reason in files:
        with open(archived, "rb") as handle:
            extension = "xlsx" if handle.read(4) == b"PK\x03\x04" else "csv"
        target = quarantine_dir / f"{file_id:08d}.{extension}"
        if not target.exists():
            shutil.copyfile(archived, target)
        # Every submitted text shown (control characters visible, long values cut): a
        # name or cell holding a newline cannot add a line of its own.
        lines = [f"Tệp / file: “{shown(name)}” (file_id {file_id})", "Lý do / reasons:"]
        for rule_id, severity, row_number, column, value, message_vi, message_en in findings.get(
            file_id, []
        ):
            where = f"dòng {row_number}" if row_number else "cả tệp"
            named = shown(describe_column(column)) if column else "-"
            quoted = f"“{shown(value)}”" if value is not None else "-"
            lines.append(
                f"- [{rule_id} {severity}] {where}, cột {named}, giá trị {quoted}:"
                f" {shown(message_vi, MESSAGE_LIMIT)} / {shown(message_en, MESSAGE_LIMIT)}"
            )
        if file_id not in findings and reason:
            lines.append(f"- {shown(reason, 2000)}")
        (quarantine_dir / f"{file_id:08d}.reasons.txt").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )


def restore_quarantine_copies(conn: psycopg.Connection, quarantine_dir: Path) -> int:
    """Write the quarantine copies a stopped run committed but did not write yet."""
    missing = [
        file_id
        for (file_id,) in conn.execute(
            "select file_id from landing.received_files where status = 'quarantined'"
        ).fetchall()
        if not (quarantine_dir / f"{file_id:08d}.reasons.txt").exists()
    ]
    write_quarantine(conn, quarantine_dir, missing)
    return len(missing)
