"""The marked-up workbook of `grassroots check` and the upload page, read back with
openpyxl: each wrong cell is filled and carries the finding's Vietnamese comment."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from grassroots.check.core import check_content
from grassroots.check.markup import FILLS, FINDINGS_SHEET, marked_workbook
from grassroots.check.receive import markup_gone_vi, markup_path, prune_markups

pytestmark = pytest.mark.unit

FILES = Path(__file__).resolve().parents[1] / "corpus" / "files"


def _marked(name: str):
    content = (FILES / name).read_bytes()
    result = check_content(name, content)
    return result, load_workbook(io.BytesIO(marked_workbook(content, result)))


def _comments(workbook) -> dict[str, tuple[str, str]]:
    """cell -> (comment text, fill colour) on the data sheets."""
    return {
        f"{sheet.title}!{cell.coordinate}": (cell.comment.text, cell.fill.start_color.rgb)
        for sheet in workbook.worksheets
        if sheet.title != FINDINGS_SHEET
        for row in sheet.iter_rows()
        for cell in row
        if cell.comment is not None
    }


def test_a_csv_comes_back_as_xlsx_with_the_wrong_cell_commented():
    result, workbook = _marked("negative_members_cb.csv")
    (finding,) = result.findings
    assert (finding.rule_id, finding.row, finding.letter) == ("S2", 3, "G")
    comments = _comments(workbook)
    text, colour = comments["Báo cáo!G3"]
    assert set(comments) == {"Báo cáo!G3"}
    assert "[Lỗi S2]" in text and finding.message_vi in text and finding.todo_vi in text
    assert colour.endswith(FILLS["error"].start_color.rgb[-6:])
    # The CSV's cells are all there, as text.
    assert workbook["Báo cáo"]["G3"].value == finding.value


def test_the_senders_workbook_keeps_its_sheets_and_gets_the_comment():
    _, workbook = _marked("xlsx_date_in_number_dv.xlsx")
    assert FINDINGS_SHEET in workbook.sheetnames
    comments = _comments(workbook)
    (place,) = comments
    assert place.endswith("!C2") and "“Dân số”" in comments[place][0]


def test_warnings_are_yellow_and_every_finding_is_listed():
    _, workbook = _marked("lost_leading_zeros_cb.csv")
    comments = _comments(workbook)
    assert set(comments) == {"Báo cáo!B2", "Báo cáo!B3", "Báo cáo!B4"}
    assert all(colour.endswith("FFEB9C") for _, colour in comments.values())
    listed = list(workbook[FINDINGS_SHEET].iter_rows(min_row=3, values_only=True))
    assert [(r[1], r[2], r[3]) for r in listed] == [("S2", 2, "B"), ("S2", 3, "B"), ("S2", 4, "B")]


def test_a_file_level_finding_sits_on_the_header_and_an_unreadable_file_gets_the_list():
    _, workbook = _marked("two_units_cb.csv")
    assert "S4" in _comments(workbook)["Báo cáo!B1"][0]
    result, workbook = _marked("binary_junk.csv")
    assert workbook.sheetnames == [FINDINGS_SHEET] and result.exit_code == 2
    rows = list(workbook[FINDINGS_SHEET].iter_rows(min_row=3, values_only=True))
    assert rows[0][1] == "S2" and rows[0][6] == result.findings[0].message_vi


def test_a_clean_workbook_has_no_comment():
    result, workbook = _marked("xlsx_title_merged_info_cb.xlsx")
    assert result.exit_code == 0 and not _comments(workbook)
    assert workbook.sheetnames[-1] == FINDINGS_SHEET


def test_a_formula_in_a_csv_stays_text_in_the_marked_workbook():
    result, workbook = _marked("formula_injection_cb.csv")
    (finding,) = result.findings
    cell = workbook["Báo cáo"][f"{finding.letter}{finding.row}"]
    assert cell.value == finding.value and cell.value.startswith("=")
    assert cell.data_type == "s" and cell.comment is not None


def test_marked_up_workbooks_older_than_the_retention_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_HOME", str(tmp_path))
    monkeypatch.setenv("GRASSROOTS_UPLOAD_RESULTS_KEEP_DAYS", "30")
    assert prune_markups() == 0  # no folder yet: nothing to do
    now = time.time()
    for event_id, days in {1: 31, 2: 29}.items():
        path = markup_path(event_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PK")
        os.utime(path, (now - days * 86400, now - days * 86400))
    assert prune_markups(now=now) == 1
    assert "giữ 30 ngày" in markup_gone_vi()  # what a link to a pruned workbook answers
    assert [p.name for p in markup_path(0).parent.iterdir()] == [markup_path(2).name]
    monkeypatch.setenv("GRASSROOTS_UPLOAD_RESULTS_KEEP_DAYS", "0")  # 0 keeps everything
    assert prune_markups(now=now + 1000 * 86400) == 0
