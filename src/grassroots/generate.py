"""Synthetic submissions at national scale, over the real unit registry.

`grassroots generate` writes what the units would send for the chosen years: per
commune and year a CB and a DV file, per district (province from the 2025 reform) and
year a TC file, per commune a CT file in the first year of each congress term. A known
share of the files carries exactly one injected defect (S1-S8, C1-C5, spread evenly);
they are listed in a manifest kept OUTSIDE the inbox, so the inbox holds only submissions.

How it stays fast and deterministic:
- every value is planned first with vectorized numpy over the whole national universe
  (all communes, villages and organizations, 2005-2025), whatever the scale or years
  asked for, so a province run writes the same numbers as the national run for it;
- files are rendered as text directly (csv module; XLSX from a fixed zip template with
  inline strings, no openpyxl), named `<form>_<unit>_<period>.<ext>`;
- per-file choices (style, format) come from a RNG seeded by (seed, form, unit, period).

The 2025 reform is in the data: 2025 files use the units valid at year end (post-reform
communes under provinces, TC sent by the 34 provinces); a merged commune's members start
from the crosswalk-weighted sum of its predecessors' 2024 year-end members.
"""

from __future__ import annotations

import csv
import io
import random
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from string import ascii_uppercase
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from grassroots.demo_data import (
    FIXED_TIMESTAMP,
    NEW_SCALE,
    OLD_SCALE,
    XLSX_SHEET,
    Style,
    _ascii,
    _csv_bytes,
    _header,
    _vn_decimal,
    _vn_thousands,
)
from grassroots.forms import (
    ALL_RATINGS,
    BASIS,
    BRANCH_STATUS,
    DIRECTION,
    FORMS,
    ORG_TYPES,
    Form,
)
from grassroots.registry import Registry

DEFAULT_SEED = 20250701
FIRST_YEAR, LAST_YEAR = 2005, 2025  # the simulated span (any --years must lie inside)
REFORM_YEAR = 2025
TERM_STARTS = (2010, 2015, 2020, 2025)  # commune congress terms starting in the span
SCALES = ("demo", "province", "national")
DEMO_DISTRICTS = ("183", "180", "073", "027")  # the demo inbox's districts
DEFAULT_PROVINCE = "20"  # Lạng Sơn
RULES = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "C1", "C2", "C3", "C4", "C5")
# Forms a rule can be injected into so that the file breaks that rule and no other.
RULE_FORMS = {
    "S1": ("CB", "DV", "TC", "CT"),
    "S2": ("CB", "DV", "TC", "CT"),
    "S3": ("CB", "TC", "CT"),
    "S4": ("DV", "CT"),
    "S5": ("DV", "CT"),
    "S6": ("CB", "DV", "TC", "CT"),
    "S7": ("CB", "TC", "CT"),
    "S8": ("CB", "DV", "TC", "CT"),
    "C1": ("DV",),
    "C2": ("DV",),
    "C3": ("CB",),
    "C4": ("CB",),
    "C5": ("CB",),
}
MANIFEST_COLUMNS = ("file_name", "form", "unit", "period", "rule", "row", "column", "defect")

ORG_TYPE_MIX = {  # non-commune base organizations under a district
    "military": 0.04,
    "police": 0.05,
    "agency": 0.34,
    "school": 0.33,
    "enterprise": 0.18,
    "other": 0.06,
}
TYPE_LETTERS = {
    "military": "Q",
    "police": "C",
    "agency": "A",
    "school": "S",
    "enterprise": "E",
    "other": "K",
}
ORG_NAMES = {
    "military": "Đảng bộ Quân sự",
    "police": "Đảng bộ Công an",
    "agency": "Chi bộ Cơ quan",
    "school": "Chi bộ Trường",
    "enterprise": "Chi bộ Công ty",
    "other": "Chi bộ",
}
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
FIRST_LEVEL = np.array([0.14, 0.56, 0.26, 0.04])
MOVES = np.array([[0.0, 0.65, 0.35], [0.12, 0.73, 0.15], [0.35, 0.60, 0.05], [0.6, 0.4, 0.0]])
POINT_BANDS = ((90, 100), (70, 89.5), (50, 69.5), (20, 49.5))  # rating_points per level


# --- plan: the national universe, vectorized --------------------------------------------


def _rating_walk(rng: np.random.Generator, n: int, years: int) -> np.ndarray:
    """Rating levels (0 = best) per unit and year: at most one step a year."""
    levels = np.empty((n, years), dtype=np.int8)
    levels[:, 0] = rng.choice(4, size=n, p=FIRST_LEVEL)
    cumulative = MOVES.cumsum(axis=1)
    for t in range(1, years):
        draw = rng.random(n)
        previous = levels[:, t - 1]
        step = np.where(
            draw < cumulative[previous, 0], -1, np.where(draw < cumulative[previous, 1], 0, 1)
        )
        levels[:, t] = previous + step
    return levels


