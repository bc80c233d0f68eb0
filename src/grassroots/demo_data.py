"""Deterministic demo inbox: plausible submissions plus one broken file per error kind.

`write_demo_inbox` first plans every value (pure data, seeded RNG per place, so adding a
place does not change the others), then renders each submission in one of the styles
staff really send: canonical English headers, Vietnamese labels, Vietnamese without
diacritics; CSV (a few with BOM or CRLF) or XLSX (about 1 in 5); Vietnamese number
formatting (`12.345`) in the Vietnamese styles. Running it twice gives byte-identical
files (XLSX included: zip timestamps and document properties are pinned).

Places and years follow the "Seed places" of the shared reference data: 12 communes in
4 districts, 2016-2024 (old rating scale in 2016-2017, the four-level scale from 2018).

File names are informative only (the pipeline must never trust them); two good files
carry deliberately odd or misleading names. Broken files are named `broken_<rule>_...`
and each carries exactly one defect; tests/e2e/demo_expectations.py lists them.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from grassroots.forms import (
    BASIS,
    BRANCH_STATUS,
    DIRECTION,
    FORMS,
    ORG_TYPES,
    RATINGS_BEFORE_2018,
    RATINGS_FROM_2018,
    Form,
)
from grassroots.registry import Registry

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
# Rating scales, best first; the same level means the same step on either scale.
OLD_SCALE = ("clean_strong", "good", "completed", "weak")
NEW_SCALE = ("excellent", "good", "completed", "not_completed")
FIRST_LEVEL_WEIGHTS = (15, 55, 25, 5)
# Yearly move (up one, stay, down one) per level: pulled back towards "good".
LEVEL_MOVES = {0: (0, 65, 35), 1: (12, 73, 15), 2: (35, 60, 5), 3: (60, 40, 0)}
FIXED_TIMESTAMP = datetime(2025, 1, 1)
XLSX_SHEET = "Biểu"

STYLES = ("en", "vi", "ascii")
_MODIFIED_STAMP = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


# --- plan: every value, before any rendering -----------------------------------------


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


def _rng(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512 by random.seed: stable across runs/processes.
    return random.Random("-".join(str(p) for p in (DEMO_SEED, *parts)))


class RatingWalk:
    """One unit's yearly ratings: at most one step a year (two steps would raise P4)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.level: int | None = None

    def next(self, year: int) -> str:
        if self.level is None:
            self.level = self.rng.choices(range(4), weights=FIRST_LEVEL_WEIGHTS)[0]
        else:
            move = self.rng.choices((-1, 0, 1), weights=LEVEL_MOVES[self.level])[0]
            self.level += move
        return (OLD_SCALE if year < 2018 else NEW_SCALE)[self.level]

    def override(self, rating: str) -> None:
        scale = OLD_SCALE if rating in OLD_SCALE else NEW_SCALE
        self.level = scale.index(rating)


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
    rng = _rng("villages", commune.code)
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


def _split_members(total: int, villages: list[Village], rng: random.Random) -> list[int]:
    """Members per village summing exactly to total: none 0, joint 1-2, independent >= 3."""
    members = [0] * len(villages)
    for i, village in enumerate(villages):
        if village.status == "joint":
            members[i] = rng.randint(1, 2)
    independent = [i for i, v in enumerate(villages) if v.status == "independent"]
    remaining = total - sum(members) - 3 * len(independent)
    weights = [villages[i].weight * rng.uniform(0.95, 1.05) for i in independent]
    shares = [remaining * w / sum(weights) for w in weights]
    floors = [math.floor(s) for s in shares]
    # Largest remainder: the rounding goes to the villages with the biggest fractions.
    leftovers = remaining - sum(floors)
    by_fraction = sorted(range(len(shares)), key=lambda k: (floors[k] - shares[k], k))
    for k in by_fraction[:leftovers]:
        floors[k] += 1
    for k, i in enumerate(independent):
        members[i] = 3 + floors[k]
    return members


def _plan_membership(commune: CommunePlan) -> None:
    rng = _rng("members", commune.code)
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
        end = start + admitted + transferred_in - transferred_out - deceased - expelled - removed
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
    rng = _rng("branches", commune.code)
    commune.tc_extra_units = rng.randint(1, 3)
    walks = {v.code: RatingWalk(rng) for v in commune.villages if v.status == "independent"}
    for year in YEARS:
        split = _split_members(commune.dv[year]["members_end"], commune.villages, rng)
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
    rng = _rng("targets", commune.code)
    base = commune.dv[2019]["members_end"]
    per_year_admissions = max(3, round(base * rng.uniform(0.025, 0.035)))
    villages = len(commune.villages)
    independent = sum(v.status == "independent" for v in commune.villages)
    ratio_target = math.floor(independent / villages * 100 / 2.5) * 2.5  # e.g. 87.5
    targets = [
        ("admissions", per_year_admissions, "per_year", "at_least"),
        ("admissions", per_year_admissions * 5, "term_total", "at_least"),
        ("independent_branch_ratio_pct", ratio_target, "per_year", "at_least"),
        ("members_total", round(base * rng.uniform(1.05, 1.10)), "term_total", "at_least"),
        ("villages_without_branch", 0, "per_year", "at_most"),
    ]
    commune.ct = [
        {
            "term": TERM,
            "unit_code": commune.code,
            "indicator_code": code,
            "target_value": value,
            "basis": basis,
            "direction": direction,
        }
        for code, value, basis, direction in targets
    ]


