"""The attack corpus (tests/corpus/attacks/) through the real night: intake, Data Docs,
dbt and the digests, against the real warehouse.

Submitted text must reach people inert: no raw tag in any generated Data Docs file, no
line of a digest or reasons file started by a name or a cell, no formula an analyst's
Excel would run in the marts, one bounded finding for a header of 10,000 columns.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import psycopg
import pytest

from grassroots import intake
from grassroots.alerts import build_digests
from grassroots.config import ANALYST_ROLE, DBT_PROJECT_DIR, paths
from grassroots.data_docs import build_data_docs, docs_dir
from grassroots.runtime import run_tool, runtime_env
from grassroots.safe_text import is_formula

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
RUN = "attacks"
HTML_PAYLOADS = ("<script>alert(1)", "<img src=x onerror=alert(1)>")
FORGED = "  - [S9, LỖI] dòng 1, cả tệp: tệp này đã được duyệt"


def _index() -> list[dict]:
    return json.loads((CORPUS / "ATTACKS.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def night(warehouse, tmp_path_factory):
    """The corpus sent under its attack names, taken in, documented, built, digested."""
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    tmp = tmp_path_factory.mktemp("attacks")
    inbox = tmp / "inbox"
    inbox.mkdir()
    for entry in _index():
        shutil.copyfile(CORPUS / "attacks" / entry["file"], inbox / entry["sent_as"])
    shutil.rmtree(docs_dir(RUN), ignore_errors=True)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, RUN)
        intake.process_pending(conn, paths().quarantine, RUN)
        status = dict(conn.execute("select original_name, status from landing.received_files"))
    build_data_docs(RUN, warehouse.url())
    command = ["dbt", "run", "--full-refresh"]
    command += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        digests = build_digests(conn, RUN, docs_link="file:///docs")
    return {"status": status, "digests": digests}


def test_every_attack_file_ends_as_expected(night):
    assert night["status"] == {e["sent_as"]: e["outcome"] for e in _index()}


def test_html_payloads_never_reach_generated_html_raw(night):
    site = docs_dir(RUN)
    files = [p for p in site.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for payload in HTML_PAYLOADS:
            assert payload not in text, (path, payload)
    # The payloads did reach the docs, escaped: the bad member count and the headers.
    pages = "".join(p.read_text(encoding="utf-8") for p in site.rglob("intake_*.html"))
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages or "&amp;lt;img" in pages


def test_newline_in_file_name_forges_no_digest_line(night, warehouse):
    name = next(e["sent_as"] for e in _index() if "\n" in e["sent_as"])
    digests = night["digests"]
    assert digests
    for digest in digests:
        assert "\n" not in digest.subject and "\r" not in digest.subject
        for line in digest.body.split("\n"):
            assert not line.startswith("  - [S9"), line
            assert "\r" not in line and "\u202e" not in line
    body = "\n".join(d.body for d in digests)
    assert "bao_cao.csv\\n" in body and "\\u202e" in body  # shown, not acted on
    assert "5\\n  - [S9" in body  # the cell with a newline, in the same line as its finding

    with psycopg.connect(warehouse.url()) as conn:
        ids = dict(conn.execute("select original_name, file_id from landing.received_files"))
    for sent_as in (name, "newline_cell_cb.csv"):
        reasons = paths().quarantine / f"{ids[sent_as]:08d}.reasons.txt"
        lines = reasons.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("Tệp / file: “") and lines[1] == "Lý do / reasons:"
        assert lines[2:] and all(line.startswith("- [") for line in lines[2:]), lines
        assert "\r" not in reasons.read_text(encoding="utf-8")


def test_formula_payloads_are_neutralised_in_marts(night, warehouse):
    with psycopg.connect(warehouse.url(ANALYST_ROLE)) as conn:
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts' and data_type in ('text', 'character varying')"
        ).fetchall()
        assert columns
        found = []
        for table, column in columns:
            found += [
                (table, column, value)
                for (value,) in conn.execute(
                    f'select distinct "{column}" from marts."{table}"'
                    f""" where "{column}" ~ '^[-=+@\\t\\r]'"""
                ).fetchall()
                if is_formula(value)
            ]
        assert found == []
        names = {v for (v,) in conn.execute("select village_name from marts.fct_village_branches")}
        orgs = {v for (v,) in conn.execute("select org_name from marts.fct_base_organizations")}
        files = {
            v for (v,) in conn.execute("select original_name from marts.fct_submission_versions")
        }
    assert "'-2+3+cmd|' /C calc'!A0" in names and "'=cmd|' /C calc'!A0" in names
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in orgs and "-5" in orgs  # a number stays
    assert "'-2+3+cmd.csv" in files
    with psycopg.connect(warehouse.url()) as conn:  # the raw rows keep the text as sent
        raw = {v for (v,) in conn.execute("select village_name from raw.form_cb")}
        flagged = conn.execute(
            "select count(*) from landing.validation_findings where rule_id = 'S2'"
            " and severity = 'warning' and value like any(array['=%%', '-2+3%%', '@%%', '+1%%'])"
        ).fetchone()[0]
    assert "-2+3+cmd|' /C calc'!A0" in raw
    assert flagged >= 5  # four village names and the organisation name


def test_ten_thousand_columns_make_one_bounded_finding(night, warehouse):
    with psycopg.connect(warehouse.url()) as conn:
        findings = conn.execute(
            "select rule_id, severity, value, message_vi from landing.validation_findings"
            " join landing.received_files using (file_id)"
            " where original_name = 'ten_thousand_columns_cb.csv'"
        ).fetchall()
    assert [(rule, severity) for rule, severity, _, _ in findings] == [("S1", "warning")]
    _, _, value, message = findings[0]
    assert "10000" in value and len(value) < 500 and len(message) < 1000
    assert re.search(r"cot_la_00000", value)
    assert sum(len(d.body) for d in night["digests"]) < 50_000
