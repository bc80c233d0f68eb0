"""The nightly job's steps as plain functions: the DAG wires them, tests call them."""

from __future__ import annotations

import logging

import psycopg

from grassroots import intake
from grassroots.config import paths

log = logging.getLogger(__name__)


def discover_inbox(inbox: str | None = None) -> list[str]:
    folder = inbox or str(paths().inbox)
    files = intake.discover(folder)
    log.info("inbox %s: %d files", folder, len(files))
    return [str(p) for p in files]


def register_files(dsn: str, files: list[str], run_id: str | None = None) -> dict:
    with psycopg.connect(dsn) as conn:
        summary = intake.register(
            conn, [intake.inbox_path(f) for f in files], paths().archive, run_id
        )
    log.info("registered %d new files, %d duplicates", summary.registered, summary.duplicates)
    return {"registered": summary.registered, "duplicates": summary.duplicates}


def parse_validate_load(dsn: str, run_id: str | None = None) -> dict:
    with psycopg.connect(dsn) as conn:
        summary = intake.process_pending(conn, paths().quarantine, run_id)
    log.info("intake: %s", summary.as_dict())
    return summary.as_dict()


def quality_summary(dsn: str, run_id: str | None = None) -> dict:
    """Files by status, and this run's findings by rule and severity (logged in English)."""
    with psycopg.connect(dsn) as conn:
        accounting = intake.account(conn)
        findings = conn.execute(
            "select rule_id, severity, count(*) from landing.validation_findings"
            " where run_id is not distinct from %s group by 1, 2 order by 1, 2",
            (run_id,),
        ).fetchall()
    received = sum(accounting.values())
    log.info("files received so far: %d %s", received, accounting)
    for rule_id, severity, count in findings:
        log.info("this run: %s %s x%d", rule_id, severity, count)
    if accounting["received"]:
        # Every file must end loaded, quarantined, superseded or duplicate: fail loudly
        # (and alert) rather than let a file wait unseen.
        raise RuntimeError(
            f"{accounting['received']} registered files were not processed; rerun the night"
        )
    return {
        "files": accounting,
        "findings": [{"rule_id": r, "severity": s, "count": c} for r, s, c in findings],
        "quarantine_dir": str(paths().quarantine),
    }
