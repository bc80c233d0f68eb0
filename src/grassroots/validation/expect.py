"""One expectation of a form suite, tagged with its rule from the rule catalog.

Every expectation's `meta` holds: `frame` (which frame it reads), `rule_id`, `severity`
(error/warning, from grassroots.catalog.rules), `column` (the form column staff must
fix), `inputs` (the form columns it reads, to suppress follow-up findings), `stage` (1:
the value itself, 2: a check built on values), `message_vi` / `message_en` (templates:
`{value}` is the cell as written, other placeholders are frame columns named in
`placeholders`).
"""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from grassroots.catalog import rules as catalog
from grassroots.validation import frames as fr


def expect(
    kind: type,
    *,
    rule: str,
    column: str | None,
    vi: str,
    en: str,
    variant: str | None = None,
    frame: str = fr.ROWS,
    inputs: tuple[str, ...] = (),
    stage: int = 2,
    placeholders: dict[str, str] | None = None,
    extra_meta: dict | None = None,
    domain: str | None = None,
    **kwargs,
):
    """A GX expectation of class `kind` for `rule` (its `variant`'s severity if named)."""
    severity = catalog.rule(rule).severity_of(variant)
    if domain is not None:
        kwargs["column"] = domain  # the frame column GX reads
    meta = {
        "rule_id": rule,
        "severity": severity,
        "column": column,
        "frame": frame,
        "inputs": sorted(set(inputs) | ({column} if column else set())),
        "stage": stage,
        "message_vi": vi,
        "message_en": en,
        **(extra_meta or {}),
    }
    if placeholders:
        meta["placeholders"] = placeholders
    # GX's own severity mirrors ours, so GX-native tooling reads the same thing.
    gx_severity = "critical" if severity == "error" else "warning"
    return kind(meta=meta, severity=gx_severity, **kwargs)


def quoted(text: str) -> str:
    return f"“{text}”"
