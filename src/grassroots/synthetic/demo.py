"""The demo inbox (`seeds/demo_inbox/`): plausible submissions plus one broken file per
error kind, written by `grassroots demo-data`.

Each submission is rendered in one of the styles staff really send: canonical English
headers, Vietnamese labels, Vietnamese without diacritics; CSV (a few with BOM or CRLF)
or XLSX (about 1 in 5); Vietnamese number formatting (`12.345`) in the Vietnamese
styles. Running it twice gives byte-identical files (XLSX included: zip timestamps and
document properties are pinned).

File names are informative only (the pipeline must never trust them); two good files
carry deliberately odd or misleading names. Broken files are named `broken_<rule>_...`
and each carries exactly one defect; tests/e2e/demo_expectations.py lists them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from grassroots.forms import FORMS, Form
from grassroots.registry import Registry
from grassroots.synthetic.defects import (
    duplicate_village,
    largest_other_independent,
    members_without_branch,
    plain_independent,
    rename_cb_commune,
    two_member_branch,
)
from grassroots.synthetic.demo_plan import TERM, YEARS, CommunePlan, plan_demo, seeded_rng
from grassroots.synthetic.files import csv_bytes, openpyxl_xlsx_bytes
from grassroots.synthetic.render import STYLES, Style, render_table

# Good files whose names are deliberately odd or misleading (form, unit, year) -> name.
ODD_NAMES = {
    ("CB", "06055", 2019): "Báo cáo chi bộ thôn (bản cuối) - Copy.csv",
    ("DV", "02335", 2018): "DV_02317_2015.csv",
}
Expected = tuple[str, int | None, str | None]
ENGLISH = Style("en")


def _write(
    out_dir: Path,
    file_name: str,
    form: Form,
    rows: list[dict],
    style: Style,
    drop: tuple[str, ...] = (),
) -> Path:
    header, body = render_table(form, rows, style, drop)
    if style.xlsx:
        data = openpyxl_xlsx_bytes(header, body)
    else:
        data = csv_bytes(header, body, bom=style.bom, crlf=style.crlf)
    path = out_dir / file_name
    path.write_bytes(data)
    return path


def _pick_style(rng: random.Random) -> Style:
    return Style(
        language=rng.choice(STYLES),
        xlsx=rng.random() < 0.2,
        bom=rng.random() < 0.12,
        crlf=rng.random() < 0.1,
        with_optional_points=rng.random() < 0.5,
    )


def _good_name(form: str, unit: str, period: object, style: Style) -> str:
    odd = ODD_NAMES.get((form, unit, period))
    if odd:
        return odd
    return f"{form}_{unit}_{period}.{'xlsx' if style.xlsx else 'csv'}"


def _odd_style(style: Style, name: str) -> Style:
    # An odd name fixes its extension; keep the style consistent with it.
    return Style(
        language=style.language,
        xlsx=name.endswith(".xlsx"),
        bom=style.bom,
        crlf=style.crlf,
        with_optional_points=style.with_optional_points,
    )


def _write_good_files(
    out_dir: Path, communes: dict[str, CommunePlan], tc: dict[tuple[str, int], list]
) -> list[Path]:
    rng = seeded_rng("styles")
    written: list[Path] = []
    for commune in communes.values():
        for year in YEARS:
            for form_code, rows in (("CB", commune.cb[year]), ("DV", [commune.dv[year]])):
                style = _pick_style(rng)
                name = _good_name(form_code, commune.code, year, style)
                style = _odd_style(style, name)
                written.append(_write(out_dir, name, FORMS[form_code], rows, style))
        style = _pick_style(rng)
        name = _good_name("CT", commune.code, TERM, style)
        written.append(_write(out_dir, name, FORMS["CT"], commune.ct, style))
    for (district, year), rows in tc.items():
        style = _pick_style(rng)
        written.append(
            _write(out_dir, _good_name("TC", district, year, style), FORMS["TC"], rows, style)
        )
    return written


# --- broken files: exactly one defect each -------------------------------------------


@dataclass(frozen=True)
class BrokenFile:
    name: str
    form: str
    rows: list[dict]
    # (rule id, staff row, column): header = row 1, first data row = 2; None = file level.
    expected: Expected
    style: Style = ENGLISH
    drop: tuple[str, ...] = ()


def _copy_rows(rows: list[dict]) -> list[dict]:
    return [dict(row) for row in rows]


def _structure_defects(
    communes: dict[str, CommunePlan], tc: dict[tuple[str, int], list]
) -> list[BrokenFile]:
    """S1-S8: files the structure checks refuse."""
    vietnamese = Style("vi", with_optional_points=False)
    files = [
        BrokenFile(
            "broken_S1_DV_missing_admitted.csv",
            "DV",
            [communes["06193"].dv[2020]],
            ("S1", None, "admitted"),
            drop=("admitted",),
        ),
        BrokenFile(
            "broken_S2_DV_members_end_not_a_number.csv",
            "DV",
            [dict(communes["06211"].dv[2021], members_end="abc")],
            ("S2", 2, "members_end"),
        ),
    ]
    cb = _copy_rows(communes["06241"].cb[2019])
    target = plain_independent(cb)[0]
    cb[target]["branch_status"] = "sometimes"
    files.append(
        BrokenFile("broken_S3_CB_unknown_status.csv", "CB", cb, ("S3", target + 2, "branch_status"))
    )
    tc_rows = _copy_rows(tc[("183", 2022)])
    target = next(i for i, r in enumerate(tc_rows) if r["rating"] == "good")
    tc_rows[target]["rating"] = "clean_strong"  # old scale, in a four-level-scale year
    files.append(
        BrokenFile(
            "broken_S3b_TC_old_scale_rating_2022.csv", "TC", tc_rows, ("S3", target + 2, "rating")
        )
    )
    two = [communes["06046"].dv[2022], communes["06055"].dv[2022]]
    files.append(
        BrokenFile(
            "broken_S4_DV_two_communes.csv", "DV", two, ("S4", None, "commune_code"), vietnamese
        )
    )
    future = dict(communes["06010"].dv[2024], report_year=2031)
    files.append(BrokenFile("broken_S5_DV_year_2031.csv", "DV", [future], ("S5", 2, "report_year")))
    unknown = rename_cb_commune(communes["06034"].cb[2023], "06034", "99999")
    files.append(
        BrokenFile(
            "broken_S6_CB_unknown_commune_99999.csv", "CB", unknown, ("S6", 2, "commune_code")
        )
    )
    cb = _copy_rows(communes["02317"].cb[2021])
    first, second = plain_independent(cb)[:2]
    duplicate_village(cb, first, second)
    files.append(
        BrokenFile(
            "broken_S7_CB_duplicate_village.csv",
            "CB",
            cb,
            ("S7", second + 2, "village_code"),
            vietnamese,
        )
    )
    files.append(BrokenFile("broken_S8_CB_header_only.csv", "CB", [], ("S8", None, None)))
    return files


def _content_defects(communes: dict[str, CommunePlan]) -> list[BrokenFile]:
    """C1-C5: files the content checks refuse."""
    dv = dict(communes["00769"].dv[2019])
    dv["members_end"] += 5
    files = [BrokenFile("broken_C1_DV_identity_off_by_5.csv", "DV", [dv], ("C1", 2, "members_end"))]
    dv = dict(communes["06184"].dv[2020])
    dv["probationary_end"] = dv["members_end"] + 3
    files.append(
        BrokenFile(
            "broken_C2_DV_probationary_above_members.csv", "DV", [dv], ("C2", 2, "probationary_end")
        )
    )
    cb = _copy_rows(communes["06241"].cb[2018])
    target = next(i for i, r in enumerate(cb) if r["branch_status"] == "joint")
    cb[target]["host_village_code"] = ""
    files.append(
        BrokenFile(
            "broken_C3_CB_joint_without_host.csv", "CB", cb, ("C3", target + 2, "host_village_code")
        )
    )
    # C4/C5 move members between villages so the CB total still equals DV (no X1 noise).
    cb = _copy_rows(communes["06010"].cb[2017])
    target = next(i for i, r in enumerate(cb) if r["branch_status"] == "none")
    members_without_branch(cb, target, largest_other_independent(cb, target))
    files.append(
        BrokenFile(
            "broken_C4_CB_no_branch_with_members.csv", "CB", cb, ("C4", target + 2, "members")
        )
    )
    cb = _copy_rows(communes["06034"].cb[2016])
    target = plain_independent(cb)[0]
    two_member_branch(cb, target, largest_other_independent(cb, target))
    files.append(
        BrokenFile(
            "broken_C5_CB_independent_two_members.csv", "CB", cb, ("C5", target + 2, "members")
        )
    )
    return files


def broken_files(
    communes: dict[str, CommunePlan], tc: dict[tuple[str, int], list]
) -> list[BrokenFile]:
    """One file per error kind, each a copy of a good submission with exactly one defect."""
    return [*_structure_defects(communes, tc), *_content_defects(communes)]


def write_demo_inbox(out_dir: Path, registry: Registry) -> list[Path]:
    """Write the demo submissions (good and broken) into out_dir; return their paths.

    Files already in out_dir are left alone (names are fixed, so a rerun overwrites).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    communes, tc = plan_demo(registry)
    written = _write_good_files(out_dir, communes, tc)
    for broken in broken_files(communes, tc):
        written.append(
            _write(out_dir, broken.name, FORMS[broken.form], broken.rows, broken.style, broken.drop)
        )
    return sorted(written)


def expected_quarantine(registry: Registry) -> dict[str, Expected]:
    """File name -> (rule, staff row, column) of the single defect in each broken file."""
    communes, tc = plan_demo(registry)
    return {broken.name: broken.expected for broken in broken_files(communes, tc)}
