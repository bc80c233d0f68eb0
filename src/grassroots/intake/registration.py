"""Registration: from the inbox's files to receipts, every file archived first.

discover takes the inbox's files into the private staging folder (grassroots.inbox);
register reads, hashes and archives them read-only (content-addressed), records one
receipt per delivery (a byte-identical resend is a duplicate), and removes the staged
copy only once registry and archive hold the file. Reading, hashing and archiving run
in threads; staged copies are deleted in the background.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from itertools import zip_longest
from pathlib import Path

import psycopg

from grassroots import inbox as inbox_folder
from grassroots.config import paths
from grassroots.failpoints import failpoint
from grassroots.files import ARCHIVE_FILE_MODE, private_dir
from grassroots.intake.accounting import IntakeSummary

log = logging.getLogger(__name__)

REGISTER_BATCH_SIZE = 1_000
# Reader threads, each taking every n-th file of a batch: one task per thread, not per
# file. Creating files is bound by the filesystem's journal, which the deletions of
# staged copies share: on 2 cores, 75,184 files registered in 17-21 s with 2 threads
# against 25-27 s with 4 threads taking one file at a time.
REGISTER_THREADS = 2


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


def _stage_slice(paths_: list, archive: Path) -> list:
    return [_stage(path, archive) for path in paths_]


def _stage_batch(readers, chunk: list, archive: Path) -> list[tuple]:
    """Stage a batch, every n-th file by reader thread n; the staged files in the
    batch's order (the slices interleaved), without those that vanished."""
    slices = [
        readers.submit(_stage_slice, chunk[start::REGISTER_THREADS], archive)
        for start in range(REGISTER_THREADS)
    ]
    rounds = zip_longest(*(future.result() for future in slices))
    return [item for round_ in rounds for item in round_ if item is not None]


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
        for chunk in _chunks(list(files), batch_size):
            staged = _stage_batch(readers, chunk, archive)
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


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
