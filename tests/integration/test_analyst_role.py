"""The analyst role reads the marts and nothing else, and cannot write (real warehouse)."""

from __future__ import annotations

import psycopg
import pytest

from grassroots.config import ANALYST_ROLE, DBT_PROJECT_DIR
from grassroots.runtime import run_tool, runtime_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def analyst(warehouse, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("analyst")
    command = ["dbt", "build", "--select", "+mart_membership", "+mart_targets"]
    command += ["+fct_indicator_lineage", "+fct_village_branches", "+dim_unit", "+dim_year"]
    command += ["--indirect-selection", "cautious"]
    command += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0
    conn = psycopg.connect(warehouse.url(ANALYST_ROLE), autocommit=True)
    yield conn
    conn.close()


def test_every_relation_in_marts_is_readable(analyst, warehouse):
    with psycopg.connect(warehouse.url()) as loader:
        relations = [
            name
            for (name,) in loader.execute(
                "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = 'marts' and c.relkind in ('r', 'p', 'v', 'm')"
            ).fetchall()
        ]
    assert {"fct_indicator_values", "mart_membership", "mart_targets", "dim_unit"} <= set(relations)
    for name in relations:
        analyst.execute(f'select * from marts."{name}" limit 1').fetchall()
    # The base-year function is callable too.
    analyst.execute("select * from marts.indicator_change_vs(2016) limit 1").fetchall()


@pytest.mark.parametrize(
    "table",
    [
        "raw.form_dv",
        "raw.form_cb",
        "landing.received_files",
        "landing.validation_findings",
        "intermediate.int_indicator_components",
        "staging.stg_form_dv",
        "reference.ref_communes",
    ],
)
def test_nothing_outside_marts_is_readable(analyst, table):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        analyst.execute(f"select * from {table} limit 1")


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.fct_indicator_values_rolled_up (indicator_code) values ('x')",
        "delete from marts.dim_year",
        "update marts.dim_indicator set name_en = 'x'",
        "create table marts.scratch (x int)",
        "create table public.scratch (x int)",
        "drop table marts.dim_year",
    ],
)
def test_analyst_cannot_write(analyst, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        analyst.execute(statement)
