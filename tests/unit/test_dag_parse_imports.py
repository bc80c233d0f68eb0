"""Parsing a DAG file imports nothing heavy.

Airflow's DAG processor parses every DAG file again and again, and every task process
parses its DAG before it runs: what a DAG file imports at module level is paid each
time. pandas, GX, dbt, psycopg, openpyxl and the intake and validation modules are for
the task bodies, which import them when they run.
"""

import json
import os
import subprocess
import sys

import pytest

from grassroots.config import DAGS_DIR

pytestmark = pytest.mark.unit

HEAVY = (
    "pandas",
    "great_expectations",
    "dbt",
    "psycopg",
    "openpyxl",
    "grassroots.intake",
    "grassroots.validation",
    "grassroots.reader",
)

# Runs in a fresh interpreter: this test process has imported half of the product.
PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("parsed_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
heavy = sys.argv[2].split(",")
print(json.dumps(sorted(
    {h for name in sys.modules for h in heavy if name == h or name.startswith(h + ".")}
)))
"""


@pytest.mark.parametrize("dag_file", sorted(DAGS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_parsing_a_dag_file_imports_nothing_heavy(dag_file, tmp_path):
    # Airflow writes its default configuration into a fresh AIRFLOW_HOME: a throwaway one.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(dag_file), ",".join(HEAVY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    assert imported == [], f"{dag_file.name} imports at parse time: {imported}"
