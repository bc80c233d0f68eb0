"""The synthetic submissions generator (grassroots.synthetic.national), at demo scale."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from grassroots.reader import parse_content
from grassroots.registry import Registry
from grassroots.synthetic.defects import FILE_RULES
from grassroots.synthetic.national import generate, read_manifest
from grassroots.validation.runner import validate_batch

pytestmark = pytest.mark.unit

YEARS = [2024, 2025]
ERROR_RATE = 0.2  # high, so that a demo-scale run breaks every rule at least once


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="module")
def run(tmp_path_factory, registry) -> tuple[Path, Path, object]:
    base = tmp_path_factory.mktemp("generated")
    summary = generate(
        base / "inbox", scale="demo", years=YEARS, error_rate=ERROR_RATE, seed=7, registry=registry
    )
    return base / "inbox", summary.manifest, summary


def _rows(path: Path) -> list[dict[str, str]]:
    """CSV files of the canonical English style only (enough for value checks)."""
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_deterministic_for_a_seed(tmp_path, run, registry):
    inbox, manifest, _ = run
    again = generate(
        tmp_path / "inbox",
        scale="demo",
        years=YEARS,
        error_rate=ERROR_RATE,
        seed=7,
        registry=registry,
    )
    names = sorted(p.name for p in inbox.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "inbox").iterdir())
    for name in names:
        assert (inbox / name).read_bytes() == (tmp_path / "inbox" / name).read_bytes(), name
    assert manifest.read_bytes() == again.manifest.read_bytes()


def test_inbox_holds_only_submissions_and_mixes_formats(run):
    inbox, manifest, summary = run
    assert manifest.parent != inbox and manifest.exists()
    names = [p.name for p in inbox.iterdir()]
    assert len(names) == summary.files
    assert {n.split("_")[0] for n in names} == {"CB", "DV", "TC", "CT"}
    assert 0.1 < sum(n.endswith(".xlsx") for n in names) / len(names) < 0.3


def test_manifest_matches_injected_defects(run):
    inbox, manifest, summary = run
    broken = read_manifest(manifest)
    assert len(broken) == round(ERROR_RATE * summary.files)
    counts = Counter(broken["rule"])
    assert set(counts) == set(FILE_RULES)  # every kind of rule, spread evenly
    assert max(counts.values()) - min(counts.values()) <= 1
    # The validator finds exactly the injected rule in each broken file, and no error
    # anywhere else.
    files = sorted(inbox.iterdir())
    parsed = [parse_content(i, p.name, p.read_bytes()) for i, p in enumerate(files)]
    result = validate_batch(parsed, registry=Registry.load())
    found: dict[str, set[str]] = {}
    for finding in result.findings:
        if finding.severity == "error":
            found.setdefault(files[finding.file_id].name, set()).add(finding.rule_id)
    assert found == {row.file_name: {row.rule} for row in broken.itertuples()}


def test_leading_zeros_survive(run):
    inbox, _, _ = run
    for path in inbox.glob("DV_00*.csv"):
        parsed = parse_content(1, path.name, path.read_bytes())
        if not parsed.frame.empty and "commune_code" in parsed.frame:
            assert parsed.frame["commune_code"].str.startswith("00").all(), path.name
    xlsx = list(inbox.glob("CB_00*.xlsx"))
    assert xlsx
    for path in xlsx:
        frame = parse_content(1, path.name, path.read_bytes()).frame
        assert frame.empty or frame["commune_code"].str.match(r"^00\d{3}$").all()


def test_2025_uses_post_reform_units(run, registry):
    inbox, _, _ = run
    new = registry.table("commune")
    new_codes = set(new.loc[new["parent"].str.len() == 2, "code"])
    units_2025 = [p.name.split("_")[1] for p in inbox.glob("*_2025.*")]
    assert units_2025
    for name in (p.name for p in inbox.glob("*_2025.*")):
        form, unit = name.split("_")[:2]
        if form == "TC":
            assert len(unit) == 2  # the province sends TC: districts are gone
        else:
            assert unit in new_codes
    assert any(p.name.startswith("CT_") and "_2025-2030" in p.name for p in inbox.iterdir())


def test_dv_identity_holds_in_good_files(run):
    inbox, manifest, _ = run
    broken = set(read_manifest(manifest)["file_name"])
    checked = 0
    for path in inbox.glob("DV_*.csv"):
        if path.name in broken or not path.read_bytes().lstrip(b"\xef\xbb\xbf").startswith(
            b"report_year"
        ):
            continue
        for row in _rows(path):
            n = {k: int(v) for k, v in row.items() if k not in ("commune_code",)}
            assert n["members_end"] == (
                n["members_start"]
                + n["admitted"]
                + n["transferred_in"]
                - n["transferred_out"]
                - n["deceased"]
                - n["expelled"]
                - n["removed"]
            )
            assert n["probationary_end"] <= n["members_end"]
            checked += 1
    assert checked > 5
