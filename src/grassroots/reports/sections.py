"""The sections of a page beside its indicators: rating distribution, completeness
(who has not sent which form), the night's findings and the congress-term targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotations: site imports this module
    from grassroots.reports.site import PageKey, Site

FORMS = {
    "CB": "Mẫu CB (chi bộ thôn, tổ dân phố)",
    "DV": "Mẫu DV (đảng viên)",
    "TC": "Mẫu TC (tổ chức cơ sở đảng)",
    "CT": "Mẫu CT (chỉ tiêu nhiệm kỳ)",
}


def ratings(series: dict[str, list[dict]]) -> list[dict]:
    """Base organizations by rating per year (counts), from the rating indicators.

    orgs_excellent_pct and orgs_good_or_above_pct count over the rated base
    organizations (their denominator); orgs_not_completed is a count.
    """
    excellent = {r["year"]: r for r in series.get("orgs_excellent_pct", [])}
    good_plus = {r["year"]: r for r in series.get("orgs_good_or_above_pct", [])}
    failed = {r["year"]: r for r in series.get("orgs_not_completed", [])}
    rows = []
    for year in sorted(excellent):
        top, good, low = excellent[year], good_plus.get(year), failed.get(year)
        total = top["denominator"]
        if not total or good is None or good["numerator"] is None or top["numerator"] is None:
            continue
        not_completed = (low or {}).get("numerator") or 0.0
        rows.append(
            {
                "year": year,
                "total": total,
                "excellent": top["numerator"],
                "good": good["numerator"] - top["numerator"],
                "completed": total - good["numerator"] - not_completed,
                "not_completed": not_completed,
                "rating_scale_mapped": top["rating_scale_mapped"],
            }
        )
    return rows


def completeness_rows(site: Site, key: PageKey, year: int) -> list[dict]:
    """Rule K1 for the page's year: one row per reporting scope and form (the nation
    sums its provinces' scopes per form); overdue units with their names."""
    if key.geography != "as_reported":
        return []
    rows = site.completeness_by_year.get(year, [])
    names = site.unit_names
    if key.level == "nation":
        return _national_completeness(rows)
    inside = site.descendants(key)
    result = []
    for row in rows:
        if row["scope_code"] not in inside:
            continue
        overdue = list(row["overdue_unit_codes"] or [])
        result.append(
            {
                "scope_level": row["scope_level"],
                "scope_code": row["scope_code"],
                "scope_name": names.get(row["scope_code"], row["scope_code"]),
                "form_code": row["form_code"],
                "form_label": FORMS.get(row["form_code"], row["form_code"]),
                "deadline": row["deadline"].isoformat(),
                "expected_count": row["expected_count"],
                "received_count": row["received_count"],
                "on_time_count": row["on_time_count"],
                "late_count": row["late_count"],
                "overdue_count": row["overdue_count"],
                "overdue_units": [
                    {"code": code, "name": names.get(code, code)} for code in overdue
                ],
            }
        )
    return result


def _national_completeness(rows: list[dict]) -> list[dict]:
    totals: dict[str, dict] = {}
    counts = ("expected_count", "received_count", "on_time_count", "late_count", "overdue_count")
    for row in rows:
        total = totals.setdefault(
            row["form_code"],
            {
                "scope_level": "nation",
                "scope_code": "VN",
                "scope_name": "Toàn quốc",
                "form_code": row["form_code"],
                "form_label": FORMS.get(row["form_code"], row["form_code"]),
                "deadline": row["deadline"].isoformat(),
                **dict.fromkeys(counts, 0),
                "overdue_units": [],
            },
        )
        for name in counts:
            total[name] += row[name] or 0
    return [totals[form] for form in sorted(totals)]


def findings_for(site: Site, key: PageKey) -> dict:
    """The night's findings about files of the unit or of units under it."""
    if key.geography != "as_reported":
        return {"total": 0, "run_id": None, "rows": []}
    inside = site.descendants(key)
    rows = [
        {
            "file_id": f["file_id"],
            "original_name": f["original_name"],
            "file_status": f["file_status"],
            "form_code": f["form_code"],
            "unit_code": f["unit_code"],
            "period": f["period"],
            "rule_id": f["rule_id"],
            "severity": f["severity"],
            "source_row_number": f["source_row_number"],
            "column_name": f["column_name"],
            "message_vi": f["message_vi"],
        }
        for f in site.data.findings
        if inside is None or f["unit_code"] in inside
    ]
    run_id = site.data.findings[0]["run_id"] if site.data.findings else None
    return {"total": len(rows), "run_id": run_id, "rows": rows}


def targets_for(site: Site, key: PageKey, year: int, below: set[str]) -> list[dict]:
    """Congress-term targets of the unit and of the units ranked below it, for the term
    of the page's year (the latest term started by then)."""
    codes = below | {key.code}
    rows = [
        t
        for t in site.data.targets
        if t["geography"] == key.geography
        and t["unit_code"] in codes
        and t["term_start_year"] <= year
    ]
    terms = sorted({t["congress_term"] for t in rows})
    if not terms:
        return []
    names = {code: row["name_vi"] for code, row in site.indicators.items()}
    kinds = {code: row["value_kind"] for code, row in site.indicators.items()}
    return [
        {
            "unit_code": t["unit_code"],
            "unit_name": site.unit_names.get(t["unit_code"], t["unit_code"]),
            "congress_term": t["congress_term"],
            "indicator_code": t["indicator_code"],
            "name": names.get(t["indicator_code"], t["indicator_code"]),
            "kind": kinds.get(t["indicator_code"], "count"),
            "basis": t["basis"],
            "direction": t["direction"],
            "term_target": t["term_target"],
            "actual_value": t["actual_value"],
            "progress_pct": t["progress_pct"],
            "is_met": t["is_met"],
            "years_reported": t["years_reported"],
            "years_in_term": t["years_in_term"],
        }
        for t in rows
        if t["congress_term"] == terms[-1]
    ]
