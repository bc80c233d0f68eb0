"""The report site in a real browser, from file:// (as a board member opens a copied
folder): the national page, a province and a district open without a console error and
every chart is an SVG with drawn elements. Screenshots go to .state/test-artifacts/report/.
"""

from __future__ import annotations

import json
import shutil

import pytest

from grassroots.reports.build import build
from tests.browser import ARTIFACTS, chromium
from tests.conftest import REPO_ROOT
from tests.integration.test_report_site import PROVINCE, demo_site

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "report"
README_IMAGE = REPO_ROOT / "docs" / "img" / "report-province.png"
DRAWN = "line, polyline, circle, rect"


@pytest.fixture(scope="module")
def site(warehouse, tmp_path_factory):
    out, url = demo_site(warehouse, tmp_path_factory.mktemp("report-browser"))
    summary = build(out, url, say=lambda line: None)
    assert summary.pages > 0
    return out


def _a_district_of(out, province: str) -> str:
    """A district page linked from the province's ranked table."""
    page = json.loads((out / "tinh" / f"{province}.json").read_text(encoding="utf-8"))
    links = [u["href"] for u in page["ranking"]["rows"] if u["href"]]
    assert links, "the province page links no district"
    return str((out / "tinh" / links[0]).resolve().relative_to(out.resolve()))


def test_pages_open_from_file_with_svg_charts(site, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "national": "index.html",
        "province": f"tinh/{PROVINCE}.html",
        "district": _a_district_of(site, PROVINCE),
    }
    with chromium(
        tmp_path / "chromium-profile", viewport={"width": 1300, "height": 1000}
    ) as browser:
        for name, path in pages.items():
            _check_page(browser, site / path, SHOTS / f"report-{name}.png")
    README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHOTS / "report-province.png", README_IMAGE)


def _check_page(browser, path, screenshot) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), timeout=60_000)
    page.wait_for_load_state("load")
    charts = page.locator("svg.chart")
    assert charts.count() > 0, path
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.locator("title").count() >= 1, (path, index)
        assert chart.locator(DRAWN).count() > 0, (path, index)
    # Every chart on the page has its table beside it.
    assert (
        page.locator("figure.chart-with-table table").count()
        == page.locator("figure.chart-with-table svg.chart").count()
    )
    assert page.locator("h1").inner_text().strip()
    screenshot.unlink(missing_ok=True)
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000
    assert errors == [], (path, errors)
    page.close()
