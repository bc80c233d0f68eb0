"""The frames Great Expectations validates, built with pandas from parsed files.

Per form and batch: a ROWS frame (every data row of every file: raw text, plus derived
columns for checks GX has no expectation for) and a FILES frame (one row per file).
Column names of derived values: `<column>__n` parsed number, `<column>__code`
normalized code / enum / rating, `<column>__intact` code kept its leading zeros,
`<column>__valid` registry check, `<column>__belongs` belongs to the sending unit.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from grassroots.forms import Form, enum_index, fold, rating_index, strip_diacritics
from grassroots.reader import ParsedFile, batch_frame
from grassroots.validation.values import (
    normalize_code,
    parse_ints,
    parse_numbers,
    parse_term,
)

FILES, ROWS = "files", "rows"
FILE_ID, ROW_NUMBER, POSITION = "file_id", "row_number", "_pos"
CURRENT_YEAR_PARAMETER = "current_year"

# Files frame columns.
N_ROWS, N_UNITS, N_PERIODS = "n_rows", "n_units", "n_periods"
UNITS, PERIODS, UNIT, PERIOD = "units", "periods", "unit", "period"
MISSING_REQUIRED, UNKNOWN_COLUMNS = "missing_required", "unknown_columns"
LIST_SEPARATOR = "\x1f"  # joins column lists in one cell; never part of a header

# Derived rows frame columns.
RATING_SCALE = "rating_scale"
SCALE_FROM_2018, SCALE_BEFORE_2018 = "from_2018", "before_2018"
TERM_START, TERM_SPAN = "term__start", "term__span"
HOST_OK = "host_village_code__host_ok"
EXPECTED_MEMBERS_END = "members_end__expected"
DV_BALANCE_PLUS = ("members_start", "admitted", "transferred_in")
DV_BALANCE_MINUS = ("transferred_out", "deceased", "expelled", "removed")

# Districts were abolished on 2025-07-01: the TC report for 2025 on is sent by provinces.
LAST_DISTRICT_YEAR = 2024
_ORG_OTHER = r"^(?P<sender>\d{2,3})-[A-Z]\d{2}$"


def parsed(column: str) -> str:
    return f"{column}__n"


def code(column: str) -> str:
    return f"{column}__code"


def intact(column: str) -> str:
    return f"{column}__intact"


def valid(column: str) -> str:
    return f"{column}__valid"


def belongs(column: str) -> str:
    return f"{column}__belongs"


class RegistryLike(Protocol):
    def valid_in_year(self, level: str, codes: pd.Series, years: pd.Series) -> pd.Series: ...

    def commune_belongs_to(
        self, codes: pd.Series, years: pd.Series, sender_codes: pd.Series
    ) -> pd.Series: ...


# Fixed-width code columns (all digits; Excel drops their leading zeros). The widths
# allowed may depend on the reporting year (TC: district before 2025, province after).
def _code_widths(form_code: str, column: str, years: pd.Series) -> pd.Series | None:
    index = years.index
    if column == "commune_code":
        return pd.Series([(5,)] * len(index), index=index, dtype=object)
    if form_code == "TC" and column == "district_code":
        by_year = {
            y: (2, 3) if pd.isna(y) else ((3,) if y <= LAST_DISTRICT_YEAR else (2,))
            for y in years.unique()
        }
        return pd.Series([by_year[y] for y in years], index=index, dtype=object)
    if form_code == "TC" and column == "org_code":  # a commune's own organization
        return pd.Series([(5,)] * len(index), index=index, dtype=object)
    if form_code == "CT" and column == "unit_code":
        return pd.Series([(3, 5)] * len(index), index=index, dtype=object)
    return None


def has_fixed_width(form_code: str, column: str) -> bool:
    return _code_widths(form_code, column, pd.Series([2020])) is not None


def _flag(mask: pd.Series, known: pd.Series) -> pd.Series:
    """Object column True/False where the check applies, None where it does not."""
    return mask.astype(bool).astype(object).where(known.astype(bool), None)


def _map_distinct(values: pd.Series, function) -> pd.Series:
    """function(value) for every value, computed once per distinct value (a batch holds
    150,000 cells of a column but a few dozen distinct spellings); missing stays None."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [function(value) for value in uniques]
    mapped[-1] = None  # code -1: missing
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _lookup_enum(values: pd.Series, index: dict[str, str]) -> pd.Series:
    def one(value):
        return index.get(fold(value)) or index.get(strip_diacritics(value)) or value

    return _map_distinct(values, one)


