"""The bad-input corpus (tests/corpus/files/) and its expectations (EXPECTED.csv).

Deterministic: the same bytes on every run (XLSX zips get fixed timestamps), so the
committed files can be regenerated and diffed: `.venv/bin/python tests/corpus/make_corpus.py`.
The 50 MB file is not here: the integration test generates it at runtime.

Each loadable file has its own (unit, period) so that no good file supersedes another.
"""

from __future__ import annotations

import csv
from pathlib import Path

from grassroots.synthetic.corpus_csv import bad_files, good_files
from grassroots.synthetic.corpus_parts import COMMUNES, Entry
from grassroots.synthetic.corpus_xlsx import xlsx_files
from grassroots.synthetic.files import fresh_folder

EXPECTED_COLUMNS = ["file", "expected_outcome", "rule_ids", "rows", "note"]


def all_entries() -> list[Entry]:
    """Every corpus file in order; loadable files take the communes one by one."""
    units = iter(COMMUNES)
    return [*good_files(units), *xlsx_files(units), *bad_files()]


def write_corpus(folder: Path) -> tuple[Path, Path, int]:
    """Write `folder`/files/ (stale files removed) and `folder`/EXPECTED.csv;
    return (files folder, expectations file, number of files)."""
    files_dir, expected = Path(folder) / "files", Path(folder) / "EXPECTED.csv"
    fresh_folder(files_dir)
    entries = all_entries()
    with expected.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(EXPECTED_COLUMNS)
        for entry in entries:
            assert len(entry.content) < 20_000, entry.name
            (files_dir / entry.name).write_bytes(entry.content)
            writer.writerow([entry.name, entry.outcome, entry.rules, entry.rows, entry.note])
    return files_dir, expected, len(entries)
