"""Build the unit registry seeds (seeds/registry/) from the register extract in
seeds/registry-sources/.

Inputs:
- the extract of the national statistics office's registry (vn_provinces.csv,
  vn_districts.csv, vn_communes.csv; see its README), copied through unchanged apart
  from NFC normalization and a fixed column order;
- the `vietnamadminunits` package (pinned 1.0.4), which holds the lists before and after
  the 1 July 2025 reform and the conversion between them. From it we build
  ref_commune_crosswalk_2025.csv.

Conventions of every output file: UTF-8 without BOM, `\\n` line ends, codes as text with
their leading zeros, ISO dates, an empty cell is null. An empty `valid_from` means "in the
registry's initial list (before about 2004)", not a founding date; an empty `valid_to`
means "still valid". Both ends are inclusive.

Crosswalk weights. The package lists, for each old commune that was divided, the new
communes that received a part of it, with the area of each *new* commune (it does not
hold the area of the parts themselves, nor any old commune's area). The `area` weight of
a divided old commune is therefore the receiving new commune's area over the sum of the
areas of all new communes that received a part of that old commune: a documented proxy
for "share of the old commune's area". Weights are rounded to 6 decimals and the largest
one absorbs the rounding, so the weights of one old commune sum to exactly 1. An old
commune that went whole into one new commune has weight 1 and basis `whole`.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import unicodedata
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path

import pandas as pd

PROVINCE_COLUMNS = ["code", "name", "unit_type", "valid_from", "valid_to"]
DISTRICT_COLUMNS = ["code", "name", "unit_type", "province_code", "valid_from", "valid_to"]
COMMUNE_COLUMNS = ["code", "name", "unit_type", "parent_code", "valid_from", "valid_to"]
CROSSWALK_COLUMNS = [
    "old_commune_code",
    "old_commune_name",
    "old_district_code",
    "old_province_code",
    "new_commune_code",
    "new_commune_name",
    "new_province_code",
    "is_whole",
    "weight",
    "weight_basis",
]

LAST_DAY_BEFORE_REFORM = "2025-06-30"
REFORM_DATE = "2025-07-01"
WEIGHT_QUANTUM = Decimal("0.000001")

OUTPUT_FILES = {
    "ref_provinces.csv": ("vn_provinces.csv", PROVINCE_COLUMNS),
    "ref_districts.csv": ("vn_districts.csv", DISTRICT_COLUMNS),
    "ref_communes.csv": ("vn_communes.csv", COMMUNE_COLUMNS),
}


def read_text_csv(path: Path) -> pd.DataFrame:
    """Every cell as text; empty stays empty (never NaN), so codes keep leading zeros."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return frame.map(lambda value: unicodedata.normalize("NFC", value.strip()))


def write_text_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(
        path, index=False, encoding="utf-8", lineterminator="\n", quoting=csv.QUOTE_MINIMAL
    )


def valid_on(frame: pd.DataFrame, day: str) -> pd.Series:
    """Rows whose [valid_from, valid_to] contains the ISO date `day` (empty = open end)."""
    starts_ok = (frame["valid_from"] == "") | (frame["valid_from"] <= day)
    ends_ok = (frame["valid_to"] == "") | (frame["valid_to"] >= day)
    return starts_ok & ends_ok


# --- crosswalk from vietnamadminunits ------------------------------------------------


def _package_data_file(name: str) -> Path:
    return Path(str(resources.files("vietnamadminunits") / "data" / name))


