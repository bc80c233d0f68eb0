"""The submission forms of forms.yaml, as dataclasses (loaded once).

grassroots.forms re-exports them with the logic that reads them (header and enum
matching, form detection); `grassroots catalog sync` renders the SQL and docs from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from grassroots.catalog.indicators import CATALOG_DIR, load_indicators

# Column kinds. "code" and "text" stay text; "int" and "number" accept Vietnamese
# number formats (61.491, 87,8, trailing %); enums and ratings are normalized to codes.
KINDS = ("int", "number", "code", "text", "enum", "rating", "term")


@dataclass(frozen=True)
class Column:
    name: str
    label_vi: str
    kind: str
    required: bool = True
    # Allowed codes for enums, with the Vietnamese labels staff may write instead.
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Extra Vietnamese labels accepted in headers (e.g. "Mã tỉnh" beside "Mã huyện").
    aliases_vi: tuple[str, ...] = ()
    # English meaning: the staging column's dbt description and docs/forms.md.
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    # Short note in the blank template's header comment.
    template_note: str = ""
    # Type of the raw table column and of the staging view's cast.
    sql_type: str = "text"
    raw_not_null: bool = True
    staging_name: str = ""
    # The staging column's dbt data tests, as forms.yaml writes them.
    dbt_tests: tuple = ()


@dataclass(frozen=True)
class Form:
    code: str
    title_vi: str
    title_en: str
    columns: tuple[Column, ...]
    unit_column: str
    period_column: str
    key_columns: tuple[str, ...]
    sender_level: str  # "commune", "district_or_province", "commune_or_district"
    purpose: str = ""
    sender: str = ""
    staging_description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def raw_table(self) -> str:
        return f"raw.form_{self.code.lower()}"

    @property
    def staging_model(self) -> str:
        return f"stg_form_{self.code.lower()}"


@dataclass(frozen=True)
class FormCatalog:
    forms: dict[str, Form]
    # Columns every raw table and staging view starts with (file_id, row_number).
    row_columns: tuple[Column, ...]
    enums: dict[str, dict[str, tuple[str, ...]]]
    rating_change_year: int
    # code -> (Vietnamese text, abbreviation), per scale; old code -> new code.
    ratings_before: dict[str, tuple[str, str]]
    ratings_from: dict[str, tuple[str, str]]
    old_to_new_rating: dict[str, str]

    @property
    def rating_codes(self) -> list[str]:
        """Every rating code: the current scale's, then the old scale's others."""
        return [*self.ratings_from, *(c for c in self.ratings_before if c not in self.ratings_from)]


def _choices(name: str | None, enums: dict, indicator_codes) -> dict[str, tuple[str, ...]]:
    if name is None:
        return {}
    if name == "indicators":
        return {code: () for code in indicator_codes}
    return enums[name]


def _column(entry: dict, enums: dict, indicator_codes) -> Column:
    entry = dict(entry)
    required = entry.pop("required", True)
    return Column(
        required=required,
        choices=_choices(entry.pop("choices", None), enums, indicator_codes),
        aliases_vi=tuple(entry.pop("aliases_vi", ())),
        raw_not_null=entry.pop("raw_not_null", required),
        staging_name=entry.pop("staging_name", entry["name"]),
        dbt_tests=tuple(entry.pop("dbt_tests", ())),
        label_vi=entry.pop("label_vi", ""),
        kind=entry.pop("kind", "int"),
        **entry,
    )


def _form(code: str, entry: dict, enums: dict, indicator_codes) -> Form:
    entry = dict(entry)
    columns = tuple(_column(c, enums, indicator_codes) for c in entry.pop("columns"))
    return Form(code=code, columns=columns, key_columns=tuple(entry.pop("key_columns")), **entry)


def _scale(table: dict) -> dict[str, tuple[str, str]]:
    return {code: (rating["vi"], rating["abbreviation"]) for code, rating in table.items()}


def load_forms(catalog_dir: Path = CATALOG_DIR) -> FormCatalog:
    """The forms of catalog_dir/forms.yaml, read once per folder."""
    return _load_forms(Path(catalog_dir).resolve())


@cache
def _load_forms(catalog_dir: Path) -> FormCatalog:
    data = yaml.safe_load((catalog_dir / "forms.yaml").read_text(encoding="utf-8"))
    enums = {
        name: {code: tuple(labels) for code, labels in table.items()}
        for name, table in data["enums"].items()
    }
    codes = tuple(load_indicators(catalog_dir))
    ratings = data["ratings"]
    return FormCatalog(
        forms={code: _form(code, f, enums, codes) for code, f in data["forms"].items()},
        row_columns=tuple(_column(c, enums, codes) for c in data["row_columns"]),
        enums=enums,
        rating_change_year=ratings["change_year"],
        ratings_before=_scale(ratings["before_change"]),
        ratings_from=_scale(ratings["from_change"]),
        old_to_new_rating={c: r["new_scale"] for c, r in ratings["before_change"].items()},
    )


CATALOG = load_forms()
FORMS: dict[str, Form] = CATALOG.forms
