"""`grassroots setup` says what it is doing, and a dbt command run for it shows each
node as it finishes (a full rebuild takes minutes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_HOME

pytestmark = pytest.mark.integration


def test_setup_prints_each_step(warehouse):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "grassroots"), "setup"],
        env={
            **{
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("AIRFLOW", "GRASSROOTS_", "DBT_")) and key != "TMPDIR"
            },
            "GRASSROOTS_HOME": str(TEST_HOME),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "starting the embedded PostgreSQL and checking its roles and databases"
    assert "Airflow's metadata database is up to date" in lines
    assert "the dbt manifest is up to date" in lines
    assert "reference seeds and incremental models unchanged: no rebuild" in lines
    assert lines[-1] == "warehouse, Airflow metadata database and dbt manifest are ready"


def test_a_dbt_command_streams_one_line_per_finished_node(warehouse):
    from grassroots.runtime import run_dbt_with_progress, runtime_env

    lines: list[str] = []
    code = run_dbt_with_progress(
        ["dbt", "test", "--select", "ref_provinces"], runtime_env(warehouse), lines.append
    )
    assert code == 0
    assert lines[0].startswith("  dbt's output: ") and lines[0].endswith("setup-dbt-test.log")
    nodes = [line for line in lines if re.search(r"\d+ of (\d+) PASS ", line)]
    total = int(re.search(r"\d+ of (\d+) PASS ", nodes[0]).group(1))
    assert total >= 3 and len(nodes) == total, lines
    assert "Done. PASS=" in lines[-1]
