"""The cross-form and plausibility rules (X1-X4, P1-P6) for a file not yet loaded, judged
against what the warehouse already holds, as warnings.

The night's own queries (the committed cross-check suite, built from the rule catalog
and validation/checks/*.sql) run inside ONE transaction that is always rolled back: the
checked files are entered as loaded receipts with their typed rows (the night's COPY),
listed in a temporary batch table that stands for the night's landing.cross_check_batch,
and each check's unexpected rows become findings with the night's message templates.
Nothing of the check stays in the warehouse (a rolled-back identity value is skipped).
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace

import psycopg

from grassroots.check.core import CheckResult, sheet_finding
from grassroots.forms import FORMS
from grassroots.intake.loading import copy_rows
from grassroots.validation.cross_findings import finding_rows
from grassroots.validation.cross_suite import load_suite
from grassroots.validation.findings import Finding, bounded

BATCH = "pg_temp.upload_check_batch"
CHECKED_FORMS = ("CB", "DV", "TC")  # the forms the night's cross checks take


def _enter(conn: psycopg.Connection, result: CheckResult) -> int:
    """The file as a loaded receipt with its rows (inside the rolled-back transaction)."""
    # Not the file's hash: the registry holds one original per hash, and the same bytes
    # may be loaded already or under check by another upload right now.
    marker = f"check:{result.sha256}:{secrets.token_hex(8)}"
    (file_id,) = conn.execute(
        "insert into landing.received_files (sha256, original_name, size_bytes,"
        " archived_path, form_code, unit_code, period, status, version, loaded_at)"
        " values (%s, %s, %s, '', %s, %s, %s, 'loaded', 1, now()) returning file_id",
        (marker, result.name, result.size, result.form_code, result.unit_code, result.period),
    ).fetchone()
    with conn.cursor() as cur:
        copy_rows(cur, FORMS[result.form_code].raw_table, result.typed.assign(file_id=file_id))
    conn.execute(
        f"insert into {BATCH} values (%s, %s, %s, %s)",
        (file_id, result.form_code, result.unit_code, result.period),
    )
    return file_id


def _rows(conn: psycopg.Connection, query: str) -> list[dict]:
    cursor = conn.execute(query.replace("{batch}", BATCH))
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def add_warehouse_findings(dsn: str, results: list[CheckResult]) -> int:
    """Add to each loadable file's findings the cross checks' warnings; returns how many."""
    candidates = [
        r for r in results if not r.errors and r.form_code in CHECKED_FORMS and r.typed is not None
    ]
    if not candidates:
        return 0
    suite = load_suite()
    added = 0
    with psycopg.connect(dsn) as conn, conn.transaction(force_rollback=True):
        conn.execute(
            f"create temporary table {BATCH.split('.')[1]} (file_id bigint, form_code text,"
            " unit_code text, period text) on commit drop"
        )
        by_id = {_enter(conn, r): r for r in candidates}
        identity = {i: (r.form_code, r.unit_code, r.period) for i, r in by_id.items()}
        for expectation in suite.expectations:
            item = SimpleNamespace(expectation_config=SimpleNamespace(meta=expectation.meta))
            rows = _rows(conn, expectation.unexpected_rows_query)
            for row in finding_rows(item, rows, identity, None):
                file_id, _, _, _, rule_id, _, number, column, value, vi, en, _ = row
                # Warnings whatever happens: the night loads the file before judging them.
                finding = bounded(
                    Finding(file_id, rule_id, "warning", number, column, value, vi, en)
                )
                result = by_id[file_id]
                result.findings.append(sheet_finding(result.parsed, finding))
                added += 1
    return added
