"""The indicators of indicators.yaml, as dataclasses (loaded once)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CATALOG_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    name_en: str
    value_kind: str  # "count" or "percent"
    source_forms: tuple[str, ...]
    definition: str
    formula: str
    as_reported_levels: tuple[str, ...]
    current_levels: tuple[str, ...]
    uses_ratings: bool = False
    sums_over_term: bool = False
    is_computed: bool = True
    report_label: str | None = None


def _indicator(entry: dict) -> Indicator:
    levels = entry.pop("levels")
    return Indicator(
        source_forms=tuple(entry.pop("source_forms")),
        as_reported_levels=tuple(levels["as_reported"]),
        current_levels=tuple(levels["current"]),
        **entry,
    )


def load_indicators(catalog_dir: Path = CATALOG_DIR) -> dict[str, Indicator]:
    """Code -> indicator, in the catalog's order; read once per folder."""
    return _load_indicators(Path(catalog_dir).resolve())


@cache
def _load_indicators(catalog_dir: Path) -> dict[str, Indicator]:
    data = yaml.safe_load((catalog_dir / "indicators.yaml").read_text(encoding="utf-8"))
    indicators = [_indicator(dict(entry)) for entry in data["indicators"]]
    return {indicator.code: indicator for indicator in indicators}


INDICATORS: dict[str, Indicator] = load_indicators()
INDICATOR_CODES: tuple[str, ...] = tuple(INDICATORS)
