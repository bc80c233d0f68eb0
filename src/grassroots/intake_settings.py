"""How the intake is cut into batches and how many load at once, with the environment's
overrides. Outside the intake package and import-free on purpose: the DAG file reads
parallel_batches() when Airflow parses it (the load_batch task's limit), and parsing a
DAG must not import the intake's modules (psycopg, pandas, GX).
"""

from __future__ import annotations

import os

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
