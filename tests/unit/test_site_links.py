"""Digest links to the report site: which base URL, and each recipient's pages."""

from pathlib import Path

import pytest

from grassroots.alerts import _recipient_digest, _scopes_per_recipient
from grassroots.reports.site import PageKey
from grassroots.routing import load_routing
from grassroots.site_links import SiteLinks, reports_base_url

pytestmark = pytest.mark.unit

CAO_LOC = ("bantochuc.caoloc@langson.example.vn", "Ban Tổ chức Huyện ủy Cao Lộc")
LANG_SON = ("bantochuc@langson.example.vn", "Ban Tổ chức Tỉnh ủy Lạng Sơn")
BOARD = ("dulieu@bantochuc.example.vn", "Bộ phận dữ liệu Ban Tổ chức")


def test_the_published_url_comes_first():
    environ = {
        "GRASSROOTS_REPORTS_URL": "https://bao-cao.example.vn/site",
        "AIRFLOW__API__BASE_URL": "http://127.0.0.1:8080/",
    }
    assert reports_base_url(environ) == "https://bao-cao.example.vn/site/"


def test_else_the_airflow_web_plugin_serves_the_folder():
    for base in ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"):
        environ = {"GRASSROOTS_REPORTS_URL": "", "AIRFLOW__API__BASE_URL": base}
        assert reports_base_url(environ) == "http://127.0.0.1:8080/grassroots/reports/"


def test_else_the_folder_itself(tmp_path):
    assert reports_base_url({}, tmp_path) == tmp_path.resolve().as_uri() + "/"


def _site(folder: Path, keys: list[PageKey]) -> SiteLinks:
    for key in keys:
        page = folder / key.path
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<html></html>", encoding="utf-8")
    return SiteLinks("https://bao-cao.example.vn/", folder)


def test_a_digest_names_the_pages_of_its_recipients_units(tmp_path):
    district = PageKey("as_reported", "district", "183")
    province = [PageKey(g, "province", "20") for g in ("as_reported", "current")]
    other = PageKey("as_reported", "district", "180")
    links = _site(tmp_path, [district, *province, other])
    scopes = _scopes_per_recipient(load_routing())
    assert scopes[CAO_LOC] == [("district", "183")]
    body = _recipient_digest(*CAO_LOC, [], ([], []), "run", None, links.lines(scopes[CAO_LOC])).body
    assert "https://bao-cao.example.vn/" + district.path in body
    assert "huyen/183.html" in district.path  # the path is the site's own (PageKey)
    assert other.path not in body and "tinh/" not in body
    lines = links.lines(scopes[LANG_SON])
    assert [line.rsplit(" ", 1)[-1] for line in lines[1:]] == [
        "https://bao-cao.example.vn/" + key.path for key in province
    ]


def test_the_board_gets_the_nation_and_no_link_leads_to_a_missing_page(tmp_path):
    scopes = _scopes_per_recipient(load_routing())
    links = _site(tmp_path, [PageKey("as_reported", "nation", "VN")])
    assert links.lines(scopes[BOARD])[1:] == [
        "  - toàn quốc, theo địa giới khi báo cáo: https://bao-cao.example.vn/index.html"
    ]
    # No site built yet (or a district without a page): no link at all.
    assert links.lines(scopes[CAO_LOC]) == []
    assert SiteLinks("x/", tmp_path / "absent").lines(scopes[BOARD]) == []
