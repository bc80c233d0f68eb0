"""The national universe: every planned value of every unit, 2005-2025, vectorized.

Planned with numpy over all communes, villages and organizations whatever the scale or
years asked for, so a province run writes the same numbers as the national run for it.
The 2025 reform is in the data: post-reform communes under provinces; a merged commune's
members start from the crosswalk-weighted sum of its predecessors' 2024 year-end members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from string import ascii_uppercase

import numpy as np
import pandas as pd

from grassroots.registry import Registry
from grassroots.synthetic.defaults import DEFAULT_SEED
from grassroots.synthetic.membership import members_end, rating_walks

FIRST_YEAR, LAST_YEAR = 2005, 2025  # the simulated span (any --years must lie inside)
REFORM_YEAR = 2025

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
    end = members_end(start, admitted, transferred_in, transferred_out, deceased, expelled, removed)
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


def _plan_communes(rng: np.random.Generator, urban: np.ndarray, n_years: int) -> dict:
    """Pre-reform communes, one trajectory per code: DV values, villages, ratings."""
    n = len(urban)
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
    return {
        "dv": dv,
        "villages": villages,
        "village_members": village_members,
        "village_levels": rating_walks(rng, len(villages.owner), n_years),
        "commune_levels": rating_walks(rng, n, n_years),
        "extra_units": rng.integers(1, 4, n),
    }


def _plan_org_series(rng: np.random.Generator, registry: Registry, years: np.ndarray) -> dict:
    """Non-commune organizations with their members and ratings per year."""
    n_years = len(years)
    orgs = _plan_orgs(rng, registry)
    growth = rng.uniform(-0.005, 0.025, len(orgs))
    noise = rng.uniform(0.97, 1.03, (len(orgs), n_years))
    org_members = np.maximum(
        3,
        np.rint(
            orgs["base"].to_numpy()[:, None] * (1 + growth[:, None]) ** (years - FIRST_YEAR) * noise
        ),
    ).astype(np.int64)
    return {
        "orgs": orgs,
        "org_members": org_members,
        "org_levels": rating_walks(rng, len(orgs), n_years + 1),
        "org_survives_reform": rng.random(len(orgs)) < 0.65,
    }


def _crosswalk_positions(registry: Registry, index: dict, new_index: dict) -> tuple:
    """(crosswalk, old positions, new positions, weights) of the 2025 crosswalk rows whose
    communes both exist (weights split divided communes)."""
    crosswalk = pd.read_csv(
        registry_dir(registry) / "ref_commune_crosswalk_2025.csv",
        dtype=str,
        keep_default_na=False,
    )
    weights = crosswalk["weight"].astype(float).to_numpy()
    old_pos = crosswalk["old_commune_code"].map(index)
    new_pos = crosswalk["new_commune_code"].map(new_index)
    ok = old_pos.notna() & new_pos.notna()
    return (
        crosswalk,
        old_pos[ok].astype(int).to_numpy(),
        new_pos[ok].astype(int).to_numpy(),
        weights[ok.to_numpy()],
    )


def _plan_reform(rng: np.random.Generator, registry: Registry, old: dict) -> dict:
    """2025: post-reform communes from the crosswalk, started from their predecessors."""
    communes = registry.table("commune")
    new = communes[(communes["parent"].str.len() == 2)].sort_values("code")
    codes, new_codes = old["codes"], new["code"].to_numpy()
    index = {c: i for i, c in enumerate(codes)}
    new_index = {c: i for i, c in enumerate(new_codes)}
    crosswalk, old_pos, new_pos, weights = _crosswalk_positions(registry, index, new_index)
    m, dv = len(new_codes), old["dv"]

    def inherit(values: np.ndarray) -> np.ndarray:
        return np.bincount(new_pos, weights=weights * values[old_pos], minlength=m)

    inherited = inherit(dv["members_end"][:, -1])
    inherited_villages = inherit(old["villages"].counts)
    inherited_population = inherit(dv["population"][:, -1])
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
    return {
        "new_codes": new_codes,
        "new_dv": new_dv,
        "new_villages": new_villages,
        "new_village_members": new_village_members,
        "new_village_levels": rating_walks(rng, len(new_villages.owner), 1),
        "new_commune_levels": rating_walks(rng, m, 1),
        "new_extra_units": rng.integers(1, 4, m),
        "predecessors": predecessors,
        "district_new_province": district_new_province,
        "index": index,
        "new_index": new_index,
    }


def plan_universe(registry: Registry, seed: int = DEFAULT_SEED) -> Universe:
    """Every value of every unit for FIRST_YEAR..LAST_YEAR (independent of scale/years).
    The draws happen in a fixed order: communes, organizations, then the reform."""
    rng = np.random.default_rng([seed, 1])
    communes = registry.table("commune")
    old = communes[communes["parent"].str.len() == 3]
    last = old.sort_values("end_key").drop_duplicates("code", keep="last").sort_values("code")
    codes = last["code"].to_numpy()
    urban = last["unit_type"].isin(["Phường", "Thị trấn"]).to_numpy()
    years = np.arange(FIRST_YEAR, LAST_YEAR)
    planned = _plan_communes(rng, urban, LAST_YEAR - FIRST_YEAR)
    organizations = _plan_org_series(rng, registry, years)
    reform = _plan_reform(rng, registry, {"codes": codes, **planned})
    return Universe(years=years, codes=codes, urban=urban, **planned, **organizations, **reform)


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
    frame["code"] = org_codes(frame["district"], frame["org_type"])
    return frame


def org_codes(senders: pd.Series, types: pd.Series) -> list[str]:
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
