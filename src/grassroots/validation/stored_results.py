"""GX validation results of a run, kept in the warehouse (landing.validation_results).

Every intake batch stores its form suites' results in its own load transaction, the
cross checks theirs after the check; the data_docs task reads them back, on whatever
worker it runs, and renders the run's site. Observed values are HTML-escaped before
storing (safe_text.results_for_html): GX writes them into the HTML as they are.
"""

from __future__ import annotations

import math
from typing import Any

from psycopg.types.json import Jsonb


def _jsonb_safe(value: Any) -> Any:
    """What jsonb refuses, made storable: the NUL character (shown as the text
    `\\u0000`) and NaN or infinite numbers (null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.replace("\x00", "\\u0000") if "\x00" in value else value
    if isinstance(value, dict):
        return {_jsonb_safe(k): _jsonb_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonb_safe(v) for v in value]
    return value


def store(conn, run_id: str, name: str, document: dict) -> None:
    """Keep one validation result of the run (escaped for HTML here); the same name
    again in the same run (a rerun of the cross checks) replaces it."""
    import json

    from grassroots.safe_text import results_for_html

    safe = json.loads(json.dumps(results_for_html(document), ensure_ascii=False, default=str))
    conn.execute(
        "insert into landing.validation_results (run_id, name, document) values (%s, %s, %s)"
        " on conflict (run_id, name) do update"
        " set document = excluded.document, created_at = now()",
        (run_id, name, Jsonb(_jsonb_safe(safe))),
    )


def load(conn, run_id: str) -> list[tuple[str, dict]]:
    """The run's stored results, (name, document) by name."""
    return conn.execute(
        "select name, document from landing.validation_results where run_id = %s order by name",
        (run_id,),
    ).fetchall()


def prune(conn, days: int, keep: str | None = None) -> list[str]:
    """Remove the results of runs whose results are all older than `days` (never the
    run `keep`); returns those runs."""
    removed = conn.execute(
        "delete from landing.validation_results where run_id in ("
        " select run_id from landing.validation_results group by run_id"
        " having max(created_at) < now() - make_interval(days => %s))"
        " and run_id is distinct from %s returning run_id",
        (days, keep),
    ).fetchall()
    return sorted({run_id for (run_id,) in removed})
