"""Alerts: the nightly data-quality digest for staff, and failure alerts for operators.

The digest is routed by responsibility (seeds/registry/ref_alert_routing.csv): each
district's staff (from 1 July 2025 each province's) get the findings of their own
units, in Vietnamese, with file, row, column, value, rule and the fix to make; the
provincial board (scope `board`) gets one summary. One message per recipient per
night, however many findings: no alert storms.

The night's findings include the cross-form and plausibility warnings (X1-X4, P1-P6)
stored by the cross checks after the load, and the units newly overdue (rule K1,
overdue.py); who gets what comes from routing.py. A night with no new finding and nothing
newly overdue is a clean night: the board's summary only, with the reporting and on-time
rates and the link to the night's GX Data Docs. Each message links to the report site's
pages of its recipient's units (site_links.py), the board's to the nation's.
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

import pandas as pd
import psycopg

from grassroots.forms import describe_column
from grassroots.overdue import (
    completeness_of_latest_closed_year,
    completeness_summary,
    overdue_blocks,
)
from grassroots.routing import BOARD, Routing, load_routing, responsible_scopes, text
from grassroots.safe_text import MESSAGE_LIMIT, shown
from grassroots.site_links import SiteLinks

log = logging.getLogger("grassroots.alerts")


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


def _column_label(column) -> str:
    return f"cột {shown(describe_column(column))}" if text(column) else "cả tệp"


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
        f" biểu {shown(text(first.form_code) or '?')}, đơn vị"
        f" {shown(text(first.unit_code) or '?')}, kỳ {shown(text(first.period) or '?')}:"
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


def build_digests(
    conn: psycopg.Connection,
    run_id: str,
    registry=None,
    routing: pd.DataFrame | None = None,
    docs_link: str | None = None,
    links: SiteLinks | None = None,
) -> list[Digest]:
    """One digest per recipient with their units' findings and newly overdue units
    (K1) and links to their units' report pages, and the board's summary."""
    from grassroots.registry import Registry

    registry = registry or Registry.load()
    routing = load_routing() if routing is None else routing
    links = links or SiteLinks.from_environment()
    scopes = _scopes_per_recipient(routing)
    findings = _findings_of_run(conn, run_id)
    routes = Routing(routing)
    per_recipient = _files_per_recipient(findings, registry, routes)
    completeness = completeness_of_latest_closed_year(conn)
    overdue = overdue_blocks(conn, completeness, routes, registry)
    digests = [
        _recipient_digest(
            email,
            name,
            per_recipient.get((email, name), []),
            overdue.get((email, name), ([], [])),
            run_id,
            docs_link,
            links.lines(scopes.get((email, name), [])),
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
        body, file_ids = "\n".join(summary + links.lines(scopes.get((email, name), []))), []
        if email in details:
            body += "\n\nCác tệp chưa xác định được nơi phụ trách:\n\n" + details[email].body
            file_ids = details[email].file_ids
        subject = shown(f"[grassroots] Tổng hợp kiểm tra số liệu {run_id}")
        digests.append(Digest(email, name, subject, body, file_ids))
    return digests


def _scopes_per_recipient(routing: pd.DataFrame) -> dict[tuple[str, str], list]:
    """Each recipient's (level, code) scopes in the routing table, the board's included."""
    scopes: dict[tuple[str, str], list] = defaultdict(list)
    for level, code, email, name in routing[
        ["scope_level", "scope_code", "recipient_email", "recipient_name"]
    ].itertuples(index=False):
        scopes[(email, name)].append((level, code))
    return scopes


def _files_per_recipient(
    findings: pd.DataFrame, registry, routes: Routing
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
    scopes = responsible_scopes(registry, [f.unit_code for f in firsts], [f.period for f in firsts])
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
    page_lines: Sequence[str] = (),
) -> Digest:
    """One recipient's message: their files' findings, then their overdue reports, then
    the links to their units' report pages."""
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
    body.extend(page_lines)
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
    summary += completeness_summary(completeness)
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