def _group_positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, position within owner) for items laid out owner by owner."""
    owners = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return owners, np.arange(len(owners)) - starts


@dataclass
class Villages:
    """The villages of a set of communes, owner by owner."""

    owner: np.ndarray  # index of the commune
    number: np.ndarray  # 1-based number within the commune (<commune>-NNN)
    status: np.ndarray  # 0 independent, 1 joint, 2 none
    weight: np.ndarray
    counts: np.ndarray  # villages per commune


def _plan_villages(rng: np.random.Generator, counts: np.ndarray, urban: np.ndarray) -> Villages:
    owner, position = _group_positions(counts)
    draw = rng.random(len(owner))
    joint_p = np.where(urban[owner], 0.02, 0.08)
    none_p = np.where(urban[owner], 0.0, 0.04)
    status = np.where(draw < joint_p, 1, np.where(draw < joint_p + none_p, 2, 0)).astype(np.int8)
    status[position == 0] = 0  # village 1 always has a branch: it hosts the joint ones
    weight = rng.uniform(0.5, 1.6, len(owner))
    return Villages(owner, position + 1, status, weight, counts)


def _flows(rng: np.random.Generator, start: np.ndarray, floor: np.ndarray) -> dict:
    """One year's membership movement from `start`; the end never drops below `floor`."""
    n = len(start)
    admitted = np.maximum(1, np.rint(start * rng.uniform(0.018, 0.035, n))).astype(np.int64)
    transferred_in = np.rint(start * rng.uniform(0.0, 0.015, n)).astype(np.int64)
    transferred_out = np.rint(start * rng.uniform(0.0, 0.015, n)).astype(np.int64)
    deceased = np.rint(start * rng.uniform(0.006, 0.014, n)).astype(np.int64)
    expelled = (rng.random(n) < 0.06).astype(np.int64)
    removed = rng.integers(0, 3, n)
    end = start + admitted + transferred_in - transferred_out - deceased - expelled - removed
    deficit = np.maximum(0, floor - end)  # the branch floor: recruit (transfer in) to it
    transferred_in += deficit
    end += deficit
    return {
        "admitted": admitted,
        "transferred_in": transferred_in,
        "transferred_out": transferred_out,
        "deceased": deceased,
        "expelled": expelled,
        "removed": removed,
        "members_end": end,
    }


def _probationary(rng, admitted, previous_admitted, end) -> np.ndarray:
    extra = np.rint(previous_admitted * rng.uniform(0.1, 0.4, len(end))).astype(np.int64)
    return np.minimum(end, admitted + extra)


def _split_members(rng: np.random.Generator, villages: Villages, totals: np.ndarray) -> np.ndarray:
    """Members per village, summing exactly to each commune's total: none 0, joint 1-2,
    independent >= 3 (the remainder of the rounding goes to village 1)."""
    owner, status = villages.owner, villages.status
    members = np.zeros(len(owner), dtype=np.int64)
    joint = status == 1
    members[joint] = rng.integers(1, 3, int(joint.sum()))
    independent = status == 0
    n_communes = len(villages.counts)
    fixed = np.bincount(owner, weights=members, minlength=n_communes).astype(np.int64)
    fixed += 3 * np.bincount(owner[independent], minlength=n_communes)
    remaining = totals - fixed
    if (remaining < 0).any():
        raise ValueError("commune members below its branch floor")
    weights = np.where(independent, villages.weight, 0.0)
    weight_sums = np.bincount(owner, weights=weights, minlength=n_communes)
    shares = np.floor(remaining[owner] * weights / weight_sums[owner]).astype(np.int64)
    members[independent] = 3 + shares[independent]
    leftover = totals - np.bincount(owner, weights=members, minlength=n_communes).astype(np.int64)
    first = np.cumsum(villages.counts) - villages.counts  # village 1 of each commune
    members[first] += leftover
    return members


def _branch_floor(villages: Villages) -> np.ndarray:
    n = len(villages.counts)
    independent = np.bincount(villages.owner[villages.status == 0], minlength=n)
    joint = np.bincount(villages.owner[villages.status == 1], minlength=n)
    return 3 * independent + 2 * joint + 5


@dataclass
class Universe:
    """Every planned value for 2005-2025, national."""

    years: np.ndarray
    # Pre-reform communes (one trajectory per code), index = position in `codes`.
    codes: np.ndarray
    urban: np.ndarray
    dv: dict[str, np.ndarray]  # name -> (commune, year) matrix
    villages: Villages
    village_members: np.ndarray  # (village, year)
    village_levels: np.ndarray  # (village, year)
    commune_levels: np.ndarray  # (commune, year)
    extra_units: np.ndarray
    # Non-commune organizations per pre-reform district code.
    orgs: pd.DataFrame
    org_members: np.ndarray  # (org, year)
    org_levels: np.ndarray
    org_survives_reform: np.ndarray
    # 2025 communes (post-reform), index = position in `new_codes`.
    new_codes: np.ndarray
    new_dv: dict[str, np.ndarray]
    new_villages: Villages
    new_village_members: np.ndarray
    new_village_levels: np.ndarray
    new_commune_levels: np.ndarray
    new_extra_units: np.ndarray
    predecessors: dict[str, list[str]]
    district_new_province: dict[str, str]
    index: dict[str, int] = field(default_factory=dict)
    new_index: dict[str, int] = field(default_factory=dict)

    def year_column(self, year: int) -> int:
        return int(year) - FIRST_YEAR


