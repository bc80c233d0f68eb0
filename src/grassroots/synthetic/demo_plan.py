"""The demo inbox's plan: every value of every submission, before any rendering.

Pure data from a seeded RNG per place (adding a place does not change the others).
Places and years follow the "Seed places" of the shared reference data: 12 communes in
4 districts, 2016-2024 (old rating scale in 2016-2017, the four-level scale from 2018).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import pandas as pd

from grassroots.registry import Registry
from grassroots.synthetic.membership import (
    RatingWalk,
    cap_excellent,
    ct_targets,
    members_end,
    split_members,
)

DEMO_SEED = 20250707
YEARS = tuple(range(2016, 2025))
TERM = "2020-2025"
DISTRICT_COMMUNES: dict[str, tuple[str, ...]] = {
    "183": ("06193", "06211", "06241", "06184"),
    "180": ("06046", "06055", "06010", "06034"),
    "073": ("02317", "02335"),
    "027": ("00808", "00769"),
}
# (joint villages, villages without a branch) per commune: fixed so that the broken
# files always find the rows they need; towns have every group meeting independently.
VILLAGE_MIX: dict[str, tuple[int, int]] = {
    "06193": (1, 0),
    "06211": (0, 1),
    "06241": (2, 1),
    "06184": (0, 0),
    "06046": (1, 0),
    "06055": (1, 1),
    "06010": (0, 1),
    "06034": (1, 0),
    "02317": (1, 1),
    "02335": (2, 0),
    "00808": (2, 1),
    "00769": (0, 0),
}
# Non-commune base organizations per district: (suffix, org_type, name).
DISTRICT_ORGS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "183": (
        ("Q01", "military", "Đảng bộ Quân sự huyện Cao Lộc"),
        ("C01", "police", "Đảng bộ Công an huyện Cao Lộc"),
        ("A01", "agency", "Đảng bộ Cơ quan Chính quyền huyện Cao Lộc"),
        ("S01", "school", "Chi bộ Trường THPT Đồng Đăng"),
    ),
    "180": (
        ("Q01", "military", "Đảng bộ Quân sự huyện Tràng Định"),
        ("C01", "police", "Đảng bộ Công an huyện Tràng Định"),
        ("A01", "agency", "Đảng bộ Khối cơ quan huyện Tràng Định"),
    ),
    "073": (
        ("C01", "police", "Đảng bộ Công an huyện Chiêm Hóa"),
        ("S01", "school", "Chi bộ Trường THPT Chiêm Hóa"),
    ),
    "027": (
        ("Q01", "military", "Đảng bộ Quân sự huyện Mèo Vạc"),
        ("C01", "police", "Đảng bộ Công an huyện Mèo Vạc"),
        ("E01", "enterprise", "Chi bộ Công ty Thủy điện Nho Quế"),
    ),
}
ORG_TYPE_BY_UNIT_TYPE = {"Xã": "commune", "Phường": "ward", "Thị trấn": "town"}
VILLAGE_SYLLABLES = {
    "tay_nung": (
        ("Nà", "Bản", "Khòn", "Pác", "Cốc", "Pò", "Lũng", "Khuổi", "Nặm", "Kéo"),
        ("Pàn", "Slằng", "Luông", "Mạ", "Cáy", "Tẳng", "Lày", "Hẩu", "Phìa", "Rọ", "Sào"),
    ),
    "hmong": (
        ("Sủng", "Lũng", "Tả", "Khâu", "Pả", "Mã", "Xín"),
        ("Pờ", "Chua", "Lủng", "Vai", "Phìn", "Súng", "Cái"),
    ),
}


@dataclass
class Village:
    code: str
    name: str
    status: str
    host: str = ""
    weight: float = 1.0


@dataclass
class CommunePlan:
    code: str
    district: str
    name: str
    unit_type: str
    villages: list[Village]
    dv: dict[int, dict] = field(default_factory=dict)
    cb: dict[int, list[dict]] = field(default_factory=dict)
    tc_extra_units: int = 1
    ct: list[dict] = field(default_factory=list)


def seeded_rng(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512 by random.seed: stable across runs/processes.
    return random.Random("-".join(str(p) for p in (DEMO_SEED, *parts)))


def _village_names(rng: random.Random, commune: CommunePlan, count: int) -> list[str]:
    if commune.unit_type == "Thị trấn":
        prefix = "Khu" if commune.district != "027" else "Tổ dân phố"
        return [f"{prefix} {i}" for i in range(1, count + 1)]
    first, second = VILLAGE_SYLLABLES["hmong" if commune.district == "027" else "tay_nung"]
    names: list[str] = []
    while len(names) < count:
        name = f"Thôn {rng.choice(first)} {rng.choice(second)}"
        if name not in names:
            names.append(name)
    return names


def _plan_villages(commune: CommunePlan) -> None:
    rng = seeded_rng("villages", commune.code)
    count = rng.randint(5, 12)
    n_joint, n_none = VILLAGE_MIX[commune.code]
    names = _village_names(rng, commune, count)
    statuses = ["independent"] * (count - n_joint - n_none) + ["joint"] * n_joint
    statuses += ["none"] * n_none
    # Joint and branchless villages are the small remote ones at the end of the list;
    # shuffle the order a little so they are not always last.
    order = list(range(count))
    rng.shuffle(order)
    villages = [
        Village(
            code=f"{commune.code}-{position + 1:03d}",
            name=names[position],
            status=statuses[rank],
            weight=rng.uniform(0.6, 1.6),
        )
        for rank, position in enumerate(order)
    ]
    villages.sort(key=lambda v: v.code)
    independent = [v.code for v in villages if v.status == "independent"]
    for village in villages:
        if village.status == "joint":
            village.host = rng.choice(independent)
    commune.villages = villages


def _plan_membership(commune: CommunePlan) -> None:
    rng = seeded_rng("members", commune.code)
    is_town = commune.unit_type == "Thị trấn"
    members = rng.randint(420, 900) if is_town else rng.randint(160, 520)
    population = min(17_500, max(5_200, int(members * rng.uniform(22, 34))))
    previous_admitted = round(members * 0.03)
    for year in YEARS:
        start = members
        admitted = max(1, round(start * rng.uniform(0.02, 0.05)))
        transferred_in = rng.randint(0, math.ceil(start * 0.02))
        transferred_out = rng.randint(0, math.ceil(start * 0.015))
        deceased = round(start * rng.uniform(0.004, 0.014))
        expelled = 1 if rng.random() < 0.06 else 0
        removed = rng.randint(0, 2)
        end = members_end(
            start, admitted, transferred_in, transferred_out, deceased, expelled, removed
        )
        # Probation lasts 12 months: this year's admissions plus some of last year's.
        probationary = min(end, admitted + round(previous_admitted * rng.uniform(0.1, 0.4)))
        population = int(population * rng.uniform(1.003, 1.014))
        commune.dv[year] = {
            "report_year": year,
            "commune_code": commune.code,
            "population": population,
            "members_start": start,
            "admitted": admitted,
            "transferred_in": transferred_in,
            "transferred_out": transferred_out,
            "deceased": deceased,
            "expelled": expelled,
            "removed": removed,
            "members_end": end,
            "probationary_end": probationary,
        }
        members, previous_admitted = end, admitted


def _plan_branches(commune: CommunePlan) -> None:
    rng = seeded_rng("branches", commune.code)
    commune.tc_extra_units = rng.randint(1, 3)
    walks = {v.code: RatingWalk(rng) for v in commune.villages if v.status == "independent"}
    for year in YEARS:
        split = split_members(
            commune.dv[year]["members_end"],
            [v.status for v in commune.villages],
            [v.weight for v in commune.villages],
            rng,
        )
        commune.cb[year] = [
            {
                "report_year": year,
                "commune_code": commune.code,
                "village_code": village.code,
                "village_name": village.name,
                "branch_status": village.status,
                "host_village_code": village.host,
                "members": members,
                "branch_rating": walks[village.code].next(year) if village.code in walks else "",
            }
            for village, members in zip(commune.villages, split, strict=True)
        ]


def _plan_targets(commune: CommunePlan) -> None:
    independent = sum(v.status == "independent" for v in commune.villages)
    commune.ct = ct_targets(
        seeded_rng("targets", commune.code),
        TERM,
        commune.code,
        commune.dv[2019]["members_end"],
        independent,
        len(commune.villages),
    )


def _plan_tc(district: str, communes: list[CommunePlan]) -> dict[int, list[dict]]:
    """TC rows per year for one district: its reported communes plus its other orgs."""
    rng = seeded_rng("tc", district)
    commune_walks = {c.code: RatingWalk(rng) for c in communes}
    org_walks = {suffix: RatingWalk(rng) for suffix, _type, _name in DISTRICT_ORGS[district]}
    by_year: dict[int, list[dict]] = {}
    for year in YEARS:
        rows: list[dict] = []
        for commune in communes:
            independent = sum(r["branch_status"] == "independent" for r in commune.cb[year])
            rows.append(
                {
                    "report_year": year,
                    "district_code": district,
                    "org_code": commune.code,
                    "org_name": f"Đảng bộ {commune.name}",
                    "org_type": ORG_TYPE_BY_UNIT_TYPE[commune.unit_type],
                    "members": commune.dv[year]["members_end"],
                    "subordinate_units": independent + commune.tc_extra_units,
                    "rating": commune_walks[commune.code].next(year),
                    "rating_points": "",
                }
            )
        for suffix, org_type, name in DISTRICT_ORGS[district]:
            org_rng = seeded_rng("org", district, suffix)
            base_members = org_rng.randint(14, 85)
            growth = org_rng.uniform(0.0, 0.03)
            rows.append(
                {
                    "report_year": year,
                    "district_code": district,
                    "org_code": f"{district}-{suffix}",
                    "org_name": name,
                    "org_type": org_type,
                    "members": round(base_members * (1 + growth) ** (year - YEARS[0])),
                    "subordinate_units": org_rng.randint(1, 6),
                    "rating": org_walks[suffix].next(year),
                    "rating_points": "",
                }
            )
        if year >= 2018:
            walks = [*commune_walks.values(), *org_walks.values()]
            capped = cap_excellent([r["rating"] for r in rows])
            for row, rating, walk in zip(rows, capped, walks, strict=True):
                row["rating"] = rating
                walk.override(rating)
        by_year[year] = rows
    return by_year


def plan_demo(registry: Registry) -> tuple[dict[str, CommunePlan], dict[tuple[str, int], list]]:
    """Every commune's plan and every district-year's TC rows (no files yet)."""
    communes: dict[str, CommunePlan] = {}
    for district, codes in DISTRICT_COMMUNES.items():
        for code in codes:
            for year in YEARS:  # the demo must only use units valid in the registry
                ok = registry.commune_belongs_to(
                    pd.Series([code]), pd.Series([year]), pd.Series([district])
                )
                if not ok.iloc[0]:
                    raise ValueError(f"registry: {code} is not under {district} in {year}")
            commune = CommunePlan(
                code=code,
                district=district,
                name=registry.name("commune", code, YEARS[-1]) or code,
                unit_type=registry.unit_type("commune", code, YEARS[-1]) or "Xã",
                villages=[],
            )
            _plan_villages(commune)
            _plan_membership(commune)
            _plan_branches(commune)
            _plan_targets(commune)
            communes[code] = commune
    tc = {
        (district, year): rows
        for district, codes in DISTRICT_COMMUNES.items()
        for year, rows in _plan_tc(district, [communes[c] for c in codes]).items()
    }
    return communes, tc
