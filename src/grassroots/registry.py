"""The national unit registry (provinces, districts, communes) as validation needs it.

Loaded once per process from the seeds written by `registry_build` (seeds/registry/),
then queried with vectorized pandas operations.

Decision: a code is valid for reporting year Y if its validity interval overlaps
[Y-01-01, Y-12-31]. An empty `valid_from` means "since forever" (the registry's initial
list), an empty `valid_to` means "still valid"; both ends are inclusive. So a commune
abolished on 2025-06-30 is valid for 2025 (it reported half of that year), and so is the
post-reform commune that started on 2025-07-01, even when both carry the same code (GSO
reuses codes). Where one answer is needed for such a year (a commune's parent, a
district's province), the row valid at year end wins: it is the unit that will send the
year's report.

Codes are compared as text, exactly: leading zeros are significant and nothing is padded.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

LEVELS = ("province", "district", "commune")
_FILES = {
    "province": "ref_provinces.csv",
    "district": "ref_districts.csv",
    "commune": "ref_communes.csv",
}
_PARENT_COLUMN = {"province": None, "district": "province_code", "commune": "parent_code"}
_OPEN_START = 0  # yyyymmdd key of an empty valid_from
_OPEN_END = 99_991_231  # yyyymmdd key of an empty valid_to
_MIN_YEAR, _MAX_YEAR = 1, 9998

_cache: dict[Path, Registry] = {}


def default_seeds_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "seeds" / "registry"


def _date_key(dates: pd.Series, empty: int) -> pd.Series:
    """ISO dates -> yyyymmdd integers (cheap to compare); empty -> the open-end value."""
    digits = dates.str.replace("-", "", regex=False)
    return pd.to_numeric(digits.where(digits != "", str(empty))).astype("int64")


def _as_code(values: pd.Series) -> pd.Series:
    """Codes as stripped text; anything missing becomes an empty string (never valid)."""
    return values.astype("string").str.strip().fillna("").astype(object)


def _as_year(values: pd.Series) -> pd.Series:
    """Whole years as Int64; anything unparseable or fractional becomes <NA>."""
    numbers = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
    whole = numbers.notna() & (numbers == numbers.round()) & numbers.between(_MIN_YEAR, _MAX_YEAR)
    return numbers.where(whole).astype("Int64")


class Registry:
    """Province, district and commune rows with validity intervals (see module docstring)."""

    def __init__(self, tables: dict[str, pd.DataFrame]):
        self._tables: dict[str, pd.DataFrame] = {}
        for level, table in tables.items():
            table = table.copy()
            parent_column = _PARENT_COLUMN[level]
            table["parent"] = table[parent_column] if parent_column else ""
            table["start_key"] = _date_key(table["valid_from"], _OPEN_START)
            table["end_key"] = _date_key(table["valid_to"], _OPEN_END)
            self._tables[level] = table.reset_index(drop=True)

    @classmethod
    def load(cls, seeds_dir: Path | None = None) -> Registry:
        """The registry in seeds_dir (default: the repo's seeds/registry), cached per dir."""
        directory = Path(seeds_dir or default_seeds_dir()).resolve()
        if directory not in _cache:
            tables = {
                level: pd.read_csv(
                    directory / file_name, dtype=str, keep_default_na=False, encoding="utf-8"
                )
                for level, file_name in _FILES.items()
            }
            _cache[directory] = cls(tables)
        return _cache[directory]

    def table(self, level: str) -> pd.DataFrame:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
        return self._tables[level]

    # --- vectorized lookups ----------------------------------------------------------

    def _rows_in_year(self, level: str, codes: pd.Series, years: pd.Series) -> pd.DataFrame:
        """Registry rows overlapping each input's year, one output row per (input, match).

        Column `position` is the input's position (0..n-1), so callers can align results.
        """
        queries = pd.DataFrame(
            {
                "position": range(len(codes)),
                "code": _as_code(codes).to_numpy(),
                "year": _as_year(years).to_numpy(),
            }
        ).dropna(subset=["year"])
        table = self.table(level)[["code", "parent", "start_key", "end_key", "name", "unit_type"]]
        matches = queries.merge(table, on="code", how="inner")
        year_start = matches["year"].astype("int64") * 10_000 + 101
        year_end = matches["year"].astype("int64") * 10_000 + 1231
        overlaps = (matches["start_key"] <= year_end) & (matches["end_key"] >= year_start)
        return matches[overlaps]

    def valid_in_year(self, level: str, codes: pd.Series, years: pd.Series) -> pd.Series:
        """True where the code has a row at that level overlapping the year."""
        rows = self._rows_in_year(level, codes, years)
        valid = pd.Series(False, index=range(len(codes)))
        valid[rows["position"].unique()] = True
        return pd.Series(valid.to_numpy(), index=codes.index, dtype=bool)

    def commune_parents_in_year(self, codes: pd.Series, years: pd.Series) -> pd.Series:
        """Parent of the commune row valid in that year: a 3-digit district before
        2025-07-01, a 2-digit province after. If two rows overlap the year, the one valid
        at year end (latest valid_to) wins. <NA> where no row is valid."""
        rows = self._rows_in_year("commune", codes, years)
        latest = rows.sort_values(["position", "end_key"]).drop_duplicates("position", keep="last")
        parents = pd.Series(pd.NA, index=range(len(codes)), dtype="string")
        parents[latest["position"].to_numpy()] = latest["parent"].to_numpy()
        return pd.Series(parents.to_numpy(), index=codes.index, dtype="string")

    def district_provinces_in_year(self, codes: pd.Series, years: pd.Series) -> pd.Series:
        """Province of each district in that year (the row valid at year end wins);
        <NA> where no row is valid."""
        rows = self._rows_in_year("district", codes, years)
        latest = rows.sort_values(["position", "end_key"]).drop_duplicates("position", keep="last")
        provinces = pd.Series(pd.NA, index=range(len(codes)), dtype="string")
        provinces[latest["position"].to_numpy()] = latest["parent"].to_numpy()
        return pd.Series(provinces.to_numpy(), index=codes.index, dtype="string")

    def commune_belongs_to(
        self, codes: pd.Series, years: pd.Series, sender_codes: pd.Series
    ) -> pd.Series:
        """True if ANY row of the commune valid in that year hangs under the sender: its
        parent is the sender, or (for a 2-digit sender) its district lies, in that year,
        in the sender province."""
        rows = self._rows_in_year("commune", codes, years)
        senders = pd.Series(_as_code(sender_codes).to_numpy(), index=range(len(codes)))
        rows = rows.assign(sender=senders[rows["position"].to_numpy()].to_numpy())
        direct = rows.loc[rows["parent"] == rows["sender"], "position"]

        # Province senders: climb from the commune's district to that year's province.
        via_district = rows[(rows["sender"].str.len() == 2) & (rows["parent"].str.len() == 3)]
        district_rows = self._rows_in_year("district", via_district["parent"], via_district["year"])
        district_rows = district_rows.assign(
            commune_position=via_district["position"].to_numpy()[district_rows["position"]],
            sender=via_district["sender"].to_numpy()[district_rows["position"]],
        )
        through_province = district_rows.loc[
            district_rows["parent"] == district_rows["sender"], "commune_position"
        ]
        belongs = pd.Series(False, index=range(len(codes)))
        belongs[pd.concat([direct, through_province]).unique()] = True
        return pd.Series(belongs.to_numpy(), index=codes.index, dtype=bool)

    # --- scalar helpers --------------------------------------------------------------

    def district_province(self, code: str, year: int) -> str | None:
        """Province of the district in that year (the row valid at year end wins)."""
        province = self.district_provinces_in_year(pd.Series([code]), pd.Series([year])).iloc[0]
        return None if pd.isna(province) else str(province)

    def units_valid_in_year(self, level: str, year: int) -> pd.DataFrame:
        """Every row of that level overlapping the year: code, name, parent, valid_from,
        valid_to. In a reform year a reused code can appear twice (old and new unit)."""
        table = self.table(level)
        year_start, year_end = int(year) * 10_000 + 101, int(year) * 10_000 + 1231
        overlaps = (table["start_key"] <= year_end) & (table["end_key"] >= year_start)
        columns = ["code", "name", "parent", "valid_from", "valid_to"]
        return table.loc[overlaps, columns].reset_index(drop=True)

    def name(self, level: str, code: str, year: int) -> str | None:
        """Name of the unit in that year (the row valid at year end wins)."""
        rows = self._rows_in_year(level, pd.Series([code]), pd.Series([year]))
        if rows.empty:
            return None
        return str(rows.sort_values("end_key").iloc[-1]["name"])

    def unit_type(self, level: str, code: str, year: int) -> str | None:
        """unit_type (Xã, Phường, Thị trấn, Huyện, ...) in that year, row valid at year end."""
        rows = self._rows_in_year(level, pd.Series([code]), pd.Series([year]))
        if rows.empty:
            return None
        return str(rows.sort_values("end_key").iloc[-1]["unit_type"])
