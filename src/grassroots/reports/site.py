"""Which pages the site has and the figures of each, as plain JSON-able dicts.

A page is a unit (nation, province, district) in one geography: as reported (the
hierarchy in force that year) or on today's boundaries (nation and today's provinces,
values of divided communes estimated). Its headline year is the latest closed year,
or the unit's last year when it was abolished earlier (districts, 2025).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass

from grassroots.reports.data import SiteData
from grassroots.reports.sections import completeness_rows, findings_for, ratings, targets_for

GEOGRAPHIES = {"as_reported": "Theo địa giới khi báo cáo", "current": "Theo địa giới hiện nay"}
LEVELS = {
    "nation": "Toàn quốc",
    "province": "Tỉnh, thành phố",
    "district": "Quận, huyện",
    "commune": "Xã, phường, thị trấn",
}
ROOT = {"as_reported": "", "current": "dia-gioi-hien-nay/"}
FOLDER = {"province": "tinh", "district": "huyen"}
# The order of indicators.md (dim_indicator has no order column); others follow by code.
ORDER = (
    "members_total member_net_change member_growth_pct admissions admission_rate_pct"
    " probationary_share_pct members_per_population_pct villages"
    " independent_branch_ratio_pct joint_branch_villages villages_without_branch"
    " villages_without_members base_orgs subordinate_units orgs_good_or_above_pct"
    " orgs_excellent_pct orgs_not_completed branches_good_or_above_pct"
).split()
SORT_INDICATOR = "members_total"  # the ranked tables are ordered by members, largest first
SERIES_FIELDS = (
    "year",
    "value",
    "numerator",
    "denominator",
    "units_reported",
    "units_expected",
    "change_vs_previous_year",
    "is_estimate",
    "rating_scale_mapped",
    "change_crosses_rating_scale",
)


@dataclass(frozen=True)
class PageKey:
    geography: str
    level: str
    code: str

    @property
    def path(self) -> str:
        if self.level == "nation":
            return ROOT[self.geography] + "index.html"
        return f"{ROOT[self.geography]}{FOLDER[self.level]}/{self.code}.html"


def href(from_path: str, to_path: str) -> str:
    """A relative link, so the site opens from file:// and from any web folder."""
    return posixpath.relpath(to_path, posixpath.dirname(from_path) or ".")


