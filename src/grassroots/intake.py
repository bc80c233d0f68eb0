"""Intake: from files in the inbox to rows in raw.*, every file accounted for.

discover (take the inbox's files into the private staging folder: grassroots.inbox) ->
register (hash, archive read-only, registry row; the staged copy is removed only once
registry and archive hold the file) -> plan the batches of the registered files
(plan_pending) -> per batch (run_batch): claim its files, parse, validate (one GX run
per form per batch), load (one COPY per form per batch) and quarantine.

In the nightly DAG each batch is its own mapped Airflow task (`load_batch`), which any
worker can take: a batch is described by a file-id range and a hash slot (Batch), not a
list of ids, so the plan stays small enough for an XCom. A batch claims its files that
are still 'received' (`select ... for update skip locked`) and loads them in the same
transaction, together with their statuses, versions and GX results: a file is either
completely loaded or not at all, an attempt that dies leaves its files to the retry, and
two attempts of one batch never load a file twice. If the load fails, it is retried in
halves down to single files (savepoints), so one bad file cannot hold back the others.
process_pending runs the same plan and batches one after another in one process (the
CLI, the tests, the benchmark).

Numbering versions (supersession) is the one step two batches must not do at once: it
runs under a lock on landing.intake_lock (a table analysts cannot reach), from just
before it to the batch's commit. Registering reads, hashes and archives with threads
and deletes staged copies in the background.
"""

from __future__ import annotations

import gc
import hashlib
import io
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from grassroots import inbox as inbox_folder
from grassroots.config import paths
from grassroots.failpoints import failpoint
from grassroots.files import ARCHIVE_FILE_MODE, private_dir
from grassroots.forms import FORMS, describe_column
from grassroots.reader import ParsedFile, parse_content

log = logging.getLogger(__name__)

# How registered files are cut into batches (plan_batches), in one place.
# One GX run per form per batch costs ~0.5 s whatever its size, and each batch is an
# Airflow task (a process, imports, the registry): batches are large.
BATCH_SIZE = 25_000
BATCH_SIZE_ENV = "GRASSROOTS_INTAKE_BATCH_SIZE"
# Batches loaded at once: the load_batch task's max_active_tis_per_dagrun (a 2-core
# machine: one batch per core), and the fewest batches a large intake is cut into.
PARALLEL_BATCHES = 2
PARALLEL_ENV = "GRASSROOTS_INTAKE_PARALLEL"
# Below this many files per batch, a second batch costs more than the core it uses.
MIN_FILES_PER_BATCH = 2_000
REGISTER_BATCH_SIZE = 1_000
REGISTER_THREADS = 4
# The table whose lock makes batches number versions one at a time: in schema landing,
# which analysts cannot use, so no analyst can take it (an advisory key anyone could).
SUPERSEDE_LOCK = "landing.intake_lock"
# Accepted receipts over the planner's estimate by more than this share: the batch
# analyzes the registry first (_statistics_are_stale).
STALE_STATISTICS_SHARE = 0.1


