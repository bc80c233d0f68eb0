"""The SQL and dbt files made from the catalog: the raw form tables' DDL, the staging
models with their docs and tests, the indicator seed.

Each function returns the text of one file (or of its generated section); catalog.render
decides where it goes and compares it with what is there.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap

import yaml

from grassroots.catalog.forms import Column, Form, FormCatalog
from grassroots.catalog.indicators import Indicator

SOURCE_NOTE = "src/grassroots/catalog/forms.yaml"
# The line of a staging model's yml after which it is hand-written (unit tests), kept
# as it is by `grassroots catalog sync`.
HAND_WRITTEN_MARKER = "# --- hand-written below: kept by `grassroots catalog sync` ---"
WIDTH = 90  # wrapped comments and descriptions
LINE = 100  # longest one-line description
FLOW = 120  # longest one-line list of accepted values


def _comment(text: str, prefix: str = "-- ") -> str:
    return "\n".join(textwrap.wrap(text, WIDTH, initial_indent=prefix, subsequent_indent=prefix))


# --- warehouse.sql: the raw form tables -------------------------------------------------


def raw_table_ddl(catalog: FormCatalog) -> str:
    """CREATE TABLE of every form's raw table: the row columns, then the form's."""
    statements = []
    for form in catalog.forms.values():
        lines = [f"create table if not exists {form.raw_table} ("]
        for column in (*catalog.row_columns, *form.columns):
            null = " not null" if column.raw_not_null else ""
            lines.append(f"    {column.name} {column.sql_type}{null},")
        keys = ", ".join(c.name for c in catalog.row_columns)
        lines += [f"    primary key ({keys})", ");"]
        statements.append("\n".join(lines))
    return "\n\n".join(statements) + "\n"


# --- staging models --------------------------------------------------------------------


def _select_item(column: Column) -> str:
    cast = f"cast({column.name} as {column.sql_type})"
    if column.kind == "text":
        # Submitted free text: made safe to open in a spreadsheet.
        cast = f'{{{{ excel_safe("{cast}") }}}}'
    return f"{cast} as {column.staging_name}"


FLAT_VIEW_NOTE = _comment(
    "Straight from the source, no CTE: a view with a WITH is never flattened into the"
    " query that reads it, and a join on file_id would then miss the raw table's key."
)


def staging_sql(catalog: FormCatalog, form: Form) -> str:
    """stg_form_<code>.sql: the raw table renamed and typed."""
    what = "rename and type only"
    if any(c.kind == "text" for c in form.columns):
        what += "; submitted text made safe to open in Excel by excel_safe"
    header = _comment(f"Form {form.code} rows of every accepted file version ({what}).")
    note = _comment(f"Written by `grassroots catalog sync` from {SOURCE_NOTE}.")
    items = [_select_item(c) for c in (*catalog.row_columns, *form.columns)]
    body = ",\n".join(f"    {item}" for item in items)
    return (
        f"{header}\n{note}\n{FLAT_VIEW_NOTE}\nselect\n{body}\n"
        f"from {{{{ source('raw', '{form.raw_table.split('.')[1]}') }}}}\n"
    )


def _scalar(text: str) -> str:
    """A YAML scalar: plain when it reads back unchanged, else double-quoted."""
    try:
        plain = text == text.strip() and yaml.safe_load(f"k: {text}") == {"k": text}
    except yaml.YAMLError:
        plain = False
    return text if text and plain else json.dumps(text, ensure_ascii=False)


def _argument(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][\w.()']*", value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _description(indent: str, text: str, key: str = "description") -> list[str]:
    one_line = f"{indent}{key}: {_scalar(text)}"
    if len(one_line) <= LINE:
        return [one_line]
    inner = indent + "  "
    wrapped = textwrap.wrap(text, WIDTH, initial_indent=inner, subsequent_indent=inner)
    return [f"{indent}{key}: >-", *wrapped]


def _values(indent: str, values: list[str], key: str = "values") -> list[str]:
    flow = f"{indent}{key}: [{', '.join(json.dumps(v, ensure_ascii=False) for v in values)}]"
    if len(flow) <= FLOW:
        return [flow]
    return [f"{indent}{key}:", *(f"{indent}  - {_argument(v)}" for v in values)]


def _test_lines(catalog: FormCatalog, column: Column, test: str | dict, indent: str) -> list[str]:
    if isinstance(test, str):
        return [f"{indent}- {test}"]
    ((name, arguments),) = test.items()
    lines = [f"{indent}- {name}:", f"{indent}    arguments:"]
    inner = indent + "      "
    if name == "accepted_values" and arguments in ("choices", "ratings"):
        values = list(column.choices) if arguments == "choices" else catalog.rating_codes
        return lines + _values(inner, values)
    for key, value in arguments.items():
        lines.append(f"{inner}{key}: {_argument(value)}")
    return lines


def _enforced_not_null(column: Column) -> bool:
    """not_null on a column the raw table declares NOT NULL: PostgreSQL rejects the null
    on insert, so the model-level enforced_not_null (a catalog lookup) stands for it."""
    return column.raw_not_null and "not_null" in column.dbt_tests


def _column_lines(catalog: FormCatalog, column: Column) -> list[str]:
    lines = [f"      - name: {column.staging_name}", *_description("        ", column.description)]
    tests = [t for t in column.dbt_tests if not (t == "not_null" and _enforced_not_null(column))]
    if tests:
        lines.append("        data_tests:")
        for test in tests:
            lines += _test_lines(catalog, column, test, "          ")
    return lines


def staging_yml(catalog: FormCatalog, form: Form, current: str | None = None) -> str:
    """stg_form_<code>.yml: the model's and columns' docs and tests; the hand-written
    part after HAND_WRITTEN_MARKER in the current file is kept."""
    table = form.raw_table
    lines = [
        "version: 2",
        "",
        _comment(
            f"Written by `grassroots catalog sync` from {SOURCE_NOTE}; what follows the"
            " hand-written line at the end is kept.",
            "# ",
        ),
        "models:",
        f"  - name: {form.staging_model}",
        *_description("    ", form.staging_description),
        "    data_tests:",
        f"      # Key (file_id, source_row_number): {table} has primary key (file_id,",
        "      # row_number) and this view maps it 1:1, so PostgreSQL enforces it; the test",
        "      # checks that constraint exists and is valid (a GROUP BY over every row could"
        " not fail).",
        "      - enforced_unique:",
        "          arguments:",
        f"            enforced_by: {table}",
        f"            columns: [{', '.join(c.name for c in catalog.row_columns)}]",
    ]
    not_null = [c.name for c in (*catalog.row_columns, *form.columns) if _enforced_not_null(c)]
    if not_null:
        lines += [
            f"      # not_null of the columns {table} declares NOT NULL (the view maps them 1:1):",
            "      # the test checks those constraints, as above.",
            "      - enforced_not_null:",
            "          arguments:",
            f"            enforced_by: {table}",
            *_values("            ", not_null, key="columns"),
        ]
    lines.append("    columns:")
    for column in (*catalog.row_columns, *form.columns):
        lines += _column_lines(catalog, column)
    text = "\n".join(lines) + "\n"
    if current and HAND_WRITTEN_MARKER in current:
        text += "\n" + HAND_WRITTEN_MARKER + current.split(HAND_WRITTEN_MARKER, 1)[1]
    return text


# --- the indicator seed ----------------------------------------------------------------

SEED_COLUMNS = (
    "indicator_code",
    "name_en",
    "name_vi",
    "value_kind",
    "source_forms",
    "uses_ratings",
    "is_computed",
    "sums_over_term",
    "as_reported_levels",
    "current_levels",
)


def indicator_seed(indicators: dict[str, Indicator]) -> str:
    """seeds/registry/ref_indicators.csv: one row per indicator, what dim_indicator reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SEED_COLUMNS)
    for i in indicators.values():
        writer.writerow(
            [
                i.code,
                i.name_en,
                i.name_vi,
                i.value_kind,
                ", ".join(i.source_forms),
                str(i.uses_ratings).lower(),
                str(i.is_computed).lower(),
                str(i.sums_over_term).lower(),
                ", ".join(i.as_reported_levels),
                ", ".join(i.current_levels),
            ]
        )
    return out.getvalue()