class Site:
    """The site's pages over one SiteData: page keys, and each page's data dict."""

    def __init__(self, data: SiteData):
        self.data = data
        known = sorted(
            data.indicators,
            key=lambda r: (r["indicator_code"] not in ORDER, _position(r["indicator_code"])),
        )
        self.indicators = {row["indicator_code"]: row for row in known}
        self.units = {row["unit_key"]: row for row in data.units}
        # (geography, level, code) -> indicator -> rows by year
        self.series: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        self.by_year: dict[tuple, list[dict]] = defaultdict(list)  # (geo, level, year) -> rows
        # (geo, level, year, parent level, parent code) -> rows of the units under it
        self.below: dict[tuple, list[dict]] = defaultdict(list)
        for row in data.values:
            key = (row["geography"], row["unit_level"], row["unit_code"])
            self.series[key][row["indicator_code"]].append(row)
            self.by_year[(row["geography"], row["unit_level"], row["year"])].append(row)
            if unit := self.units.get(row["unit_key"]):
                place = (row["geography"], row["unit_level"], row["year"])
                self.below[(*place, unit["parent_level"], unit["parent_code"])].append(row)
        self.unit_names = {unit["unit_code"]: unit["unit_name"] for unit in data.units}
        self.completeness_by_year: dict[int, list[dict]] = defaultdict(list)
        for row in data.completeness:
            self.completeness_by_year[row["report_year"]].append(row)
        self.tree: dict[tuple, set] = defaultdict(set)  # (level, code) -> units under it
        for unit in data.units:
            if unit["parent_code"]:
                parent = (unit["parent_level"], unit["parent_code"])
                self.tree[parent].add((unit["unit_level"], unit["unit_code"]))

    def pages(self) -> list[PageKey]:
        keys = [
            PageKey(geography, level, code)
            for (geography, level, code) in self.series
            if level in ("nation", "province", "district")
        ]
        return sorted(keys, key=lambda k: (k.geography, list(LEVELS).index(k.level), k.code))

    def page_year(self, key: PageKey) -> int:
        years = [r["year"] for rows in self._series(key).values() for r in rows]
        return min(self.data.latest_year, max(years))

    def _series(self, key: PageKey) -> dict[str, list[dict]]:
        # get, not []: looking up a page that does not exist must not add it to pages()
        return self.series.get((key.geography, key.level, key.code), {})

    def _row_in(self, key: PageKey, year: int) -> dict | None:
        for rows in self._series(key).values():
            for row in rows:
                if row["year"] == year:
                    return row
        return None

    def parent(self, key: PageKey, year: int) -> PageKey | None:
        if key.level == "nation":
            return None
        if key.level == "province":
            return PageKey(key.geography, "nation", "VN")
        row = self._row_in(key, year)
        unit = self.units.get(row["unit_key"]) if row else None
        if unit and unit["parent_code"]:
            return PageKey(key.geography, "province", unit["parent_code"])
        return None

    def children(self, key: PageKey, year: int) -> tuple[str, list[dict]]:
        """The level below and its rows of the year (every indicator)."""
        if key.level == "nation":
            return "province", self.by_year[(key.geography, "province", year)]
        for level in ("district", "commune") if key.level == "province" else ("commune",):
            if rows := self.below[(key.geography, level, year, key.level, key.code)]:
                return level, rows
        return "commune", []

    def descendants(self, key: PageKey) -> set[str] | None:
        """Codes of the unit and of the registry units under it (None for the nation)."""
        if key.level == "nation":
            return None
        found, todo = {key.code}, [(key.level, key.code)]
        while todo:
            for child in self.tree[todo.pop()]:
                if child[1] not in found:
                    found.add(child[1])
                    todo.append(child)
        return found

    def page(self, key: PageKey) -> dict:
        """The data one page is built from (also saved as JSON beside the page)."""
        year = self.page_year(key)
        series = self._series(key)
        row = self._row_in(key, year)
        parent = self.parent(key, year)
        ranking = self._ranking(key, year)
        other = PageKey(
            "current" if key.geography == "as_reported" else "as_reported", key.level, key.code
        )
        return {
            "path": key.path,
            "geography": key.geography,
            "geography_label": GEOGRAPHIES[key.geography],
            "level": key.level,
            "level_label": LEVELS[key.level],
            "code": key.code,
            "name": _name(series, year) or (row or {}).get("unit_name") or key.code,
            "year": year,
            "previous_year": year - 1,
            "parent": self._link(key, parent),
            "other_geography": self._link(key, other) if self._series(other) else None,
            "headline": self._headline(series, year),
            "indicator_names": {c: i["name_vi"] for c, i in self.indicators.items()},
            "indicator_kinds": {c: i["value_kind"] for c, i in self.indicators.items()},
            "series": {code: _series_rows(rows) for code, rows in self._ordered(series)},
            "ratings": ratings(series),
            "ranking": ranking,
            "completeness": completeness_rows(self, key, year),
            "findings": findings_for(self, key),
            "targets": targets_for(self, key, year, {u["code"] for u in ranking["rows"]}),
        }

    def _link(self, key: PageKey, target: PageKey | None) -> dict | None:
        if target is None or not self._series(target):
            return None
        name = _name(self._series(target), self.page_year(target)) or target.code
        return {"name": name, "href": href(key.path, target.path), "path": target.path}

    def _ordered(self, series: dict[str, list[dict]]):
        return [(code, series[code]) for code in self.indicators if code in series]

    def _headline(self, series: dict[str, list[dict]], year: int) -> list[dict]:
        headline = []
        for code, rows in self._ordered(series):
            row = next((r for r in rows if r["year"] == year), None)
            if row is None:
                continue
            indicator = self.indicators[code]
            item = {field: row[field] for field in SERIES_FIELDS}
            item.update(
                indicator_code=code, name=indicator["name_vi"], kind=indicator["value_kind"]
            )
            headline.append(item)
        return headline

    def _ranking(self, key: PageKey, year: int) -> dict:
        level, rows = self.children(key, year)
        units: dict[str, dict] = {}
        for row in rows:
            unit = units.setdefault(
                row["unit_code"],
                {"code": row["unit_code"], "name": row["unit_name"], "values": {}},
            )
            unit["values"][row["indicator_code"]] = row["value"]
            if row["indicator_code"] == SORT_INDICATOR:
                unit["units_reported"] = row["units_reported"]
                unit["units_expected"] = row["units_expected"]
                unit["is_estimate"] = row["is_estimate"]
        ordered = sorted(
            units.values(),
            key=lambda u: (
                u["values"].get(SORT_INDICATOR) is None,
                -(u["values"].get(SORT_INDICATOR) or 0),
                u["code"],
            ),
        )
        for rank, unit in enumerate(ordered, start=1):
            unit["rank"] = rank
            child = PageKey(key.geography, level, unit["code"])
            has_page = level in FOLDER and self._series(child)
            unit["href"] = href(key.path, child.path) if has_page else None
        codes = [c for c in self.indicators if any(c in u["values"] for u in ordered)]
        return {
            "level": level,
            "level_label": LEVELS[level],
            "sort_indicator": SORT_INDICATOR,
            "indicators": codes,
            "rows": ordered,
        }


def _name(series: dict[str, list[dict]], year: int) -> str | None:
    rows = [r for rows in series.values() for r in rows if r["year"] <= year]
    return max(rows, key=lambda r: r["year"])["unit_name"] if rows else None


def _series_rows(rows: list[dict]) -> list[dict]:
    return [{field: row[field] for field in SERIES_FIELDS} for row in rows]


def _position(code: str) -> tuple:
    return (ORDER.index(code), "") if code in ORDER else (len(ORDER), code)