@dataclass
class IntakeSummary:
    registered: int = 0
    duplicates: int = 0
    loaded: int = 0
    quarantined: int = 0
    superseded: int = 0
    rows_loaded: int = 0
    findings: int = 0
    errors_by_rule: dict[str, int] = field(default_factory=dict)

    def add(self, other: IntakeSummary) -> None:
        for name in (
            "registered",
            "duplicates",
            "loaded",
            "quarantined",
            "superseded",
            "rows_loaded",
            "findings",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for rule, count in other.errors_by_rule.items():
            self.errors_by_rule[rule] = self.errors_by_rule.get(rule, 0) + count

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# -- discover and register ------------------------------------------------------------


def inbox_path(inbox: str | os.PathLike):
    """A local folder as pathlib.Path; a URL (file://...) as Airflow's ObjectStoragePath.

    Only file:// is tested and documented: s3:// or gs:// would need the Amazon or
    Google provider, which the lock does not hold.
    """
    text = str(inbox)
    if "://" in text:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(text)
    return Path(text)


def discover(inbox):
    """The files to register: a local inbox is taken into the private staging folder
    (inbox.take: no link followed, nothing read or deleted in the inbox itself) and the
    staged files are returned oldest first, with `.skipped` the entries left out; an
    object-storage inbox (no links there) is listed as it is.
    """
    folder = inbox_path(inbox)
    if isinstance(folder, Path):
        state = paths()
        return inbox_folder.take(folder, state.staging, state.rejected)
    if not folder.exists():
        return inbox_folder.Taken()
    found = [
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not path.name.startswith(inbox_folder.IGNORED_PREFIXES)
        and not path.name.endswith(inbox_folder.IN_FLIGHT_SUFFIXES)
    ]
    return inbox_folder.Taken(sorted(found, key=str))


def archive_path(archive: Path, sha256: str) -> Path:
    """Content-addressed: the path comes from the hash, never from the file's name."""
    return archive / sha256[:2] / sha256


def _archive(content: bytes, sha256: str, target: Path) -> None:
    """Write the archive copy, read-only to its owner from its creation; durability comes
    from one sync per batch.

    Created in place (O_EXCL, mode 0444) rather than written aside, chmod-ed and renamed:
    at national scale the rename and chmod cost twice the write itself. A copy left
    incomplete by a crash is never trusted: receipts are committed only after the
    batch's sync, so its file is still in the inbox and comes back here, where an
    existing copy is checked against the hash and replaced atomically if it differs.
    """
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, ARCHIVE_FILE_MODE)
    except FileNotFoundError:  # the first file of this hash prefix
        private_dir(target.parent)
        return _archive(content, sha256, target)
    except FileExistsError:
        if hashlib.sha256(target.read_bytes()).hexdigest() != sha256:
            _replace_archive_copy(content, target)
        return None
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return None


