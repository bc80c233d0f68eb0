"""What the pipeline must make of seeds/demo_inbox/ (written by grassroots.synthetic.demo).

EXPECTED_QUARANTINE: every broken file -> (rule id, staff row, column) of its single
defect. Staff rows count the header as row 1 (first data row = 2); None means a
file-level finding (S1 missing column, S4 several units, S8 no data rows). For S5/S6 the
offending value is on every data row; the row given is the first one (row 2).
Each broken file repeats a form/unit/year that also has a good file (except S5's year
2031 and S6's unknown commune 99999), so quarantining it changes no indicator.

EXPECTED_INDICATORS: hand-checkable values, computed by `recompute()` below, which reads
the files back (CSV/XLSX, any header style) independently of the generator, using only
the form definitions and the registry seeds. Rerun `python tests/e2e/demo_expectations.py`
after regenerating the inbox and compare.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

EXPECTED_QUARANTINE: dict[str, tuple[str, int | None, str | None]] = {
    "broken_S1_DV_missing_admitted.csv": ("S1", None, "admitted"),
    "broken_S2_DV_members_end_not_a_number.csv": ("S2", 2, "members_end"),
    "broken_S3_CB_unknown_status.csv": ("S3", 3, "branch_status"),
    "broken_S3b_TC_old_scale_rating_2022.csv": ("S3", 2, "rating"),
    "broken_S4_DV_two_communes.csv": ("S4", None, "commune_code"),
    "broken_S5_DV_year_2031.csv": ("S5", 2, "report_year"),
    "broken_S6_CB_unknown_commune_99999.csv": ("S6", 2, "commune_code"),
    "broken_S7_CB_duplicate_village.csv": ("S7", 4, "village_code"),
    "broken_S8_CB_header_only.csv": ("S8", None, None),
    "broken_C1_DV_identity_off_by_5.csv": ("C1", 2, "members_end"),
    "broken_C2_DV_probationary_above_members.csv": ("C2", 2, "probationary_end"),
    "broken_C3_CB_joint_without_host.csv": ("C3", 2, "host_village_code"),
    "broken_C4_CB_no_branch_with_members.csv": ("C4", 4, "members"),
    "broken_C5_CB_independent_two_members.csv": ("C5", 3, "members"),
}

# (indicator, level, unit code, year) -> value, rounded to 2 decimals.
# The cross-form and plausibility warnings (X1-X4, P1-P6) of the demo inbox: the good
# files are consistent across forms and years, so the only ones are P5 on Hùng Sơn
# (06055), whose members grew steadily over nine years (267 ... 302, 313): the last two
# years sit far from the series' median of 281 (modified z-scores 3.5 and 5.4). These
# files load; the findings reach district 180's digest as warnings.
EXPECTED_WARNINGS: set[tuple[str, str, int | None, str | None]] = {
    ("DV_06055_2023.csv", "P5", 2, "members_end"),
    ("DV_06055_2024.csv", "P5", 2, "members_end"),
}

EXPECTED_INDICATORS: dict[tuple[str, str, str, int], float] = {
    ("members_total", "district", "183", 2023): 2159,  # 8 TC rows: 4 communes + 4 other orgs
    ("member_growth_pct", "district", "183", 2023): 1.12,  # 2135 -> 2159
    ("admissions", "district", "183", 2023): 59,  # 23 + 9 + 9 + 18
    ("independent_branch_ratio_pct", "commune", "06193", 2022): 85.71,  # 6 of 7 villages
    ("orgs_good_or_above_pct", "district", "180", 2021): 71.43,  # 5 of 7 (1 excellent)
    ("members_total", "province", "20", 2024): 3909,  # districts 183 + 180 only (coverage)
    ("independent_branch_ratio_pct", "district", "073", 2020): 80.0,  # 16 of 20 villages
    ("members_total", "commune", "06193", 2023): 622,  # DV.members_end
}

# Good files: every non-broken file in the inbox; these are their counts.
EXPECTED_GOOD_FILES = {"CB": 108, "DV": 108, "TC": 36, "CT": 12}


# --- independent recomputation ---------------------------------------------------------

_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


def _number(text: object) -> float:
    if isinstance(text, (int, float)):
        return float(text)
    value = str(text).strip().rstrip("%").strip()
    if _THOUSANDS.match(value):
        value = value.replace(".", "")
    return float(value.replace(",", "."))


def _read_table(path: Path) -> tuple[list[str], list[list[object]]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        rows = [["" if v is None else v for v in r] for r in rows]
    else:
        text = path.read_bytes().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    return [str(h) for h in rows[0]], rows[1:]


def read_good_files(inbox: Path) -> dict[str, list[dict]]:
    """Form code -> canonical rows of every good file (codes as text, enums as codes)."""
    from grassroots.forms import (
        detect_form,
        enum_index,
        fold,
        header_index,
        rating_index,
        ratings_for_year,
        strip_diacritics,
    )

    ratings = rating_index()
    tables: dict[str, list[dict]] = {"CB": [], "DV": [], "TC": [], "CT": []}
    for path in sorted(inbox.iterdir()):
        if path.name.startswith("broken_"):
            continue
        header, body = _read_table(path)
        form = detect_form(header)
        index = header_index(form)
        names = [index.get(fold(h)) or index.get(strip_diacritics(h)) for h in header]
        for values in body:
            row = {n: v for n, v in zip(names, values, strict=True) if n}
            for column in form.columns:
                value = row.get(column.name, "")
                if value == "" or value is None:
                    row[column.name] = None
                elif column.kind in ("int", "number"):
                    row[column.name] = _number(value)
                elif column.kind == "enum":
                    key = fold(str(value))
                    choices = enum_index(column)
                    row[column.name] = choices.get(key) or choices[strip_diacritics(str(value))]
                elif column.kind == "rating":
                    candidates = ratings.get(fold(str(value))) or ratings[strip_diacritics(value)]
                    scale = ratings_for_year(int(row["report_year"]))
                    (row[column.name],) = candidates & set(scale)
                else:
                    row[column.name] = str(value).strip()
            row["file"] = path.name
            tables[form.code].append(row)
    return tables


def recompute(inbox: Path, seeds_dir: Path | None = None) -> dict:
    import pandas as pd

    from grassroots.registry import Registry

    registry = Registry.load(seeds_dir)
    tables = {k: pd.DataFrame(v) for k, v in read_good_files(inbox).items()}
    cb, dv, tc = tables["CB"], tables["DV"], tables["TC"]
    dv["district"] = registry.commune_parents_in_year(dv["commune_code"], dv["report_year"])
    cb["district"] = registry.commune_parents_in_year(cb["commune_code"], cb["report_year"])
    tc["province"] = [
        registry.district_province(code, int(year))
        for code, year in zip(tc["district_code"], tc["report_year"], strict=True)
    ]

    def tc_members(column: str, code: str, year: int) -> float:
        return tc.loc[(tc[column] == code) & (tc["report_year"] == year), "members"].sum()

    def independent_ratio(rows: pd.DataFrame) -> float:
        return round(float((rows["branch_status"] == "independent").sum() / len(rows) * 100), 2)

    tc180 = tc[(tc["district_code"] == "180") & (tc["report_year"] == 2021)]
    rated = tc180["rating"].notna()
    good_or_above = tc180["rating"].isin(["excellent", "good", "clean_strong"])
    members_2023, members_2022 = (
        tc_members("district_code", "183", 2023),
        tc_members("district_code", "183", 2022),
    )
    dv183 = dv[(dv["district"] == "183") & (dv["report_year"] == 2023)]
    dv06193 = dv[(dv["commune_code"] == "06193") & (dv["report_year"] == 2023)]
    return {
        ("members_total", "district", "183", 2023): int(members_2023),
        ("member_growth_pct", "district", "183", 2023): round(
            float((members_2023 - members_2022) / members_2022 * 100), 2
        ),
        ("admissions", "district", "183", 2023): int(dv183["admitted"].sum()),
        ("independent_branch_ratio_pct", "commune", "06193", 2022): independent_ratio(
            cb[(cb["commune_code"] == "06193") & (cb["report_year"] == 2022)]
        ),
        ("orgs_good_or_above_pct", "district", "180", 2021): round(
            float(good_or_above.sum() / rated.sum() * 100), 2
        ),
        ("members_total", "province", "20", 2024): int(tc_members("province", "20", 2024)),
        ("independent_branch_ratio_pct", "district", "073", 2020): independent_ratio(
            cb[(cb["district"] == "073") & (cb["report_year"] == 2020)]
        ),
        ("members_total", "commune", "06193", 2023): int(dv06193["members_end"].iloc[0]),
    }, {code: len(table["file"].unique()) for code, table in tables.items()}


if __name__ == "__main__":
    import pprint

    repo = Path(__file__).resolve().parents[2]
    values, good_files = recompute(repo / "seeds" / "demo_inbox")
    pprint.pprint(values)
    print("good files:", good_files)
    print("matches EXPECTED_INDICATORS:", values == EXPECTED_INDICATORS)
    print("matches EXPECTED_GOOD_FILES:", good_files == EXPECTED_GOOD_FILES)
