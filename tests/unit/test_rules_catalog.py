"""The rule catalog (grassroots.catalog.rules) and the suites agree, and docs/rules.md
shows the catalog."""

from __future__ import annotations

import pytest

from grassroots.catalog import rules as catalog
from grassroots.validation import cross_suite
from grassroots.validation.check_sql import CHECKS_DIR
from grassroots.validation.suites import DEFAULT_SUITES_DIR, build_suites, load_suite

pytestmark = pytest.mark.unit

IDS = (
    *(f"S{n}" for n in range(1, 9)),
    *(f"C{n}" for n in range(1, 6)),
    *(f"X{n}" for n in range(1, 5)),
    *(f"P{n}" for n in range(1, 7)),
)


def _form_expectations():
    for code, suite in build_suites().items():
        for expectation in suite.expectations:
            yield code, expectation


def test_the_catalog_holds_every_rule_once_in_order():
    assert tuple(catalog.RULES) == IDS
    assert catalog.file_rule_ids() == IDS[:13]
    assert catalog.cross_rule_ids() == IDS[13:]
    assert catalog.ids("content") == ("C1", "C2", "C3", "C4", "C5")
    for r in catalog.RULES.values():
        assert r.title_vi and r.description and r.forms
        assert r.severity in catalog.SEVERITIES


def test_an_unknown_rule_is_refused():
    with pytest.raises(KeyError, match="Z9"):
        catalog.rule("Z9")


def test_every_form_suite_expectation_names_a_catalog_rule_with_its_severity():
    for code, expectation in _form_expectations():
        meta = expectation.meta
        rule = catalog.rule(meta["rule_id"])
        assert rule.family in ("structure", "content")
        assert code in rule.forms, (meta["rule_id"], code)
        assert meta["severity"] in {rule.severity, *rule.variants.values()}


def test_every_structure_and_content_rule_has_a_check_on_each_of_its_forms():
    checked = {(e.meta["rule_id"], code) for code, e in _form_expectations()}
    for rule_id in catalog.file_rule_ids():
        for form in catalog.rule(rule_id).forms:
            assert (rule_id, form) in checked, f"{rule_id} has no check on form {form}"


def test_every_cross_rule_has_its_checks_and_sql_files():
    committed = cross_suite.load_suite(DEFAULT_SUITES_DIR)
    tagged = [(e.meta["rule_id"], e.meta["check"]) for e in committed.expectations]
    assert tagged == [(c.rule_id, c.name) for c in cross_suite.CHECKS]
    for rule_id in catalog.cross_rule_ids():
        rule = catalog.rule(rule_id)
        assert rule.checks, f"{rule_id} has no check"
        for check in rule.checks:
            assert (CHECKS_DIR / check.sql_file).is_file()
    for expectation in committed.expectations:
        rule = catalog.rule(expectation.meta["rule_id"])
        assert expectation.meta["severity"] == rule.severity
    # Every SQL file belongs to a check (a renamed check leaves no file behind).
    files = {p.name for p in CHECKS_DIR.glob("*.sql")}
    assert files == {c.sql_file for c in cross_suite.CHECKS}


def test_form_suites_name_no_rule_outside_the_catalog():
    for code in ("cb", "dv", "tc", "ct"):
        for expectation in load_suite(DEFAULT_SUITES_DIR, code).expectations:
            assert expectation.meta["rule_id"] in catalog.RULES


def test_docs_rules_table_is_the_rendered_catalog():
    text = catalog.DOC_FILE.read_text(encoding="utf-8")
    assert catalog.table_in(text) == catalog.render_table(), (
        "docs/rules.md is stale: run `python -m grassroots.catalog.rules`"
    )
