"""The demo inbox generator (grassroots.synthetic.demo) and the committed seeds/demo_inbox."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from grassroots.forms import RATINGS_BEFORE_2018, RATINGS_FROM_2018
from grassroots.registry import Registry
from grassroots.synthetic.demo import expected_quarantine, write_demo_inbox

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SEED_INBOX = REPO / "seeds" / "demo_inbox"


def _load_expectations():
    # tests/e2e is not a package: load the module by path.
    path = REPO / "tests" / "e2e" / "demo_expectations.py"
    spec = importlib.util.spec_from_file_location("demo_expectations", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


expectations = _load_expectations()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="module")
def generated(tmp_path_factory, registry) -> Path:
    out = tmp_path_factory.mktemp("inbox")
    write_demo_inbox(out, registry)
    return out


@pytest.fixture(scope="module")
def good(generated) -> dict[str, pd.DataFrame]:
    return {k: pd.DataFrame(v) for k, v in expectations.read_good_files(generated).items()}


def test_writing_twice_is_byte_identical(tmp_path, generated, registry):
    again = tmp_path / "again"
    write_demo_inbox(again, registry)
    first = sorted(p.name for p in generated.iterdir())
    assert first == sorted(p.name for p in again.iterdir())
    for name in first:  # CSV and XLSX alike (XLSX timestamps are pinned)
        assert (generated / name).read_bytes() == (again / name).read_bytes(), name


def test_committed_inbox_is_current(generated):
    committed = sorted(p.name for p in SEED_INBOX.iterdir())
    assert committed == sorted(p.name for p in generated.iterdir())
    for name in committed:
        assert (SEED_INBOX / name).read_bytes() == (generated / name).read_bytes(), name


def test_inbox_mix_of_formats_and_headers(generated):
    names = [p.name for p in generated.iterdir()]
    broken = [n for n in names if n.startswith("broken_")]
    assert len(broken) == 14
    assert len(names) - len(broken) == 12 * 9 * 2 + 4 * 9 + 12
    xlsx = [n for n in names if n.endswith(".xlsx")]
    assert 0.1 < len(xlsx) / len(names) < 0.3
    csv_bytes = [(generated / n).read_bytes() for n in names if n.endswith(".csv")]
    assert any(b.startswith(b"\xef\xbb\xbf") for b in csv_bytes)
    headers = {b.decode("utf-8-sig").splitlines()[0].split(",")[0] for b in csv_bytes}
    assert {"report_year", "Năm báo cáo", "Nam bao cao"} <= headers
    # Vietnamese thousands separators on population in some files, e.g. ",12.345,".
    assert any(re.search(rb",\d{1,2}\.\d{3},", b) for b in csv_bytes)
    assert "Báo cáo chi bộ thôn (bản cuối) - Copy.csv" in names


def test_counts_of_good_files(good):
    files = {code: table["file"].nunique() for code, table in good.items()}
    assert files == expectations.EXPECTED_GOOD_FILES


def test_dv_identity_and_probation_hold_in_every_good_file(good):
    dv = good["DV"]
    flows = (
        dv["members_start"]
        + dv["admitted"]
        + dv["transferred_in"]
        - dv["transferred_out"]
        - dv["deceased"]
        - dv["expelled"]
        - dv["removed"]
    )
    assert (flows == dv["members_end"]).all()
    assert (dv["probationary_end"] <= dv["members_end"]).all()
    assert dv["population"].between(5_000, 20_000).all()
    assert (dv.groupby("file").size() == 1).all()


def test_dv_members_start_continues_previous_year(good):
    dv = good["DV"].sort_values(["commune_code", "report_year"])
    previous_end = dv.groupby("commune_code")["members_end"].shift()
    chained = previous_end.notna()
    assert (dv.loc[chained, "members_start"] == previous_end[chained]).all()
    growth = dv["members_end"] / dv["members_start"] - 1
    assert growth.between(-0.05, 0.08).all()


def test_cb_rows_are_consistent(good):
    cb, dv = good["CB"], good["DV"]
    assert cb["village_code"].str.fullmatch(r"\d{5}-\d{3}").all()
    assert (cb["village_code"].str[:5] == cb["commune_code"]).all()
    independent = cb["branch_status"] == "independent"
    assert (cb.loc[independent, "members"] >= 3).all()
    assert (cb.loc[cb["branch_status"] == "none", "members"] == 0).all()
    assert cb.loc[~independent, "branch_rating"].isna().all()
    assert cb.loc[independent, "branch_rating"].notna().all()
    old = cb["report_year"] < 2018
    assert cb.loc[old & independent, "branch_rating"].isin(list(RATINGS_BEFORE_2018)).all()
    assert cb.loc[~old & independent, "branch_rating"].isin(list(RATINGS_FROM_2018)).all()
    # Joint villages name an independent village of the same commune and year.
    hosts = cb.loc[independent, ["file", "village_code"]]
    joint = cb[cb["branch_status"] == "joint"]
    merged = joint.merge(
        hosts, left_on=["file", "host_village_code"], right_on=["file", "village_code"]
    )
    assert len(merged) == len(joint) > 0
    # CB members add up to DV.members_end exactly (X1 within 0 %).
    totals = cb.groupby(["commune_code", "report_year"])["members"].sum()
    ends = dv.set_index(["commune_code", "report_year"])["members_end"]
    assert totals.sort_index().equals(ends.sort_index().astype(totals.dtype))
    assert cb.groupby("file")["village_code"].agg(lambda c: c.is_unique).all()
    assert cb.groupby("file").size().between(5, 12).all()


def test_tc_rows_match_dv_and_cap_excellent(good, registry):
    tc, dv = good["TC"], good["DV"]
    communes = tc[tc["org_type"].isin(["commune", "ward", "town"])]
    ends = dv.set_index(["commune_code", "report_year"])["members_end"]
    looked_up = ends.loc[list(zip(communes["org_code"], communes["report_year"], strict=True))]
    assert (communes["members"].to_numpy() == looked_up.to_numpy()).all()
    towns = communes.loc[communes["org_type"] == "town", "org_code"].unique()
    assert sorted(towns) == ["00769", "06184"]
    assert registry.commune_belongs_to(
        communes["org_code"], communes["report_year"], communes["district_code"]
    ).all()
    others = tc[~tc.index.isin(communes.index)]
    assert (others["org_code"].str[:4] == others["district_code"] + "-").all()
    for (_district, year), rows in tc.groupby(["district_code", "report_year"]):
        if year >= 2018:
            good_or_above = rows["rating"].isin(["excellent", "good"]).sum()
            assert (rows["rating"] == "excellent").sum() <= 0.2 * good_or_above


def test_ct_targets(good):
    ct = good["CT"]
    assert (ct["term"] == "2020-2025").all()
    assert ct["unit_code"].nunique() == 12
    assert not ct.duplicated(["unit_code", "indicator_code", "basis"]).any()


def test_expected_quarantine_matches_generator(registry):
    assert expected_quarantine(registry) == expectations.EXPECTED_QUARANTINE


def _cell(path: Path, staff_row: int, column: str) -> str:
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    return rows[staff_row - 2][column]


def test_broken_files_carry_their_defect(generated):
    for name, (rule, row, column) in expectations.EXPECTED_QUARANTINE.items():
        path = generated / name
        text = path.read_bytes().decode("utf-8-sig")
        if rule == "S1":
            assert column not in text.splitlines()[0].split(",")
        elif rule == "S8":
            assert len(text.splitlines()) == 1
        elif rule == "S4":
            assert len(text.splitlines()) == 3
        elif name == "broken_S7_CB_duplicate_village.csv":  # Vietnamese headers
            codes = [r["Mã thôn"] for r in csv.DictReader(io.StringIO(text))]
            assert codes.count(codes[row - 2]) == 2
        else:
            value = _cell(path, row, column)
            expected = {
                "S2": "abc",
                "S3": "sometimes" if column == "branch_status" else "clean_strong",
                "S5": "2031",
                "S6": "99999",
                "C3": "",
            }
            if rule in expected:
                assert value == expected[rule], name


def test_expected_indicators_recompute(generated):
    values, good_files = expectations.recompute(generated)
    assert values == expectations.EXPECTED_INDICATORS
    assert good_files == expectations.EXPECTED_GOOD_FILES


def test_good_data_raises_no_plausibility_warnings(good):
    dv = good["DV"]
    assert (dv["admitted"] <= 0.15 * dv["members_start"]).all()  # P2
    assert (dv["members_end"] <= 0.25 * dv["population"]).all()  # P3
    # P4: a rating never moves two or more steps in a year (old scale mapped to new).
    steps = {"excellent": 0, "good": 1, "completed": 2, "not_completed": 3}
    steps |= {"clean_strong": 0, "weak": 3}
    series = [
        good["CB"]
        .dropna(subset=["branch_rating"])[["village_code", "report_year", "branch_rating"]]
        .set_axis(["unit", "report_year", "rating"], axis=1),
        good["TC"][["org_code", "report_year", "rating"]].set_axis(
            ["unit", "report_year", "rating"], axis=1
        ),
    ]
    for ratings in series:
        ratings = ratings.sort_values(["unit", "report_year"])
        level = ratings["rating"].map(steps)
        moved = level.groupby(ratings["unit"]).diff().abs()
        assert (moved.dropna() <= 1).all()
