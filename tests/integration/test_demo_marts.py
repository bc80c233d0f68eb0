"""The demo's marts are what tests/fixtures/demo_marts.json recorded: same rows, same values.

The demo inbox goes through the real intake, the night's dbt build and the cross
checks; then every relation of the schema marts is counted and digested
(tests/demo_marts.py, which also says how to re-record the file after a deliberate
change to the marts). The build is a full refresh: on a new warehouse setup loads only
the seeds, so the demo's night builds every model for the first time, and an
incremental build over the tables reset_intake emptied would not.
"""

from __future__ import annotations

import shutil

import psycopg
import pytest

from grassroots import intake
from grassroots.config import DBT_PROJECT_DIR, REPO_ROOT, paths
from grassroots.orchestration import NIGHTLY_DBT_FLAGS
from grassroots.runtime import run_tool, runtime_env
from grassroots.validation.cross_checks import run_cross_checks
from tests import demo_marts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_warehouse(warehouse, tmp_path_factory):
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    tmp = tmp_path_factory.mktemp("demo_marts")
    inbox = tmp / "inbox"
    shutil.copytree(REPO_ROOT / "seeds" / "demo_inbox", inbox)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, "demo")
        assert intake.process_pending(conn, paths().quarantine, "demo").loaded > 200
    command = ["dbt", "build", "--full-refresh", "--exclude", "resource_type:seed"]
    command += NIGHTLY_DBT_FLAGS
    command += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0
    run_cross_checks(warehouse.url(), "demo", save_results=False)
    return warehouse


def test_demo_marts_are_as_recorded(demo_warehouse):
    expected = demo_marts.recorded()
    with psycopg.connect(demo_warehouse.url()) as conn:
        actual = demo_marts.digest(conn, expected["last_year"])
    lines = demo_marts.differences(expected["relations"], actual)
    assert not lines, "\n".join(lines)
