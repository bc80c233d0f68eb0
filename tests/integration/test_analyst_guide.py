"""Every SQL block of docs/analyst-guide.md runs as the analyst role on the demo data.

The demo inbox goes through the real intake and a real dbt build; each block must run
without error and return rows (the guide's questions all have answers in the demo).
"""

from __future__ import annotations

import re
import shutil

import psycopg
import pytest

from grassroots import intake
from grassroots.config import ANALYST_ROLE, DBT_PROJECT_DIR, REPO_ROOT, paths
from grassroots.runtime import run_tool, runtime_env

pytestmark = pytest.mark.integration

GUIDE = REPO_ROOT / "docs" / "analyst-guide.md"
BLOCKS = re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


def test_the_guide_has_at_least_ten_questions():
    assert len(BLOCKS) >= 10


@pytest.fixture(scope="module")
def analyst(warehouse, tmp_path_factory):
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    tmp = tmp_path_factory.mktemp("guide")
    inbox = tmp / "inbox"
    shutil.copytree(REPO_ROOT / "seeds" / "demo_inbox", inbox)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, "guide")
        assert intake.process_pending(conn, paths().quarantine, "guide").loaded > 200
    command = ["dbt", "build", "--full-refresh", "--exclude", "test_type:data"]
    command += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0
    conn = psycopg.connect(warehouse.url(ANALYST_ROLE), autocommit=True)
    yield conn
    conn.close()


@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=lambda n: f"question-{n + 1}")
def test_guide_sql_runs_as_analyst_and_answers(analyst, number):
    rows = analyst.execute(BLOCKS[number]).fetchall()
    assert rows, f"question {number + 1} returned no rows"
