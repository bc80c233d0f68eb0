"""`grassroots check`, the upload page and the night give the same findings per file
(rule, row, column) over the bad-input corpus (tests/corpus/files, EXPECTED.csv).

The night is the real intake (register + process_pending) against the test warehouse;
the CLI runs as its own process on every file at once; the page gets each file through
its signed link (FastAPI's TestClient over the real app). The page also gives a file
that would load the warehouse-side warnings (X*, P*), which this night (intake only, no
cross checks) does not compute: the page is compared on the file rules S* and C*."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import psycopg
import pytest

from grassroots import intake
from grassroots.config import paths
from tests.integration.test_bad_input_corpus import CORPUS, _expected

pytestmark = pytest.mark.integration

NAMES = [entry["file"] for entry in _expected()]


def _key(rule, row, column) -> tuple:
    return (rule, row, column)


@pytest.fixture(scope="module")
def night(warehouse, tmp_path_factory) -> dict[str, set[tuple]]:
    """The night's findings by file name (a resend of an identical file gets none)."""
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    inbox = tmp_path_factory.mktemp("inbox")
    files = []
    for name in NAMES:
        shutil.copyfile(CORPUS / "files" / name, inbox / name)
        files.append(inbox / name)
    with psycopg.connect(warehouse.url()) as conn:
        intake.register(conn, files, paths().archive, "check-vs-night")
        intake.process_pending(conn, paths().quarantine, "check-vs-night")
        # A byte-identical resend is a duplicate receipt: it has its first copy's findings.
        rows = conn.execute(
            "select r.original_name, f.rule_id, f.row_number, f.column_name"
            " from landing.received_files as r"
            " left join landing.validation_findings as f"
            " on f.file_id = coalesce(r.duplicate_of, r.file_id)"
        ).fetchall()
    found: dict[str, set[tuple]] = {}
    for name, rule, row, column in rows:
        found.setdefault(name, set())
        if rule is not None:
            found[name].add(_key(rule, row, column))
    return found


@pytest.fixture(scope="module")
def cli() -> dict[str, dict]:
    argv = [sys.executable, "-m", "grassroots.cli", "check", "--json"]
    done = subprocess.run(
        [*argv, *(str(CORPUS / "files" / name) for name in NAMES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-2000:]  # the corpus holds broken files
    return {entry["file"]: entry for entry in json.loads(done.stdout)}


@pytest.fixture(scope="module")
def page(night, warehouse) -> dict[str, dict]:
    """Each file sent through one unit's signed link: the page's check of every file
    (a file of another unit is refused but still checked)."""
    from urllib.parse import quote

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from grassroots.check import links
    from grassroots.web.app import URL_PREFIX, create_app

    with psycopg.connect(warehouse.url()) as conn:
        _, token = links.issue(conn, "06193", days=1)
    root = FastAPI()
    root.mount(URL_PREFIX, create_app())
    answers = {}
    with TestClient(root) as client:
        for name in NAMES:
            answer = client.post(
                f"{URL_PREFIX}/gui-bao-cao/{token}",
                content=(CORPUS / "files" / name).read_bytes(),
                headers={"X-File-Name": quote(name)},
            )
            assert answer.status_code in (200, 422), answer.text
            answers[name] = answer.json()["check"]
    return answers


def _findings(entry: dict) -> set[tuple]:
    return {_key(f["rule_id"], f["row"], f["column"]) for f in entry["findings"]}


@pytest.mark.parametrize("name", NAMES)
def test_the_cli_finds_what_the_night_finds(night, cli, name):
    assert _findings(cli[name]) == night[name]
    worst = max((2 if f["severity"] == "error" else 1 for f in cli[name]["findings"]), default=0)
    assert (cli[name]["errors"] > 0) == (worst == 2)


@pytest.mark.parametrize("name", NAMES)
def test_the_page_finds_what_the_night_finds(night, page, name):
    assert {f for f in _findings(page[name]) if f[0][0] in "SC"} == night[name]


def test_cli_exit_codes_are_clean_warnings_errors(tmp_path):
    def code(name: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "grassroots.cli", "check", str(CORPUS / "files" / name)],
            capture_output=True,
            check=False,
        ).returncode

    assert [code(n) for n in ("good_utf8_cb.csv", "lost_leading_zeros_cb.csv", "empty.csv")] == [
        0,
        1,
        2,
    ]


def test_findings_are_in_sheet_coordinates(cli):
    (finding,) = cli["negative_members_cb.csv"]["findings"]
    assert (finding["row"], finding["letter"], finding["header"]) == (3, "G", "Số đảng viên")
    assert finding["message_vi"] and finding["todo_vi"].startswith("Sửa")


def test_warehouse_rules_are_warnings_and_leave_nothing_behind(night, warehouse):
    """A DV file for a commune whose CB the night loaded (06184, 2023): X1 compares
    them. The check's transaction is rolled back: the warehouse is as it was."""
    from grassroots.check.core import check_content
    from grassroots.check.cross import add_warehouse_findings

    content = (CORPUS / "files" / "good_utf8_bom_dv.csv").read_bytes()
    result = check_content("dv_06184.csv", content.replace(b"06187", b"06184"))
    assert result.exit_code == 0, result.findings

    def counts():
        with psycopg.connect(warehouse.url()) as conn:
            return conn.execute(
                "select (select count(*) from landing.received_files),"
                " (select count(*) from raw.form_dv),"
                " (select count(*) from landing.validation_findings)"
            ).fetchone()

    before = counts()
    added = add_warehouse_findings(warehouse.url(), [result])
    assert counts() == before
    assert added == len(result.findings) > 0
    assert {f.rule_id for f in result.findings} >= {"X1"}
    assert {f.severity for f in result.findings} == {"warning"}
    x1 = next(f for f in result.findings if f.rule_id == "X1")
    assert x1.row == 2 and x1.letter is not None and x1.message_vi
