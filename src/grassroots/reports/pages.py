"""HTML pages from a page's data: Jinja2 templates (templates/) with the SVG charts."""

from __future__ import annotations

import posixpath
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from grassroots.reports import charts, fmt

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = "site.css"
BASIS = {"per_year": "mỗi năm", "term_total": "cả nhiệm kỳ"}
DIRECTION = {"at_least": "tối thiểu", "at_most": "tối đa"}
SEVERITY = {"error": "Lỗi", "warning": "Cảnh báo"}
FINDINGS_SHOWN = 200  # a page lists this many; its workbook has them all


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        number=fmt.number,
        value=fmt.value,
        change=fmt.change,
        coverage=fmt.coverage,
        day=fmt.day,
    )
    env.globals.update(basis=BASIS, direction=DIRECTION, severity=SEVERITY)
    return env


def files_of(path: str) -> dict:
    """The files that go with a page, relative to the page: its JSON and workbook."""
    stem = posixpath.basename(path).removesuffix(".html")
    return {"json": stem + ".json", "xlsx": stem + ".xlsx"}


def page_charts(page: dict) -> dict:
    """The page's SVGs: one line per indicator, the rating bars, a bar per target."""
    names = {row["indicator_code"]: row for row in page["headline"]}
    series = {}
    for code, rows in page["series"].items():
        name = names[code]["name"] if code in names else code
        kind = names[code]["kind"] if code in names else "count"
        title = f"{name} – {page['name']}, {rows[0]['year']}–{rows[-1]['year']}"
        series[code] = Markup(charts.line_chart(title, rows, kind))
    ratings = Markup(
        charts.stacked_bars(f"Xếp loại tổ chức cơ sở đảng – {page['name']}", page["ratings"])
    )
    targets = [
        Markup(
            charts.progress_bar(
                f"{t['unit_name']} – {t['name']}: {fmt.number(t['progress_pct'], 1)} %",
                t["progress_pct"],
            )
        )
        for t in page["targets"]
    ]
    return {"series": series, "ratings": ratings, "targets": targets}


def render(env: Environment, page: dict, site: dict) -> str:
    """site: as_of (date text), links shared by all pages (stylesheet, workbook)."""
    depth = page["path"].count("/")
    return env.get_template("unit.html").render(
        page=page,
        charts=page_charts(page),
        files=files_of(page["path"]),
        stylesheet="../" * depth + STYLESHEET,
        home="../" * depth + "index.html",
        province_workbook=site.get("province_workbook"),
        as_of=site["as_of"],
        rating_labels=charts.RATING_LABELS,
        findings_shown=FINDINGS_SHOWN,
    )


def stylesheet() -> str:
    return (TEMPLATES / STYLESHEET).read_text(encoding="utf-8")
