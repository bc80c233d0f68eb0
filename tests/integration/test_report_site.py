"""The report site on the demo warehouse: every figure of every page equals SQL over the
marts (through the JSON each page is built from, and as shown in its HTML), the
workbooks read back with openpyxl equal the marts, and a second build rewrites nothing.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook

from grassroots.config import ANALYST_ROLE
from grassroots.reports import data as site_data
from grassroots.reports import fmt
from grassroots.reports.build import DIGESTS, Builder, build
from grassroots.reports.site import PageKey, Site

pytestmark = pytest.mark.integration

PROVINCE = "20"  # Lạng Sơn: the demo's province with the most submissions

SERIES_SQL = """
select indicator_code, year, numerator, denominator, value, units_reported,
       units_expected, change_vs_previous_year, is_estimate
from marts.fct_indicator_values
where geography = %s and unit_level = %s and unit_code = %s and year <= %s
"""

CHILDREN_SQL = """
select v.unit_code, v.indicator_code, v.value
from marts.fct_indicator_values as v
inner join marts.dim_unit as u on v.unit_key = u.unit_key
where v.geography = %(geography)s and v.unit_level = %(level)s and v.year = %(year)s
  and (%(parent_level)s = 'nation' or (u.parent_level = %(parent_level)s
                                        and u.parent_code = %(parent_code)s))
"""

PROVINCE_SQL = """
with recursive under (unit_level, unit_code) as (
    select 'province'::text, %(code)s::text
    union
    select u.unit_level, u.unit_code
    from marts.dim_unit as u
    inner join under as p on u.parent_level = p.unit_level and u.parent_code = p.unit_code
)
select v.unit_code, v.year, v.indicator_code, v.value, v.numerator, v.denominator
from marts.fct_indicator_values as v
inner join (select distinct unit_level, unit_code from under) as d
    on v.unit_level = d.unit_level and v.unit_code = d.unit_code
where v.geography = 'as_reported' and v.year <= %(latest)s
  and v.unit_level in ('province', 'district', 'commune')
  and (v.unit_level <> 'commune' or v.year >= %(latest)s - 1
       or v.year in (select max(year) from marts.fct_indicator_values
                     where unit_level = 'district' and year <= %(latest)s
                     group by unit_code))