def plan_universe(registry: Registry, seed: int = DEFAULT_SEED) -> Universe:
    """Every value of every unit for FIRST_YEAR..LAST_YEAR (independent of scale/years)."""
    rng = np.random.default_rng([seed, 1])
    communes = registry.table("commune")
    old = communes[communes["parent"].str.len() == 3]
    last = old.sort_values("end_key").drop_duplicates("code", keep="last").sort_values("code")
    codes = last["code"].to_numpy()
    urban = last["unit_type"].isin(["Phường", "Thị trấn"]).to_numpy()
    n, n_years = len(codes), LAST_YEAR - FIRST_YEAR
    years = np.arange(FIRST_YEAR, LAST_YEAR)

    villages = _plan_villages(rng, 3 + rng.poisson(5.3, n), urban)
    floor = _branch_floor(villages)
    base = np.rint(rng.lognormal(np.log(195), 0.42, n) * np.where(urban, 1.7, 1.0))
    start = np.maximum(base.astype(np.int64), floor)
    population = np.rint(start * rng.uniform(20, 36, n)).astype(np.int64)
    dv = {
        k: np.zeros((n, n_years), dtype=np.int64)
        for k in ("population", "members_start", "probationary_end")
    }
    previous_admitted = np.rint(start * 0.03).astype(np.int64)
    for t in range(n_years):
        flows = _flows(rng, start, floor)
        for name, values in flows.items():
            dv.setdefault(name, np.zeros((n, n_years), dtype=np.int64))[:, t] = values
        population = np.rint(population * rng.uniform(1.003, 1.014, n)).astype(np.int64)
        dv["population"][:, t] = population
        dv["members_start"][:, t] = start
        dv["probationary_end"][:, t] = _probationary(
            rng, flows["admitted"], previous_admitted, flows["members_end"]
        )
        start, previous_admitted = flows["members_end"], flows["admitted"]
    village_members = np.column_stack(
        [_split_members(rng, villages, dv["members_end"][:, t]) for t in range(n_years)]
    )
    village_levels = _rating_walk(rng, len(villages.owner), n_years)
    commune_levels = _rating_walk(rng, n, n_years)
    extra_units = rng.integers(1, 4, n)

    orgs = _plan_orgs(rng, registry)
    growth = rng.uniform(-0.005, 0.025, len(orgs))
    noise = rng.uniform(0.97, 1.03, (len(orgs), n_years))
    org_members = np.maximum(
        3,
        np.rint(
            orgs["base"].to_numpy()[:, None] * (1 + growth[:, None]) ** (years - FIRST_YEAR) * noise
        ),
    ).astype(np.int64)
    org_levels = _rating_walk(rng, len(orgs), n_years + 1)
    org_survives_reform = rng.random(len(orgs)) < 0.65

    # 2025: post-reform communes from the crosswalk (weights split divided communes).
    crosswalk = pd.read_csv(
        registry_dir(registry) / "ref_commune_crosswalk_2025.csv",
        dtype=str,
        keep_default_na=False,
    )
    new = communes[(communes["parent"].str.len() == 2)].sort_values("code")
    new_codes = new["code"].to_numpy()
    index = {c: i for i, c in enumerate(codes)}
    new_index = {c: i for i, c in enumerate(new_codes)}
    last_col = n_years - 1
    weights = crosswalk["weight"].astype(float).to_numpy()
    old_pos = crosswalk["old_commune_code"].map(index)
    new_pos = crosswalk["new_commune_code"].map(new_index)
    ok = old_pos.notna() & new_pos.notna()
    old_pos, new_pos, weights = (
        old_pos[ok].astype(int).to_numpy(),
        new_pos[ok].astype(int).to_numpy(),
        weights[ok.to_numpy()],
    )
    m = len(new_codes)
    inherited = np.bincount(
        new_pos, weights=weights * dv["members_end"][old_pos, last_col], minlength=m
    )
    inherited_villages = np.bincount(
        new_pos, weights=weights * villages.counts[old_pos], minlength=m
    )
    inherited_population = np.bincount(
        new_pos, weights=weights * dv["population"][old_pos, last_col], minlength=m
    )
    new_urban = new["unit_type"].isin(["Phường"]).to_numpy()
    new_villages = _plan_villages(
        rng, np.maximum(3, np.rint(inherited_villages)).astype(np.int64), new_urban
    )
    new_floor = _branch_floor(new_villages)
    fallback = np.rint(rng.lognormal(np.log(600), 0.4, m))  # communes with no predecessor
    new_start = np.where(inherited > 0, np.rint(inherited), fallback).astype(np.int64)
    new_start = np.maximum(new_start, new_floor)
    flows = _flows(rng, new_start, new_floor)
    new_dv = {k: v[:, None] for k, v in flows.items()}
    new_dv["members_start"] = new_start[:, None]
    pop = np.where(inherited_population > 0, inherited_population, new_start * 20.0)
    new_dv["population"] = np.rint(pop * rng.uniform(1.003, 1.014, m)).astype(np.int64)[:, None]
    new_dv["probationary_end"] = _probationary(
        rng, flows["admitted"], np.rint(new_start * 0.03), flows["members_end"]
    )[:, None]
    new_village_members = _split_members(rng, new_villages, flows["members_end"])[:, None]
    predecessors: dict[str, list[str]] = {}
    for o, w in zip(old_pos, new_pos, strict=True):
        predecessors.setdefault(new_codes[w], []).append(codes[o])
    district_new_province = (
        crosswalk.groupby("old_district_code")["new_province_code"]
        .agg(lambda s: s.value_counts().index[0])
        .to_dict()
    )
    return Universe(
        years=years,
        codes=codes,
        urban=urban,
        dv=dv,
        villages=villages,
        village_members=village_members,
        village_levels=village_levels,
        commune_levels=commune_levels,
        extra_units=extra_units,
        orgs=orgs,
        org_members=org_members,
        org_levels=org_levels,
        org_survives_reform=org_survives_reform,
        new_codes=new_codes,
        new_dv=new_dv,
        new_villages=new_villages,
        new_village_members=new_village_members,
        new_village_levels=_rating_walk(rng, len(new_villages.owner), 1),
        new_commune_levels=_rating_walk(rng, m, 1),
        new_extra_units=rng.integers(1, 4, m),
        predecessors=predecessors,
        district_new_province=district_new_province,
        index=index,
        new_index=new_index,
    )