def _read_package_tables() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(old communes keyed by province_district_ward key, new communes, conversion dict)."""
    with sqlite3.connect(_package_data_file("dataset.db")) as connection:
        old_units = pd.read_sql(
            "select provinceKey, districtKey, wardKey, wardCode, districtCode, provinceCode "
            "from admin_units_legacy",
            connection,
        )
        new_units = pd.read_sql(
            "select provinceKey, wardKey, wardCode, provinceCode, wardAreaKm2 from admin_units",
            connection,
        )
    conversion = json.loads(_package_data_file("converter_2025.json").read_text("utf-8"))
    # The converter's key for an old commune: "<province key>_<district key>_<ward key>".
    old_units["old_key"] = (
        old_units["provinceKey"]
        + "_"
        + old_units["districtKey"]
        + "_"
        + old_units["wardKey"].fillna("")
    )
    return old_units, new_units, conversion


def _links_from_package(conversion: dict) -> pd.DataFrame:
    """One row per (old key, new province key, new ward key) link, with the new ward's area."""
    links: list[dict] = []
    for new_province_key, new_wards in conversion["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward_key, old_keys in new_wards.items():
            for old_key in old_keys:
                links.append(
                    {
                        "old_key": old_key,
                        "new_province_key": new_province_key,
                        "new_ward_key": new_ward_key,
                        "divided": False,
                        "new_area_km2": None,
                    }
                )
    for new_province_key, divided in conversion["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in divided.items():
            for part in parts:
                links.append(
                    {
                        "old_key": old_key,
                        "new_province_key": new_province_key,
                        "new_ward_key": part["newWardKey"],
                        "divided": True,
                        "new_area_km2": part["newWardAreaKm2"],
                    }
                )
    return pd.DataFrame(links)


def _area_weights(areas: list[float]) -> list[Decimal]:
    """Area shares rounded to 6 decimals; the largest share absorbs the rounding."""
    total = sum(areas)
    if total <= 0:  # no usable area: split evenly rather than divide by zero
        areas, total = [1.0] * len(areas), float(len(areas))
    shares = [
        (Decimal(repr(area)) / Decimal(repr(total))).quantize(WEIGHT_QUANTUM, ROUND_HALF_EVEN)
        for area in areas
    ]
    largest = max(range(len(shares)), key=lambda i: (areas[i], -i))
    shares[largest] = Decimal(1) - (sum(shares) - shares[largest])
    return shares


def build_crosswalk(communes: pd.DataFrame, districts: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The 2025 old->new commune crosswalk and a coverage report."""
    old_units, new_units, conversion = _read_package_tables()
    links, dropped = _coded_links(old_units, new_units, _links_from_package(conversion))
    old_registry, new_registry = _registries_around_reform(communes, districts)
    crosswalk = links.merge(
        old_registry[
            ["old_commune_code", "old_commune_name", "old_district_code", "old_province_code"]
        ],
        on="old_commune_code",
        how="inner",
    ).merge(
        new_registry[["new_commune_code", "new_commune_name", "new_province_code"]],
        on="new_commune_code",
        how="inner",
    )
    crosswalk = _weighted(crosswalk)

    old_codes = set(old_registry["old_commune_code"])
    new_codes = set(new_registry["new_commune_code"])
    mapped_old = set(crosswalk["old_commune_code"])
    mapped_new = set(crosswalk["new_commune_code"])
    parents = old_units.dropna(subset=["wardCode"]).merge(
        old_registry, left_on="wardCode", right_on="old_commune_code"
    )
    parent_mismatch = sorted(
        parents.loc[parents["districtCode"] != parents["old_district_code"], "wardCode"]
    )
    report = {
        "old_communes_in_registry": len(old_codes),
        "old_communes_mapped": len(mapped_old & old_codes),
        "old_communes_unmapped": sorted(old_codes - mapped_old),
        "new_communes_in_registry": len(new_codes),
        "new_communes_reached": len(mapped_new & new_codes),
        "new_communes_unreached": sorted(new_codes - mapped_new),
        "divided_old_communes": int(
            (crosswalk["weight_basis"] == "area").groupby(crosswalk["old_commune_code"]).any().sum()
        ),
        **dropped,
        "package_vs_registry_district_mismatch": parent_mismatch,
    }
    return crosswalk, report


def _coded_links(
    old_units: pd.DataFrame, new_units: pd.DataFrame, links: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """The package's links with old and new commune codes, and what had to be dropped."""
    links = links.merge(old_units[["old_key", "wardCode"]], on="old_key", how="left")
    links = links.rename(columns={"wardCode": "old_commune_code"})
    new_keys = new_units.rename(
        columns={
            "provinceKey": "new_province_key",
            "wardKey": "new_ward_key",
            "wardCode": "new_commune_code",
        }
    )[["new_province_key", "new_ward_key", "new_commune_code"]]
    links = links.merge(new_keys, on=["new_province_key", "new_ward_key"], how="left")

    # Island districts without communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo)
    # appear as old keys with an empty ward: they are not communes and have no code.
    without_old_code = links[links["old_commune_code"].isna()]
    without_new_code = links[links["new_commune_code"].isna()]
    links = links.dropna(subset=["old_commune_code", "new_commune_code"])
    # An old commune listed as both whole and divided would be ambiguous; keep the divided
    # links (they carry the area) and report it.
    divided_codes = set(links.loc[links["divided"], "old_commune_code"])
    both = links[~links["divided"] & links["old_commune_code"].isin(divided_codes)]
    links = links[~(~links["divided"] & links["old_commune_code"].isin(divided_codes))]
    links = links.drop_duplicates(["old_commune_code", "new_commune_code"])
    dropped = {
        "package_links_without_old_code": sorted(without_old_code["old_key"].unique()),
        "package_links_without_new_code": len(without_new_code),
        "old_listed_whole_and_divided": sorted(both["old_commune_code"].unique()),
    }
    return links, dropped


def _registries_around_reform(
    communes: pd.DataFrame, districts: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The communes of the day before the reform (with their province) and of the day of it."""
    old_registry = communes[valid_on(communes, LAST_DAY_BEFORE_REFORM)]
    new_registry = communes[valid_on(communes, REFORM_DATE)]
    # Codes 447/850/936 have two overlapping rows (source gap 4), both in the same province:
    # one row per (district, province) keeps the join one-to-one.
    district_registry = districts[valid_on(districts, LAST_DAY_BEFORE_REFORM)].drop_duplicates(
        ["code", "province_code"]
    )
    if district_registry["code"].duplicated().any():
        raise ValueError("a district code lies in two provinces on 2025-06-30")
    old_registry = old_registry.merge(
        district_registry[["code", "province_code"]].rename(
            columns={"code": "parent_code", "province_code": "old_province_code"}
        ),
        on="parent_code",
        how="left",
    ).rename(
        columns={
            "code": "old_commune_code",
            "name": "old_commune_name",
            "parent_code": "old_district_code",
        }
    )
    new_registry = new_registry.rename(
        columns={
            "code": "new_commune_code",
            "name": "new_commune_name",
            "parent_code": "new_province_code",
        }
    )
    return old_registry, new_registry


def _weighted(crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Whole communes weigh 1; a divided one's parts share it by area."""
    parts_per_old = crosswalk.groupby("old_commune_code")["new_commune_code"].transform("size")
    crosswalk["is_whole"] = parts_per_old == 1
    crosswalk = crosswalk.sort_values(["old_commune_code", "new_commune_code"], kind="stable")
    weights: list[Decimal] = []
    for _, group in crosswalk.groupby("old_commune_code", sort=False):
        if len(group) == 1:
            weights.append(Decimal(1))
        else:
            weights.extend(_area_weights(group["new_area_km2"].astype(float).tolist()))
    crosswalk["weight"] = [f"{w.quantize(WEIGHT_QUANTUM)}" for w in weights]
    crosswalk["weight_basis"] = crosswalk["is_whole"].map({True: "whole", False: "area"})
    crosswalk["is_whole"] = crosswalk["is_whole"].map({True: "true", False: "false"})
    return crosswalk[CROSSWALK_COLUMNS].reset_index(drop=True)


def build_registry(sources_dir: Path, out_dir: Path, report: dict | None = None) -> dict[str, int]:
    """Write the registry seeds into out_dir; return the data row count of each file.

    If `report` is given, it is filled with the crosswalk coverage report (for the CLI).
    """
    sources_dir, out_dir = Path(sources_dir), Path(out_dir)
    counts: dict[str, int] = {}
    tables: dict[str, pd.DataFrame] = {}
    for out_name, (source_name, columns) in OUTPUT_FILES.items():
        frame = read_text_csv(sources_dir / source_name)
        missing = set(columns) - set(frame.columns)
        if missing:
            raise ValueError(f"{source_name}: missing columns {sorted(missing)}")
        frame = frame[columns].sort_values(["code", "valid_from"], kind="stable")
        if frame.duplicated(["code", "valid_from"]).any():
            raise ValueError(f"{source_name}: duplicate (code, valid_from)")
        write_text_csv(frame, out_dir / out_name)
        counts[out_name] = len(frame)
        tables[out_name] = frame

    crosswalk, crosswalk_report = build_crosswalk(
        tables["ref_communes.csv"], tables["ref_districts.csv"]
    )
    write_text_csv(crosswalk, out_dir / "ref_commune_crosswalk_2025.csv")
    counts["ref_commune_crosswalk_2025.csv"] = len(crosswalk)
    if report is not None:
        report.update(crosswalk_report)
    return counts
