"""Links from the nightly digests to the report site's pages (grassroots.reports).

The site's base URL: GRASSROOTS_REPORTS_URL when the folder is published somewhere
(a web server, a shared drive), else the Airflow API server's base URL
(AIRFLOW__API__BASE_URL) + "grassroots/reports/", where the web plugin serves the
folder, else the folder itself as a file:// URL. A digest links only to pages the
folder holds when it is built: a link never leads to a missing page. The night's
report_site task runs beside the digests and rewrites those pages in place, so a link
leads to the night's figures once it ends (the first night's digests, before any site
exists, carry no link).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from grassroots.config import paths
from grassroots.reports.site import GEOGRAPHIES, LEVELS, PageKey

REPORTS_URL_ENV = "GRASSROOTS_REPORTS_URL"
AIRFLOW_BASE_URL_ENV = "AIRFLOW__API__BASE_URL"
PLUGIN_PATH = "grassroots/reports/"
BOARD = "board"  # routing.BOARD; routing imports pandas, this module stays light


def _folder_url(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def reports_base_url(environ: Mapping[str, str] | None = None, folder: Path | None = None) -> str:
    """Where the report site is read: see the module's docstring for the order."""
    environ = os.environ if environ is None else environ
    if url := environ.get(REPORTS_URL_ENV, "").strip():
        return _folder_url(url)
    if base := environ.get(AIRFLOW_BASE_URL_ENV, "").strip():
        return _folder_url(base) + PLUGIN_PATH
    return _folder_url((folder or paths().reports).resolve().as_uri())


def scope_pages(level: str, code: str) -> list[PageKey]:
    """The pages of a routing scope: the nation for the board, a province on both
    geographies (as reported, today's boundaries), a district as reported."""
    if level == BOARD:
        return [PageKey(geography, "nation", "VN") for geography in GEOGRAPHIES]
    if level == "province":
        return [PageKey(geography, "province", code) for geography in GEOGRAPHIES]
    if level == "district":
        return [PageKey("as_reported", "district", code)]
    return []


@dataclass(frozen=True)
class SiteLinks:
    """The site's base URL and its folder (to link only the pages it holds)."""

    base: str
    folder: Path

    @classmethod
    def from_environment(cls) -> SiteLinks:
        folder = paths().reports
        return cls(reports_base_url(folder=folder), folder)

    def url(self, key: PageKey) -> str:
        return self.base + quote(key.path)

    def pages(self, scopes: Iterable[tuple[str, str]]) -> list[tuple[PageKey, str]]:
        """(page, URL) of every page of the scopes that the folder holds, in order."""
        keys = dict.fromkeys(key for level, code in scopes for key in scope_pages(level, code))
        return [(key, self.url(key)) for key in keys if (self.folder / key.path).is_file()]

    def lines(self, scopes: Iterable[tuple[str, str]]) -> list[str]:
        """The digest's lines naming the scopes' pages (none when the site has none)."""
        found = self.pages(scopes)
        if not found:
            return []
        lines = ["Trang báo cáo số liệu của đơn vị thuộc phạm vi phụ trách:"]
        for key, url in found:
            unit = "toàn quốc" if key.level == "nation" else f"{LEVELS[key.level]} mã {key.code}"
            lines.append(f"  - {unit}, {GEOGRAPHIES[key.geography].lower()}: {url}")
        return lines
