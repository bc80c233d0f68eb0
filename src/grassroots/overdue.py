"""Rule K1, completeness: which units' reports of the latest closed year are overdue.

From marts.fct_submission_completeness: each district's (from 2025 each province's)
staff get the list of their units still overdue, once per recipient
(landing.overdue_alerts); the board's summary carries the reporting and on-time rates.
"""

from __future__ import annotations

import logging

import pandas as pd
import psycopg

from grassroots.routing import Routing

log = logging.getLogger("grassroots.alerts")


FORM_NAMES_VI = {"CB": "Biểu CB (chi bộ thôn)", "DV": "Biểu DV (biến động đảng viên)",
                 "TC": "Biểu TC (tổ chức cơ sở đảng)"}  # fmt: skip
LEVEL_VI = {"district": "huyện", "province": "tỉnh"}


def completeness_of_latest_closed_year(conn: psycopg.Connection) -> pd.DataFrame:
    """K1 rows (marts.fct_submission_completeness) of the latest year whose deadline has
    passed; empty when the mart was never built."""
    columns = [
        "scope_level", "scope_code", "report_year", "form_code", "deadline",
        "expected_count", "received_count", "on_time_count", "overdue_count",
        "overdue_unit_codes",
    ]  # fmt: skip
    if conn.execute("select to_regclass('marts.fct_submission_completeness')").fetchone()[0]:
        rows = conn.execute(
            f"select {', '.join(columns)} from marts.fct_submission_completeness"
            " where report_year = (select max(report_year)"
            " from marts.fct_submission_completeness where is_deadline_passed)"
            " order by scope_level, scope_code, form_code"
        ).fetchall()
    else:
        log.warning("marts.fct_submission_completeness does not exist yet: no K1 tonight")
        rows = []
    return pd.DataFrame(rows, columns=columns)


def k1_recipients(routing: Routing, registry, level: str, code: str, year: int):
    """Staff of the scope, else (a district without its own address) of its province.
    Scopes nobody answers for are counted in the board's summary, not listed."""
    province = registry.district_province(code, year) if level == "district" else None
    return routing.staff(level, code, province)


def _already_listed(conn: psycopg.Connection) -> set[tuple[str, str, str, str]]:
    return {
        tuple(row)
        for row in conn.execute(
            "select form_code, unit_code, period, recipient from landing.overdue_alerts"
        ).fetchall()
    }


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}".replace(".", ",") + "%" if whole else "–"


def overdue_blocks(conn, completeness, routing, registry):
    """recipient -> (lines, [(form, unit, period)]) of the units newly overdue for them."""
    listed = _already_listed(conn)
    names: dict[tuple[str, int], dict[str, str]] = {}
    out: dict[tuple[str, str], tuple[list[str], list[tuple[str, str, str]]]] = {}
    for row in completeness.itertuples(index=False):
        codes = list(row.overdue_unit_codes or [])
        if not codes:
            continue
        year, period = int(row.report_year), str(row.report_year)
        for email, name in k1_recipients(routing, registry, row.scope_level, row.scope_code, year):
            new = [c for c in codes if (row.form_code, c, period, email) not in listed]
            if not new:
                continue
            level = "commune" if row.form_code in ("CB", "DV") else row.scope_level
            if (level, year) not in names:
                units = registry.units_valid_in_year(level, year)
                # The row in force at year end wins (an open end sorts last).
                end = units.valid_to.fillna("").astype(str).replace("", "9999-12-31")
                units = units.assign(_end=end).sort_values("_end")
                names[(level, year)] = dict(zip(units.code, units.name, strict=True))
            shown = ", ".join(f"{c} {names[(level, year)].get(c, '')}".strip() for c in new)
            scope_name = registry.name(row.scope_level, row.scope_code, year) or row.scope_code
            lines, marks = out.setdefault((email, name), ([], []))
            lines.append(
                f"  - {FORM_NAMES_VI[row.form_code]} năm {year}, {scope_name}"
                f" ({LEVEL_VI[row.scope_level]} {row.scope_code}): {len(codes)}/"
                f"{row.expected_count} đơn vị chưa nộp, quá hạn {row.deadline:%d/%m/%Y}"
                f" (tỷ lệ đã nộp {_percent(row.received_count, row.expected_count)},"
                f" đúng hạn {_percent(row.on_time_count, row.expected_count)})."
                f" Chưa nộp: {shown}."
            )
            marks.extend((row.form_code, c, period) for c in new)
    return out


def completeness_summary(completeness: pd.DataFrame) -> list[str]:
    """K1 for the board: the latest closed year, per form, nationwide."""
    if completeness.empty:
        return ["- Tình hình nộp báo cáo (K1): chưa có số liệu (kho chưa được dựng lần nào)."]
    year = int(completeness.report_year.iloc[0])
    deadline = completeness.deadline.iloc[0]
    lines = [f"- Tình hình nộp báo cáo năm {year} (hạn nộp {deadline:%d/%m/%Y}):"]
    totals = completeness.groupby("form_code")[
        ["expected_count", "received_count", "on_time_count", "overdue_count"]
    ].sum()
    for form_code, t in totals.iterrows():
        scopes = int((completeness[completeness.form_code == form_code].overdue_count > 0).sum())
        lines.append(
            f"  {form_code}: cần nộp {t.expected_count}, đã nhận {t.received_count}"
            f" (tỷ lệ {_percent(t.received_count, t.expected_count)}), đúng hạn"
            f" {t.on_time_count} ({_percent(t.on_time_count, t.expected_count)}), quá hạn"
            f" {t.overdue_count} ở {scopes} huyện/tỉnh."
        )
    return lines


def mark_overdue_listed(conn: psycopg.Connection, digests: list, run_id: str) -> int:
    """Remember the overdue submissions listed tonight (alerts.Digest.overdue): each is
    listed once per recipient."""
    rows = [(f, u, p, d.recipient) for d in digests for f, u, p in d.overdue]
    if rows:
        columns = [list(c) for c in zip(*rows, strict=True)]
        conn.execute(
            "insert into landing.overdue_alerts (form_code, unit_code, period, recipient, run_id)"
            " select f, u, p, r, %s from unnest(%s::text[], %s::text[], %s::text[], %s::text[])"
            " as t (f, u, p, r) on conflict do nothing",
            [run_id, *columns],
        )
    return len(rows)
