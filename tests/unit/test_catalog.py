"""The catalog drives everything made from it: generated files match it, a column added
to forms.yaml alone shows up as stale files, and the code that reads the catalog sees
the column without any other edit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from grassroots import forms as forms_module
from grassroots import report
from grassroots.catalog import FORMS, INDICATOR_CODES, INDICATORS, load_forms, render
from grassroots.catalog.forms import CATALOG as FORMS_CATALOG
from grassroots.catalog.indicators import CATALOG_DIR
from grassroots.catalog.render_dbt import HAND_WRITTEN_MARKER, SEED_COLUMNS
from grassroots.config import REPO_ROOT

pytestmark = pytest.mark.unit

NEW_COLUMN = {
    "name": "members_female",
    "label_vi": "Đảng viên nữ",
    "kind": "int",
    "required": False,
    "minimum": 0,
    "description": "Women among the party members at year end.",
    "sql_type": "integer",
}


def test_every_generated_file_matches_the_catalog():
    assert render.stale() == [], "run `grassroots catalog sync`"


def test_the_modules_read_the_catalog():
    assert forms_module.FORMS is FORMS
    assert forms_module.INDICATOR_CODES == INDICATOR_CODES == tuple(INDICATORS)
    assert len(INDICATORS) == 18
    assert list(FORMS["CT"].column("indicator_code").choices) == list(INDICATOR_CODES)
    assert set(report.INDICATOR_COLUMNS) <= set(INDICATORS)
    for indicator in INDICATORS.values():
        assert set(indicator.source_forms) <= set(FORMS)


def test_the_catalog_is_read_once():
    assert load_forms() is load_forms(CATALOG_DIR) is FORMS_CATALOG


def test_dim_indicator_selects_the_seeds_columns():
    sql = (REPO_ROOT / "dbt_project/models/marts/dim_indicator.sql").read_text()
    selected = sql.split("select", 1)[1].split("from", 1)[0]
    assert [c.strip() for c in selected.split(",")] == list(SEED_COLUMNS)
    assert "ref('ref_indicators')" in sql


def test_generated_staging_yml_is_valid_yaml_with_the_catalogs_columns():
    for form in FORMS.values():
        path = REPO_ROOT / "dbt_project/models/staging" / f"{form.staging_model}.yml"
        (model,) = yaml.safe_load(path.read_text(encoding="utf-8"))["models"]
        names = [c["name"] for c in model["columns"]]
        assert names == ["file_id", "source_row_number", *(c.staging_name for c in form.columns)]


def _copy_targets(root: Path) -> None:
    for target in render.targets():
        (root / target.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / target.path, root / target.path)


def test_a_hand_edit_of_a_generated_file_is_reported(tmp_path):
    _copy_targets(tmp_path)
    assert render.stale(tmp_path) == []
    stg = tmp_path / "dbt_project/models/staging/stg_form_dv.sql"
    stg.write_text(stg.read_text().replace("as bigint) as population", "as integer) as population"))
    ddl = tmp_path / "src/grassroots/sql/warehouse.sql"
    ddl.write_text(ddl.read_text().replace("    org_name text,\n", ""))
    assert render.stale(tmp_path) == [
        "src/grassroots/sql/warehouse.sql",
        "dbt_project/models/staging/stg_form_dv.sql",
    ]
    assert render.sync(tmp_path) == [
        "src/grassroots/sql/warehouse.sql",
        "dbt_project/models/staging/stg_form_dv.sql",
    ]
    assert render.stale(tmp_path) == []


def test_the_hand_written_part_of_a_staging_yml_is_kept(tmp_path):
    _copy_targets(tmp_path)
    yml = tmp_path / "dbt_project/models/staging/stg_form_cb.yml"
    text = yml.read_text()
    assert "unit_tests:" in text.split(HAND_WRITTEN_MARKER)[1]
    yml.write_text(text.replace("formula_payloads_are_neutralised", "renamed_unit_test"))
    assert render.stale(tmp_path) == []


def _catalog_with_new_column(tmp_path: Path) -> Path:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for name in ("forms.yaml", "indicators.yaml"):
        shutil.copy(CATALOG_DIR / name, catalog / name)
    data = yaml.safe_load((catalog / "forms.yaml").read_text(encoding="utf-8"))
    data["forms"]["DV"]["columns"].append(NEW_COLUMN)
    (catalog / "forms.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return catalog


def test_a_column_added_to_forms_yaml_only_makes_its_files_stale(tmp_path):
    catalog = _catalog_with_new_column(tmp_path)
    assert load_forms(catalog).forms["DV"].column_names[-1] == "members_female"
    assert render.stale(REPO_ROOT, catalog) == [
        "src/grassroots/sql/warehouse.sql",
        "dbt_project/models/staging/stg_form_dv.sql",
        "dbt_project/models/staging/stg_form_dv.yml",
        "docs/forms.md",
    ]
    rendered = {t.path: t for t in render.targets(catalog)}
    ddl = rendered["src/grassroots/sql/warehouse.sql"].render(
        (REPO_ROOT / "src/grassroots/sql/warehouse.sql").read_text()
    )
    assert "    probationary_end integer not null,\n    members_female integer,\n" in ddl
    stg = rendered["dbt_project/models/staging/stg_form_dv.sql"].render(None)
    assert "as members_female\nfrom {{ source('raw', 'form_dv') }}" in stg


# Run against a copy of the package whose forms.yaml has the new column: the parser,
# the GX suite, the blank template and the loader's column list all carry it.
_PROBE = textwrap.dedent(
    """
    import json
    from grassroots.forms import FORMS
    from grassroots.reader import parse_content
    from grassroots.templates import build_template
    from grassroots.validation.suites import build_suite, suite_to_dict

    form = FORMS["DV"]
    csv = "Năm báo cáo,Mã xã,Đảng viên đầu năm,Đảng viên nữ\\n2024,06193,100,41\\n"
    parsed = parse_content(1, "DV.csv", csv.encode())
    sheet = build_template(form)[form.code]
    print(json.dumps({
        "columns": form.column_names,
        "form": parsed.form.code,
        "present": list(parsed.present_columns),
        "value": parsed.frame.loc[0, "members_female"],
        "suite": "members_female" in json.dumps(suite_to_dict(build_suite(form))),
        "template": [cell.value for cell in sheet[3]],
    }))
    """
)


def test_the_parser_suites_and_templates_see_a_column_added_to_the_catalog(tmp_path):
    catalog = _catalog_with_new_column(tmp_path)
    package = tmp_path / "src" / "grassroots"
    shutil.copytree(
        REPO_ROOT / "src/grassroots", package, ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(catalog / "forms.yaml", package / "catalog" / "forms.yaml")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src"), "GX_ANALYTICS_ENABLED": "false"}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["columns"][-1] == "members_female"
    assert seen["form"] == "DV"
    assert "members_female" in seen["present"]
    assert seen["value"] == "41"
    assert seen["suite"] is True
    assert "Đảng viên nữ" in seen["template"]