def _lookup_rating(values: pd.Series, years: pd.Series) -> pd.Series:
    """Rating code in the scale of the year when the spelling allows; else a code of the
    other scale (so the scale check fails), else the text as written."""
    from grassroots.forms import ratings_for_year

    index = rating_index()

    def one(value, year):
        if value is None:
            return None
        codes = index.get(fold(value)) or index.get(strip_diacritics(value))
        if not codes:
            return value
        if not pd.isna(year):
            in_scale = codes & set(ratings_for_year(int(year)))
            if in_scale:
                return sorted(in_scale)[0]
        return sorted(codes)[0]

    known: dict[tuple, str | None] = {}
    out = []
    for pair in zip(values, years, strict=True):
        if pair not in known:
            known[pair] = one(*pair)
        out.append(known[pair])
    return pd.Series(out, index=values.index, dtype=object)


def _normalize_codes(raw: pd.Series, widths: pd.Series) -> list[tuple[str | None, bool]]:
    """normalize_code per row, computed once per distinct (text, widths)."""
    known: dict[tuple, tuple[str | None, bool]] = {}
    out = []
    for pair in zip(raw, widths, strict=True):
        if pair not in known:
            known[pair] = normalize_code(*pair)
        out.append(known[pair])
    return out


def concat_rows(form: Form, items: list[ParsedFile]) -> pd.DataFrame:
    """The rows of all files of the form, one frame built once per batch (the reader
    keeps plain records per file: cells are already stripped text or None)."""
    rows = batch_frame(items, form)
    rows[POSITION] = range(len(rows))
    return rows


def build_rows(form: Form, items: list[ParsedFile], registry: RegistryLike) -> pd.DataFrame:
    rows = concat_rows(form, items)
    years = None
    if form.period_column == "report_year":
        years = parse_ints(rows["report_year"])
        rows[parsed("report_year")] = years
    for column in form.columns:
        name, raw = column.name, rows[column.name]
        if column.kind in ("int", "number") and name != "report_year":
            signed = column.minimum is None or column.minimum < 0
            parser = parse_ints if column.kind == "int" else parse_numbers
            rows[parsed(name)] = parser(raw, signed=signed)
        elif column.kind == "code":
            widths = _code_widths(form.code, name, years if years is not None else raw)
            if widths is None:
                rows[code(name)] = raw
            else:
                pairs = _normalize_codes(raw, widths)
                rows[code(name)] = pd.Series([p[0] for p in pairs], dtype=object)
                rows[intact(name)] = _flag(pd.Series([not p[1] for p in pairs]), raw.notna())
        elif column.kind == "enum":
            rows[code(name)] = _lookup_enum(raw, enum_index(column))
        elif column.kind == "rating":
            rows[code(name)] = _lookup_rating(raw, years)
        elif column.kind == "term":
            terms = _map_distinct(raw, parse_term)
            start = pd.Series([t[0] if t else None for t in terms], dtype="Int64")
            end = pd.Series([t[1] if t else None for t in terms], dtype="Int64")
            rows[TERM_START] = start
            rows[TERM_SPAN] = end - start
    if years is not None:
        scale = np.where(
            (years >= 2018).fillna(False).to_numpy(dtype=bool), SCALE_FROM_2018, SCALE_BEFORE_2018
        ).astype(object)
        scale[years.isna().to_numpy()] = None
        rows[RATING_SCALE] = pd.Series(scale, index=rows.index, dtype=object)
    _FORM_DERIVED[form.code](rows, registry)
    return rows


