"""The committed expectations/*.json are exactly what suites.py builds from forms.py
and the rule catalog."""

from __future__ import annotations

import json

import pytest

from grassroots.catalog.rules import file_rule_ids
from grassroots.forms import FORMS
from grassroots.validation.suites import (
    DEFAULT_SUITES_DIR,
    build_suites,
    load_suite,
    suite_path,
    suite_to_dict,
)

pytestmark = pytest.mark.unit

RULES = set(file_rule_ids())  # S1-S8, C1-C5


@pytest.mark.parametrize("form_code", sorted(FORMS))
def test_committed_suite_equals_built_suite(form_code):
    committed = json.loads(suite_path(DEFAULT_SUITES_DIR, form_code).read_text(encoding="utf-8"))
    built = json.loads(json.dumps(suite_to_dict(build_suites()[form_code])))
    assert committed == built, (
        "expectations/ is stale: run `python -m grassroots.validation.suites`"
    )


@pytest.mark.parametrize("form_code", sorted(FORMS))
def test_every_expectation_carries_rule_meta(form_code):
    suite = load_suite(DEFAULT_SUITES_DIR, form_code)
    for expectation in suite.expectations:
        meta = expectation.meta
        assert meta["rule_id"] in RULES
        assert meta["severity"] in ("error", "warning")
        assert meta["frame"] in ("files", "rows")
        assert meta["message_vi"] and meta["message_en"]
        column = meta["column"]
        assert column is None or column in FORMS[form_code].column_names


def test_all_rules_are_covered():
    covered = {e.meta["rule_id"] for s in build_suites().values() for e in s.expectations}
    assert covered == RULES
