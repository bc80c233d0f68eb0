"""Building the site into a folder: pages, their JSON and workbooks, the province
workbooks (`grassroots report`, and the nightly `report_site` task).

Only pages whose content changed are rendered again: each page's digest (its figures as
JSON, what the page shares with the site, and the renderer's own source) is kept in the
folder, and a page whose digest and files are unchanged is skipped before its HTML and
SVG charts are made. Rendering is most of a build's time; the digest needs only the page's
figures, which every build cuts from the marts anyway (bench/site.py measures both).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grassroots.reports import data as site_data
from grassroots.reports import fmt, pages, xlsx
from grassroots.reports.site import PageKey, Site

# Workbooks are zip files stamped with the time they were written, so their bytes change
# on every save: the digest of the figures they hold decides whether to rewrite them.
# Pages (keyed by their .html path) and workbooks (.xlsx) share the file.
DIGESTS = ".digests.json"
RENDERER_FILES = ("*.py", "templates/*")


def renderer_digest() -> str:
    """A digest of the reports package's code and templates: a new release renders every
    page again, even where the figures are the same."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for pattern in RENDERER_FILES for p in root.glob(pattern)):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@dataclass
class Summary:
    pages: int = 0
    pages_written: int = 0
    pages_skipped: int = 0  # digest unchanged: not rendered
    workbooks: int = 0
    workbooks_written: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.pages} pages ({self.pages_written} written,"
            f" {self.pages - self.pages_written} unchanged, {self.pages_skipped} not rendered"
            f" again), {self.workbooks} workbooks ({self.workbooks_written} written),"
            f" {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict:
        return {
            "pages": self.pages,
            "pages_rebuilt": self.pages - self.pages_skipped,
            "pages_skipped": self.pages_skipped,
            "pages_written": self.pages_written,
            "workbooks": self.workbooks,
            "workbooks_written": self.workbooks_written,
            "seconds": round(self.seconds, 3),
        }


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write content unless the file already holds exactly these bytes; True if written."""
    if path.exists() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(content)
    partial.replace(path)
    return True


def page_json(page: dict) -> str:
    return json.dumps(page, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n"


class Builder:
    def __init__(self, out: Path, site: Site, say: Callable[[str], None]):
        self.out, self.site, self.say = out, site, say
        self.env = pages.environment()
        self.summary = Summary()
        self.renderer = renderer_digest()
        digests = out / DIGESTS
        self.old = json.loads(digests.read_text()) if digests.exists() else {}
        self.digests: dict[str, str] = {}
        as_of = max(
            (r["as_of_date"] for r in site.data.completeness if r["as_of_date"]), default=None
        )
        self.as_of = fmt.day(as_of)

    def workbook(self, relative: str, content: str, make) -> None:
        """Save the workbook make() builds unless it would hold the same figures."""
        self.summary.workbooks += 1
        digest = hashlib.sha256(content.encode()).hexdigest()
        self.digests[relative] = digest
        path = self.out / relative
        if self.old.get(relative) == digest and path.exists():
            return
        xlsx.save(make(), path)
        self.summary.workbooks_written += 1

    def page(self, key: PageKey) -> None:
        page = self.site.page(key)
        text = page_json(page)
        workbook = None
        if key.level == "province":
            workbook = key.path.removesuffix(".html") + "-toan-tinh.xlsx"
            rows = self.province_rows(key)
            self.workbook(
                workbook, json.dumps(rows, default=str), lambda: xlsx.province_workbook(rows)
            )
        shared = {
            "as_of": self.as_of,
            "province_workbook": workbook and workbook.rsplit("/", 1)[-1],
        }
        stem = key.path.removesuffix(".html")
        self.summary.pages += 1
        if self.unchanged(key.path, text + json.dumps(shared, sort_keys=True), stem + ".json"):
            self.summary.pages_skipped += 1
        else:
            html = pages.render(self.env, page, shared)
            written = write_if_changed(self.out / key.path, html.encode())
            written |= write_if_changed(self.out / (stem + ".json"), text.encode())
            self.summary.pages_written += written
        self.workbook(stem + ".xlsx", text, lambda: xlsx.page_workbook(page))

    def unchanged(self, path: str, content: str, *others: str) -> bool:
        """Record the page's digest; True if the last build left the same page in place."""
        digest = hashlib.sha256((self.renderer + content).encode()).hexdigest()
        self.digests[path] = digest
        files = (self.out / name for name in (path, *others))
        return self.old.get(path) == digest and all(f.exists() for f in files)

    def province_rows(self, key: PageKey) -> list[list]:
        inside = self.site.descendants(key)
        names = {c: i["name_vi"] for c, i in self.site.indicators.items()}
        rows = [
            r
            for r in self.site.data.values
            if r["geography"] == key.geography
            and r["unit_level"] != "nation"
            and r["unit_code"] in inside
        ]
        return xlsx.province_rows(rows, names)

    def run(self) -> Summary:
        started = time.monotonic()
        keys = self.site.pages()
        self.say(f"{len(keys)} pages to build (latest closed year {self.site.data.latest_year})")
        write_if_changed(self.out / pages.STYLESHEET, pages.stylesheet().encode())
        for number, key in enumerate(keys, start=1):
            self.page(key)
            if number % 100 == 0 or number == len(keys):
                self.say(f"  {number}/{len(keys)} pages")
        write_if_changed(
            self.out / DIGESTS, (json.dumps(self.digests, indent=1, sort_keys=True)).encode()
        )
        self.summary.seconds = time.monotonic() - started
        return self.summary


def build(out: Path, url: str, say: Callable[[str], None] = print) -> Summary:
    """The whole site from the marts at url (the analyst role is enough) into out."""
    started = time.monotonic()
    say("reading the marts")
    site = Site(site_data.load(url))
    summary = Builder(out, site, say).run()
    summary.seconds = time.monotonic() - started
    return summary
