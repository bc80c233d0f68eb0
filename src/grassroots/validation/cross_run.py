"""Running the cross checks on a night's loaded files: fill the batch, validate, store.

The files loaded in the run (current accepted versions) are written to
landing.cross_check_batch, the suite's GX SQL table asset; one GX validation runs every
check inside PostgreSQL and only the unexpected rows come back. They become findings
(cross_findings), and the GX result is kept for the run's Data Docs.
"""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import psycopg

from grassroots.validation import stored_results
from grassroots.validation.cross_findings import finding_rows, store
from grassroots.validation.cross_suite import BATCH_SCHEMA, BATCH_TABLE, RULES, load_suite
from grassroots.validation.series_breaks import refresh_series_breaks
from grassroots.validation.suite_files import DEFAULT_SUITES_DIR

log = logging.getLogger(__name__)
logging.getLogger("great_expectations").setLevel(logging.WARNING)

# The run's cross-check result in landing.validation_results (its Data Docs page).
RESULTS_NAME = "cross_checks"


def _fill_batch(conn: psycopg.Connection, run_id: str | None, file_ids: list[int] | None) -> int:
    """The files to check: loaded (current) files of the run, or the given ones."""
    with conn.transaction():
        conn.execute(f"delete from {BATCH_SCHEMA}.{BATCH_TABLE}")
        if file_ids is not None:
            where, params = "file_id = any(%s)", (list(file_ids),)
        else:
            where, params = "run_id is not distinct from %s", (run_id,)
        cursor = conn.execute(
            f"insert into {BATCH_SCHEMA}.{BATCH_TABLE} (file_id, form_code, unit_code, period)"
            " select file_id, form_code, unit_code, period from landing.received_files"
            f" where status = 'loaded' and form_code in ('CB', 'DV', 'TC') and {where}",
            params,
        )
        return cursor.rowcount


def _sqlalchemy_url(dsn: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg2://" + dsn[len(prefix) :]
    return dsn


def _validate(dsn: str, suite):
    """One GX validation of the whole suite against the batch table."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_postgres("warehouse", connection_string=_sqlalchemy_url(dsn))
    asset = source.add_table_asset(BATCH_TABLE, table_name=BATCH_TABLE, schema_name=BATCH_SCHEMA)
    batch = asset.add_batch_definition_whole_table("tonight").get_batch()
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    return batch, result


def _all_rows(batch, item) -> list[dict]:
    """Every unexpected row: GX returns at most 200 with the result; fetch the rest."""
    rows = item.result.get("details", {}).get("unexpected_rows") or []
    count = item.result.get("observed_value") or 0
    if count > len(rows):
        from great_expectations.metrics.query.batch_table import QueryBatchTable

        query = item.expectation_config.kwargs["unexpected_rows_query"]
        rows = batch.compute_metrics(QueryBatchTable(query=query, fetch_all=True)).value
    return rows


def _findings(batch, result, identity: dict, run_id) -> dict[str, list[tuple]]:
    """The findings of a validation result, by rule; a check that raised stops the run."""
    findings: dict[str, list[tuple]] = {}
    for item in result.results:
        info = item.exception_info or {}
        if info.get("raised_exception"):
            raise RuntimeError(
                f"cross check {item.expectation_config.meta.get('check')} failed to run:"
                f" {info.get('exception_message')}"
            )
        if item.success:
            continue
        rows = _all_rows(batch, item)
        findings.setdefault(item.expectation_config.meta["rule_id"], []).extend(
            finding_rows(item, rows, identity, run_id)
        )
    return findings


def _plain_numbers(result) -> None:
    """The result's numeric values as floats, as GX would store them. GX converts each
    Decimal itself, after an inspect.stack() to see whether its profiler called it: in
    an Airflow task, with a deep stack and thousands of modules loaded, that took 56 s
    for the 800 values of a national night's stored rows."""
    for item in result.results:
        for row in ((item.result or {}).get("details") or {}).get("unexpected_rows") or []:
            for key, value in row.items():
                if isinstance(value, Decimal):
                    row[key] = float(value)


def run_cross_checks(
    dsn: str,
    run_id: str | None,
    file_ids: list[int] | None = None,
    suites_dir: Path | None = None,
    save_results: bool = True,
) -> dict:
    """Check the run's loaded files against the accepted history; store the findings."""
    suite = load_suite(suites_dir or DEFAULT_SUITES_DIR)
    with psycopg.connect(dsn) as conn:
        refresh_series_breaks(conn)
        checked = _fill_batch(conn, run_id, file_ids)
        identity = {
            file_id: (form, unit, period)
            for file_id, form, unit, period in conn.execute(
                f"select file_id, form_code, unit_code, period from {BATCH_SCHEMA}.{BATCH_TABLE}"
            ).fetchall()
        }
    summary: dict[str, Any] = {"files_checked": checked, "findings": {}}
    if not checked:
        log.info("cross checks: no file loaded in run %s", run_id)
        return summary
    batch, result = _validate(dsn, suite)
    findings = _findings(batch, result, identity, run_id)
    with psycopg.connect(dsn) as conn:
        store(conn, RULES, findings, sorted(identity))
        if save_results and run_id is not None:
            # For the run's Data Docs, in the warehouse (observed values HTML-escaped).
            # After the findings, which quote the figures as the query returned them.
            _plain_numbers(result)
            stored_results.store(conn, run_id, RESULTS_NAME, result.to_json_dict())
            summary["results"] = RESULTS_NAME
    summary["findings"] = {rule: len(rows) for rule, rows in sorted(findings.items())}
    log.info("cross checks: %d files, findings %s", checked, summary["findings"])
    return summary
