"""What one year of submissions holds: a file spec (form, unit, period, rows) per
submission, built from the planned universe for the units a scale covers.

Per commune and year a CB and a DV file, per district (province from the 2025 reform)
and year a TC file, per commune a CT file in the first year of each congress term.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from grassroots.forms import FORMS
from grassroots.registry import Registry
from grassroots.synthetic.defaults import DEFAULT_PROVINCE
from grassroots.synthetic.membership import cap_excellent, ct_targets, rating
from grassroots.synthetic.universe import ORG_NAMES, REFORM_YEAR, Universe, Villages, org_codes

TERM_STARTS = (2010, 2015, 2020, 2025)  # commune congress terms starting in the span
DEMO_DISTRICTS = ("183", "180", "073", "027")  # the demo inbox's districts
COMMUNE_ORG_TYPE = {"Xã": "commune", "Phường": "ward", "Thị trấn": "town", "Đặc khu": "other"}
PLACE_WORDS = (
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Trung",
    "Thượng",
    "Hạ",
    "Tân",
    "Phú",
    "An",
    "Hòa",
    "Bình",
    "Thành",
    "Lộc",
    "Phúc",
    "Thọ",
    "Xuân",
    "Yên",
    "Hưng",
    "Long",
    "Mỹ",
    "Quang",
)
# Rating walk (best level 0): first level weights, and (up, stay, down) per level.
POINT_BANDS = ((90, 100), (70, 89.5), (50, 69.5), (20, 49.5))  # rating_points per level


@dataclass
class Spec:
    form: str
    unit: str
    period: str
    rows: list[dict]
    drop: tuple[str, ...] = ()
    tags: dict = field(default_factory=dict)  # what defects can use (village statuses...)

    @property
    def key(self) -> str:
        return f"{self.form}_{self.unit}_{self.period}"


def _village_name(commune: str, number: int, urban: bool) -> str:
    if urban:
        return f"Tổ dân phố {number}"
    k = int(commune) * 7 + number * 13
    return f"Thôn {PLACE_WORDS[k % len(PLACE_WORDS)]} {PLACE_WORDS[(k // 5 + number) % 22]}"


def _cb_rows(year, commune, villages: Villages, first, count, members, levels, urban) -> list[dict]:
    rows = []
    host = f"{commune}-001"
    for v in range(first, first + count):
        status = int(villages.status[v])
        code = f"{commune}-{int(villages.number[v]):03d}"
        rows.append(
            {
                "report_year": year,
                "commune_code": commune,
                "village_code": code,
                "village_name": _village_name(commune, int(villages.number[v]), urban),
                "branch_status": ("independent", "joint", "none")[status],
                "host_village_code": host if status == 1 else "",
                "members": int(members[v]),
                "branch_rating": rating(int(levels[v]), year) if status == 0 else "",
            }
        )
    return rows


def _dv_row(year, commune, dv, i, t) -> dict:
    row = {"report_year": year, "commune_code": commune}
    for name in FORMS["DV"].column_names[2:]:
        row[name] = int(dv[name][i, t])
    return row


def _ct_rows(term_start: int, commune: str, members: int, villages: list[dict]) -> list[dict]:
    independent = sum(r["branch_status"] == "independent" for r in villages)
    term = f"{term_start}-{term_start + 5}"
    rng = random.Random(f"ct-{commune}-{term_start}")
    return ct_targets(rng, term, commune, members, independent, len(villages))


def _cap_excellent(rows: list[dict]) -> None:
    for row, code in zip(rows, cap_excellent([r["rating"] for r in rows]), strict=True):
        row["rating"] = code


def _points(level: int, key: str) -> float:
    low, high = POINT_BANDS[level]
    return round(random.Random(key).uniform(low, high) * 2) / 2


def _commune_specs(year: int, code: str, cb: list[dict], dv: dict) -> list[Spec]:
    """A commune's CB and DV files, and its CT file in a term's first year."""
    specs = [Spec("CB", code, str(year), cb), Spec("DV", code, str(year), [dv])]
    if year in TERM_STARTS:
        ct = _ct_rows(year, code, dv["members_start"], cb)
        specs.append(Spec("CT", code, f"{year}-{year + 5}", ct))
    return specs


def _commune_tc_row(
    year: int,
    sender: str,
    commune: tuple[str, str, str],
    dv: dict,
    cb: list[dict],
    extra_units: int,
    level: int,
) -> dict:
    """The commune's row in its sender's TC file (rating points only from 2025)."""
    code, name, unit_type = commune
    independent = sum(r["branch_status"] == "independent" for r in cb)
    return {
        "report_year": year,
        "district_code": sender,
        "org_code": code,
        "org_name": f"Đảng bộ {name}",
        "org_type": COMMUNE_ORG_TYPE.get(unit_type, "commune"),
        "members": dv["members_end"],
        "subordinate_units": independent + int(extra_units),
        "rating": rating(level, year),
        "rating_points": "",
    }


@dataclass
class Selection:
    """Which units a scale covers."""

    scale: str
    province: str = DEFAULT_PROVINCE

    def districts(self, registry: Registry, year: int) -> set[str] | None:
        if self.scale == "national":
            return None
        if self.scale == "demo":
            return set(DEMO_DISTRICTS)
        table = registry.units_valid_in_year("district", year)
        return set(table.loc[table["parent"] == self.province, "code"])


def year_specs(
    universe: Universe, registry: Registry, year: int, selection: Selection
) -> list[Spec]:
    """Every submission of one year (good versions), in a stable order."""
    if year >= REFORM_YEAR:
        return _reform_year_specs(universe, registry, year, selection)
    t = universe.year_column(year)
    keep = selection.districts(registry, year)
    at_end = year * 10_000 + 1231
    table = registry.table("commune")
    valid = table[(table["start_key"] <= at_end) & (table["end_key"] >= at_end)]
    valid = valid[valid["parent"].str.len() == 3].drop_duplicates("code", keep="last")
    if keep is not None:
        valid = valid[valid["parent"].isin(keep)]
    districts = registry.table("district")
    districts = districts[(districts["start_key"] <= at_end) & (districts["end_key"] >= at_end)]
    district_codes = set(districts["code"])
    specs: list[Spec] = []
    tc: dict[str, list[dict]] = {}
    villages = universe.villages
    starts = np.cumsum(villages.counts) - villages.counts
    for code, name, unit_type, parent in valid[["code", "name", "unit_type", "parent"]].itertuples(
        index=False
    ):
        i = universe.index[code]
        urban = bool(universe.urban[i])
        cb = _cb_rows(
            year,
            code,
            villages,
            int(starts[i]),
            int(villages.counts[i]),
            universe.village_members[:, t],
            universe.village_levels[:, t],
            urban,
        )
        dv = _dv_row(year, code, universe.dv, i, t)
        specs.extend(_commune_specs(year, code, cb, dv))
        if parent in district_codes:
            level = int(universe.commune_levels[i, t])
            tc.setdefault(parent, []).append(
                _commune_tc_row(
                    year, parent, (code, name, unit_type), dv, cb, universe.extra_units[i], level
                )
            )
    orgs = universe.orgs
    for district in sorted(tc):
        rows = tc[district]
        for k in np.flatnonzero(orgs["district"].to_numpy() == district):
            rows.append(_org_row(universe, int(k), t, year, district, orgs.at[k, "code"]))
        if year >= 2018:
            _cap_excellent(rows)
        specs.append(Spec("TC", district, str(year), rows))
    return specs


def _org_row(universe: Universe, k: int, t: int, year: int, sender: str, code: str) -> dict:
    orgs = universe.orgs
    org_type = orgs.at[k, "org_type"]
    level = int(universe.org_levels[k, t])
    return {
        "report_year": year,
        "district_code": sender,
        "org_code": code,
        "org_name": f"{ORG_NAMES[org_type]} {code}",
        "org_type": org_type,
        "members": int(universe.org_members[k, min(t, universe.org_members.shape[1] - 1)]),
        "subordinate_units": int(orgs.at[k, "subordinate_units"]),
        "rating": rating(level, year),
        "rating_points": _points(level, f"{code}-{year}") if year >= REFORM_YEAR else "",
    }


def _reform_year_specs(
    universe: Universe, registry: Registry, year: int, selection: Selection
) -> list[Spec]:
    """2025: post-reform communes, TC sent by the province (districts are gone)."""
    table = registry.table("commune")
    new = table[(table["parent"].str.len() == 2) & (table["end_key"] >= year * 10_000 + 1231)]
    keep_districts = selection.districts(registry, REFORM_YEAR - 1)
    if selection.scale == "province":
        new = new[new["parent"] == selection.province]
    elif selection.scale == "demo":
        demo_communes = set(
            registry.table("commune").loc[lambda c: c["parent"].isin(DEMO_DISTRICTS), "code"]
        )
        new = new[
            new["code"].map(lambda c: bool(set(universe.predecessors.get(c, ())) & demo_communes))
        ]
    villages = universe.new_villages
    starts = np.cumsum(villages.counts) - villages.counts
    specs: list[Spec] = []
    tc: dict[str, list[dict]] = {}
    for code, name, unit_type, province in new[["code", "name", "unit_type", "parent"]].itertuples(
        index=False
    ):
        i = universe.new_index[code]
        cb = _cb_rows(
            year,
            code,
            villages,
            int(starts[i]),
            int(villages.counts[i]),
            universe.new_village_members[:, 0],
            universe.new_village_levels[:, 0],
            unit_type == "Phường",
        )
        dv = _dv_row(year, code, universe.new_dv, i, 0)
        specs.extend(_commune_specs(year, code, cb, dv))
        level = int(universe.new_commune_levels[i, 0])
        tc.setdefault(province, []).append(
            _commune_tc_row(
                year, province, (code, name, unit_type), dv, cb, universe.new_extra_units[i], level
            )
            | {"rating_points": _points(level, f"{code}-{year}")}
        )
    # The old districts' organizations now report to the new province, renumbered.
    orgs = universe.orgs
    valid_2024 = set(registry.units_valid_in_year("district", REFORM_YEAR - 1)["code"])
    # With the district level gone, about a third of the district organizations were
    # dissolved or merged (and `<province>-<letter><2 digits>` holds at most 2,574 codes).
    survives = universe.org_survives_reform
    moved = orgs[orgs["district"].isin(valid_2024) & survives].copy()
    if keep_districts is not None:
        moved = moved[moved["district"].isin(keep_districts)]
    moved["province"] = moved["district"].map(universe.district_new_province)
    moved = moved.dropna(subset=["province"]).sort_values(["province", "type_order", "district"])
    moved["new_code"] = org_codes(moved["province"], moved["org_type"])
    t = universe.year_column(year)
    for k, province, new_code in moved[["province", "new_code"]].itertuples(name=None):
        if province in tc or selection.scale == "national":
            tc.setdefault(province, []).append(_org_row(universe, k, t, year, province, new_code))
    for province in sorted(tc):
        _cap_excellent(tc[province])
        specs.append(Spec("TC", province, str(year), tc[province]))
    return specs
