"""Loading: per batch, claim its files, parse, validate (one GX run per form per batch),
load (one COPY per form per batch), number versions and quarantine, in ONE transaction.

In the nightly DAG each batch is its own mapped Airflow task (`load_batch`), which any
worker can take. A batch claims its files that are still 'received' (`select ... for
update skip locked`) and loads them in the same transaction, together with their
statuses, versions and GX results: a file is either completely loaded or not at all, an
attempt that dies leaves its files to the retry, and two attempts of one batch never
load a file twice. If the load fails, it is retried in halves down to single files
(savepoints), so one bad file cannot hold back the others. process_pending runs the
same plan and batches one after another in one process (the CLI, the tests, the
benchmark).
"""

from __future__ import annotations

import gc
import io
import logging
import time
from pathlib import Path

import psycopg

from grassroots.failpoints import failpoint
from grassroots.forms import FORMS
from grassroots.intake.accounting import IntakeSummary
from grassroots.intake.batching import Batch, plan_pending
from grassroots.intake.quarantine import write_quarantine
from grassroots.intake.supersession import supersede
from grassroots.reader import ParsedFile, parse_content

log = logging.getLogger(__name__)


def read_and_validate(batch: list[tuple[int, str, str]], registry=None) -> tuple:
    """Read, parse and validate one batch.

    Returns (the files as stubs: id and name only, the ValidationResult, stage seconds).
    The stubs keep what loading needs; records travel in the result's typed frames.
    """
    from grassroots.validation.runner import validate_batch

    started, cpu_started = time.perf_counter(), time.process_time()
    parsed = [
        parse_content(file_id, name, Path(archived).read_bytes())
        for file_id, name, archived in batch
    ]
    parsed_at = time.perf_counter()
    result = validate_batch(parsed, registry=registry)
    stubs = [ParsedFile(item.file_id, item.original_name, None) for item in parsed]
    seconds = {
        "parse": parsed_at - started,
        "validate": time.perf_counter() - parsed_at,
        "cpu": time.process_time() - cpu_started,
    }
    return stubs, result, seconds


def claim(conn: psycopg.Connection, batch: Batch) -> list[tuple[int, str, str]]:
    """Lock the batch's files that are still 'received' (inside the caller's
    transaction) and return them in file order.

    `for update skip locked`: another attempt of the same batch still running (a task
    retried while the first attempt's connection lives on, or started twice) holds its
    files, and this attempt takes none of them; files an attempt committed are no longer
    'received'. So whoever takes a batch, and however often, each file loads once."""
    in_range = conn.execute(
        "select file_id from landing.received_files where status = 'received'"
        " and file_id between %s and %s",
        (batch.first_file_id, batch.last_file_id),
    ).fetchall()
    mine = [file_id for (file_id,) in in_range if batch.takes(file_id)]
    if not mine:
        return []
    return conn.execute(
        "select file_id, original_name, archived_path from landing.received_files"
        " where file_id = any(%s) and status = 'received'"
        " order by file_id for update skip locked",
        (mine,),
    ).fetchall()


def run_batch(
    conn: psycopg.Connection,
    batch: Batch | dict,
    quarantine_dir: Path,
    run_id: str | None,
    registry=None,
) -> tuple[IntakeSummary, dict[str, float]]:
    """Claim, read, validate and load one batch in ONE transaction, with its GX results;
    then write its quarantine copies.

    What one mapped `load_batch` task does, on any worker: the claim's row locks, the
    raw rows, the statuses, the versions and the GX results commit together or not at
    all, so an attempt that dies leaves its files 'received' for the retry (or the next
    run) and nothing else. Returns the batch's summary and its seconds per stage
    (parse, validate, load, cpu: CPU seconds of reading and validating)."""
    from grassroots.registry import Registry

    batch = Batch.of(batch)
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.commit()  # the batch's transaction must be a transaction, not a savepoint
    # A batch holds millions of small objects (a tuple per row, a string per cell) that
    # live until it is loaded: the cyclic garbage collector would walk them all again and
    # again as they pile up (~20 % of the batch's CPU). None of them form cycles;
    # collection resumes after the batch.
    collecting = gc.isenabled()
    gc.disable()
    seconds: dict[str, float] = {}
    try:
        with conn.transaction():
            files = claim(conn, batch)
            failpoint("batch_after_claim")
            if not files:
                log.info("%s: no file left to load (another attempt took them)", batch.label())
                return IntakeSummary(), seconds
            stubs, result, seconds = read_and_validate(files, registry or Registry.load())
            started = time.perf_counter()
            outcome, quarantined = _load_or_split(conn, stubs, result, run_id)
            store_gx_results(conn, run_id, files[0][0], result.gx_results)
        # After the commit: the registry is the source of truth, and a crash here leaves
        # nothing that the next plan (restore_quarantine_copies) would not recreate.
        write_quarantine(conn, quarantine_dir, quarantined)
        conn.commit()
        seconds["load"] = time.perf_counter() - started
    finally:
        if collecting:
            gc.enable()
    log.info(
        "%s: %d files, %d loaded, %d quarantined, %d superseded, %d rows",
        batch.label(),
        len(files),
        outcome.loaded,
        outcome.quarantined,
        outcome.superseded,
        outcome.rows_loaded,
    )
    return outcome, seconds


