"""Great Expectations Data Docs for each nightly run, built off the load's critical path.

Every intake batch and the cross checks keep their GX validation results in the
warehouse (landing.validation_results, grassroots.validation.stored_results), so the
data_docs task finds them on whatever worker it runs. It reads every stored result of
the run back into an ephemeral GX context and lets GX's own site builder write the HTML
site to <GRASSROOTS_HOME>/data_docs/<run>/ (named by grassroots.run_folders: index.html,
one page per validation, one page per expectation suite: the committed form suites and
the cross checks). The digest links to that index: GRASSROOTS_DATA_DOCS_URL, when set,
is the address the data_docs folder is published under; otherwise a file:// link
(GRASSROOTS_HOME is a path every worker mounts).

Each night's site is about 4 MB: after building, sites and stored results of runs older
than GRASSROOTS_DATA_DOCS_KEEP_DAYS (default 90; 0 keeps everything) are removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from grassroots import run_folders
from grassroots.run_folders import folder_name
from grassroots.validation import stored_results

log = logging.getLogger(__name__)
SITE_NAME = "grassroots_night"
DEFAULT_KEEP_DAYS = 90


def docs_dir(run_id: str) -> Path:
    return run_folders.data_docs_dir(run_id)


def docs_link(run_id: str) -> str:
    base = os.environ.get("GRASSROOTS_DATA_DOCS_URL", "").strip().rstrip("/")
    if base:
        return f"{base}/{folder_name(run_id)}/index.html"
    return (docs_dir(run_id) / "index.html").as_uri()


def _suites():
    from grassroots.forms import FORMS
    from grassroots.validation import cross_suite, suites

    found = [suites.load_suite(suites.DEFAULT_SUITES_DIR, code) for code in FORMS]
    found.append(cross_suite.load_suite())
    return found


def build_data_docs(run_id: str, dsn: str | None = None) -> dict:
    """Render the run's validation results stored in the warehouse at `dsn` (and the
    suites) as a static site; with no dsn, the suites alone. Then prune old runs."""
    import great_expectations as gx
    import psycopg
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    target = docs_dir(run_id)
    target.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(
        site_name=SITE_NAME,
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(target),
            },
        },
    )
    for suite in _suites():
        context.suites.add(suite)
    schema = ExpectationSuiteValidationResultSchema()
    stored = []
    if dsn is not None:
        with psycopg.connect(dsn) as conn:
            stored = stored_results.load(conn, run_id)
    for name, document in stored:
        result = schema.load(document)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=RunIdentifier(run_name=folder_name(run_id)),
            batch_identifier=name,
        )
        context.validation_results_store.set(key, result)
    context.build_data_docs(site_names=[SITE_NAME])
    index = target / "index.html"
    log.info("data docs for run %s: %d validation results -> %s", run_id, len(stored), index)
    pruned = prune_old_runs(keep=folder_name(run_id))
    if dsn is not None and keep_days() > 0:
        with psycopg.connect(dsn) as conn:
            pruned_results = stored_results.prune(conn, keep_days(), keep=run_id)
        if pruned_results:
            log.info("data docs: removed the stored results of %d runs", len(pruned_results))
        pruned = sorted(set(pruned) | {folder_name(r) for r in pruned_results})
    return {
        "index": str(index),
        "validations": len(stored),
        "link": docs_link(run_id),
        "pruned_runs": pruned,
    }


def keep_days() -> int:
    return int(os.environ.get("GRASSROOTS_DATA_DOCS_KEEP_DAYS", DEFAULT_KEEP_DAYS))


def prune_old_runs(keep: str | None = None, now: float | None = None) -> list[str]:
    """Remove the Data Docs sites of runs older than keep_days() (by folder modification
    time), never the run named `keep`, and the folders of validation results older
    releases kept on disk. Returns the runs removed. (The stored results in the
    warehouse are pruned by build_data_docs, stored_results.prune.)"""
    days = keep_days()
    if days <= 0:
        return []
    cutoff = (time.time() if now is None else now) - days * 86400
    removed: set[str] = set()
    for parent in run_folders.pruned_parents():
        if not parent.is_dir():
            continue
        for folder in parent.iterdir():
            if folder.is_dir() and folder.name != keep and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)
                removed.add(folder.name)
    if removed:
        log.info("data docs: removed %d runs older than %d days", len(removed), days)
    return sorted(removed)