def _registry_flag(
    registry: RegistryLike, level: str, codes: pd.Series, years: pd.Series
) -> pd.Series:
    known = codes.notna() & years.notna()
    result = pd.Series(False, index=codes.index)
    if known.any():
        # The registry is asked once per distinct (code, year), not once per row.
        asked = pd.DataFrame(
            {"code": codes[known].astype(str).to_numpy(), "year": years[known].to_numpy("int64")}
        )
        distinct = asked.drop_duplicates(ignore_index=True)
        distinct["ok"] = registry.valid_in_year(
            level, distinct["code"], distinct["year"]
        ).to_numpy()
        answers = asked.merge(distinct, on=["code", "year"], how="left", sort=False)
        result[known] = answers["ok"].to_numpy(dtype=bool)
    return _flag(result, known)


def _derive_cb(rows: pd.DataFrame, registry: RegistryLike) -> None:
    years = rows[parsed("report_year")]
    commune = rows[code("commune_code")]
    rows[valid("commune_code")] = _registry_flag(registry, "commune", commune, years)
    village = rows[code("village_code")]
    prefix_ok = [
        v.startswith(f"{c}-") if v is not None and c is not None else False
        for v, c in zip(village, commune, strict=True)
    ]
    rows[belongs("village_code")] = _flag(
        pd.Series(prefix_ok, index=rows.index), village.notna() & commune.notna()
    )
    # C3: the host must be another village of the same file with an independent branch.
    villages = rows[[FILE_ID, code("village_code"), code("branch_status")]].dropna()
    villages = villages.drop_duplicates([FILE_ID, code("village_code")])
    host_status = {(f, v): s for f, v, s in villages.itertuples(index=False, name=None)}
    host = rows[code("host_village_code")]
    ok = [
        h is not None and h != v and host_status.get((f, h)) == "independent"
        for f, v, h in zip(rows[FILE_ID], village, host, strict=True)
    ]
    # Only joint branches have a host; a host on another status is its own C3 finding.
    joint = rows[code("branch_status")] == "joint"
    rows[HOST_OK] = _flag(pd.Series(ok, index=rows.index), host.notna() & joint)


def _derive_dv(rows: pd.DataFrame, registry: RegistryLike) -> None:
    years = rows[parsed("report_year")]
    rows[valid("commune_code")] = _registry_flag(
        registry, "commune", rows[code("commune_code")], years
    )
    expected = sum(rows[parsed(c)] for c in DV_BALANCE_PLUS)
    for column in DV_BALANCE_MINUS:
        expected = expected - rows[parsed(column)]
    rows[EXPECTED_MEMBERS_END] = expected.astype("Int64")


def _derive_tc(rows: pd.DataFrame, registry: RegistryLike) -> None:
    years = rows[parsed("report_year")]
    sender = rows[code("district_code")]
    district_era = (years <= LAST_DISTRICT_YEAR).fillna(False).astype(bool)
    as_district = _registry_flag(registry, "district", sender.where(district_era), years)
    as_province = _registry_flag(registry, "province", sender.where(~district_era), years)
    rows[valid("district_code")] = as_district.where(as_district.notna(), as_province)

    org = rows[code("org_code")]
    known = org.notna() & sender.notna() & years.notna()
    is_commune = org.str.fullmatch(r"\d{5}").fillna(False).astype(bool) & known
    result = pd.Series(False, index=rows.index)
    if is_commune.any():
        result[is_commune] = registry.commune_belongs_to(
            org[is_commune].astype(str),
            years[is_commune].astype("int64"),
            sender[is_commune].astype(str),
        ).to_numpy()
    other = known & ~is_commune
    extracted = org[other].str.extract(_ORG_OTHER)["sender"]
    result[other] = (extracted == sender[other]).fillna(False).to_numpy()
    rows[belongs("org_code")] = _flag(result, known)


def _derive_ct(rows: pd.DataFrame, registry: RegistryLike) -> None:
    unit = rows[code("unit_code")]
    start = rows[TERM_START]
    lengths = unit.str.len()
    commune = _registry_flag(registry, "commune", unit.where(lengths == 5), start)
    district = _registry_flag(registry, "district", unit.where(lengths == 3), start)
    combined = commune.where(commune.notna(), district)
    # A code of another length is simply not a commune or district code.
    other = unit.notna() & start.notna() & ~lengths.isin([3, 5])
    rows[valid("unit_code")] = combined.where(~other, False).astype(object)