def registry_dir(registry: Registry) -> Path:
    from grassroots.registry import _cache, default_seeds_dir

    for directory, cached in _cache.items():
        if cached is registry:
            return directory
    return default_seeds_dir()


def _plan_orgs(rng: np.random.Generator, registry: Registry) -> pd.DataFrame:
    """Non-commune base organizations: about 59 per district (military, police, ...)."""
    districts = registry.table("district").drop_duplicates("code").sort_values("code")
    district_codes = districts["code"].to_numpy()
    city = districts["unit_type"].isin(["Quận", "Thành phố"]).to_numpy()
    counts = np.clip(
        np.rint(rng.lognormal(np.log(52), 0.35, len(districts)) * np.where(city, 1.5, 1.0)), 12, 300
    ).astype(np.int64)
    owner, _ = _group_positions(counts)
    types = np.array(list(ORG_TYPE_MIX))
    org_type = types[rng.choice(len(types), size=len(owner), p=list(ORG_TYPE_MIX.values()))]
    base = np.maximum(3, np.rint(rng.lognormal(np.log(24), 0.75, len(owner))))
    frame = pd.DataFrame(
        {
            "district": district_codes[owner],
            "org_type": org_type,
            "base": base,
            "subordinate_units": rng.integers(0, 9, len(owner)),
        }
    )
    # Type order inside a district, so codes group by type (Q01, Q02, C01, ...).
    order = {t: i for i, t in enumerate(ORG_TYPE_MIX)}
    frame["type_order"] = frame["org_type"].map(order)
    frame = frame.sort_values(["district", "type_order"], kind="stable").reset_index(drop=True)
    frame["code"] = _org_codes(frame["district"], frame["org_type"])
    return frame


def _org_codes(senders: pd.Series, types: pd.Series) -> list[str]:
    """`<sender>-<letter><2 digits>`: the type's letter first, spare letters when 99 run out."""
    spare_letters = [c for c in ascii_uppercase if c not in TYPE_LETTERS.values()]
    codes: list[str] = []
    state: dict[str, tuple[int, dict[str, list[str]], dict[str, int]]] = {}
    for sender, org_type in zip(senders, types, strict=True):
        spare, letters, used = state.setdefault(sender, (0, {}, {}))
        own = letters.setdefault(org_type, [TYPE_LETTERS[org_type]])
        k = used.get(org_type, 0)
        if k // 99 >= len(own):
            own.append(spare_letters[spare])
            spare += 1
        used[org_type] = k + 1
        state[sender] = (spare, letters, used)
        codes.append(f"{sender}-{own[k // 99]}{k % 99 + 1:02d}")
    return codes


# --- what one year holds: file specs ----------------------------------------------------


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


def _rating(level: int, year: int) -> str:
    return (OLD_SCALE if year < 2018 else NEW_SCALE)[level]


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
                "branch_rating": _rating(int(levels[v]), year) if status == 0 else "",
            }
        )
    return rows


