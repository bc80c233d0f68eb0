"""The committed cross-check suite (X1-X4, P1-P6) is what cross_suite.py builds from the
rule catalog and the checks' SQL files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from grassroots.validation.check_sql import expand
from grassroots.validation.cross_suite import CHECKS, RULES, build_suite, load_suite
from grassroots.validation.series_breaks import CROSSWALK_FILE
from grassroots.validation.suite_files import DEFAULT_SUITES_DIR, suite_to_dict

pytestmark = pytest.mark.unit


def test_committed_suite_equals_built_suite():
    committed = json.loads((DEFAULT_SUITES_DIR / "cross_checks.json").read_text("utf-8"))
    assert committed == json.loads(json.dumps(suite_to_dict(build_suite()))), (
        "expectations/cross_checks.json is stale: run `grassroots suites`"
    )


def test_every_expectation_is_a_tagged_sql_warning_on_the_batch():
    suite = load_suite()
    assert {e.meta["rule_id"] for e in suite.expectations} == set(RULES)
    assert len(suite.expectations) == len(CHECKS)
    for expectation in suite.expectations:
        assert type(expectation).__name__ == "UnexpectedRowsExpectation"
        assert expectation.meta["severity"] == "warning"
        assert expectation.meta["message_vi"] and expectation.meta["message_en"]
        query = expectation.unexpected_rows_query
        assert "{batch}" in query and "file_id" in query and "row_number" in query


def test_the_merged_commune_of_the_demo_breaks_its_series_and_a_kept_one_does_not():
    """The rule refresh_series_breaks applies, read straight from the crosswalk."""
    crosswalk = pd.read_csv(CROSSWALK_FILE, dtype=str)
    into_06184 = set(crosswalk[crosswalk.new_commune_code == "06184"].old_commune_code)
    assert {"06184", "06190", "06205", "06208", "06214"} <= into_06184  # a merger
    kept = crosswalk[crosswalk.new_commune_code == "00859"]
    assert list(kept.old_commune_code) == ["00859"] and list(kept.is_whole) == ["true"]


def test_a_check_file_expands_to_the_query_gx_runs():
    text = """-- header comment, not part of the query
with checked as (select 1 from {batch})\t
select 1 where {{ no_break(this.unit_code, this.year) }}
    and {{ step(r.rating) }} >= 2
"""
    query = expand(text)
    assert query.splitlines() == [
        "with checked as (select 1 from {batch})",
        "select 1 where not exists (select 1 from landing.commune_series_breaks as b"
        " where b.commune_code = this.unit_code and b.break_year = this.year)",
        "    and case r.rating when 'excellent' then 4 when 'clean_strong' then 4 when 'good'"
        " then 3 when 'completed' then 2 when 'not_completed' then 1 when 'weak' then 1 end"
        " >= 2",
    ]


def test_an_unknown_fragment_is_refused():
    with pytest.raises(ValueError, match="nope"):
        expand("select {{ nope(x) }}")
