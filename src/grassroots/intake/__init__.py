"""Intake: from files in the inbox to rows in raw.*, every file accounted for.

Its modules follow the data path:

  registration  discover (take the inbox's files into the private staging folder:
                grassroots.inbox) -> register (hash, archive read-only, registry row; the
                staged copy is removed only once registry and archive hold the file)
  batching      plan the batches of the registered files (plan_pending, Batch)
  loading       per batch (run_batch): claim its files, parse, validate (one GX run per
                form per batch), load (one COPY per form per batch)
  supersession  number the versions of each report: the newest is loaded, older ones
                are superseded
  quarantine    the copies and reasons of the files refused
  accounting    the counts: IntakeSummary, files by status

How large the batches are and how many load at once: grassroots.intake_settings (light,
for the DAG file's parse). The names below are the package's public interface.
"""

from grassroots.intake.accounting import IntakeSummary, account
from grassroots.intake.batching import Batch, pending_files, plan_batches, plan_pending
from grassroots.intake.loading import (
    claim,
    load_batch,
    process_pending,
    read_and_validate,
    run_batch,
    store_gx_results,
)
from grassroots.intake.quarantine import restore_quarantine_copies, write_quarantine
from grassroots.intake.registration import (
    REGISTER_BATCH_SIZE,
    REGISTER_THREADS,
    archive_path,
    discover,
    inbox_path,
    record_skipped,
    register,
)
from grassroots.intake.supersession import STALE_STATISTICS_SHARE, SUPERSEDE_LOCK, supersede
from grassroots.intake_settings import (
    BATCH_SIZE,
    BATCH_SIZE_ENV,
    MIN_FILES_PER_BATCH,
    PARALLEL_BATCHES,
    PARALLEL_ENV,
    batch_size,
    parallel_batches,
)

__all__ = [
    "BATCH_SIZE",
    "BATCH_SIZE_ENV",
    "MIN_FILES_PER_BATCH",
    "PARALLEL_BATCHES",
    "PARALLEL_ENV",
    "REGISTER_BATCH_SIZE",
    "REGISTER_THREADS",
    "STALE_STATISTICS_SHARE",
    "SUPERSEDE_LOCK",
    "Batch",
    "IntakeSummary",
    "account",
    "archive_path",
    "batch_size",
    "claim",
    "discover",
    "inbox_path",
    "load_batch",
    "parallel_batches",
    "pending_files",
    "plan_batches",
    "plan_pending",
    "process_pending",
    "read_and_validate",
    "record_skipped",
    "register",
    "restore_quarantine_copies",
    "run_batch",
    "store_gx_results",
    "supersede",
    "write_quarantine",
]
