"""Every SQL block of docs/analyst-guide.md runs as the analyst role on the demo data.

The demo inbox goes through the real intake and a real dbt build; each block must run
without error and return rows (the guide's questions all have answers in the demo).
"""

from __future__ import annotations

import psycopg
import pytest

from grassroots.analyst_guide import questions
from grassroots.config import ANALYST_ROLE

pytestmark = pytest.mark.integration

BLOCKS = [sql for _title, sql in questions()]


def test_the_guide_has_at_least_ten_questions():
    assert len(BLOCKS) >= 10


@pytest.fixture(scope="module")
def analyst(warehouse, tmp_path_factory):
    from tests.conftest import load_demo

    load_demo(warehouse, tmp_path_factory.mktemp("guide"), "guide", ["--exclude", "test_type:data"])
    conn = psycopg.connect(warehouse.url(ANALYST_ROLE), autocommit=True)
    yield conn
    conn.close()


@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=lambda n: f"question-{n + 1}")
def test_guide_sql_runs_as_analyst_and_answers(analyst, number):
    rows = analyst.execute(BLOCKS[number]).fetchall()
    assert rows, f"question {number + 1} returned no rows"