def _cap_excellent(ratings: list[str]) -> list[str]:
    """Excellent ratings at most 20 % of those rated good or above (district rule)."""
    good_or_above = sum(r in ("excellent", "good") for r in ratings)
    allowed = math.floor(0.2 * good_or_above)
    capped: list[str] = []
    for rating in ratings:
        if rating == "excellent":
            if allowed > 0:
                allowed -= 1
            else:
                rating = "good"
        capped.append(rating)
    return capped


def _plan_tc(district: str, communes: list[CommunePlan]) -> dict[int, list[dict]]:
    """TC rows per year for one district: its reported communes plus its other orgs."""
    rng = _rng("tc", district)
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
            org_rng = _rng("org", district, suffix)
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
            capped = _cap_excellent([r["rating"] for r in rows])
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


# --- rendering ---------------------------------------------------------------------


def _ascii(text: str) -> str:
    """Vietnamese without tone marks, case kept: 'Số đảng viên' -> 'So dang vien'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _vn_thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _vn_decimal(number: float) -> str:
    text = f"{number:g}"
    return text.replace(".", ",")


@dataclass(frozen=True)
class Style:
    language: str = "en"  # en | vi | ascii
    xlsx: bool = False
    bom: bool = False
    crlf: bool = False
    with_optional_points: bool = True  # TC rating_points column (empty) present


def _header(form: Form, name: str, language: str) -> str:
    if language == "en":
        return name
    label = form.column(name).label_vi
    return label if language == "vi" else _ascii(label)


_ENUM_LABELS = {
    "branch_status": BRANCH_STATUS,
    "org_type": ORG_TYPES,
    "basis": BASIS,
    "direction": DIRECTION,
}


def _render_value(form: Form, name: str, value: object, style: Style) -> object:
    """A planned value as this style writes it (XLSX keeps numbers numeric)."""
    if value == "" or value is None:
        return ""
    kind = form.column(name).kind
    language = style.language
    if kind == "rating":
        scale = {**RATINGS_BEFORE_2018, **RATINGS_FROM_2018}
        if language == "en" or value not in scale:
            return value
        text_vi, abbreviation = scale[value]
        return text_vi if language == "vi" else abbreviation
    if kind == "enum" and name in _ENUM_LABELS and language != "en":
        labels = _ENUM_LABELS[name].get(str(value))
        if labels:
            return labels[0] if language == "vi" else _ascii(labels[0])
        return value
    if kind in ("int", "number") and isinstance(value, (int, float)):
        if style.xlsx:
            return value
        if language != "en" and isinstance(value, int) and name == "population":
            return _vn_thousands(value)
        if language != "en" and isinstance(value, float) and not value.is_integer():
            return _vn_decimal(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return str(value)


def _columns_for(form: Form, style: Style) -> list[str]:
    columns = form.column_names
    if form.code == "TC" and not style.with_optional_points:
        columns = [c for c in columns if c != "rating_points"]
    return columns


def render_table(
    form: Form, rows: list[dict], style: Style, drop: tuple[str, ...] = ()
) -> tuple[list[str], list[list[object]]]:
    columns = [c for c in _columns_for(form, style) if c not in drop]
    header = [_header(form, c, style.language) for c in columns]
    body = [[_render_value(form, c, row.get(c, ""), style) for c in columns] for row in rows]
    return header, body


def _csv_bytes(header: list[str], body: list[list[object]], style: Style) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if style.crlf else "\n")
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue().encode("utf-8-sig" if style.bom else "utf-8")


def _xlsx_bytes(header: list[str], body: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = XLSX_SHEET
    sheet.append(header)
    for row in body:
        sheet.append([None if v == "" else v for v in row])
    # Codes are text cells (leading zeros survive); mark them as text for Excel too.
    for column_cells in sheet.iter_cols(min_row=2):
        for cell in column_cells:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    workbook.properties.creator = "grassroots demo"
    workbook.properties.created = FIXED_TIMESTAMP
    workbook.properties.modified = FIXED_TIMESTAMP
    raw = io.BytesIO()
    workbook.save(raw)
    return _pin_zip_timestamps(raw.getvalue())


def _pin_zip_timestamps(data: bytes) -> bytes:
    """Rewrite the zip with fixed entry times so identical content gives identical bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            pinned = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = info.external_attr
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" at save
                content = _MODIFIED_STAMP.sub(
                    rb"\g<1>" + FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    content,
                )
            target.writestr(pinned, content)
    return target_buffer.getvalue()


