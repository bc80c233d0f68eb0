"""The demo's marts are what tests/fixtures/demo_marts.json recorded: same rows, same values.

The demo inbox goes through the real intake, the night's dbt build and the cross
checks; then every relation of the schema marts is counted and digested
(tests/demo_marts.py, which also says how to re-record the file after a deliberate
change to the marts). The build is a full refresh: on a new warehouse setup loads only
the seeds, so the demo's night builds every model for the first time, and an
incremental build over the tables reset_intake emptied would not.
"""

from __future__ import annotations

import psycopg
import pytest

from grassroots.orchestration import NIGHTLY_DBT_FLAGS
from grassroots.validation.cross_checks import run_cross_checks
from tests import demo_marts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_warehouse(warehouse, tmp_path_factory):
    from tests.conftest import load_demo

    tmp = tmp_path_factory.mktemp("demo_marts")
    load_demo(warehouse, tmp, "demo", ["--exclude", "resource_type:seed", *NIGHTLY_DBT_FLAGS])
    run_cross_checks(warehouse.url(), "demo", save_results=False)
    return warehouse


def test_demo_marts_are_as_recorded(demo_warehouse):
    expected = demo_marts.recorded()
    with psycopg.connect(demo_warehouse.url()) as conn:
        actual = demo_marts.digest(conn, expected["last_year"])
    lines = demo_marts.differences(expected["relations"], actual)
    assert not lines, "\n".join(lines)
