"""The nightly job's steps as plain functions: the DAG wires them, tests call them."""

from __future__ import annotations

import logging

import psycopg

from grassroots import intake
from grassroots.config import paths
from grassroots.files import use_private_umask

log = logging.getLogger(__name__)


def discover_inbox(inbox: str | None = None) -> dict:
    """Take the inbox's files into staging: {"files": staged paths, "skipped": [{entry,
    reason}]} (what a link, a device or a swap kept out, left where it was)."""
    use_private_umask()
    folder = inbox or str(paths().inbox)
    taken = intake.discover(folder)
    log.info("inbox %s: %d files, %d skipped", folder, len(taken), len(taken.skipped))
    return {
        "files": [str(p) for p in taken],
        "skipped": [{"entry": s.entry, "reason": s.reason} for s in taken.skipped],
    }


def register_files(dsn: str, discovered: dict, run_id: str | None = None) -> dict:
    from grassroots.inbox import Skipped

    use_private_umask()
    files = [intake.inbox_path(f) for f in discovered["files"]]
    skipped = [Skipped(**s) for s in discovered.get("skipped", [])]
    with psycopg.connect(dsn) as conn:
        intake.record_skipped(conn, skipped, run_id)
        summary = intake.register(conn, files, paths().archive, run_id)
    log.info("registered %d new files, %d duplicates", summary.registered, summary.duplicates)
    return {
        "registered": summary.registered,
        "duplicates": summary.duplicates,
        "skipped": len(skipped),
    }


def parse_validate_load(dsn: str, run_id: str | None = None) -> dict:
    use_private_umask()
    with psycopg.connect(dsn) as conn:
        summary = intake.process_pending(conn, paths().quarantine, run_id)
    log.info("intake: %s", summary.as_dict())
    return summary.as_dict()


def cross_checks(dsn: str, run_id: str | None = None) -> dict:
    """Rules X1-X4 and P1-P6 on the files loaded in this run (warnings, in PostgreSQL)."""
    from grassroots.validation.cross_checks import run_cross_checks

    use_private_umask()
    return run_cross_checks(dsn, run_id)


def build_data_docs(run_id: str) -> dict:
    """GX Data Docs of this run's stored validation results, under <home>/data_docs/."""
    use_private_umask()
    from grassroots.data_docs import build_data_docs as build

    return build(run_id)


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


def send_quality_digests(dsn: str, run_id: str, smtp=None) -> dict:
    """Build the night's digests, keep a copy under <home>/digests/, send them if SMTP is
    set; then remember the overdue submissions listed (K1: each is listed once)."""
    from grassroots.alerts import build_digests, mark_overdue_listed, send_digests
    from grassroots.data_docs import docs_link

    use_private_umask()
    with psycopg.connect(dsn) as conn:
        digests = build_digests(conn, run_id, docs_link=docs_link(run_id))
    folder = paths().home / "digests" / "".join(c if c.isalnum() else "_" for c in run_id)
    folder.mkdir(parents=True, exist_ok=True)
    for number, digest in enumerate(digests, start=1):
        (folder / f"{number:03d}.txt").write_text(
            f"To: {digest.recipient_name} <{digest.recipient}>\nSubject: {digest.subject}\n\n"
            f"{digest.body}\n",
            encoding="utf-8",
        )
    sent = send_digests(digests, smtp) if smtp else 0
    if not smtp:
        log.info("no SMTP connection configured: %d digests written to %s", len(digests), folder)
    # After the send: a failed send is retried by Airflow and lists the same units again.
    with psycopg.connect(dsn) as conn:
        marked = mark_overdue_listed(conn, digests, run_id)
    return {"digests": len(digests), "sent": sent, "folder": str(folder), "overdue_listed": marked}