def _write(
    out_dir: Path,
    file_name: str,
    form: Form,
    rows: list[dict],
    style: Style,
    drop: tuple[str, ...] = (),
) -> Path:
    header, body = render_table(form, rows, style, drop)
    data = _xlsx_bytes(header, body) if style.xlsx else _csv_bytes(header, body, style)
    path = out_dir / file_name
    path.write_bytes(data)
    return path


def _pick_style(rng: random.Random) -> Style:
    return Style(
        language=rng.choice(STYLES),
        xlsx=rng.random() < 0.2,
        bom=rng.random() < 0.12,
        crlf=rng.random() < 0.1,
        with_optional_points=rng.random() < 0.5,
    )


# Good files whose names are deliberately odd or misleading (form, unit, year) -> name.
ODD_NAMES = {
    ("CB", "06055", 2019): "Báo cáo chi bộ thôn (bản cuối) - Copy.csv",
    ("DV", "02335", 2018): "DV_02317_2015.csv",
}


def _good_name(form: str, unit: str, period: object, style: Style) -> str:
    odd = ODD_NAMES.get((form, unit, period))
    if odd:
        return odd
    return f"{form}_{unit}_{period}.{'xlsx' if style.xlsx else 'csv'}"


def _odd_style(style: Style, name: str) -> Style:
    # An odd name fixes its extension; keep the style consistent with it.
    return Style(
        language=style.language,
        xlsx=name.endswith(".xlsx"),
        bom=style.bom,
        crlf=style.crlf,
        with_optional_points=style.with_optional_points,
    )


def _write_good_files(
    out_dir: Path, communes: dict[str, CommunePlan], tc: dict[tuple[str, int], list]
) -> list[Path]:
    rng = _rng("styles")
    written: list[Path] = []
    for commune in communes.values():
        for year in YEARS:
            for form_code, rows in (("CB", commune.cb[year]), ("DV", [commune.dv[year]])):
                style = _pick_style(rng)
                name = _good_name(form_code, commune.code, year, style)
                style = _odd_style(style, name)
                written.append(_write(out_dir, name, FORMS[form_code], rows, style))
        style = _pick_style(rng)
        name = _good_name("CT", commune.code, TERM, style)
        written.append(_write(out_dir, name, FORMS["CT"], commune.ct, style))
    for (district, year), rows in tc.items():
        style = _pick_style(rng)
        written.append(
            _write(out_dir, _good_name("TC", district, year, style), FORMS["TC"], rows, style)
        )
    return written


# --- broken files: exactly one defect each -------------------------------------------


def _copy_rows(rows: list[dict]) -> list[dict]:
    return [dict(row) for row in rows]


def _hosts(rows: list[dict]) -> set[str]:
    return {r["host_village_code"] for r in rows if r["host_village_code"]}


def _plain_independent(rows: list[dict]) -> list[int]:
    """Indexes of independent villages that host nobody (safe to alter alone)."""
    hosts = _hosts(rows)
    return [
        i
        for i, r in enumerate(rows)
        if r["branch_status"] == "independent" and r["village_code"] not in hosts
    ]


def _largest_other_independent(rows: list[dict], exclude: int) -> int:
    candidates = [
        i for i, r in enumerate(rows) if r["branch_status"] == "independent" and i != exclude
    ]
    return max(candidates, key=lambda i: (rows[i]["members"], -i))


@dataclass(frozen=True)
class BrokenFile:
    name: str
    form: str
    rows: list[dict]
    # (rule id, staff row, column): header = row 1, first data row = 2; None = file level.
    expected: tuple[str, int | None, str | None]
    style: Style = Style("en")
    drop: tuple[str, ...] = ()


