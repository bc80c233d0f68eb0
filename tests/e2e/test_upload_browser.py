"""The upload page in headless Chromium against a real server on 127.0.0.1: a unit sends
a broken demo file (refused, its findings listed, the marked-up workbook downloaded and
its comment read back), then a clean one (accepted, its receipt shown). Screenshots go to
.state/test-artifacts/upload/."""

from __future__ import annotations

import hashlib
import io

import psycopg
import pytest
from openpyxl import load_workbook

from grassroots.check import links
from grassroots.config import DEMO_INBOX, paths
from tests.browser import ARTIFACTS, chromium
from tests.served_upload import served_app

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "upload"
UNIT = "06211"
BROKEN = DEMO_INBOX / "broken_S2_DV_members_end_not_a_number.csv"  # DV 06211 2021
CLEAN = DEMO_INBOX / "DV_06211_2022.xlsx"


@pytest.fixture(scope="module")
def page_url(warehouse):
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    with psycopg.connect(warehouse.url()) as conn:
        _, token = links.issue(conn, UNIT, days=1)
    with served_app() as url:
        yield f"{url}/grassroots/gui-bao-cao/{token}"


def _send(page, path, screenshot: str):
    page.set_input_files("#file", str(path))
    page.click("#send")
    page.wait_for_selector("#outcome")
    page.screenshot(path=str(SHOTS / screenshot), full_page=True)


def test_a_unit_uploads_a_broken_then_a_clean_file(page_url, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(
        tmp_path / "chromium-profile",
        viewport={"width": 1300, "height": 1000},
        accept_downloads=True,
    ) as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_url)
        assert page.locator("#unit").inner_text() == UNIT

        _send(page, BROKEN, "upload-broken.png")
        assert page.locator("#outcome").get_attribute("data-accepted") == "no"
        row = page.locator("#findings tbody tr")
        assert row.count() == 1
        assert (row.get_attribute("data-rule"), row.get_attribute("data-row")) == ("S2", "2")
        cells = row.locator("td").all_inner_texts()
        assert cells[3] == "K" and cells[5] == "abc" and cells[7].startswith("Sửa")
        with page.expect_download() as download:
            page.click("#markup")
        marked = tmp_path / "marked.xlsx"
        download.value.save_as(marked)
        workbook = load_workbook(io.BytesIO(marked.read_bytes()))
        comment = workbook.worksheets[0]["K2"].comment
        assert comment is not None and "[Lỗi S2]" in comment.text and "abc" in comment.text

        _send(page, CLEAN, "upload-clean.png")
        assert page.locator("#outcome").get_attribute("data-accepted") == "yes"
        sha = hashlib.sha256(CLEAN.read_bytes()).hexdigest()
        assert page.locator("#sha256").inner_text() == sha
        name = page.locator("#inbox-name").inner_text()
        assert (paths().inbox / name).read_bytes() == CLEAN.read_bytes()
        assert errors == []
