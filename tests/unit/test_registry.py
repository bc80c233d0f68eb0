"""Registry seeds and lookups (grassroots.registry, grassroots.registry_build)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from grassroots.config import REGISTRY_SOURCES_DIR
from grassroots.registry import Registry, default_seeds_dir
from grassroots.registry_build import build_registry

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def _one(series: pd.Series):
    return series.iloc[0]


def valid(registry: Registry, level: str, code, year) -> bool:
    return bool(_one(registry.valid_in_year(level, pd.Series([code]), pd.Series([year]))))


def parent(registry: Registry, code: str, year: int):
    return _one(registry.commune_parents_in_year(pd.Series([code]), pd.Series([year])))


def belongs(registry: Registry, code: str, year: int, sender: str) -> bool:
    result = registry.commune_belongs_to(pd.Series([code]), pd.Series([year]), pd.Series([sender]))
    return bool(_one(result))


def test_load_is_cached_per_directory(registry):
    assert Registry.load() is registry
    assert Registry.load(default_seeds_dir()) is registry


def test_validity_interval_overlaps_the_year(registry):
    # Xã Bắc Ái (06052) was valid until 2019-12-31.
    assert valid(registry, "commune", "06052", 2019)
    assert not valid(registry, "commune", "06052", 2020)
    # Abolished on 2025-06-30: still valid for 2025 (half a year), not for 2026.
    assert valid(registry, "commune", "06193", 2025)
    assert not valid(registry, "commune", "06193", 2026)
    # Empty valid_from = in the initial list: valid however far back.
    assert valid(registry, "district", "183", 1995)
    # Districts end on 2025-06-30; post-reform provinces start on 2025-07-01.
    assert valid(registry, "district", "183", 2025)
    assert not valid(registry, "district", "183", 2026)
    assert valid(registry, "province", "20", 2030)


def test_unparseable_years_are_invalid(registry):
    codes = pd.Series(["06193"] * 6, index=[10, 11, 12, 13, 14, 15])
    years = pd.Series([2020, "2020", "abc", None, 2020.5, ""], index=codes.index)
    result = registry.valid_in_year("commune", codes, years)
    assert result.index.tolist() == codes.index.tolist()
    assert result.tolist() == [True, True, False, False, False, False]


def test_leading_zeros_are_significant(registry):
    communes = registry.table("commune")
    assert communes["code"].map(type).eq(str).all()
    assert "00769" in set(communes["code"])
    assert valid(registry, "commune", "06193", 2020)
    assert not valid(registry, "commune", "6193", 2020)
    assert valid(registry, "province", "08", 2020)
    assert not valid(registry, "province", "8", 2020)
    assert valid(registry, "district", "073", 2020)
    assert not valid(registry, "district", "73", 2020)


def test_reused_code_00769_old_town_and_new_commune(registry):
    assert valid(registry, "commune", "00769", 2024)
    assert valid(registry, "commune", "00769", 2026)
    assert parent(registry, "00769", 2024) == "027"
    assert registry.unit_type("commune", "00769", 2024) == "Thị trấn"
    assert registry.name("commune", "00769", 2024) == "Thị trấn Mèo Vạc"
    assert parent(registry, "00769", 2026) == "08"
    assert registry.name("commune", "00769", 2026) == "Xã Mèo Vạc"
    # 2025 overlaps both rows: the row valid at year end (the new commune) wins ...
    assert parent(registry, "00769", 2025) == "08"
    # ... but belonging accepts either row, and climbs to the old province via 027.
    assert belongs(registry, "00769", 2025, "027")
    assert belongs(registry, "00769", 2025, "08")
    assert belongs(registry, "00769", 2025, "02")
    assert not belongs(registry, "00769", 2026, "027")


def test_belongs_to_district_and_province(registry):
    assert belongs(registry, "06193", 2023, "183")
    assert belongs(registry, "06193", 2023, "20")
    assert not belongs(registry, "06193", 2023, "180")
    assert not belongs(registry, "06193", 2023, "08")
    # 06193 was merged away on 2025-07-01; 06184 is reused by the new Xã Đồng Đăng.
    assert not belongs(registry, "06193", 2026, "20")
    assert belongs(registry, "06184", 2026, "20")
    assert not belongs(registry, "06184", 2026, "183")


def test_vectorized_results_align_with_input_index(registry):
    codes = pd.Series(["06193", "99999", "00769", "06184"], index=["a", "b", "c", "d"])
    years = pd.Series([2023, 2023, 2024, 2026], index=codes.index)
    senders = pd.Series(["183", "183", "02", "20"], index=codes.index)
    assert registry.commune_belongs_to(codes, years, senders).to_dict() == {
        "a": True,
        "b": False,
        "c": True,
        "d": True,
    }
    parents = registry.commune_parents_in_year(codes, years)
    assert parents.index.tolist() == ["a", "b", "c", "d"]
    assert parents["a"] == "183" and pd.isna(parents["b"]) and parents["d"] == "20"


def test_district_province_follows_moves(registry):
    # Mê Linh moved from Vĩnh Phúc (26) to Hà Nội (01) on 2008-08-01.
    assert registry.district_province("250", 2005) == "26"
    assert registry.district_province("250", 2010) == "01"
    assert registry.district_province("250", 2008) == "01"  # valid at year end
    assert registry.district_province("183", 2020) == "20"
    assert registry.district_province("183", 2026) is None


def test_units_valid_in_year_counts(registry):
    assert len(registry.units_valid_in_year("province", 2026)) == 34
    assert len(registry.units_valid_in_year("district", 2026)) == 0
    assert len(registry.units_valid_in_year("commune", 2026)) == 3321
    districts_2020 = registry.units_valid_in_year("district", 2020)
    assert list(districts_2020.columns) == ["code", "name", "parent", "valid_from", "valid_to"]
    assert (districts_2020.loc[districts_2020["code"] == "183", "parent"] == "20").all()


@pytest.fixture(scope="module")
def crosswalk() -> pd.DataFrame:
    path = default_seeds_dir() / "ref_commune_crosswalk_2025.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_crosswalk_weights_sum_to_one_per_old_commune(crosswalk):
    sums = crosswalk.groupby("old_commune_code")["weight"].agg(
        lambda weights: sum(Decimal(w) for w in weights)
    )
    assert (sums == Decimal(1)).all()
    whole = crosswalk[crosswalk["weight_basis"] == "whole"]
    assert (whole["weight"].map(Decimal) == 1).all()
    assert (whole["is_whole"] == "true").all()
    divided = crosswalk[crosswalk["weight_basis"] == "area"]
    assert (divided["is_whole"] == "false").all()
    assert (divided.groupby("old_commune_code").size() >= 2).all()


def test_crosswalk_codes_match_the_registry(registry, crosswalk):
    communes = registry.table("commune")
    day = "2025-06-30"
    on_reform_eve = communes[
        ((communes["valid_from"] == "") | (communes["valid_from"] <= day))
        & ((communes["valid_to"] == "") | (communes["valid_to"] >= day))
    ]
    assert set(crosswalk["old_commune_code"]) == set(on_reform_eve["code"])
    assert crosswalk["old_commune_code"].nunique() == 10_035
    new_codes = set(registry.units_valid_in_year("commune", 2026)["code"])
    assert set(crosswalk["new_commune_code"]) <= new_codes
    assert crosswalk["old_commune_code"].str.fullmatch(r"\d{5}").all()
    assert crosswalk["old_district_code"].str.fullmatch(r"\d{3}").all()
    assert crosswalk["new_province_code"].str.fullmatch(r"\d{2}").all()
    # The seed communes all went whole into a new commune carrying a known code.
    row = crosswalk[crosswalk["old_commune_code"] == "00769"].iloc[0]
    assert (row["new_commune_code"], row["new_province_code"], row["old_province_code"]) == (
        "00769",
        "08",
        "02",
    )


def test_build_is_reproducible(tmp_path):
    counts = build_registry(REGISTRY_SOURCES_DIR, tmp_path)
    assert counts["ref_communes.csv"] == 14_544
    assert counts["ref_districts.csv"] == 733
    assert counts["ref_provinces.csv"] == 98
    for name in counts:
        assert (tmp_path / name).read_bytes() == (default_seeds_dir() / name).read_bytes(), name