"""


def demo_site(warehouse, tmp: Path) -> tuple[Path, str]:
    """The demo inbox through the real intake and dbt build, then the site built into tmp."""
    from tests.conftest import load_demo

    load_demo(warehouse, tmp, "report", ["--exclude", "test_type:data"])
    return tmp / "site", warehouse.url(ANALYST_ROLE)


@pytest.fixture(scope="module")
def site(warehouse, tmp_path_factory):
    out, url = demo_site(warehouse, tmp_path_factory.mktemp("report"))
    summary = build(out, url, say=lambda line: None)
    conn = psycopg.connect(url, autocommit=True)
    yield out, url, summary, conn
    conn.close()


def _pages(out: Path) -> list[tuple[dict, str]]:
    return [
        (
            json.loads(path.read_text(encoding="utf-8")),
            path.with_suffix(".html").read_text(encoding="utf-8"),
        )
        for path in sorted(out.rglob("*.json"))
        if not path.name.startswith(".")
    ]


def _latest(conn) -> int:
    return conn.execute(
        "select max(report_year) from marts.fct_submission_completeness where is_deadline_passed"
    ).fetchone()[0]


def _num(value) -> float | None:
    return None if value is None else float(value)


def _close(shown, expected) -> bool:
    """Equal, but for the 15 significant digits Excel keeps."""
    if shown is None or expected is None:
        return shown is expected
    return abs(shown - expected) <= 1e-12 * max(1.0, abs(expected))


def test_vietnamese_formats():
    assert fmt.number(1234.5) == "1.234,5"
    assert fmt.number(1234567) == "1.234.567"
    assert fmt.value(12.345, "percent") == "12,3"
    assert fmt.change(-0.5, "percent") == "-0,5 điểm %"
    assert fmt.coverage(43, 45) == "43/45 đơn vị đã báo cáo"
    assert fmt.day("2026-01-31") == "31/01/2026"


def test_the_site_has_a_page_per_unit(site):
    out, _, summary, conn = site
    counts = dict(
        conn.execute(
            "select geography || ':' || unit_level, count(distinct unit_code)"
            " from marts.fct_indicator_values where year <= %s"
            " and unit_level in ('nation', 'province', 'district') group by 1",
            (_latest(conn),),
        ).fetchall()
    )
    assert summary.pages == sum(counts.values()) == len(_pages(out))
    assert summary.pages_written == summary.pages
    assert (out / "index.html").exists() and (out / "dia-gioi-hien-nay" / "index.html").exists()
    assert len(list((out / "huyen").glob("*.html"))) == counts["as_reported:district"]


def test_every_figure_of_every_page_equals_the_marts(site):
    out, _, _, conn = site
    latest = _latest(conn)
    for page, _ in _pages(out):
        rows = conn.execute(
            SERIES_SQL, (page["geography"], page["level"], page["code"], latest)
        ).fetchall()
        expected = {(r[0], r[1]): (*map(_num, r[2:5]), r[5], r[6], _num(r[7]), r[8]) for r in rows}
        shown = {
            (code, s["year"]): (
                s["numerator"],
                s["denominator"],
                s["value"],
                s["units_reported"],
                s["units_expected"],
                s["change_vs_previous_year"],
                s["is_estimate"],
            )
            for code, series in page["series"].items()
            for s in series
        }
        assert shown == expected, page["path"]
        assert page["year"] == max(year for _, year in expected), page["path"]
        headline = {h["indicator_code"]: h["value"] for h in page["headline"]}
        assert headline == {
            code: value[2] for (code, year), value in expected.items() if year == page["year"]
        }, page["path"]
        _check_ranking(conn, page)


def _check_ranking(conn, page: dict) -> None:
    ranking = page["ranking"]
    rows = conn.execute(
        CHILDREN_SQL,
        {
            "geography": page["geography"],
            "level": ranking["level"],
            "year": page["year"],
            "parent_level": page["level"],
            "parent_code": page["code"],
        },
    ).fetchall()
    expected = {(code, indicator): _num(value) for code, indicator, value in rows}
    shown = {
        (unit["code"], indicator): value
        for unit in ranking["rows"]
        for indicator, value in unit["values"].items()
    }
    assert shown == expected, page["path"]
    members = [u["values"].get("members_total") for u in ranking["rows"]]
    known = [m for m in members if m is not None]
    assert known == sorted(known, reverse=True), page["path"]
    assert members[len(known) :] == [None] * (len(members) - len(known)), page["path"]


def test_the_html_shows_the_figures_formatted(site):
    out, _, _, _ = site
    for page, html in _pages(out):
        shown = re.findall(r'<td class="num headline">(.*?)</td>', html)
        assert shown == [fmt.value(h["value"], h["kind"]) for h in page["headline"]]
        coverage = re.findall(r"<td>([^<]*đơn vị đã báo cáo)</td>", html)
        assert coverage == [
            fmt.coverage(h["units_reported"], h["units_expected"]) for h in page["headline"]
        ]
        assert html.count("<svg ") == html.count("<title>") - 1 - _inner_titles(html)
        assert f"<h1>{page['name']}" in unescape(html)


def _inner_titles(html: str) -> int:
    """Titles of points and bar segments inside the charts (beside each chart's own)."""
    return len(re.findall(r"<(?:circle|rect)[^>]*><title>", html))


def test_completeness_and_findings_equal_the_marts(site):
    out, _, _, conn = site
    nation = json.loads((out / "index.json").read_text(encoding="utf-8"))
    totals = conn.execute(
        "select form_code, sum(expected_count), sum(received_count), sum(overdue_count)"
        " from marts.fct_submission_completeness where report_year = %s group by 1"
        " order by 1",
        (nation["year"],),
    ).fetchall()
    assert [
        (r["form_code"], r["expected_count"], r["received_count"], r["overdue_count"])
        for r in nation["completeness"]
    ] == [tuple(row) for row in totals]
    night = conn.execute(
        "select count(*) from marts.fct_validation_findings where run_id ="
        " (select run_id from marts.fct_validation_findings order by created_at desc limit 1)"
    ).fetchone()[0]
    assert nation["findings"]["total"] == night > 0
    for path in sorted((out / "huyen").glob("*.json")):
        page = json.loads(path.read_text(encoding="utf-8"))
        rows = conn.execute(
            "select form_code, expected_count, received_count, overdue_count,"
            " overdue_unit_codes from marts.fct_submission_completeness"
            " where scope_level = 'district' and scope_code = %s and report_year = %s"
            " order by form_code",
            (page["code"], page["year"]),
        ).fetchall()
        assert [
            (
                r["form_code"],
                r["expected_count"],
                r["received_count"],
                r["overdue_count"],
                [u["code"] for u in r["overdue_units"]],
            )
            for r in page["completeness"]
        ] == [(*row[:4], list(row[4])) for row in rows], page["path"]


def test_targets_equal_the_marts(site):
    out, _, _, conn = site
    checked = 0
    for page, _ in _pages(out):
        for target in page["targets"]:
            row = conn.execute(
                "select term_target, actual_value, progress_pct from marts.mart_targets"
                " where geography = %s and unit_code = %s and congress_term = %s"
                " and indicator_code = %s and basis = %s",
                (
                    page["geography"],
                    target["unit_code"],
                    target["congress_term"],
                    target["indicator_code"],
                    target["basis"],
                ),
            ).fetchone()
            assert (target["term_target"], target["actual_value"], target["progress_pct"]) == (
                tuple(map(_num, row))
            )
            checked += 1
    assert checked > 0


def test_workbooks_read_back_equal_the_marts(site):
    out, _, _, conn = site
    page = json.loads((out / "tinh" / f"{PROVINCE}.json").read_text(encoding="utf-8"))
    book = load_workbook(out / "tinh" / f"{PROVINCE}.xlsx", read_only=True)
    sheet = list(book["Chỉ tiêu"].iter_rows(values_only=True))
    assert sheet[0][:6] == ("Chỉ tiêu", "Mã chỉ tiêu", "Năm", "Giá trị", "Tử số", "Mẫu số")
    rows = conn.execute(SERIES_SQL, ("as_reported", "province", PROVINCE, page["year"])).fetchall()
    expected = {r[0]: _num(r[4]) for r in rows if r[1] == page["year"]}
    shown = {row[1]: row[3] for row in sheet[1:]}
    assert shown.keys() == expected.keys()
    assert all(_close(shown[code], expected[code]) for code in expected), shown
    assert any(isinstance(row[3], float | int) for row in sheet[1:])  # numbers, not text
    assert {"Diễn biến", "Đơn vị trực thuộc", "Gửi báo cáo", "Kiểm tra"} <= set(book.sheetnames)

    whole = load_workbook(out / "tinh" / f"{PROVINCE}-toan-tinh.xlsx", read_only=True)
    rows = list(whole["Mọi đơn vị"].iter_rows(values_only=True))[1:]
    shown = {(r[1], r[3], r[4]): (r[6], r[7], r[8]) for r in rows}
    expected_rows = conn.execute(PROVINCE_SQL, {"code": PROVINCE, "latest": _latest(conn)})
    expected = {(r[0], r[1], r[2]): tuple(map(_num, r[3:])) for r in expected_rows}
    assert len(shown) == len(rows) and shown.keys() == expected.keys()
    for key, figures in shown.items():
        assert all(map(_close, figures, expected[key])), (key, figures, expected[key])
    assert {r[0] for r in rows} >= {"tỉnh", "huyện", "xã"}


def test_a_second_build_writes_nothing(site):
    out, url, summary, _ = site
    again = build(out, url, say=lambda line: None)
    assert (again.pages, again.pages_written) == (summary.pages, 0)
    assert again.pages_skipped == summary.pages  # not even rendered
    assert (again.workbooks, again.workbooks_written) == (summary.workbooks, 0)


def _bump(data, district: str, year: int, by: int) -> None:
    (row,) = [
        r
        for r in data.values
        if (r["unit_level"], r["unit_code"], r["year"], r["indicator_code"])
        == ("district", district, year, "members_total")
        and r["geography"] == "as_reported"
    ]
    row["value"] += by


def test_a_night_renders_only_the_pages_whose_figures_changed(site):
    """The nightly task's rebuild: one district's figure changes, so its page and the
    pages ranking it are rendered again; every other page is skipped; the figure put
    back, the folder's digests are those of before."""
    out, url, summary, _ = site
    original = json.loads((out / DIGESTS).read_text())
    data = site_data.load(url)
    district = PageKey("as_reported", "district", "183")
    year = Site(data).page_year(district)
    _bump(data, "183", year, 1)
    night = Builder(out, Site(data), lambda line: None).run()
    digests = json.loads((out / DIGESTS).read_text())
    changed = {p for p in digests if p.endswith(".html") and digests[p] != original[p]}
    assert {district.path, f"tinh/{PROVINCE}.html"} <= changed
    assert len(changed) < 10
    assert night.pages - night.pages_skipped == night.pages_written == len(changed)
    assert night.pages == summary.pages
    _bump(data, "183", year, -1)
    back = Builder(out, Site(data), lambda line: None).run()
    assert back.pages - back.pages_skipped == len(changed)
    assert json.loads((out / DIGESTS).read_text()) == original
