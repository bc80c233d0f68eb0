"""Great Expectations Data Docs for each nightly run, built off the load's critical path.

The cross checks keep their GX validation result as JSON under
<GRASSROOTS_HOME>/validation_results/<run>/; a separate DAG task (after the load) reads
every stored result of the run back into an ephemeral GX context and lets GX's own site
builder write the HTML site to <GRASSROOTS_HOME>/data_docs/<run>/ (index.html, one page
per validation, one page per expectation suite: the committed form suites and the cross
checks). The digest links to that index: GRASSROOTS_DATA_DOCS_URL, when set, is the
address the data_docs folder is published under; otherwise a file:// link.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from grassroots.config import paths
from grassroots.validation.cross_checks import results_dir, safe_name

log = logging.getLogger(__name__)
SITE_NAME = "grassroots_night"


def docs_dir(run_id: str) -> Path:
    return paths().home / "data_docs" / safe_name(run_id)


def docs_link(run_id: str) -> str:
    base = os.environ.get("GRASSROOTS_DATA_DOCS_URL", "").strip().rstrip("/")
    if base:
        return f"{base}/{safe_name(run_id)}/index.html"
    return (docs_dir(run_id) / "index.html").as_uri()


def _suites():
    from grassroots.forms import FORMS
    from grassroots.validation import cross_checks, suites

    found = [suites.load_suite(suites.DEFAULT_SUITES_DIR, code) for code in FORMS]
    found.append(cross_checks.load_suite())
    return found


def build_data_docs(run_id: str) -> dict:
    """Render the run's stored validation results (and the suites) as a static site."""
    import great_expectations as gx
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
    stored = sorted(results_dir(run_id).glob("*.json")) if results_dir(run_id).exists() else []
    for path in stored:
        result = schema.load(json.loads(path.read_text(encoding="utf-8")))
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=RunIdentifier(run_name=safe_name(run_id)),
            batch_identifier=path.stem,
        )
        context.validation_results_store.set(key, result)
    context.build_data_docs(site_names=[SITE_NAME])
    index = target / "index.html"
    log.info("data docs for run %s: %d validation results -> %s", run_id, len(stored), index)
    return {"index": str(index), "validations": len(stored), "link": docs_link(run_id)}
