"""The one place that turns a run id into folder names under GRASSROOTS_HOME.

A run id (Airflow's `scheduled__2026-01-31T20:00:00+00:00`, or a name given on the
command line) becomes one folder name everywhere: letters, digits, `-` and `_` kept,
anything else `_` (no `:` or `+`, which some file systems and URLs refuse).

    <home>/data_docs/<run>/            the run's GX Data Docs site (data_docs.py)
    <home>/digests/<run>/              a copy of every digest of the run
    <home>/validation_results/<run>/   validation results older releases kept on disk
"""

from __future__ import annotations

from pathlib import Path

from grassroots.config import paths

DATA_DOCS = "data_docs"
DIGESTS = "digests"
VALIDATION_RESULTS = "validation_results"
# Folders holding one subfolder per run that the Data Docs retention prunes by age.
PRUNED_PARENTS = (DATA_DOCS, VALIDATION_RESULTS)


def folder_name(run_id: str) -> str:
    """The folder name of a run: the run id with anything but [A-Za-z0-9_-] as `_`."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(run_id))


def run_folder(kind: str, run_id: str, home: Path | None = None) -> Path:
    """<home>/<kind>/<run folder name>."""
    return (paths().home if home is None else Path(home)) / kind / folder_name(run_id)


def data_docs_dir(run_id: str, home: Path | None = None) -> Path:
    return run_folder(DATA_DOCS, run_id, home)


def digests_dir(run_id: str, home: Path | None = None) -> Path:
    return run_folder(DIGESTS, run_id, home)


def validation_results_dir(run_id: str, home: Path | None = None) -> Path:
    return run_folder(VALIDATION_RESULTS, run_id, home)


def pruned_parents(home: Path | None = None) -> list[Path]:
    """The folders of per-run subfolders that retention removes by age."""
    base = paths().home if home is None else Path(home)
    return [base / name for name in PRUNED_PARENTS]