def _replace_archive_copy(content: bytes, target: Path) -> None:
    """Atomic replacement of a damaged copy. One partial name per thread: two copies of
    the same bytes in one batch may be archived by two reader threads at once."""
    partial = target.with_name(f"{target.name}.{threading.get_ident()}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, ARCHIVE_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    partial.replace(target)


def _stage(path, archive: Path) -> tuple | None:
    """Read, hash and archive one file (run in reader threads: I/O and hashing release the
    GIL); None when the file is gone (it is then not registered, and fails nothing)."""
    try:
        content = (
            path.read_bytes() if not isinstance(path, Path) else inbox_folder.read_staged(path)
        )
    except FileNotFoundError:
        log.warning("file %s vanished before registration: skipped", path)
        return None
    sha256 = hashlib.sha256(content).hexdigest()
    target = archive_path(archive, sha256)
    _archive(content, sha256, target)
    return path, sha256, len(content), target


def _remove_registered(paths_: list, staging: Path) -> None:
    """Delete what was registered: staged files (and the take folders they empty), or
    objects of an object-storage inbox. A local file that was not staged (a caller that
    registers files in place) is never deleted."""
    inbox_folder.release([p for p in paths_ if isinstance(p, Path)], staging)
    for path in paths_:
        if not isinstance(path, Path):
            path.unlink()


def register(
    conn: psycopg.Connection,
    files: Iterable,
    archive: Path,
    run_id: str | None = None,
    *,
    remove_from_inbox: bool = True,
    batch_size: int = REGISTER_BATCH_SIZE,
) -> IntakeSummary:
    """Archive each file and record its receipt; a byte-identical resend is a duplicate.

    Per batch of files: archive copies -> one sync to disk -> registry rows in one
    transaction -> delete from the inbox -> mark removed. A run stopped anywhere in
    between is completed by the next run without a second receipt for the same delivery.

    Reader threads read, hash and archive a batch; the previous batch's inbox copies are
    deleted by another thread meanwhile (a deletion after a sync costs a disk write each),
    and marked removed once deleted. The order per file is unchanged.
    """
    from concurrent.futures import ThreadPoolExecutor

    summary = IntakeSummary()
    staging = paths().staging
    removing = None  # (future of the previous batch's deletions, its receipt ids)

    def finish_removal() -> None:
        future, receipt_ids = removing
        future.result()
        conn.execute(
            "update landing.received_files set inbox_removed = true where file_id = any(%s)",
            (receipt_ids,),
        )
        conn.commit()

    with (
        ThreadPoolExecutor(REGISTER_THREADS, thread_name_prefix="register-read") as readers,
        ThreadPoolExecutor(1, thread_name_prefix="register-unlink") as remover,
    ):
        for chunk in _batches(list(files), batch_size):
            staged = [s for s in readers.map(_stage, chunk, [archive] * len(chunk)) if s]
            chunk = [item[0] for item in staged]
            os.sync()  # one flush for the batch instead of an fsync per file
            failpoint("register_after_archive")
            if removing is not None:
                finish_removal()
                removing = None
            receipt_ids = _record_receipts(conn, staged, run_id, summary)
            failpoint("register_after_commit")
            if remove_from_inbox:
                removing = (remover.submit(_remove_registered, chunk, staging), receipt_ids)
            log.info("registered %d files (%d duplicates so far)", len(chunk), summary.duplicates)
        if removing is not None:
            finish_removal()
    return summary


def _insert_receipts(conn, rows, status: str, run_id, first_receipt: dict) -> list:
    if not rows:
        return []
    hashes, names, sizes, paths_ = (list(c) for c in zip(*rows, strict=True))
    firsts = [first_receipt.get(sha) for sha in hashes]
    return conn.execute(
        """
        insert into landing.received_files
            (sha256, original_name, size_bytes, archived_path, status, duplicate_of,
             status_reason, run_id)
        select sha, name, size, path, %s, first,
               case when first is not null then 'identical to file ' || first end, %s
        from unnest(%s::text[], %s::text[], %s::bigint[], %s::text[], %s::bigint[])
             with ordinality as t (sha, name, size, path, first, position)
        order by position
        returning sha256, file_id
        """,
        (status, run_id, hashes, names, sizes, paths_, firsts),
    ).fetchall()


def _record_receipts(conn, staged, run_id, summary: IntakeSummary) -> list[int]:
    hashes = sorted({sha for _, sha, _, _ in staged})
    with conn.transaction():
        first_receipt = dict(
            conn.execute(
                "select sha256, file_id from landing.received_files"
                " where sha256 = any(%s) and status <> 'duplicate'",
                (hashes,),
            ).fetchall()
        )
        # Receipts whose inbox copy a stopped run did not delete: the same delivery.
        unfinished = {
            (sha, name): file_id
            for sha, name, file_id in conn.execute(
                "select sha256, original_name, file_id from landing.received_files"
                " where sha256 = any(%s) and not inbox_removed",
                (hashes,),
            ).fetchall()
        }
        receipt_ids: list[int] = []
        originals, duplicates, new_hashes = [], [], set()
        for path, sha256, size, target in staged:
            resumed = unfinished.pop((sha256, path.name), None)
            if resumed is not None:
                receipt_ids.append(resumed)
            elif sha256 in first_receipt or sha256 in new_hashes:
                duplicates.append((sha256, path.name, size, str(target)))
            else:
                new_hashes.add(sha256)
                originals.append((sha256, path.name, size, str(target)))
        # One statement per kind, not a round trip per file; rows keep the inbox order.
        for sha256, file_id in _insert_receipts(conn, originals, "received", run_id, {}):
            first_receipt[sha256] = file_id
            receipt_ids.append(file_id)
        for _sha, file_id in _insert_receipts(conn, duplicates, "duplicate", run_id, first_receipt):
            receipt_ids.append(file_id)
        summary.registered += len(originals)
        summary.duplicates += len(duplicates)
    return receipt_ids


# -- parse, validate, load --------------------------------------------------------------


def pending_files(conn: psycopg.Connection) -> list[tuple[int, str, str]]:
    return conn.execute(
        "select file_id, original_name, archived_path from landing.received_files"
        " where status = 'received' order by file_id"
    ).fetchall()


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batch_size(requested: int | None = None) -> int:
    """Files per batch: the argument, else $GRASSROOTS_INTAKE_BATCH_SIZE, else BATCH_SIZE."""
    if requested is None:
        configured = os.environ.get(BATCH_SIZE_ENV, "").strip()
        requested = int(configured) if configured else BATCH_SIZE
    return max(1, requested)


def parallel_batches(requested: int | None = None) -> int:
    """Batches loaded at once (the load_batch task's max_active_tis_per_dagrun): the
    argument, else $GRASSROOTS_INTAKE_PARALLEL, else PARALLEL_BATCHES."""
    if requested is None:
        configured = os.environ.get(PARALLEL_ENV, "").strip()
        requested = int(configured) if configured else PARALLEL_BATCHES
    return max(1, requested)


_MASK64 = (1 << 64) - 1


def _shuffle_key(file_id: int) -> int:
    """A fixed pseudo-random number per file (splitmix64's finalizer): which batch takes
    a file depends on its id alone, so any worker, any attempt, computes the same."""
    x = (file_id * 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


@dataclass(frozen=True)
class Batch:
    """A batch of registered files, small enough for an XCom whatever its size: the files
    are those still 'received' with an id in [first_file_id, last_file_id] whose
    _shuffle_key falls to `index` (of `count`). `files` is how many there were when
    planned (for logs and the task's label)."""

    index: int
    count: int
    first_file_id: int
    last_file_id: int
    files: int

    def takes(self, file_id: int) -> bool:
        return (
            self.first_file_id <= file_id <= self.last_file_id
            and _shuffle_key(file_id) % self.count == self.index
        )

    def label(self) -> str:
        return f"batch {self.index + 1}/{self.count} ({self.files} files)"

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def of(cls, value: Batch | dict) -> Batch:
        return value if isinstance(value, Batch) else cls(**value)


def plan_batches(
    file_ids: list[int], size: int | None = None, parallel: int | None = None
) -> list[Batch]:
    """About equal batches of at most about `size` files (BATCH_SIZE); when several
    batches load at once, at least one batch per parallel slot, as long as each gets
    MIN_FILES_PER_BATCH files (below that the fixed cost of a task and of a GX run per
    form outweighs the second core).

    Files are shuffled into the batches by a hash of their id (each batch loads in file
    order): files arrive in runs and patterns of one form (a province's TC reports, 75
    rows each, after its communes' CB and DV, often alternating), so slices or every
    n-th file would give one batch most of the rows while the other waits. Which batch
    loads a file first does not matter: versions are numbered by arrival (received_at,
    file_id), not by load order. A batch is described by its id range and hash slot, not
    by its list of ids, so the plan of a national load stays a few hundred bytes.
    """
    if not file_ids:
        return []
    size, parallel = batch_size(size), parallel_batches(parallel)
    count = -(-len(file_ids) // size)
    if parallel > 1:
        count = max(count, min(parallel, len(file_ids) // MIN_FILES_PER_BATCH))
    sizes = [0] * count
    for file_id in file_ids:
        sizes[_shuffle_key(file_id) % count] += 1
    first, last = min(file_ids), max(file_ids)
    return [
        Batch(index, count, first, last, files)
        for index, files in enumerate(sizes)
        if files  # a slot the hash left empty (a handful of files) is no batch
    ]


def plan_pending(
    conn: psycopg.Connection,
    quarantine_dir: Path,
    size: int | None = None,
    parallel: int | None = None,
) -> list[Batch]:
    """The batches of every registered file not yet processed (whatever run registered
    it: a crashed run's leftovers are taken by the next plan). First writes the
    quarantine copies a stopped run committed but did not write."""
    restore_quarantine_copies(conn, quarantine_dir)
    pending = [
        file_id
        for (file_id,) in conn.execute(
            "select file_id from landing.received_files where status = 'received'"
        ).fetchall()
    ]
    # End the read transaction: each batch runs in a transaction of its own.
    conn.commit()
    return plan_batches(pending, size, parallel)


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


def _copy_rows(cur: psycopg.Cursor, table: str, frame) -> int:
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
            summary.rows_loaded += _copy_rows(cur, FORMS[form_code].raw_table, rows)
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
                -- The first version of its report, as most files are: _supersede then
                -- rewrites only the files of reports with several versions.
                version = case when o.status = 'loaded' then 1 end
            from unnest(%b::bigint[], %b::text[], %b::text[], %b::text[], %b::text[],
                        %b::text[]) as o (file_id, status, form_code, unit_code, period, reason)
            where f.file_id = o.file_id
            """,
            (run_id, ids, statuses, forms, units, periods, reasons),
        )
        summary.superseded = _supersede(cur, [o[0] for o in outcomes if o[1] == "loaded"])
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


def _statistics_are_stale(cur) -> bool:
    """Whether the planner underestimates the accepted receipts by over 10 %.

    Supersession joins the batch's keys to the accepted receipts (status loaded or
    superseded, which this batch has just set on its files). Statistics taken before
    most of them were accepted make the planner expect a handful and pick nested
    loops: minutes, not ms. So the batch compares the planner's estimate (EXPLAIN,
    ~1 ms) with the count (an index-only scan of the partial key index, 30-60 ms on a
    national registry) and analyzes (~0.4 s under the lock) only when they are apart by
    over autovacuum's own share (autovacuum_analyze_scale_factor). Every batch of a bulk
    load does; a night's batch, a fraction of a percent of a national registry, does
    not. Comparing the batch with the registry's row count instead was wrong: after a
    bulk registration (427,000 receipts, none accepted yet) no 25,000-file batch
    analyzed, and the history's load took 212 s instead of 40.
    """
    cur.execute("select reltuples from pg_class where oid = 'landing.received_files'::regclass")
    if cur.fetchone()[0] < 0:  # never analyzed: the estimate is a guess from the file size
        return True
    accepted = "from landing.received_files where status in ('loaded', 'superseded')"
    cur.execute(f"explain (format json) select 1 {accepted}")
    estimated = cur.fetchone()[0][0]["Plan"]["Plan Rows"]
    cur.execute(f"select count(*) {accepted}")
    counted = cur.fetchone()[0]
    return counted - estimated > STALE_STATISTICS_SHARE * estimated


def _supersede(cur, loaded_ids: list[int]) -> int:
    """Number the accepted versions of the keys this batch touched; older ones step down.

    Only the form/unit/period keys of the batch are looked at, so a night's cost
    follows the new files, not the size of the registry.
    """
    if not loaded_ids:
        return 0
    # Two batches loading at once (worker processes) must not number the same key's
    # versions from two snapshots: one batch at a time from here to its commit.
    cur.execute(f"lock table {SUPERSEDE_LOCK} in exclusive mode")
    if _statistics_are_stale(cur):
        cur.execute("analyze landing.received_files")
    cur.execute(
        """
        with touched as (
            select distinct form_code, unit_code, period
            from landing.received_files where file_id = any(%(ids)s)
        ),
        ranked as (
            select f.file_id, f.status as old_status,
                   row_number() over keyed as version,
                   last_value(f.file_id) over (
                       keyed rows between unbounded preceding and unbounded following
                   ) as newest
            from landing.received_files as f
            join touched using (form_code, unit_code, period)
            where f.status in ('loaded', 'superseded')
            window keyed as (
                partition by f.form_code, f.unit_code, f.period
                order by f.received_at, f.file_id
            )
        ),
        updated as (
            update landing.received_files as f
            set version = ranked.version,
                status = case when ranked.file_id = ranked.newest
                              then 'loaded' else 'superseded' end,
                superseded_by = nullif(ranked.newest, ranked.file_id),
                superseded_at = case
                    when ranked.file_id = ranked.newest then null
                    else coalesce(f.superseded_at, now())
                end,
                status_reason = case
                    when ranked.file_id = ranked.newest then null
                    else 'replaced by file ' || ranked.newest
                end
            from ranked
            where f.file_id = ranked.file_id
              and (f.version is distinct from ranked.version
                   or (f.status = 'loaded' and ranked.file_id <> ranked.newest))
            returning f.status, ranked.old_status
        )
        -- Files that stepped down now; an older version only renumbered is not counted.
        select count(*) from updated where status = 'superseded' and old_status = 'loaded'
        """,
        {"ids": loaded_ids},
    )
    return cur.fetchone()[0]


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


def record_skipped(conn: psycopg.Connection, skipped: list, run_id: str | None) -> int:
    """Remember the inbox entries this run left out (inbox.Skipped), for the digest."""
    if skipped:
        entries, reasons = [s.entry for s in skipped], [s.reason for s in skipped]
        conn.execute(
            "insert into landing.inbox_skipped (run_id, entry, reason)"
            " select %s, e, r from unnest(%s::text[], %s::text[]) as t (e, r)",
            (run_id, entries, reasons),
        )
        conn.commit()
    return len(skipped)


def account(conn: psycopg.Connection) -> dict[str, int]:
    """Files received, by status: received = loaded + quarantined + superseded + duplicate."""
    rows = conn.execute(
        "select status, count(*) from landing.received_files group by status"
    ).fetchall()
    counts = {
        status: 0 for status in ("received", "loaded", "quarantined", "superseded", "duplicate")
    }
    counts.update(dict(rows))
    return counts
