"""Alerts: the nightly data-quality digest for staff, and failure alerts for operators.

The digest is routed by responsibility (seeds/registry/ref_alert_routing.csv): each
district's staff (from 1 July 2025 each province's) get the findings of their own
units, in Vietnamese, with file, row, column, value, rule and the fix to make; the
provincial board (scope `board`) gets one summary. One message per recipient per
night, however many findings: no alert storms.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pandas as pd
import psycopg

from grassroots.config import SEEDS_DIR
from grassroots.forms import describe_column

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


def _responsible_scope(registry, form_code, unit_code, period) -> tuple[str, str] | None:
    """(level, code) of the committee that answers for this unit's submission."""
    unit_code, period = _text(unit_code), _text(period)
    if not unit_code or not period or not period[:4].isdigit():
        return None
    year = int(str(period)[:4])
    if len(unit_code) == 5:  # a commune: its district, or its province after the reform
        parent = registry.commune_parents_in_year(pd.Series([unit_code]), pd.Series([year])).iloc[0]
        if parent is None or pd.isna(parent):
            return None
        unit_code = str(parent)
    if len(unit_code) == 3:
        return ("district", unit_code)
    if len(unit_code) == 2:
        return ("province", unit_code)
    return None


def _route(routing: pd.DataFrame, registry, scope, period) -> list[tuple[str, str]]:
    """Recipients for a scope: the district's staff, else its province's, else the board."""
    candidates = []
    if scope:
        level, code = scope
        candidates.append((level, code))
        if level == "district":
            province = registry.district_province(code, int(str(period)[:4]))
            if province:
                candidates.append(("province", province))
    for level, code in candidates:
        match = routing[(routing.scope_level == level) & (routing.scope_code == code)]
        if not match.empty:
            return list(zip(match.recipient_email, match.recipient_name, strict=True))
    board = routing[routing.scope_level == BOARD]
    return list(zip(board.recipient_email, board.recipient_name, strict=True))


def _column_label(column) -> str:
    return f"cột {describe_column(column)}" if _text(column) else "cả tệp"


def _file_block(file_rows: pd.DataFrame) -> list[str]:
    first = file_rows.iloc[0]
    verdict = (
        "BỊ TRẢ LẠI (không nạp vào kho)" if first.status == "quarantined" else "đã nạp, có cảnh báo"
    )
    lines = [
        f"Tệp “{first.original_name}” (mã tệp {first.file_id}),"
        f" biểu {_text(first.form_code) or '?'}, đơn vị {_text(first.unit_code) or '?'},"
        f" kỳ {_text(first.period) or '?'}: {verdict}"
    ]
    for f in file_rows.itertuples():
        where = f"dòng {int(f.row_number)}" if pd.notna(f.row_number) else "cả tệp"
        value = "" if f.value is None or pd.isna(f.value) else f", giá trị “{f.value}”"
        level = "LỖI" if f.severity == "error" else "cảnh báo"
        lines.append(
            f"  - [{f.rule_id}, {level}] {where}, {_column_label(f.column_name)}"
            f"{value}: {f.message_vi}"
        )
    return lines


def build_digests(
    conn: psycopg.Connection, run_id: str, registry=None, routing: pd.DataFrame | None = None
) -> list[Digest]:
    """One digest per recipient with their units' findings, and the board's summary."""
    from grassroots.registry import Registry

    registry = registry or Registry.load()
    routing = load_routing() if routing is None else routing
    findings = _findings_of_run(conn, run_id)
    counts = dict(
        conn.execute(
            "select status, count(*) from landing.received_files where run_id = %s group by 1",
            (run_id,),
        ).fetchall()
    )
    per_recipient: dict[tuple[str, str], list[pd.DataFrame]] = defaultdict(list)
    for _file_id, file_rows in findings.groupby("file_id", sort=True):
        first = file_rows.iloc[0]
        scope = _responsible_scope(registry, first.form_code, first.unit_code, first.period)
        for recipient in _route(routing, registry, scope, _text(first.period) or "2000"):
            per_recipient[recipient].append(file_rows)

    digests = []
    for (email, name), blocks in sorted(per_recipient.items()):
        rejected = sum(1 for b in blocks if b.iloc[0].status == "quarantined")
        body = [
            f"Kính gửi {name},",
            "",
            f"Kết quả kiểm tra số liệu đêm nay (lượt chạy {run_id}): {len(blocks)} tệp của"
            f" các đơn vị thuộc phạm vi đồng chí phụ trách có vấn đề, trong đó {rejected} tệp"
            " bị trả lại. Đề nghị đơn vị sửa đúng ô được nêu dưới đây và gửi lại tệp.",
            "",
        ]
        for block in blocks:
            body.extend(_file_block(block))
            body.append("")
        body.append("Thư này được gửi tự động; mỗi đêm chỉ gửi một thư tổng hợp.")
        digests.append(
            Digest(
                recipient=email,
                recipient_name=name,
                subject=f"[grassroots] Kiểm tra số liệu: {rejected} tệp bị trả lại,"
                f" {len(blocks) - rejected} tệp có cảnh báo",
                body="\n".join(body),
                file_ids=[int(b.iloc[0].file_id) for b in blocks],
            )
        )

    board = routing[routing.scope_level == BOARD]
    by_rule = findings.groupby(["rule_id", "severity"]).size() if not findings.empty else {}
    summary = [
        f"Tổng hợp lượt chạy {run_id}:",
        f"- Tệp nhận: {sum(counts.values())}; đã nạp: {counts.get('loaded', 0)};"
        f" bị trả lại: {counts.get('quarantined', 0)}; thay thế bản cũ:"
        f" {counts.get('superseded', 0)}; trùng lặp: {counts.get('duplicate', 0)}.",
    ]
    summary += [f"- {rule} ({severity}): {n}" for (rule, severity), n in dict(by_rule).items()]
    summary.append(f"- Thư chi tiết đã gửi cho {len(digests)} đầu mối phụ trách.")
    # The board gets one message too: the summary, followed by the files no district
    # answers for (unknown unit, unreadable file) when there are any.
    board_emails = set(board.recipient_email)
    details = {d.recipient: d for d in digests if d.recipient in board_emails}
    digests = [d for d in digests if d.recipient not in board_emails]
    for email, name in zip(board.recipient_email, board.recipient_name, strict=True):
        body, file_ids = "\n".join(summary), []
        if email in details:
            body += "\n\nCác tệp chưa xác định được nơi phụ trách:\n\n" + details[email].body
            file_ids = details[email].file_ids
        subject = f"[grassroots] Tổng hợp kiểm tra số liệu {run_id}"
        digests.append(Digest(email, name, subject, body, file_ids))
    return digests


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