def _dv_row(year, commune, dv, i, t) -> dict:
    row = {"report_year": year, "commune_code": commune}
    for name in FORMS["DV"].column_names[2:]:
        row[name] = int(dv[name][i, t])
    return row


def _ct_rows(term_start: int, commune: str, members: int, villages: list[dict]) -> list[dict]:
    rng = random.Random(f"ct-{commune}-{term_start}")
    per_year = max(3, round(members * rng.uniform(0.025, 0.035)))
    independent = sum(r["branch_status"] == "independent" for r in villages)
    ratio = float(int(independent / len(villages) * 100 / 2.5) * 2.5)
    term = f"{term_start}-{term_start + 5}"
    targets = [
        ("admissions", per_year, "per_year", "at_least"),
        ("admissions", per_year * 5, "term_total", "at_least"),
        ("independent_branch_ratio_pct", ratio, "per_year", "at_least"),
        ("members_total", round(members * rng.uniform(1.05, 1.10)), "term_total", "at_least"),
        ("villages_without_branch", 0, "per_year", "at_most"),
    ]
    return [
        {
            "term": term,
            "unit_code": commune,
            "indicator_code": code,
            "target_value": value,
            "basis": basis,
            "direction": direction,
        }
        for code, value, basis, direction in targets
    ]


def _cap_excellent(rows: list[dict]) -> None:
    """Excellent at most 20 % of those rated good or above in one sender (P6)."""
    allowed = int(0.2 * sum(r["rating"] in ("excellent", "good") for r in rows))
    for row in rows:
        if row["rating"] == "excellent":
            if allowed > 0:
                allowed -= 1
            else:
                row["rating"] = "good"