def broken_files(
    communes: dict[str, CommunePlan], tc: dict[tuple[str, int], list]
) -> list[BrokenFile]:
    """One file per error kind, each a copy of a good submission with exactly one defect."""
    vietnamese = Style("vi", with_optional_points=False)
    files = [
        BrokenFile(
            "broken_S1_DV_missing_admitted.csv",
            "DV",
            [communes["06193"].dv[2020]],
            ("S1", None, "admitted"),
            drop=("admitted",),
        ),
        BrokenFile(
            "broken_S2_DV_members_end_not_a_number.csv",
            "DV",
            [dict(communes["06211"].dv[2021], members_end="abc")],
            ("S2", 2, "members_end"),
        ),
    ]

    cb = _copy_rows(communes["06241"].cb[2019])
    target = _plain_independent(cb)[0]
    cb[target]["branch_status"] = "sometimes"
    files.append(
        BrokenFile("broken_S3_CB_unknown_status.csv", "CB", cb, ("S3", target + 2, "branch_status"))
    )

    tc_rows = _copy_rows(tc[("183", 2022)])
    target = next(i for i, r in enumerate(tc_rows) if r["rating"] == "good")
    tc_rows[target]["rating"] = "clean_strong"  # old scale, in a four-level-scale year
    files.append(
        BrokenFile(
            "broken_S3b_TC_old_scale_rating_2022.csv", "TC", tc_rows, ("S3", target + 2, "rating")
        )
    )

    two = [communes["06046"].dv[2022], communes["06055"].dv[2022]]
    files.append(
        BrokenFile(
            "broken_S4_DV_two_communes.csv", "DV", two, ("S4", None, "commune_code"), vietnamese
        )
    )

    future = dict(communes["06010"].dv[2024], report_year=2031)
    files.append(BrokenFile("broken_S5_DV_year_2031.csv", "DV", [future], ("S5", 2, "report_year")))

    # Unknown commune: the villages carry the same unknown prefix, so the only defect
    # is the commune code itself.
    unknown = []
    for row in communes["06034"].cb[2023]:
        row = dict(row, commune_code="99999")
        row["village_code"] = row["village_code"].replace("06034", "99999")
        row["host_village_code"] = row["host_village_code"].replace("06034", "99999")
        unknown.append(row)
    files.append(
        BrokenFile(
            "broken_S6_CB_unknown_commune_99999.csv", "CB", unknown, ("S6", 2, "commune_code")
        )
    )

    cb = _copy_rows(communes["02317"].cb[2021])
    first, second = _plain_independent(cb)[:2]
    cb[second]["village_code"] = cb[first]["village_code"]
    files.append(
        BrokenFile(
            "broken_S7_CB_duplicate_village.csv",
            "CB",
            cb,
            ("S7", second + 2, "village_code"),
            vietnamese,
        )
    )

    files.append(BrokenFile("broken_S8_CB_header_only.csv", "CB", [], ("S8", None, None)))

    dv = dict(communes["00769"].dv[2019])
    dv["members_end"] += 5
    files.append(
        BrokenFile("broken_C1_DV_identity_off_by_5.csv", "DV", [dv], ("C1", 2, "members_end"))
    )

    dv = dict(communes["06184"].dv[2020])
    dv["probationary_end"] = dv["members_end"] + 3
    files.append(
        BrokenFile(
            "broken_C2_DV_probationary_above_members.csv", "DV", [dv], ("C2", 2, "probationary_end")
        )
    )

    cb = _copy_rows(communes["06241"].cb[2018])
    target = next(i for i, r in enumerate(cb) if r["branch_status"] == "joint")
    cb[target]["host_village_code"] = ""
    files.append(
        BrokenFile(
            "broken_C3_CB_joint_without_host.csv", "CB", cb, ("C3", target + 2, "host_village_code")
        )
    )

    # C4/C5 move members between villages so the CB total still equals DV (no X1 noise).
    cb = _copy_rows(communes["06010"].cb[2017])
    target = next(i for i, r in enumerate(cb) if r["branch_status"] == "none")
    donor = _largest_other_independent(cb, target)
    cb[target]["members"], cb[donor]["members"] = 4, cb[donor]["members"] - 4
    files.append(
        BrokenFile(
            "broken_C4_CB_no_branch_with_members.csv", "CB", cb, ("C4", target + 2, "members")
        )
    )

    cb = _copy_rows(communes["06034"].cb[2016])
    target = _plain_independent(cb)[0]
    receiver = _largest_other_independent(cb, target)
    cb[receiver]["members"] += cb[target]["members"] - 2
    cb[target]["members"] = 2
    files.append(
        BrokenFile(
            "broken_C5_CB_independent_two_members.csv", "CB", cb, ("C5", target + 2, "members")
        )
    )
    return files


def write_demo_inbox(out_dir: Path, registry: Registry) -> list[Path]:
    """Write the demo submissions (good and broken) into out_dir; return their paths.

    Files already in out_dir are left alone (names are fixed, so a rerun overwrites).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    communes, tc = plan_demo(registry)
    written = _write_good_files(out_dir, communes, tc)
    for broken in broken_files(communes, tc):
        written.append(
            _write(out_dir, broken.name, FORMS[broken.form], broken.rows, broken.style, broken.drop)
        )
    return sorted(written)


def expected_quarantine(registry: Registry) -> dict[str, tuple[str, int | None, str | None]]:
    """File name -> (rule, staff row, column) of the single defect in each broken file."""
    communes, tc = plan_demo(registry)
    return {broken.name: broken.expected for broken in broken_files(communes, tc)}
