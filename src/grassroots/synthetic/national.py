"""Synthetic submissions at any scale over the real unit registry (`grassroots generate`).

Writes what the units would send for the chosen years (see `specs`), planned from the
national universe (see `universe`). A known share of the files carries exactly one
injected defect (S1-S8, C1-C5, spread evenly); they are listed in a manifest kept
OUTSIDE the inbox, so the inbox holds only submissions.

Files are rendered as text directly (csv module; XLSX from a fixed zip template with
inline strings, no openpyxl), named `<form>_<unit>_<period>.<ext>`; per-file choices
(style, format) come from a RNG seeded by (seed, form, unit, period).
"""

from __future__ import annotations

import csv
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from grassroots.registry import Registry
from grassroots.synthetic.defaults import DEFAULT_PROVINCE, DEFAULT_SEED, SCALES
from grassroots.synthetic.defects import FILE_RULES, RULE_FORMS, NotApplicable, inject
from grassroots.synthetic.files import csv_bytes, utf16_bytes, xlsx_bytes
from grassroots.synthetic.render import Renderer, Style
from grassroots.synthetic.specs import (
    Selection,
    Spec,
    year_specs,
)
from grassroots.synthetic.universe import (
    FIRST_YEAR,
    LAST_YEAR,
    REFORM_YEAR,
    plan_universe,
)

# What the command line and the benchmark take from here.
__all__ = ["DEFAULT_PROVINCE", "DEFAULT_SEED", "SCALES", "generate", "parse_years"]

MANIFEST_COLUMNS = ("file_name", "form", "unit", "period", "rule", "row", "column", "defect")


@dataclass(frozen=True)
class FileStyle:
    style: Style
    utf16: bool = False


def pick_style(seed: int, spec: Spec, xlsx_share: float) -> FileStyle:
    rng = random.Random(f"{seed}-style-{spec.key}")
    xlsx = rng.random() < xlsx_share
    language = rng.choice(("en", "vi", "ascii"))
    style = Style(
        language=language,
        xlsx=xlsx,
        bom=rng.random() < 0.12,
        crlf=rng.random() < 0.1,
        with_optional_points=rng.random() < 0.5 or spec.period.startswith(str(REFORM_YEAR)),
    )
    return FileStyle(style, utf16=not xlsx and rng.random() < 0.03)


def render(spec: Spec, file_style: FileStyle, renderer: Renderer) -> bytes:
    style = file_style.style
    header, body = renderer.table(spec.form, spec.rows, style, spec.drop)
    if style.xlsx:
        return xlsx_bytes(header, body)
    if file_style.utf16:
        return utf16_bytes(header, body)
    return csv_bytes(header, body, bom=style.bom, crlf=style.crlf)


# --- entry point ------------------------------------------------------------------------


@dataclass
class GenerateSummary:
    files: int = 0
    rows: int = 0
    bytes: int = 0
    xlsx: int = 0
    by_form: Counter = field(default_factory=Counter)
    broken_by_rule: Counter = field(default_factory=Counter)
    manifest: Path | None = None
    seconds: float = 0.0
    members_by_year: dict[int, int] = field(default_factory=dict)


def parse_years(text: str) -> list[int]:
    """`2008-2025`, `2024` or `2016,2018-2019`."""
    years: set[int] = set()
    for part in str(text).split(","):
        first, _, last = part.strip().partition("-")
        years.update(range(int(first), int(last or first) + 1))
    wrong = [y for y in years if not FIRST_YEAR <= y <= LAST_YEAR]
    if wrong:
        raise ValueError(f"years must lie in {FIRST_YEAR}-{LAST_YEAR}: {sorted(wrong)}")
    return sorted(years)


def default_manifest(out: Path) -> Path:
    out = Path(out).resolve()
    return out.parent / f"{out.name}_manifest.csv"


def choose_broken(
    specs: list[Spec], error_rate: float, seed: int, offset: int = 0
) -> list[tuple[Spec, str, tuple]]:
    """round(rate x files) broken files, rules in turn (S1, S2, ..., C5, S1, ...), each on
    a random file of a form the rule applies to; every chosen spec is modified in place."""
    rng = random.Random(f"{seed}-errors-{len(specs)}")
    wanted = round(error_rate * len(specs))
    by_form: dict[str, list[int]] = {}
    for position, spec in enumerate(specs):
        by_form.setdefault(spec.form, []).append(position)
    for positions in by_form.values():
        rng.shuffle(positions)
    taken: set[int] = set()
    broken: list[tuple[Spec, str, tuple]] = []
    for number in range(wanted * 3):  # rules that find no fitting file are retried
        if len(broken) == wanted:
            break
        rule = (
            FILE_RULES[(offset + len(broken)) % len(FILE_RULES)]
            if number < wanted * 2
            else rng.choice(FILE_RULES)
        )
        forms = [f for f in RULE_FORMS[rule] if by_form.get(f)]
        if not forms:
            continue
        form = rng.choice(forms)
        for _attempt in range(20):
            position = by_form[form][rng.randrange(len(by_form[form]))]
            if position in taken:
                continue
            spec = specs[position]
            try:
                outcome = inject(spec, rule, rng, specs)
            except NotApplicable:
                continue
            taken.add(position)
            broken.append((spec, rule, outcome))
            break
    return broken


def generate(
    out: Path,
    *,
    scale: str = "demo",
    years: list[int] | None = None,
    error_rate: float = 0.01,
    xlsx_share: float = 0.2,
    seed: int = DEFAULT_SEED,
    manifest: Path | None = None,
    province: str = DEFAULT_PROVINCE,
    registry: Registry | None = None,
) -> GenerateSummary:
    """Write the submissions of `years` at `scale` into `out` (only submissions) and the
    list of injected defects to `manifest` (default: `<out>_manifest.csv` beside it)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}")
    started = time.perf_counter()
    registry = registry or Registry.load()
    years = years or list(range(2008, LAST_YEAR + 1))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = Path(manifest) if manifest else default_manifest(out)
    if manifest.resolve().parent == out.resolve():
        raise ValueError("the manifest must not be inside the inbox")
    universe = plan_universe(registry, seed)
    selection = Selection(scale, province)
    renderer = Renderer()
    summary = GenerateSummary(manifest=manifest)
    manifest_rows: list[list[object]] = []
    for year in years:
        specs = year_specs(universe, registry, year, selection)
        summary.members_by_year[year] = sum(
            r["members"] for s in specs if s.form == "TC" for r in s.rows
        )
        broken = {
            id(spec): (rule, outcome)
            for spec, rule, outcome in choose_broken(
                specs, error_rate, seed + year, sum(summary.broken_by_rule.values())
            )
        }
        for spec in specs:
            file_style = pick_style(seed, spec, xlsx_share)
            data = render(spec, file_style, renderer)
            name = f"{spec.key}.{'xlsx' if file_style.style.xlsx else 'csv'}"
            (out / name).write_bytes(data)
            summary.files += 1
            summary.rows += len(spec.rows)
            summary.bytes += len(data)
            summary.xlsx += file_style.style.xlsx
            summary.by_form[spec.form] += 1
            if id(spec) in broken:
                rule, (row, column, defect) = broken[id(spec)]
                summary.broken_by_rule[rule] += 1
                manifest_rows.append(
                    [name, spec.form, spec.unit, spec.period, rule, row or "", column or "", defect]
                )
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with manifest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows(sorted(manifest_rows))
    summary.seconds = time.perf_counter() - started
    return summary


def read_manifest(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)
