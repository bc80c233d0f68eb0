"""Reading the marts for the report site: one query per mart for the whole site.

Nationally the site has about 800 pages; a query per page would hold the analyst's
connection for minutes, so every page is cut from these few result sets in memory.
History is read for the nation, provinces and districts; communes (about 10,000, the
rows of the ranked tables on district and post-reform province pages) only for the
years a page ranks them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

INDICATORS_SQL = """
select indicator_code, name_vi, value_kind, uses_ratings, sums_over_term
from marts.dim_indicator
order by indicator_code
"""

UNITS_SQL = """
select unit_key, unit_level, unit_code, unit_name, parent_level, parent_code,
       valid_from, valid_to, is_current
from marts.dim_unit
where unit_level in ('province', 'district', 'commune')
order by unit_level, unit_code, valid_from nulls first
"""

COMPLETENESS_SQL = """
select scope_level, scope_code, report_year, form_code, deadline, as_of_date,
       is_deadline_passed, expected_count, received_count, on_time_count, late_count,
       overdue_count, overdue_unit_codes
from marts.fct_submission_completeness
order by report_year, scope_level, scope_code, form_code
"""

# Communes: the latest closed year, the year before, and the last year of every
# district (a district abolished earlier ranks its communes of that year).
VALUES_SQL = """
select geography, unit_level, unit_code, unit_key, unit_name, year, indicator_code,
       numerator, denominator, value, units_expected, units_reported,
       change_vs_previous_year, is_estimate, rating_scale_mapped,
       change_crosses_rating_scale
from marts.fct_indicator_values
where year <= %(latest)s
  and (unit_level in ('nation', 'province', 'district')
       or (unit_level = 'commune'
           and (year >= %(latest)s - 1
                or year in (select max(year) from marts.fct_indicator_values
                            where unit_level = 'district' and year <= %(latest)s
                            group by unit_code))))
order by geography, unit_level, unit_code, indicator_code, year
"""

# The night's findings: those of the latest run that stored any.
FINDINGS_SQL = """
select finding_id, file_id, original_name, file_status, form_code, unit_code, period,
       rule_id, severity, source_row_number, column_name, reported_value, message_vi,
       run_id, created_at
from marts.fct_validation_findings
where run_id = (
    select run_id from marts.fct_validation_findings order by created_at desc limit 1
)
order by unit_code, file_id, finding_id
"""

TARGETS_SQL = """
select geography, unit_level, unit_code, congress_term, term_start_year, term_end_year,
       indicator_code, basis, direction, target_value, term_target, years_in_term,
       years_reported, latest_year, actual_value, progress_pct, is_met
from marts.mart_targets
order by geography, unit_code, congress_term, indicator_code, basis
"""


@dataclass
class SiteData:
    """Everything the site shows, as plain rows (numbers as floats)."""

    latest_year: int
    indicators: list[dict]
    units: list[dict]
    values: list[dict]
    completeness: list[dict]
    findings: list[dict]
    targets: list[dict]
    queries: int = field(default=0)


def _plain(row: dict) -> dict:
    """Decimals as floats: the pages, their JSON and the workbooks all use plain numbers."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()}


def _rows(conn: psycopg.Connection, sql: str, params: dict | None = None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return [_plain(row) for row in cursor.execute(sql, params)]


def latest_closed_year(completeness: list[dict]) -> int | None:
    """The latest reporting year whose submission deadline has passed."""
    closed = [row["report_year"] for row in completeness if row["is_deadline_passed"]]
    if closed:
        return max(closed)
    return None


def load(url: str) -> SiteData:
    """The site's data in six queries, read in one snapshot (repeatable read)."""
    with psycopg.connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        completeness = _rows(conn, COMPLETENESS_SQL)
        latest = latest_closed_year(completeness)
        if latest is None:  # no deadline has passed yet: the latest year with values
            row = conn.execute(
                "select max(year) from marts.fct_indicator_values where value is not null"
            ).fetchone()
            latest = row[0] if row and row[0] is not None else date.today().year - 1
        return SiteData(
            latest_year=latest,
            indicators=_rows(conn, INDICATORS_SQL),
            units=_rows(conn, UNITS_SQL),
            values=_rows(conn, VALUES_SQL, {"latest": latest}),
            completeness=[r for r in completeness if r["report_year"] <= latest],
            findings=_rows(conn, FINDINGS_SQL),
            targets=_rows(conn, TARGETS_SQL),
        )
