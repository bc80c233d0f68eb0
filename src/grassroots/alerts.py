"""Alerts: the nightly data-quality digest for staff, and failure alerts for operators.

The digest is routed by responsibility (seeds/registry/ref_alert_routing.csv): each
district's staff (from 1 July 2025 each province's) get the findings of their own
units, in Vietnamese, with file, row, column, value, rule and the fix to make; the
provincial board (scope `board`) gets one summary. One message per recipient per
night, however many findings: no alert storms.

The night's findings include the cross-form and plausibility warnings (X1-X4, P1-P6)
stored by the cross checks after the load. Rule K1 (completeness) comes from
marts.fct_submission_completeness: for the latest reporting year whose deadline has
passed, each district's (from 2025 each province's) staff get the list of their units
still overdue. An overdue submission is listed once per recipient
(landing.overdue_alerts), so a night with no new finding and nothing newly overdue is a
clean night: the board's summary only. The board's summary carries the reporting and
on-time rates of that year and the link to the night's GX Data Docs.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from itertools import groupby
from operator import attrgetter
from pathlib import Path

import pandas as pd
import psycopg

from grassroots.config import SEEDS_DIR
from grassroots.forms import describe_column
from grassroots.safe_text import MESSAGE_LIMIT, shown

log = logging.getLogger("grassroots.alerts")

ROUTING_FILE = SEEDS_DIR / "registry" / "ref_alert_routing.csv"
BOARD = "board"


def task_failure_alert(context) -> None:
    """Airflow on_failure_callback: name the DAG, task, run and error in the log.

    E-mail to operators comes from Airflow's SmtpNotifier (see orchestration.py) when
    GRASSROOTS_OPERATOR_EMAILS is set; this callback always leaves a log line.
    """
    ti = context.get("task_instance") or context.get("ti")
    log.error(
        "task failed after retries: dag=%s task=%s run=%s try=%s error=%s",
        getattr(ti, "dag_id", "?"),
        getattr(ti, "task_id", "?"),
        getattr(ti, "run_id", "?"),
        getattr(ti, "try_number", "?"),
        context.get("exception"),
    )


@dataclass
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False


@dataclass
class Digest:
    recipient: str
    recipient_name: str
    subject: str
    body: str
    file_ids: list[int] = field(default_factory=list)
    # K1 submissions listed as overdue: (form_code, unit_code, period)
    overdue: list[tuple[str, str, str]] = field(default_factory=list)


def load_routing(path: Path = ROUTING_FILE) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _findings_of_run(conn: psycopg.Connection, run_id: str) -> pd.DataFrame:
    rows = conn.execute(
        """
        select f.file_id, f.original_name, f.status, f.form_code, f.unit_code, f.period,
               v.rule_id, v.severity, v.row_number, v.column_name, v.value, v.message_vi
        from landing.validation_findings as v
        join landing.received_files as f using (file_id)
        where v.run_id = %s
        order by f.file_id, v.row_number nulls first, v.rule_id
        """,
        (run_id,),
    ).fetchall()
    columns = [
        "file_id", "original_name", "status", "form_code", "unit_code", "period",
        "rule_id", "severity", "row_number", "column_name", "value", "message_vi",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _text(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _responsible_scopes(registry, units: Sequence, periods: Sequence) -> list:
    """Per file: (level, code, province) of the committee that answers for its unit's
    submission (province: a district's province that year, for the fallback), or None.
    A commune answers to its district, or to its province after the reform. One
    registry lookup for all the night's files: a lookup per file cost 7 ms, 44 s for a
    national night's 4,400 files with findings."""
    unit = pd.Series([_text(u) or "" for u in units], dtype=object)
    period = [_text(p) or "" for p in periods]
    year = pd.Series([int(p[:4]) if p[:4].isdigit() else None for p in period], dtype="Int64")
    code = unit.where(year.notna(), "")
    communes = (code.str.len() == 5).to_numpy()
    if communes.any():
        parents = registry.commune_parents_in_year(code[communes], year[communes])
        code[communes] = parents.fillna("").astype(object).to_numpy()
    province: list[str | None] = [None] * len(code)
    districts = (code.str.len() == 3).to_numpy()
    if districts.any():
        found = registry.district_provinces_in_year(code[districts], year[districts])
        for position, value in zip(districts.nonzero()[0], found, strict=True):
            province[position] = None if pd.isna(value) else str(value)
    levels = {3: "district", 2: "province"}
    return [
        (levels[len(c)], c, p) if len(c) in levels else None
        for c, p in zip(code, province, strict=True)
    ]


class _Routing:
    """Who answers for a scope (ref_alert_routing.csv), looked up in a dict."""

    def __init__(self, routing: pd.DataFrame):
        self.staff_of: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        self.board: list[tuple[str, str]] = []
        for level, code, email, name in routing[
            ["scope_level", "scope_code", "recipient_email", "recipient_name"]
        ].itertuples(index=False):
            (self.board if level == BOARD else self.staff_of[(level, code)]).append((email, name))

    def staff(self, level: str, code: str, province: str | None) -> list[tuple[str, str]]:
        """The scope's staff, else (a district without its own address) its province's;
        [] when nobody answers for it."""
        return self.staff_of.get((level, code)) or (
            self.staff_of.get(("province", province), []) if province else []
        )

    def for_file(self, scope) -> list[tuple[str, str]]:
        """Recipients of a file's findings: its scope's staff, else the board."""
        return (self.staff(*scope) if scope else []) or self.board


def _column_label(column) -> str:
    return f"cột {shown(describe_column(column))}" if _text(column) else "cả tệp"


def _file_block(file_rows: list) -> list[str]:
    """The lines of one file's findings (its rows of _findings_of_run, as tuples).
    Submitted text (name, value, messages quoting them) is shown: control characters
    visible, long values cut, so nothing a sender typed can start a line."""
    first = file_rows[0]
    verdict = (
        "BỊ TRẢ LẠI (không nạp vào kho)" if first.status == "quarantined" else "đã nạp, có cảnh báo"
    )
    lines = [
        f"Tệp “{shown(first.original_name)}” (mã tệp {first.file_id}),"
        f" biểu {shown(_text(first.form_code) or '?')}, đơn vị"
        f" {shown(_text(first.unit_code) or '?')}, kỳ {shown(_text(first.period) or '?')}:"
        f" {verdict}"
    ]
    for f in file_rows:
        where = f"dòng {int(f.row_number)}" if pd.notna(f.row_number) else "cả tệp"
        value = "" if f.value is None or pd.isna(f.value) else f", giá trị “{shown(f.value)}”"
        level = "LỖI" if f.severity == "error" else "cảnh báo"
        lines.append(
            f"  - [{f.rule_id}, {level}] {where}, {_column_label(f.column_name)}"
            f"{value}: {shown(f.message_vi, MESSAGE_LIMIT)}"
        )
    return lines


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


def _k1_recipients(routing: _Routing, registry, level: str, code: str, year: int):
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


def _overdue_blocks(conn, completeness, routing, registry):
    """recipient -> (lines, [(form, unit, period)]) of the units newly overdue for them."""
    listed = _already_listed(conn)
    names: dict[tuple[str, int], dict[str, str]] = {}
    out: dict[tuple[str, str], tuple[list[str], list[tuple[str, str, str]]]] = {}
    for row in completeness.itertuples(index=False):
        codes = list(row.overdue_unit_codes or [])
        if not codes:
            continue
        year, period = int(row.report_year), str(row.report_year)
        for email, name in _k1_recipients(routing, registry, row.scope_level, row.scope_code, year):
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


def build_digests(
    conn: psycopg.Connection,
    run_id: str,
    registry=None,
    routing: pd.DataFrame | None = None,
    docs_link: str | None = None,
) -> list[Digest]:
    """One digest per recipient with their units' findings and newly overdue units
    (K1), and the board's summary."""
    from grassroots.registry import Registry

    registry = registry or Registry.load()
    routing = load_routing() if routing is None else routing
    findings = _findings_of_run(conn, run_id)
    routes = _Routing(routing)
    per_recipient = _files_per_recipient(findings, registry, routes)
    completeness = completeness_of_latest_closed_year(conn)
    overdue = _overdue_blocks(conn, completeness, routes, registry)
    digests = [
        _recipient_digest(
            email,
            name,
            per_recipient.get((email, name), []),
            overdue.get((email, name), ([], [])),
            run_id,
            docs_link,
        )
        for email, name in sorted(set(per_recipient) | set(overdue))
    ]
    summary = _board_summary(conn, run_id, findings, len(digests), completeness, docs_link)
    # The board gets one message too: the summary, followed by the files no district
    # answers for (unknown unit, unreadable file) when there are any.
    board = routing[routing.scope_level == BOARD]
    board_emails = set(board.recipient_email)
    details = {d.recipient: d for d in digests if d.recipient in board_emails}
    digests = [d for d in digests if d.recipient not in board_emails]
    for email, name in zip(board.recipient_email, board.recipient_name, strict=True):
        body, file_ids = "\n".join(summary), []
        if email in details:
            body += "\n\nCác tệp chưa xác định được nơi phụ trách:\n\n" + details[email].body
            file_ids = details[email].file_ids
        subject = shown(f"[grassroots] Tổng hợp kiểm tra số liệu {run_id}")
        digests.append(Digest(email, name, subject, body, file_ids))
    return digests


def _files_per_recipient(
    findings: pd.DataFrame, registry, routes: _Routing
) -> dict[tuple[str, str], list[list]]:
    """Each recipient's files, each file its findings' rows."""
    per_recipient: dict[tuple[str, str], list[list]] = defaultdict(list)
    # Plain tuples, grouped by file (the query orders by file_id): pandas indexing per
    # file cost more than the digest's text.
    files = [
        list(file_rows)
        for _file_id, file_rows in groupby(
            findings.itertuples(index=False), key=attrgetter("file_id")
        )
    ]
    firsts = [file_rows[0] for file_rows in files]
    scopes = _responsible_scopes(
        registry, [f.unit_code for f in firsts], [f.period for f in firsts]
    )
    for file_rows, scope in zip(files, scopes, strict=True):
        for recipient in routes.for_file(scope):
            per_recipient[recipient].append(file_rows)
    return per_recipient


def _recipient_digest(
    email: str,
    name: str,
    blocks: list[list],
    overdue: tuple[list[str], list],
    run_id: str,
    docs_link: str | None,
) -> Digest:
    """One recipient's message: their files' findings, then their overdue reports."""
    overdue_lines, marks = overdue
    rejected = sum(1 for b in blocks if b[0].status == "quarantined")
    body = [f"Kính gửi {name},", ""]
    if blocks:
        body += [
            f"Kết quả kiểm tra số liệu đêm nay (lượt chạy {shown(run_id)}): {len(blocks)} tệp"
            " của các đơn vị thuộc phạm vi đồng chí phụ trách có vấn đề, trong đó"
            f" {rejected} tệp bị trả lại. Tệp bị trả lại: đề nghị đơn vị sửa đúng ô"
            " được nêu dưới đây và gửi lại tệp. Tệp có cảnh báo đã được nạp: đề nghị"
            " kiểm tra lại số liệu, nếu sai thì gửi lại tệp đã sửa.",
            "",
        ]
        for block in blocks:
            body.extend(_file_block(block))
            body.append("")
    if overdue_lines:
        body += [
            "Báo cáo quá hạn chưa nộp (mỗi báo cáo chỉ được nhắc một lần trong thư"
            " tổng hợp; danh sách đầy đủ ở bảng fct_submission_completeness):",
            *overdue_lines,
            "",
        ]
    if docs_link:
        body.append(f"Chi tiết kết quả kiểm tra (Data Docs): {docs_link}")
    body.append("Thư này được gửi tự động; mỗi đêm chỉ gửi một thư tổng hợp.")
    subject = (
        f"[grassroots] Kiểm tra số liệu: {rejected} tệp bị trả lại,"
        f" {len(blocks) - rejected} tệp có cảnh báo"
    )
    if marks:
        subject += f", {len(marks)} báo cáo quá hạn"
    return Digest(
        recipient=email,
        recipient_name=name,
        subject=shown(subject),
        body="\n".join(body),
        file_ids=[int(b[0].file_id) for b in blocks],
        overdue=marks,
    )


def _board_summary(
    conn: psycopg.Connection,
    run_id: str,
    findings: pd.DataFrame,
    recipients: int,
    completeness,
    docs_link: str | None,
) -> list[str]:
    """The board's lines: the night's files by status, findings by rule, completeness."""
    counts = dict(
        conn.execute(
            "select status, count(*) from landing.received_files where run_id = %s group by 1",
            (run_id,),
        ).fetchall()
    )
    by_rule = findings.groupby(["rule_id", "severity"]).size() if not findings.empty else {}
    summary = [
        f"Tổng hợp lượt chạy {shown(run_id)}:",
        f"- Tệp nhận: {sum(counts.values())}; đã nạp: {counts.get('loaded', 0)};"
        f" bị trả lại: {counts.get('quarantined', 0)}; thay thế bản cũ:"
        f" {counts.get('superseded', 0)}; trùng lặp: {counts.get('duplicate', 0)}.",
    ]
    summary += [
        f"- {shown(rule)} ({shown(severity)}): {n}" for (rule, severity), n in dict(by_rule).items()
    ]
    summary.append(f"- Thư chi tiết đã gửi cho {recipients} đầu mối phụ trách.")
    summary += _inbox_skipped_lines(conn, run_id)
    summary += _completeness_summary(completeness)
    if docs_link:
        summary.append(f"- Chi tiết kết quả kiểm tra (Data Docs): {docs_link}")
    return summary


# The entries of one night listed by name in the board's summary; the rest are counted.
SKIPPED_LISTED = 20


def _inbox_skipped_lines(conn: psycopg.Connection, run_id: str) -> list[str]:
    """The inbox entries this run did not take (grassroots.inbox), for the board: left
    where they are, unread; someone has to look at them and remove them."""
    from grassroots.inbox import REASONS

    rows = conn.execute(
        "select entry, reason from landing.inbox_skipped where run_id = %s order by skip_id",
        (run_id,),
    ).fetchall()
    if not rows:
        return []
    lines = [
        f"- Mục trong hộp thư KHÔNG được nhận (không đọc, không xoá; đề nghị kiểm tra và"
        f" gỡ bỏ): {len(rows)}"
    ]
    lines += [
        f"  · “{shown(entry)}”: {REASONS[reason][0]}" for entry, reason in rows[:SKIPPED_LISTED]
    ]
    if len(rows) > SKIPPED_LISTED:
        lines.append(f"  · … và {len(rows) - SKIPPED_LISTED} mục khác (bảng landing.inbox_skipped)")
    return lines


def _completeness_summary(completeness: pd.DataFrame) -> list[str]:
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


def mark_overdue_listed(conn: psycopg.Connection, digests: list[Digest], run_id: str) -> int:
    """Remember the overdue submissions listed tonight: each is listed once per recipient."""
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


def send_digests(digests: list[Digest], smtp: SmtpSettings) -> int:
    """Send every digest over one SMTP session."""
    if not digests:
        return 0
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        for digest in digests:
            message = EmailMessage()
            message["From"] = smtp.sender
            message["To"] = f"{digest.recipient_name} <{digest.recipient}>"
            message["Subject"] = digest.subject
            message.set_content(digest.body, charset="utf-8")
            client.send_message(message)
    log.info("sent %d digests", len(digests))
    return len(digests)
