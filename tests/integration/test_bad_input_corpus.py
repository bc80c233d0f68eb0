"""The bad-input corpus (tests/corpus/) through the real intake against real PostgreSQL.

Every file must end as EXPECTED.csv says (outcome, rule ids of its findings, rows), and
the registry must account for every file received.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import psycopg
import pytest

from grassroots import intake
from grassroots.config import paths
from grassroots.decode import MAX_FILE_BYTES

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
OVERSIZE_NAME = "oversize_50mb_cb.csv"


def _expected() -> list[dict[str, str]]:
    with (CORPUS / "EXPECTED.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _split(text: str) -> set[str]:
    return {part for part in text.split(";") if part}


def _oversize_file(folder: Path) -> Path:
    """A 50 MB CB file (a huge number of rows), generated: never committed."""
    header = "Năm báo cáo,Mã xã,Mã thôn,Tên thôn,Tình trạng chi bộ,Mã thôn sinh hoạt ghép,"
    header += "Số đảng viên,Xếp loại chi bộ\n"
    row = "2023,06193,06193-001,Thôn Nà Phặc,Sinh hoạt độc lập,,5,Hoàn thành tốt nhiệm vụ\n"
    path = folder / OVERSIZE_NAME
    with path.open("w", encoding="utf-8") as handle:
        handle.write(header)
        handle.write(row * (50 * 2**20 // len(row.encode()) + 1))
    assert path.stat().st_size > 50 * 2**20 > MAX_FILE_BYTES
    return path


@pytest.fixture(scope="module")
def corpus_outcome(warehouse, tmp_path_factory):
    """Register and process the whole corpus once; the registry and findings by file."""
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    inbox = tmp_path_factory.mktemp("inbox")
    expected = _expected()
    files = []
    for entry in expected:
        target = inbox / entry["file"]
        shutil.copyfile(CORPUS / "files" / entry["file"], target)
        files.append(target)
    files.append(_oversize_file(inbox))
    sha_of = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
    with psycopg.connect(warehouse.url()) as conn:
        # In the corpus's order, so the copy of a file arrives after the file.
        intake.register(conn, files, paths().archive, "corpus")
        intake.process_pending(conn, paths().quarantine, "corpus")
        received = conn.execute(
            "select file_id, original_name, sha256, archived_path, status"
            " from landing.received_files order by file_id"
        ).fetchall()
        findings = conn.execute(
            "select file_id, rule_id, severity, row_number from landing.validation_findings"
        ).fetchall()
        villages = conn.execute("select village_name from raw.form_cb").fetchall()
        counts = intake.account(conn)
    return {
        "received": received,
        "findings": findings,
        "villages": {name for (name,) in villages},
        "counts": counts,
        "sha_of": sha_of,
        "n_files": len(files),
    }


def _by_name(outcome) -> dict[str, tuple[int, str]]:
    return {name: (file_id, status) for file_id, name, _, _, status in outcome["received"]}


@pytest.mark.parametrize("entry", _expected(), ids=lambda e: e["file"])
def test_every_corpus_file_ends_as_expected(corpus_outcome, entry):
    file_id, status = _by_name(corpus_outcome)[entry["file"]]
    assert status == entry["expected_outcome"], entry["note"]
    mine = [f for f in corpus_outcome["findings"] if f[0] == file_id]
    assert {rule for _, rule, _, _ in mine} == _split(entry["rule_ids"]), mine
    rows = {str(row) for _, _, _, row in mine if row is not None}
    assert rows == _split(entry["rows"]), mine
    if status == "quarantined":
        reasons = paths().quarantine / f"{file_id:08d}.reasons.txt"
        assert reasons.read_text(encoding="utf-8").count("[") >= 1


def test_the_oversize_file_is_refused_with_the_limit_as_reason(corpus_outcome):
    file_id, status = _by_name(corpus_outcome)[OVERSIZE_NAME]
    assert status == "quarantined"
    mine = {
        (rule, severity) for fid, rule, severity, _ in corpus_outcome["findings"] if fid == file_id
    }
    assert mine == {("S2", "error")}


def test_every_file_received_is_accounted_for(corpus_outcome):
    counts = corpus_outcome["counts"]
    assert counts["received"] == 0
    total = counts["loaded"] + counts["quarantined"] + counts["superseded"] + counts["duplicate"]
    assert total == len(corpus_outcome["received"]) == corpus_outcome["n_files"]


def test_injected_text_is_stored_verbatim_and_tables_survive(corpus_outcome):
    assert "x'); drop table raw.form_cb; --" in corpus_outcome["villages"]
    assert '=HYPERLINK("http://x","click")' in corpus_outcome["villages"]


def test_names_are_text_and_archive_paths_come_from_the_hash(corpus_outcome):
    archive = paths().archive.resolve()
    for _, name, sha256, archived_path, _ in corpus_outcome["received"]:
        assert sha256 == corpus_outcome["sha_of"][name]
        archived = Path(archived_path).resolve()
        assert archived.name == sha256 and archived.is_relative_to(archive)
    names = {name for _, name, _, _, _ in corpus_outcome["received"]}
    assert "..%2F..%2Fetc%2Fpasswd.csv" in names
