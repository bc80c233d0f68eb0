"""The cross-check suite (rules X1-X4, P1-P6): built from the rule catalog and checks/*.sql.

One GX `UnexpectedRowsExpectation` per check of a cross-form or plausibility rule in
grassroots.catalog.rules, its query read from checks/<rule>_<check>.sql, its `meta`
tagged with the rule, the catalog's severity, the check's name and message templates.
The suite is committed as expectations/cross_checks.json (`write_suite`).
"""

from __future__ import annotations

from pathlib import Path

from grassroots.catalog import rules as catalog
from grassroots.validation.check_sql import read_check
from grassroots.validation.suite_files import DEFAULT_SUITES_DIR, read_suite_file, write_suite_file

SUITE_NAME = "grassroots.cross_checks"
SUITE_FILE = "cross_checks.json"
BATCH_SCHEMA, BATCH_TABLE = "landing", "cross_check_batch"

RULES: tuple[str, ...] = catalog.cross_rule_ids()
CHECKS: tuple[catalog.Check, ...] = tuple(
    check for rule_id in RULES for check in catalog.rule(rule_id).checks
)


def build_suite():
    """The GX suite: one UnexpectedRowsExpectation per check, tagged with rule and severity."""
    import great_expectations.expectations as gxe
    from great_expectations.core import ExpectationSuite

    expectations = []
    for check in CHECKS:
        severity = catalog.rule(check.rule_id).severity
        expectations.append(
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=read_check(check.sql_file),
                description=check.description,
                # GX's own severity mirrors ours, as in the form suites.
                severity="critical" if severity == "error" else "warning",
                meta={
                    "rule_id": check.rule_id,
                    "severity": severity,
                    "check": check.name,
                    "message_vi": check.message_vi,
                    "message_en": check.message_en,
                },
            )
        )
    return ExpectationSuite(
        name=SUITE_NAME,
        expectations=expectations,
        meta={"batch": f"{BATCH_SCHEMA}.{BATCH_TABLE}", "rules": list(RULES)},
    )


def write_suite(directory: Path = DEFAULT_SUITES_DIR) -> Path:
    return write_suite_file(Path(directory) / SUITE_FILE, build_suite())


def load_suite(directory: Path = DEFAULT_SUITES_DIR):
    return read_suite_file(Path(directory) / SUITE_FILE)
