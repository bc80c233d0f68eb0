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


def plan_intake(dsn: str) -> list[dict]:
    """The batches of every registered file still to load (this run's and any a crashed
    run left), as small descriptors for the mapped load_batch tasks (intake.Batch)."""
    use_private_umask()
    with psycopg.connect(dsn) as conn:
        batches = intake.plan_pending(conn, paths().quarantine)
    log.info(
        "intake plan: %d files in %d batches: %s",
        sum(b.files for b in batches),
        len(batches),
        ", ".join(b.label() for b in batches),
    )
    return [b.as_dict() for b in batches]


def load_intake_batch(dsn: str, batch: dict, run_id: str | None = None) -> dict:
    """One batch: claim its files still 'received', read, validate, load, quarantine, keep
    its GX results; the IntakeSummary of what this attempt loaded (with `seconds`)."""
    use_private_umask()
    with psycopg.connect(dsn) as conn:
        summary, seconds = intake.run_batch(conn, batch, paths().quarantine, run_id)
    return {**summary.as_dict(), "seconds": {k: round(v, 3) for k, v in seconds.items()}}


def sum_intake(summaries) -> dict:
    """The night's IntakeSummary: the batches' summaries added up."""
    total = intake.IntakeSummary()
    batches = 0
    for item in summaries or []:
        batches += 1
        counts = {k: v for k, v in item.items() if k != "seconds"}
        total.add(intake.IntakeSummary(**counts))
    log.info("intake: %d batches, %s", batches, total.as_dict())
    return {**total.as_dict(), "batches": batches}


def cross_checks(dsn: str, run_id: str | None = None) -> dict:
    """Rules X1-X4 and P1-P6 on the files loaded in this run (warnings, in PostgreSQL)."""
    from grassroots.validation.cross_checks import run_cross_checks

    use_private_umask()
    return run_cross_checks(dsn, run_id)


def build_data_docs(dsn: str, run_id: str) -> dict:
    """GX Data Docs of this run's validation results stored in the warehouse, under
    <home>/data_docs/; then the upload page's old marked-up workbooks are pruned."""
    use_private_umask()
    from grassroots.check.receive import prune_markups
    from grassroots.data_docs import build_data_docs as build

    built = build(run_id, dsn)
    built["pruned_upload_results"] = prune_markups()
    if built["pruned_upload_results"]:
        log.info("removed %d old marked-up workbooks", built["pruned_upload_results"])
    return built


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


def build_report_site(dsn: str) -> dict:
    """The report site rebuilt from the marts into the shared reports folder
    (GRASSROOTS_REPORTS_DIR, else <home>/reports): only the pages whose figures changed are
    rendered again; the counts of pages rebuilt and skipped are the task's result."""
    from grassroots.reports.build import build

    use_private_umask()
    folder = paths().reports
    summary = build(folder, dsn, say=log.info)
    log.info("report site in %s: %s", folder, summary.line())
    return {**summary.as_dict(), "folder": str(folder)}


def send_quality_digests(dsn: str, run_id: str, smtp=None) -> dict:
    """Build the night's digests, keep a copy under <home>/digests/, send them if SMTP is
    set; then remember the overdue submissions listed (K1: each is listed once)."""
    from grassroots.alerts import build_digests, send_digests
    from grassroots.data_docs import docs_link
    from grassroots.overdue import mark_overdue_listed
    from grassroots.run_folders import digests_dir

    use_private_umask()
    with psycopg.connect(dsn) as conn:
        digests = build_digests(conn, run_id, docs_link=docs_link(run_id))
    folder = digests_dir(run_id)
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
