"""Marts across the 2025 reform, on the real warehouse: real intake, real dbt build.

Communes 05974 and 05986 (district 178, Lạng Sơn) merged whole into the new commune
05986 on 2025-07-01 (seeds/registry/ref_commune_crosswalk_2025.csv). They report
forms DV and CB for 2023 and 2024, the new commune for 2025; district 178 reports
form TC to 2024, province 20 from 2025. Expected values are computed here from the
submitted numbers, independently of the dbt models: on current boundaries the series of
05986 is continuous and before the merger equals the sum of its two predecessors.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from grassroots import intake
from grassroots.config import DBT_PROJECT_DIR, paths
from grassroots.runtime import run_tool, runtime_env
from tests.integration.test_cross_checks import cb, dv, tc

pytestmark = pytest.mark.integration

OLD_A, OLD_B, NEW = "05974", "05986", "05986"
# members at year end per commune and year (DV); admissions per year.
MEMBERS = {(OLD_A, 2023): 120, (OLD_B, 2023): 200, (OLD_A, 2024): 126, (OLD_B, 2024): 210}
ADMITTED = {(OLD_A, 2023): 4, (OLD_B, 2023): 6, (OLD_A, 2024): 6, (OLD_B, 2024): 10}
NEW_MEMBERS_2025, NEW_ADMITTED_2025 = 350, 9
CT_HEADER = "term,unit_code,indicator_code,target_value,basis,direction\n"


def _files() -> dict[str, str]:
    files = {}
    for (commune, year), end in MEMBERS.items():
        admitted = ADMITTED[(commune, year)]
        files[f"dv_{commune}_{year}.csv"] = dv(year, commune, end - admitted, admitted=admitted)
    # CB: old A has 2 villages (one rated good), old B 3 villages (all rated good).
    for year in (2023, 2024):
        files[f"cb_{OLD_A}_{year}.csv"] = cb(year, OLD_A, [(1, 10, "good"), (2, 12, "completed")])
        files[f"cb_{OLD_B}_{year}.csv"] = cb(
            year, OLD_B, [(1, 10, "good"), (2, 11, "good"), (3, 9, "good")]
        )
        files[f"tc_178_{year}.csv"] = tc(
            year,
            "178",
            [
                (OLD_A, "commune", MEMBERS[(OLD_A, year)], "good", ""),
                (OLD_B, "commune", MEMBERS[(OLD_B, year)], "excellent", ""),
            ],
        )
    start = NEW_MEMBERS_2025 - NEW_ADMITTED_2025
    files[f"dv_{NEW}_2025.csv"] = dv(2025, NEW, start, admitted=NEW_ADMITTED_2025)
    files[f"cb_{NEW}_2025.csv"] = cb(
        2025, NEW, [(1, 10, "good"), (2, 12, "good"), (3, 11, "completed"), (4, 9, "good")]
    )
    files["tc_20_2025.csv"] = tc(2025, "20", [(NEW, "commune", NEW_MEMBERS_2025, "good", "80")])
    # Congress-term targets of both predecessors: at least 3 and 4 admissions per year.
    files[f"ct_{OLD_A}.csv"] = CT_HEADER + f"2020-2025,{OLD_A},admissions,3,per_year,at_least\n"
    files[f"ct_{OLD_B}.csv"] = CT_HEADER + f"2020-2025,{OLD_B},admissions,4,per_year,at_least\n"
    return files


@pytest.fixture(scope="module")
def marts(warehouse, tmp_path_factory):
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    tmp = tmp_path_factory.mktemp("reform")
    inbox = tmp / "inbox"
    inbox.mkdir()
    files = _files()
    for name, text in files.items():
        (inbox / name).write_text(text, encoding="utf-8")
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        intake.register(conn, intake.discover(inbox), paths().archive, "reform")
        summary = intake.process_pending(conn, paths().quarantine, "reform")
        assert summary.loaded == len(files), summary
    # A full refresh: the intake tables were emptied, so incremental state is stale.
    command = ["dbt", "build", "--full-refresh", "--select", "+mart_targets+"]
    command += ["+fct_indicator_lineage", "+mart_membership", "+mart_village_branches"]
    command += ["+fct_indicator_values"]
    command += ["--exclude", "fct_submission_completeness", "fct_validation_findings"]
    command += ["--indirect-selection", "cautious"]
    command += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    assert run_tool(command, runtime_env(warehouse), cwd=DBT_PROJECT_DIR) == 0
    conn = psycopg.connect(warehouse.url())
    yield conn
    conn.close()


def _values(conn, geography, level, code, indicator) -> dict[int, tuple]:
    rows = conn.execute(
        "select year, numerator, denominator, value, units_reported, units_expected,"
        " change_vs_previous_year, is_estimate"
        " from marts.fct_indicator_values"
        " where geography = %s and unit_level = %s and unit_code = %s and indicator_code = %s",
        (geography, level, code, indicator),
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_current_members_are_the_sum_of_the_predecessors_then_continue(marts):
    series = _values(marts, "current", "commune", NEW, "members_total")
    for year in (2023, 2024):
        total = MEMBERS[(OLD_A, year)] + MEMBERS[(OLD_B, year)]
        _, _, value, reported, expected, _, is_estimate = series[year]
        assert (value, reported, expected, is_estimate) == (total, 2, 2, False)
    assert series[2025][2] == NEW_MEMBERS_2025
    assert series[2025][3:5] == (1, 1)
    # Continuous: the 2025 change is against the predecessors' 2024 sum.
    assert series[2025][5] == NEW_MEMBERS_2025 - (MEMBERS[(OLD_A, 2024)] + MEMBERS[(OLD_B, 2024)])
    growth = _values(marts, "current", "commune", NEW, "member_growth_pct")
    assert round(growth[2025][2], 4) == round(Decimal(350 - 336) * 100 / 336, 4)


def test_as_reported_keeps_the_old_units_and_no_growth_across_a_reused_code(marts):
    old_b = _values(marts, "as_reported", "commune", OLD_B, "members_total")
    assert old_b[2024][2] == MEMBERS[(OLD_B, 2024)]
    assert old_b[2025][2] == NEW_MEMBERS_2025  # the code is reused by the merged commune
    growth = _values(marts, "as_reported", "commune", OLD_B, "member_growth_pct")
    assert 2024 in growth and 2025 not in growth  # another registry unit from 2025
    assert old_b[2025][5] is None  # no change against the old unit of the same code


def test_ratios_are_recomputed_from_reassigned_numerators_and_denominators(marts):
    ratio = _values(marts, "current", "commune", NEW, "branches_good_or_above_pct")
    # 2024: (1 + 3) good of (2 + 3) rated = 80 %, not the mean of 50 % and 100 %.
    numerator, denominator, value = ratio[2024][:3]
    assert (numerator, denominator, value) == (4, 5, 80)
    assert ratio[2025][:3] == (3, 4, 75)
    admissions = _values(marts, "current", "commune", NEW, "admissions")
    assert admissions[2024][2] == ADMITTED[(OLD_A, 2024)] + ADMITTED[(OLD_B, 2024)]


def test_province_series_runs_from_districts_to_the_province(marts):
    members = _values(marts, "current", "province", "20", "members_total")
    assert members[2024][2] == MEMBERS[(OLD_A, 2024)] + MEMBERS[(OLD_B, 2024)]
    assert members[2025][2] == NEW_MEMBERS_2025
    assert members[2025][5] == NEW_MEMBERS_2025 - 336
    # After the reform there are no districts on either geography.
    districts = marts.execute(
        "select count(*) from marts.fct_indicator_values"
        " where unit_level = 'district' and (year >= 2025 or geography = 'current')"
    ).fetchone()[0]
    assert districts == 0


def test_lineage_leads_from_the_merged_value_to_both_predecessor_files(marts):
    names = marts.execute(
        "select f.original_name from marts.fct_indicator_lineage l"
        " join landing.received_files f using (file_id)"
        " where l.geography = 'current' and l.unit_level = 'commune' and l.unit_code = %s"
        " and l.year = 2024 and l.source_form = 'DV' order by 1",
        (NEW,),
    ).fetchall()
    assert names == [(f"dv_{OLD_A}_2024.csv",), (f"dv_{OLD_B}_2024.csv",)]


def test_merged_unit_target_is_the_sum_of_the_predecessors(marts):
    row = marts.execute(
        "select target_value, term_target, actual_value, years_reported, is_derived,"
        " predecessors_with_target"
        " from marts.mart_targets where geography = 'current' and unit_code = %s"
        " and indicator_code = 'admissions' and congress_term = '2020-2025'",
        (NEW,),
    ).fetchone()
    actual = sum(ADMITTED.values())
    assert row == (7, 35, actual, 2, True, 2)
    own = marts.execute(
        "select term_target, actual_value, progress_pct, is_derived from marts.mart_targets"
        " where geography = 'as_reported' and unit_code = %s and indicator_code = 'admissions'",
        (OLD_A,),
    ).fetchone()
    assert own[:2] == (15, 10) and own[3] is False
    assert round(own[2], 2) == round(Decimal(10) * 100 / 15, 2)
