"""The pages under /grassroots as served by the real `grassroots serve`: Airflow's API
server mounts the plugin (found through its entry point), the real SimpleAuthManager
checks the login, and headless Chromium logs in through Airflow's login page and opens
the home page, the report site (built by the product from the demo marts), a night's GX
Data Docs and dbt's docs. Screenshots go to .state/test-artifacts/web/.

Two things of other projects are tolerated, nothing else: the GX Data Docs pages load
their stylesheets and scripts from public CDNs (this machine is offline: those files
and what their absence breaks); dbt's docs page asks for two kinds of unfilled
templates as URLs, a 404 each as under `dbt docs serve`: its sidebar icons
(`<use xlink:href="{{ getIcon(...) }}">`, before Angular fills them in) and its favicon
(`href="${require(...)}"`, left by dbt's build). Every other file from the server must
load.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from grassroots import dbt_docs
from grassroots.config import ANALYST_ROLE, paths
from grassroots.data_docs import build_data_docs
from grassroots.reports.build import build
from grassroots.runtime import runtime_env
from grassroots.web import URL_PREFIX
from tests.browser import ARTIFACTS, chromium
from tests.conftest import load_demo
from tests.served import Served, first_start, operator_env
from tests.smtp_server import free_port

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "web"
RUN_ID = "web-e2e"
# What a GX Data Docs page breaks when its CDN files cannot load (see the docstring).
CDN_SYMPTOMS = ("$ is not defined", "jQuery", "vegaEmbed", "bootstrap", "Failed to load resource")
# dbt's docs page: a template requested as a URL, `{{ …` or `${…` (see the docstring).
DBT_UNFILLED_TEMPLATES = (f"{URL_PREFIX}/dbt-docs/%7B%7B%20", f"{URL_PREFIX}/dbt-docs/$%7B")


@pytest.fixture(scope="module")
def sites(warehouse, tmp_path_factory):
    """The demo inbox loaded and built; then the three sites, as the product builds them."""
    load_demo(warehouse, tmp_path_factory.mktemp("web"), RUN_ID, ["--exclude", "test_type:data"])
    summary = build(paths().reports, warehouse.url(ANALYST_ROLE), say=lambda line: None)
    assert summary.pages > 0
    docs = build_data_docs(RUN_ID, warehouse.url())
    assert docs["validations"] > 0
    assert dbt_docs.generate_if_stale(runtime_env(warehouse), force=True, say=lambda line: None)
    return paths()


@pytest.fixture(scope="module")
def served(sites, warehouse):
    first_start(warehouse)
    log = paths().home / "logs" / "serve-web-test.log"
    server = Served.start(operator_env(), log, "--port", str(free_port()))
    try:
        server.unpaused_and_settled()
        yield server
    finally:
        server.stop()


def test_the_plugin_is_loaded_with_its_menu_links(served):
    plugins = served.api("GET", "/plugins")["plugins"]
    (plugin,) = [p for p in plugins if p["name"] == "grassroots"]
    assert [app["url_prefix"] for app in plugin["fastapi_apps"]] == [URL_PREFIX]
    hrefs = {view["href"] for view in plugin["external_views"]}
    assert {
        f"{URL_PREFIX}/reports/",
        f"{URL_PREFIX}/data-docs/",
        f"{URL_PREFIX}/dbt-docs/",
    } <= hrefs


def test_pages_need_the_airflow_login(served):
    anonymous = httpx.get(f"{served.url}{URL_PREFIX}/reports/", timeout=60)
    assert anonymous.status_code == 302
    location = urlsplit(anonymous.headers["location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query)["next"] == [f"{URL_PREFIX}/reports/"]
    forged = httpx.get(
        f"{served.url}{URL_PREFIX}/", headers={"Authorization": "Bearer forged"}, timeout=60
    )
    assert forged.status_code == 401
    bearer = {"Authorization": f"Bearer {served.token()}"}
    page = httpx.get(f"{served.url}{URL_PREFIX}/", headers=bearer, timeout=60)
    assert page.status_code == 200 and "Báo cáo thống kê" in page.text
    escape = httpx.get(f"{served.url}{URL_PREFIX}/reports/%2e%2e/secrets.json", headers=bearer)
    assert escape.status_code == 404


def test_a_browser_logs_in_and_opens_each_site(served, tmp_path):
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(
        tmp_path / "chromium-profile", viewport={"width": 1300, "height": 900}
    ) as browser:
        page, errors = _watched(browser.new_page(), served.url)
        page.goto(f"{served.url}{URL_PREFIX}/", timeout=60_000)
        page.wait_for_url("**/auth/login**", timeout=60_000)
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", served.password())
        page.locator("button[type=submit]").click()
        page.wait_for_url(f"**{URL_PREFIX}/", timeout=60_000)
        expect(page.locator("h1")).to_have_text("Các trang của kho dữ liệu")
        _shot(page, "home", errors)

        page.get_by_role("link", name="Báo cáo thống kê").click()
        page.wait_for_url(f"**{URL_PREFIX}/reports/", timeout=60_000)
        assert page.locator("svg.chart").count() > 0
        _shot(page, "reports", errors)

        page.goto(f"{served.url}{URL_PREFIX}/dbt-docs/", timeout=60_000)
        page.wait_for_function(
            "document.body.textContent.includes('fct_indicator_values')", timeout=60_000
        )
        _shot(page, "dbt-docs", errors, tolerated=DBT_UNFILLED_TEMPLATES)

        page.goto(f"{served.url}{URL_PREFIX}/data-docs/", timeout=60_000)
        expect(page.get_by_role("link", name=RUN_ID)).to_be_visible()
        _shot(page, "data-docs-index", errors)
        run_href = page.get_by_role("link", name=RUN_ID).get_attribute("href")
        _open_gx_page(browser, served.url, run_href, "data-docs-run", "Expectation")
        page.locator("details summary").first.click()
        validation = page.locator("details a").first.get_attribute("href")
        _open_gx_page(browser, served.url, validation, "data-docs-validation", "Status")


def _watched(page, origin: str):
    """The page, and the list its console errors, uncaught exceptions and failed requests
    to the server go to."""
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text} @ {m.location.get('url')}") if m.type == "error" else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.url.startswith(origin) and r.status >= 400
            else None
        ),
    )
    page.on(
        "requestfailed",
        lambda r: errors.append(f"failed {r.url}") if r.url.startswith(origin) else None,
    )
    return page, errors


def _shot(page, name: str, errors: list[str], tolerated: tuple[str, ...] = ()) -> None:
    """The screenshot; no error on the page since the last one (but the tolerated)."""
    page.wait_for_load_state("load")
    screenshot = SHOTS / f"{name}.png"
    screenshot.unlink(missing_ok=True)
    page.screenshot(path=str(screenshot), full_page=False)
    assert screenshot.stat().st_size > 5_000, name
    found = [error for error in errors if not any(known in error for known in tolerated)]
    errors.clear()
    assert found == [], (name, found)


def _open_gx_page(browser, origin: str, href: str, name: str, text: str) -> None:
    """A page of a night's GX Data Docs: every file from the server loads; the CDN files
    are refused at once (offline machine) and only their consequences are tolerated."""
    page, errors = _watched(browser.new_page(), origin)
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort(),
    )
    response = page.goto(f"{origin}{href}", timeout=60_000)
    assert response.ok and response.headers["content-type"].startswith("text/html")
    page.wait_for_load_state("load")
    assert text in page.locator("body").inner_text(), name
    ours = [e for e in errors if not any(symptom in e for symptom in CDN_SYMPTOMS)]
    screenshot = SHOTS / f"{name}.png"
    screenshot.unlink(missing_ok=True)
    page.screenshot(path=str(screenshot))
    assert ours == [], (name, ours)
    page.close()