def process_pending(
    conn: psycopg.Connection,
    quarantine_dir: Path,
    run_id: str | None = None,
    batch_size: int | None = None,
    registry=None,
    parallel: int | None = None,
    timings: dict[str, float] | None = None,
) -> IntakeSummary:
    """Parse, validate and load every registered file not yet processed, in this
    process: the same plan and the same run_batch as the DAG's mapped tasks, one batch
    after another (the CLI's and the tests' path; the DAG spreads the batches over
    Airflow's workers instead). A batch that fails stops here; batches committed stay
    committed. `timings`, if given, accumulates seconds per stage (parse, validate,
    load, cpu) and gets `batches`, the number of batches."""
    from grassroots.registry import Registry

    registry = registry or Registry.load()
    batches = plan_pending(conn, quarantine_dir, batch_size, parallel)
    timings = timings if timings is not None else {}
    timings["batches"] = len(batches)
    summary = IntakeSummary()
    for batch in batches:
        outcome, seconds = run_batch(conn, batch, quarantine_dir, run_id, registry)
        for stage, value in seconds.items():
            timings[stage] = timings.get(stage, 0.0) + value
        summary.add(outcome)
    return summary


def store_gx_results(conn, run_id: str | None, first_file_id: int, results: list) -> list[str]:
    """Keep a batch's GX validation results (one per form and frame) for the run's Data
    Docs, in landing.validation_results, inside the batch's transaction: named
    intake_<first file_id>_<form>_<frame>. Named by the first file it loaded, not its
    position: a retried batch (only the files still pending) must not overwrite the
    results of what an earlier attempt committed."""
    if run_id is None or not results:
        return []
    from grassroots.validation import stored_results

    names = []
    for form_code, frame_name, document in results:
        name = f"intake_{first_file_id:09d}_{form_code.lower()}_{frame_name}"
        stored_results.store(conn, run_id, name, document)
        names.append(name)
    return names


def _load_or_split(conn, parsed, result, run_id) -> tuple[IntakeSummary, list[int]]:
    """Load a batch; if the database refuses it, load each half on its own (down to one
    file), each in a savepoint of the batch's transaction.

    Validation results are per file, so halves reuse them instead of validating again.
    A file refused even on its own fails the batch (nothing of it is committed).
    Returns the summary and the ids of the files quarantined.
    """
    try:
        return load_batch(conn, parsed, result, run_id)
    except psycopg.Error as error:
        # The server gone (killed, restarted, the session ended) is no file's fault, and
        # no half would fare better: the attempt fails at once and its retry loads it.
        shutdown = (psycopg.errors.AdminShutdown, psycopg.errors.CrashShutdown)
        lost = conn.broken or conn.closed or isinstance(error, shutdown)
        if len(parsed) == 1 or lost:
            raise
        log.exception("batch of %d files failed to load; loading it in halves", len(parsed))
        middle = len(parsed) // 2
        summary, quarantined = IntakeSummary(), []
        for half in (parsed[:middle], parsed[middle:]):
            subset = result.subset({item.file_id for item in half})
            outcome, rejected = _load_or_split(conn, half, subset, run_id)
            summary.add(outcome)
            quarantined.extend(rejected)
        return summary, quarantined


