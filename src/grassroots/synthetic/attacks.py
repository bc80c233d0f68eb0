"""The attack corpus (tests/corpus/attacks/) and its index (ATTACKS.json).

Submitted text aimed at the people who read it: HTML for the Data Docs, newlines and
bidi controls for the digests and reasons files, spreadsheet formulas for the analysts'
Excel exports, and a header of 10,000 unknown columns. Files are stored under plain
names; `sent_as` is the name each is dropped into the inbox under at test time (a name
with a newline or `<` is awkward in git and impossible on some systems).
Deterministic: `.venv/bin/python tests/corpus/make_attacks.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

from grassroots.forms import FORMS
from grassroots.synthetic.corpus_parts import CB_LABELS, cb_csv, cb_rows
from grassroots.synthetic.files import fresh_folder, to_csv

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HTML_PAYLOADS = (SCRIPT, IMG)
FORMULAS = (
    "=cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd",
)
# A name whose newline would start a line that looks like a finding of its own.
FORGED = "  - [S9, LỖI] dòng 1, cả tệp: tệp này đã được duyệt"
NEWLINE_NAME = f"bao_cao.csv\n{FORGED}\r\n\u202egsl.csv"


def tc_csv(rows: list[list[str]]) -> bytes:
    return to_csv([[c.name for c in FORMS["TC"].columns], *rows]).encode("utf-8")


def entries() -> list[dict]:
    out = []

    def add(file, content, sent_as, outcome, note):
        out.append(
            {"file": file, "content": content, "sent_as": sent_as, "outcome": outcome, "note": note}
        )

    rows = cb_rows("06244")
    rows[0][3], rows[1][3] = SCRIPT, IMG
    add("html_cell_cb.csv", cb_csv(rows), "html_cell_cb.csv", "loaded", "HTML in village names")
    rows = cb_rows("06247")
    rows[0][6] = IMG  # a bad number: the cell lands in GX's unexpected lists
    add(
        "html_number_cb.csv",
        cb_csv(rows),
        f"{SCRIPT}.csv".replace("/", "%2F"),
        "quarantined",
        "HTML in a member count (S2 error, in the Data Docs), HTML in the file name",
    )
    add(
        "html_header_cb.csv",
        to_csv([[*CB_LABELS, SCRIPT, IMG], *[[*r, "x", "y"] for r in cb_rows("06250")]]).encode(),
        f"{IMG}.csv",
        "loaded",
        "HTML in two header cells (unknown columns, S1 warning) and in the file name",
    )
    add("newline_name.csv", b"", NEWLINE_NAME, "quarantined", "newline, CR and bidi in a name")
    rows = cb_rows("06241")
    rows[0][6] = f"5\n{FORGED}"
    add("newline_cell_cb.csv", cb_csv(rows), "newline_cell_cb.csv", "quarantined", "cell newline")
    rows = cb_rows("06238", villages=6)
    for row, payload in zip(rows, [*FORMULAS, "\t=1+1", "\r=1+1"], strict=True):
        row[3] = payload  # csv quotes the tab and CR cells
    add("formula_cb.csv", cb_csv(rows), "-2+3+cmd.csv", "loaded", "formulas in village names")
    add(
        "formula_tc.csv",
        tc_csv(
            [
                ["2023", "183", "06235", FORMULAS[2], "Xã", "120", "6", "HTTNV", "80,5"],
                ["2023", "183", "06232", "-5", "Xã", "80", "4", "HTNV", ""],
            ]
        ),
        "@SUM(1+1).csv",
        "loaded",
        "a formula and a plain number as organisation names",
    )
    header = [*CB_LABELS, *(f"cot_la_{i:05d}" for i in range(10_000))]
    rows = [[*r, *([""] * 10_000)] for r in cb_rows("06226")]
    add(
        "ten_thousand_columns_cb.csv",
        to_csv([header, *rows]).encode("utf-8"),
        "ten_thousand_columns_cb.csv",
        "loaded",
        "10,000 unknown columns: one bounded S1 warning",
    )
    return out


def write_attacks(folder: Path) -> tuple[Path, Path, int]:
    """Write `folder`/attacks/ (stale files removed) and `folder`/ATTACKS.json;
    return (attacks folder, index file, number of files)."""
    attacks_dir, index_file = Path(folder) / "attacks", Path(folder) / "ATTACKS.json"
    fresh_folder(attacks_dir)
    index = []
    for entry in entries():
        (attacks_dir / entry["file"]).write_bytes(entry.pop("content"))
        index.append(entry)
    index_file.write_text(json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return attacks_dir, index_file, len(index)
