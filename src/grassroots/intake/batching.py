"""Batching: the registered files cut into batches any worker can load.

A batch is described by a file-id range and a hash slot (Batch), not a list of ids, so
the plan stays small enough for an XCom. How large the batches are and how many load at
once: grassroots.intake_settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from grassroots.intake.quarantine import restore_quarantine_copies
from grassroots.intake_settings import MIN_FILES_PER_BATCH, batch_size, parallel_batches


def pending_files(conn: psycopg.Connection) -> list[tuple[int, str, str]]:
    return conn.execute(
        "select file_id, original_name, archived_path from landing.received_files"
        " where status = 'received' order by file_id"
    ).fetchall()


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