def copy_rows(cur: psycopg.Cursor, table: str, frame) -> int:
    """One COPY for all rows of a batch; CSV text built by pandas, not row by row."""
    if frame.empty:
        return 0
    buffer = io.StringIO()
    # Missing values are written as unquoted empty fields, which COPY CSV reads as NULL.
    frame.to_csv(buffer, index=False, header=False)
    statement = f"copy {table} ({', '.join(frame.columns)}) from stdin with (format csv)"
    with cur.copy(statement) as copy:
        copy.write(buffer.getvalue())
    return len(frame)


def load_batch(conn, parsed: list[ParsedFile], result, run_id) -> tuple[IntakeSummary, list[int]]:
    """One transaction (a savepoint inside run_batch's): findings, accepted rows, file
    statuses, supersessions. Returns the summary and the ids of the files quarantined
    (their copies are written after the commit)."""
    summary = IntakeSummary()
    rejected = result.files_with_errors()
    identity = result.file_identity()
    accepted = [p.file_id for p in parsed if p.file_id not in rejected]
    with conn.transaction(), conn.cursor() as cur:
        summary.findings = _copy_findings(cur, result.findings, identity, run_id)
        for form_code, frame in result.typed.items():
            rows = frame[frame["file_id"].isin(accepted)]
            summary.rows_loaded += copy_rows(cur, FORMS[form_code].raw_table, rows)
        failpoint("load_after_copy")
        reasons_by_file = _reasons(result.findings)
        outcomes = []
        for item in parsed:
            form_code, unit_code, period = identity.get(item.file_id, (None, None, None))
            is_rejected = item.file_id in rejected
            reason = reasons_by_file.get(item.file_id) if is_rejected else None
            status = "quarantined" if is_rejected else "loaded"
            outcomes.append((item.file_id, status, form_code, unit_code, period, reason))
        summary.quarantined = sum(1 for o in outcomes if o[1] == "quarantined")
        summary.loaded = len(outcomes) - summary.quarantined
        # One statement for the whole batch, not one round trip per file; the arrays go
        # in binary (%b): their text form is quoted element by element in Python.
        ids, statuses, forms, units, periods, reasons = (
            list(c) for c in zip(*outcomes, strict=True)
        )
        cur.execute(
            """
            update landing.received_files as f
            set status = o.status, form_code = o.form_code, unit_code = o.unit_code,
                period = o.period, status_reason = o.reason, status_changed_at = now(),
                loaded_at = case when o.status = 'loaded' then now() end, run_id = %s,
                -- The first version of its report, as most files are: supersede then
                -- rewrites only the files of reports with several versions.
                version = case when o.status = 'loaded' then 1 end
            from unnest(%b::bigint[], %b::text[], %b::text[], %b::text[], %b::text[],
                        %b::text[]) as o (file_id, status, form_code, unit_code, period, reason)
            where f.file_id = o.file_id
            """,
            (run_id, ids, statuses, forms, units, periods, reasons),
        )
        summary.superseded = supersede(cur, [o[0] for o in outcomes if o[1] == "loaded"])
    for rule in (f.rule_id for f in result.findings if f.severity == "error"):
        summary.errors_by_rule[rule] = summary.errors_by_rule.get(rule, 0) + 1
    return summary, [p.file_id for p in parsed if p.file_id in rejected]


def _copy_findings(cur, findings, identity, run_id) -> int:
    if not findings:
        return 0
    statement = (
        "copy landing.validation_findings (file_id, form_code, unit_code, period, rule_id,"
        " severity, row_number, column_name, value, message_vi, message_en, run_id) from stdin"
    )
    with cur.copy(statement) as copy:
        for f in findings:
            form_code, unit_code, period = identity.get(f.file_id, (None, None, None))
            copy.write_row(
                (
                    f.file_id,
                    form_code,
                    unit_code,
                    period,
                    f.rule_id,
                    f.severity,
                    f.row_number,
                    f.column,
                    f.value,
                    f.message_vi,
                    f.message_en,
                    run_id,
                )
            )
    return len(findings)


def _reasons(findings) -> dict[int, str]:
    """file_id -> its distinct error messages, for the registry's status_reason."""
    errors: dict[int, set[str]] = {}
    for f in findings:
        if f.severity == "error":
            errors.setdefault(f.file_id, set()).add(f"{f.rule_id}: {f.message_vi}")
    return {file_id: "; ".join(sorted(texts))[:2000] for file_id, texts in errors.items()}