_FORM_DERIVED = {"CB": _derive_cb, "DV": _derive_dv, "TC": _derive_tc, "CT": _derive_ct}


def _period_text(form: Form, rows: pd.DataFrame) -> pd.Series:
    if form.period_column == "report_year":
        years = rows[parsed("report_year")]
        # An unparseable year still counts as a period value, as written.
        return years.astype("string").fillna(rows["report_year"].astype("string"))
    return rows[form.period_column].astype("string")


def _distinct_per_file(keyed: pd.DataFrame, column: str) -> dict[int, list[str]]:
    """file_id -> sorted distinct non-missing values of `column`."""
    distinct = keyed[[FILE_ID, column]].dropna().drop_duplicates()
    single = distinct.drop_duplicates(FILE_ID, keep=False)
    lists = {int(f): [str(v)] for f, v in zip(single[FILE_ID], single[column], strict=True)}
    several = distinct[distinct[FILE_ID].duplicated(keep=False)]
    for file_id, values in several.groupby(FILE_ID)[column]:
        lists[int(file_id)] = sorted(str(v) for v in values)
    return lists


def build_files(form: Form, items: list[ParsedFile], rows: pd.DataFrame) -> pd.DataFrame:
    units = rows[code(form.unit_column)].astype("string")
    periods = _period_text(form, rows)
    keyed = pd.DataFrame({FILE_ID: rows[FILE_ID], UNIT: units, PERIOD: periods})
    counts = keyed.groupby(FILE_ID).size().to_dict()
    # Distinct values per file, vectorized; the joined lists are only built for the
    # rare files that hold several units or periods (S4).
    unit_lists = _distinct_per_file(keyed, UNIT)
    period_lists = _distinct_per_file(keyed, PERIOD)
    records = []
    for item in items:
        fid = item.file_id
        unit_list = unit_lists.get(fid, [])
        period_list = period_lists.get(fid, [])
        records.append(
            {
                FILE_ID: fid,
                N_ROWS: int(counts.get(fid, 0)),
                N_UNITS: len(unit_list),
                UNITS: ", ".join(unit_list) or "(trống)",
                UNIT: unit_list[0] if len(unit_list) == 1 else None,
                N_PERIODS: len(period_list),
                PERIODS: ", ".join(period_list) or "(trống)",
                PERIOD: period_list[0] if len(period_list) == 1 else None,
                MISSING_REQUIRED: LIST_SEPARATOR.join(item.missing_columns) or None,
                UNKNOWN_COLUMNS: LIST_SEPARATOR.join(item.unknown_columns) or None,
            }
        )
    files = pd.DataFrame.from_records(
        records,
        columns=[
            FILE_ID,
            N_ROWS,
            N_UNITS,
            UNITS,
            UNIT,
            N_PERIODS,
            PERIODS,
            PERIOD,
            MISSING_REQUIRED,
            UNKNOWN_COLUMNS,
        ],
    )
    files[POSITION] = range(len(files))
    for column in (MISSING_REQUIRED, UNKNOWN_COLUMNS, UNIT, PERIOD):
        files[column] = files[column].astype(object).where(files[column].notna(), None)
    return files


def typed_rows(form: Form, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows as raw.form_<x> holds them: file_id, row_number, the form's typed columns."""
    out = pd.DataFrame({FILE_ID: rows[FILE_ID].astype("int64"), ROW_NUMBER: rows[ROW_NUMBER]})
    for column in form.columns:
        name = column.name
        if column.kind == "int":
            out[name] = rows[parsed(name)].astype("Int64")
        elif column.kind == "number":
            out[name] = rows[parsed(name)].astype("Float64")
        elif column.kind in ("code", "enum", "rating"):
            out[name] = rows[code(name)].astype("string")
        else:
            out[name] = rows[name].astype("string")
    if form.code == "CT":
        out["direction"] = out["direction"].fillna("at_least")
    return out