def _points(level: int, key: str) -> float:
    low, high = POINT_BANDS[level]
    return round(random.Random(key).uniform(low, high) * 2) / 2


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
        specs.append(Spec("CB", code, str(year), cb))
        specs.append(Spec("DV", code, str(year), [dv]))
        if year in TERM_STARTS:
            ct = _ct_rows(year, code, dv["members_start"], cb)
            specs.append(Spec("CT", code, f"{year}-{year + 5}", ct))
        if parent in district_codes:
            independent = sum(r["branch_status"] == "independent" for r in cb)
            tc.setdefault(parent, []).append(
                {
                    "report_year": year,
                    "district_code": parent,
                    "org_code": code,
                    "org_name": f"Đảng bộ {name}",
                    "org_type": COMMUNE_ORG_TYPE.get(unit_type, "commune"),
                    "members": dv["members_end"],
                    "subordinate_units": independent + int(universe.extra_units[i]),
                    "rating": _rating(int(universe.commune_levels[i, t]), year),
                    "rating_points": "",
                }
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
        "rating": _rating(level, year),
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
        specs.append(Spec("CB", code, str(year), cb))
        specs.append(Spec("DV", code, str(year), [dv]))
        if year in TERM_STARTS:
            specs.append(
                Spec(
                    "CT", code, f"{year}-{year + 5}", _ct_rows(year, code, dv["members_start"], cb)
                )
            )
        level = int(universe.new_commune_levels[i, 0])
        independent = sum(r["branch_status"] == "independent" for r in cb)
        tc.setdefault(province, []).append(
            {
                "report_year": year,
                "district_code": province,
                "org_code": code,
                "org_name": f"Đảng bộ {name}",
                "org_type": COMMUNE_ORG_TYPE.get(unit_type, "commune"),
                "members": dv["members_end"],
                "subordinate_units": independent + int(universe.new_extra_units[i]),
                "rating": _rating(level, year),
                "rating_points": _points(level, f"{code}-{year}"),
            }
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
    moved["new_code"] = _org_codes(moved["province"], moved["org_type"])
    t = universe.year_column(year)
    for k, province, new_code in moved[["province", "new_code"]].itertuples(name=None):
        if province in tc or selection.scale == "national":
            tc.setdefault(province, []).append(_org_row(universe, k, t, year, province, new_code))
    for province in sorted(tc):
        _cap_excellent(tc[province])
        specs.append(Spec("TC", province, str(year), tc[province]))
    return specs


# --- defects: exactly one per broken file -----------------------------------------------


class NotApplicable(Exception):
    pass


def _plain_independent(rows: list[dict]) -> list[int]:
    hosts = {r["host_village_code"] for r in rows if r["host_village_code"]}
    return [
        i
        for i, r in enumerate(rows)
        if r["branch_status"] == "independent" and r["village_code"] not in hosts
    ]


def _other_unit(spec: Spec, pool: list[Spec]) -> Spec:
    for other in pool:
        if other.form == spec.form and other.unit != spec.unit and other.rows:
            return other
    raise NotApplicable


def inject(spec: Spec, rule: str, rng: random.Random, pool: list[Spec]) -> tuple:
    """Break `spec` (its rows are copied) by `rule`: returns (row, column, description);
    row is the staff row (header = 1) or None for a file-level defect."""
    rows = [dict(r) for r in spec.rows]
    form = spec.form
    pick = rng.randrange(len(rows))
    result: tuple
    if rule == "S1":
        column = {"CB": "members", "DV": "admitted", "TC": "org_type", "CT": "basis"}[form]
        spec.drop = (column,)
        result = (None, column, f"column {column} missing")
    elif rule == "S2":
        column = {"CB": "members", "DV": "members_end", "TC": "members", "CT": "target_value"}
        value = rng.choice(("abc", "12a", "x", "1 2 3 4"))
        rows[pick][column[form]] = value
        result = (pick + 2, column[form], f"{value!r} is not a number")
    elif rule == "S3":
        if form == "CB":
            pick = rng.choice(_plain_independent(rows) or [0])
            rows[pick]["branch_status"] = "sometimes"
            result = (pick + 2, "branch_status", "unknown branch status")
        elif form == "TC":
            year = int(spec.period)
            wrong = "clean_strong" if year >= 2018 else "excellent"
            rows[pick]["rating"] = wrong
            result = (pick + 2, "rating", f"rating {wrong} of the other scale")
        else:
            rows[pick]["basis"] = "monthly"
            result = (pick + 2, "basis", "unknown basis")
    elif rule == "S4":
        if form == "DV":
            other = _other_unit(spec, pool)
            rows.append(dict(other.rows[0], report_year=rows[0]["report_year"]))
            result = (None, "commune_code", f"second commune {other.unit}")
        else:
            other = _other_unit(spec, pool)
            rows[-1]["unit_code"] = other.unit
            result = (None, "unit_code", f"second unit {other.unit}")
    elif rule == "S5":
        if form == "DV":
            value = rng.choice((1999, 2031, 2040))
            rows[0]["report_year"] = value
            result = (2, "report_year", f"year {value}")
        else:
            start = int(spec.period[:4])
            value = rng.choice((f"{start}-{start + 6}", f"{start}/{start + 5}"))
            for row in rows:
                row["term"] = value
            result = (2, "term", f"term {value}")
    elif rule == "S6":
        unknown = f"{rng.randint(33000, 99999)}"
        if form == "CB":
            for row in rows:
                row["commune_code"] = unknown
                for key in ("village_code", "host_village_code"):
                    row[key] = row[key].replace(spec.unit, unknown)
            result = (2, "commune_code", f"unknown commune {unknown}")
        elif form == "DV":
            rows[0]["commune_code"] = unknown
            result = (2, "commune_code", f"unknown commune {unknown}")
        elif form == "TC":
            others = [i for i, r in enumerate(rows) if "-" in r["org_code"]]
            if not others:
                raise NotApplicable
            pick = rng.choice(others)
            prefix = "999" if len(spec.unit) == 3 else "99"
            suffix = rows[pick]["org_code"].split("-")[1]
            rows[pick]["org_code"] = f"{prefix}-{suffix}"
            result = (pick + 2, "org_code", f"organization of another sender {prefix}")
        else:
            for row in rows:
                row["unit_code"] = unknown
            result = (2, "unit_code", f"unknown unit {unknown}")
    elif rule == "S7":
        if form == "CB":
            plain = _plain_independent(rows)
            if len(plain) < 2:
                raise NotApplicable
            first, second = plain[:2]
            rows[second]["village_code"] = rows[first]["village_code"]
            result = (second + 2, "village_code", "duplicate village")
        elif form == "TC":
            others = [i for i, r in enumerate(rows) if "-" in r["org_code"]]
            if len(others) < 2:
                raise NotApplicable
            rows[others[1]]["org_code"] = rows[others[0]]["org_code"]
            result = (others[1] + 2, "org_code", "duplicate organization")
        else:
            rows[1]["basis"] = rows[0]["basis"]  # admissions per_year twice
            result = (3, "indicator_code", "duplicate indicator and basis")
    elif rule == "S8":
        rows = []
        result = (None, None, "header only")
    elif rule == "C1":
        delta = rng.choice((-7, -2, 1, 3, 5, 10))
        rows[0]["members_end"] += delta
        result = (2, "members_end", f"members_end off by {delta}")
    elif rule == "C2":
        rows[0]["probationary_end"] = rows[0]["members_end"] + rng.randint(1, 9)
        result = (2, "probationary_end", "probationary above members")
    elif rule == "C3":
        joint = [i for i, r in enumerate(rows) if r["branch_status"] == "joint"]
        if not joint:
            raise NotApplicable
        pick = rng.choice(joint)
        rows[pick]["host_village_code"] = ""
        result = (pick + 2, "host_village_code", "joint village without host")
    elif rule == "C4":
        none = [i for i, r in enumerate(rows) if r["branch_status"] == "none"]
        if not none:
            raise NotApplicable
        pick = rng.choice(none)
        donor = max(range(len(rows)), key=lambda i: (rows[i]["members"], -i))
        rows[pick]["members"] = 4
        rows[donor]["members"] -= 4  # the largest branch gives them: CB total still = DV
        result = (pick + 2, "members", "no branch but members")
    elif rule == "C5":
        plain = [i for i in _plain_independent(rows) if i != 0]
        if not plain:
            raise NotApplicable
        pick = rng.choice(plain)
        rows[0]["members"] += rows[pick]["members"] - 2
        rows[pick]["members"] = 2
        result = (pick + 2, "members", "independent branch with two members")
    else:
        raise ValueError(rule)
    spec.rows = rows
    return result


# --- rendering --------------------------------------------------------------------------

_LABELS = {
    "branch_status": BRANCH_STATUS,
    "org_type": ORG_TYPES,
    "basis": BASIS,
    "direction": DIRECTION,
}
_THOUSANDS = {"population", "members", "members_start", "members_end", "target_value"}


def _value_maps(form: Form, language: str) -> dict[str, dict[str, str]]:
    """Per column: code -> how this language writes it (enums and ratings)."""
    maps: dict[str, dict[str, str]] = {}
    for column in form.columns:
        if column.kind == "rating":
            maps[column.name] = {
                code: text if language == "vi" else abbreviation
                for code, (text, abbreviation) in ALL_RATINGS.items()
            }
        elif column.name in _LABELS:
            maps[column.name] = {
                code: labels[0] if language == "vi" else _ascii(labels[0])
                for code, labels in _LABELS[column.name].items()
            }
    return {} if language == "en" else maps


class Renderer:
    """Rows of planned values -> (header, body) in a style; caches the per-style maps."""

    def __init__(self) -> None:
        self._cache: dict[tuple, tuple] = {}

    def table(self, spec: Spec, style: Style) -> tuple[list[str], list[list[object]]]:
        form = FORMS[spec.form]
        key = (spec.form, style.language, style.with_optional_points, spec.drop)
        if key not in self._cache:
            columns = [
                c
                for c in form.column_names
                if c not in spec.drop
                and not (c == "rating_points" and not style.with_optional_points)
            ]
            header = [_header(form, c, style.language) for c in columns]
            self._cache[key] = (columns, header, _value_maps(form, style.language))
        columns, header, maps = self._cache[key]
        vietnamese = style.language != "en"
        body = []
        for row in spec.rows:
            out: list[object] = []
            for column in columns:
                value = row.get(column, "")
                if value == "":
                    out.append("" if not style.xlsx else None)
                elif isinstance(value, str):
                    mapping = maps.get(column)
                    out.append(mapping.get(value, value) if mapping else value)
                elif style.xlsx:
                    out.append(value)
                elif isinstance(value, float):
                    if value.is_integer():
                        out.append(str(int(value)))
                    else:
                        out.append(_vn_decimal(value) if vietnamese else str(value))
                elif vietnamese and column in _THOUSANDS and value >= 1000:
                    out.append(_vn_thousands(value))
                else:
                    out.append(str(value))
            body.append(out)
        return header, body


# A minimal XLSX: one sheet, inline strings (no shared-string table), no styles.
_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{XLSX_SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_LETTERS = [*ascii_uppercase]


def xlsx_bytes(header: list[str], body: list[list[object]]) -> bytes:
    """One-sheet workbook; text as inline strings (codes keep leading zeros), numbers as
    numbers, empty cells omitted. Fixed zip timestamps: same content, same bytes."""
    parts = [_SHEET_HEAD]
    for r, row in enumerate([header, *body], start=1):
        parts.append(f'<row r="{r}">')
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            ref = f"{_LETTERS[c]}{r}"
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                parts.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                text = escape(str(value))
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
        parts.append("</row>")
    parts.append("</sheetData></worksheet>")
    buffer = io.BytesIO()
    stamp = FIXED_TIMESTAMP.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in (*_XLSX_STATIC.items(), ("xl/worksheets/sheet1.xml", "".join(parts))):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"), compresslevel=1)
    return buffer.getvalue()


def _utf16_bytes(header: list[str], body: list[list[object]]) -> bytes:
    """Excel's "Unicode text": UTF-16 LE with BOM, tab-separated, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(body)
    return b"\xff\xfe" + buffer.getvalue().encode("utf-16-le")


@dataclass(frozen=True)
class FileStyle:
    style: Style
    utf16: bool = False


def pick_style(seed: int, spec: Spec, xlsx_share: float) -> FileStyle:
    rng = random.Random(f"{seed}-style-{spec.key}")
    xlsx = rng.random() < xlsx_share
    language = rng.choice(("en", "vi", "ascii"))
    style = Style(
        language=language,
        xlsx=xlsx,
        bom=rng.random() < 0.12,
        crlf=rng.random() < 0.1,
        with_optional_points=rng.random() < 0.5 or spec.period.startswith(str(REFORM_YEAR)),
    )
    return FileStyle(style, utf16=not xlsx and rng.random() < 0.03)


def render(spec: Spec, file_style: FileStyle, renderer: Renderer) -> bytes:
    style = file_style.style
    header, body = renderer.table(spec, style)
    if style.xlsx:
        return xlsx_bytes(header, body)
    if file_style.utf16:
        return _utf16_bytes(header, body)
    return _csv_bytes(header, body, style)


# --- entry point ------------------------------------------------------------------------


@dataclass
class GenerateSummary:
    files: int = 0
    rows: int = 0
    bytes: int = 0
    xlsx: int = 0
    by_form: Counter = field(default_factory=Counter)
    broken_by_rule: Counter = field(default_factory=Counter)
    manifest: Path | None = None
    seconds: float = 0.0
    members_by_year: dict[int, int] = field(default_factory=dict)


def parse_years(text: str) -> list[int]:
    """`2008-2025`, `2024` or `2016,2018-2019`."""
    years: set[int] = set()
    for part in str(text).split(","):
        first, _, last = part.strip().partition("-")
        years.update(range(int(first), int(last or first) + 1))
    wrong = [y for y in years if not FIRST_YEAR <= y <= LAST_YEAR]
    if wrong:
        raise ValueError(f"years must lie in {FIRST_YEAR}-{LAST_YEAR}: {sorted(wrong)}")
    return sorted(years)


def default_manifest(out: Path) -> Path:
    out = Path(out).resolve()
    return out.parent / f"{out.name}_manifest.csv"


def choose_broken(
    specs: list[Spec], error_rate: float, seed: int, offset: int = 0
) -> list[tuple[Spec, str, tuple]]:
    """round(rate x files) broken files, rules in turn (S1, S2, ..., C5, S1, ...), each on
    a random file of a form the rule applies to; every chosen spec is modified in place."""
    rng = random.Random(f"{seed}-errors-{len(specs)}")
    wanted = round(error_rate * len(specs))
    by_form: dict[str, list[int]] = {}
    for position, spec in enumerate(specs):
        by_form.setdefault(spec.form, []).append(position)
    for positions in by_form.values():
        rng.shuffle(positions)
    taken: set[int] = set()
    broken: list[tuple[Spec, str, tuple]] = []
    for number in range(wanted * 3):  # rules that find no fitting file are retried
        if len(broken) == wanted:
            break
        rule = (
            RULES[(offset + len(broken)) % len(RULES)] if number < wanted * 2 else rng.choice(RULES)
        )
        forms = [f for f in RULE_FORMS[rule] if by_form.get(f)]
        if not forms:
            continue
        form = rng.choice(forms)
        for _attempt in range(20):
            position = by_form[form][rng.randrange(len(by_form[form]))]
            if position in taken:
                continue
            spec = specs[position]
            try:
                outcome = inject(spec, rule, rng, specs)
            except NotApplicable:
                continue
            taken.add(position)
            broken.append((spec, rule, outcome))
            break
    return broken


def generate(
    out: Path,
    *,
    scale: str = "demo",
    years: list[int] | None = None,
    error_rate: float = 0.01,
    xlsx_share: float = 0.2,
    seed: int = DEFAULT_SEED,
    manifest: Path | None = None,
    province: str = DEFAULT_PROVINCE,
    registry: Registry | None = None,
) -> GenerateSummary:
    """Write the submissions of `years` at `scale` into `out` (only submissions) and the
    list of injected defects to `manifest` (default: `<out>_manifest.csv` beside it)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}")
    started = time.perf_counter()
    registry = registry or Registry.load()
    years = years or list(range(2008, LAST_YEAR + 1))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = Path(manifest) if manifest else default_manifest(out)
    if manifest.resolve().parent == out.resolve():
        raise ValueError("the manifest must not be inside the inbox")
    universe = plan_universe(registry, seed)
    selection = Selection(scale, province)
    renderer = Renderer()
    summary = GenerateSummary(manifest=manifest)
    manifest_rows: list[list[object]] = []
    for year in years:
        specs = year_specs(universe, registry, year, selection)
        summary.members_by_year[year] = sum(
            r["members"] for s in specs if s.form == "TC" for r in s.rows
        )
        broken = {
            id(spec): (rule, outcome)
            for spec, rule, outcome in choose_broken(
                specs, error_rate, seed + year, sum(summary.broken_by_rule.values())
            )
        }
        for spec in specs:
            file_style = pick_style(seed, spec, xlsx_share)
            data = render(spec, file_style, renderer)
            name = f"{spec.key}.{'xlsx' if file_style.style.xlsx else 'csv'}"
            (out / name).write_bytes(data)
            summary.files += 1
            summary.rows += len(spec.rows)
            summary.bytes += len(data)
            summary.xlsx += file_style.style.xlsx
            summary.by_form[spec.form] += 1
            if id(spec) in broken:
                rule, (row, column, defect) = broken[id(spec)]
                summary.broken_by_rule[rule] += 1
                manifest_rows.append(
                    [name, spec.form, spec.unit, spec.period, rule, row or "", column or "", defect]
                )
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with manifest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows(sorted(manifest_rows))
    summary.seconds = time.perf_counter() - started
    return summary


def read_manifest(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)
