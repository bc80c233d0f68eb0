"""An upload's accept path: limits, the check, the unit, the atomic write into the inbox
the night reads, and the attempt's row in landing.upload_events.

- Size: the body is read in chunks and refused past MAX_UPLOAD_BYTES (the night's own
  limit for a file); a refused body is drained, never kept.
- Zip bombs: an .xlsx is a zip; its members are inflated in chunks, counting, before
  openpyxl or calamine opens it, and refused past the night's unpacked limit (the sizes
  a zip's directory claims can lie).
- Names: the sender's file name is text for the log and the page, never a path; the
  inbox name is made of the form, unit, period and hash the check read.
- The inbox: a temporary name in the same folder (".….partial", which the night's scan
  skips as in flight), written, synced, then os.replace: the night sees the whole file
  or nothing.
A refused file is stored nowhere; its findings and the marked-up workbook are kept,
the workbook for GRASSROOTS_UPLOAD_RESULTS_KEEP_DAYS (the night's data_docs step prunes).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import zipfile
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from grassroots.check.core import CheckResult, check_content
from grassroots.check.cross import add_warehouse_findings
from grassroots.check.links import Link
from grassroots.check.markup import marked_workbook
from grassroots.config import paths
from grassroots.decode import MAX_FILE_BYTES, MAX_XLSX_UNPACKED_BYTES
from grassroots.files import private_dir, write_private
from grassroots.safe_text import shown

MAX_UPLOAD_BYTES = MAX_FILE_BYTES
CHUNK_BYTES = 64 * 1024
# A body over the limit is read on (and dropped) up to this much, so the sender gets
# the refusal as an answer instead of a reset connection; past it the server hangs up.
DRAIN_BYTES = 64 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
DEFAULT_UPLOAD_RESULTS_KEEP_DAYS = 90
_SAFE = re.compile(r"[^0-9A-Za-z-]+")


class Refused(Exception):
    def __init__(self, reason: str, message_vi: str) -> None:
        super().__init__(reason)
        self.reason, self.message_vi = reason, message_vi


def too_large(size: int | None = None) -> Refused:
    seen = f" ({size / 1e6:.1f} MB)" if size else ""
    return Refused(
        "too_large",
        f"Tệp quá lớn{seen}: một biểu báo cáo không vượt quá {MAX_UPLOAD_BYTES // 2**20} MB."
        " Hãy kiểm tra lại tệp đã chọn.",
    )


@dataclass
class Outcome:
    accepted: bool
    reason: str | None
    message_vi: str
    name: str
    size: int = 0
    sha256: str | None = None
    result: CheckResult | None = field(default=None, repr=False)
    event_id: int | None = None
    received_at: str | None = None
    inbox_name: str | None = None
    link_id: str | None = None  # of a signed link refused (revoked, expired)

    def as_json(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if k != "result"}
        data["check"] = self.result.as_json() if self.result else None
        return data


def shown_name(name: str | None) -> str:
    """The sender's file name as text to show and log: its last part, printable, cut."""
    last = re.split(r"[\\/]", name or "")[-1]
    return shown(last, 200) or "(không tên)"


def zip_guard(content: bytes) -> None:
    """Refuse a zip whose members inflate past the night's limit (counted, in chunks)."""
    if not content.startswith(b"PK"):
        return
    try:
        archive = zipfile.ZipFile(BytesIO(content))
    except (zipfile.BadZipFile, EOFError, ValueError):
        return  # not a readable zip: the reader says so (S2)
    bomb = Refused(
        "zip_bomb",
        "Bảng tính giải nén ra quá lớn so với một biểu báo cáo: tệp bị từ chối, chưa được mở.",
    )
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise bomb
        total = 0
        for member in members:
            try:
                with archive.open(member) as stream:
                    while chunk := stream.read(CHUNK_BYTES):
                        total += len(chunk)
                        if total > MAX_XLSX_UNPACKED_BYTES:
                            raise bomb
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError):
                return  # damaged or encrypted member: the reader refuses the file (S2)


def inbox_name(result: CheckResult) -> str:
    """The file's name in the inbox, from what the check read (never the sender's name)."""
    parts = [
        _SAFE.sub("", p or "") or "x" for p in (result.form_code, result.unit_code, result.period)
    ]
    suffix = ".xlsx" if result.parsed is not None and result.parsed.encoding == "xlsx" else ".csv"
    return f"upload-{'-'.join(parts)}-{result.sha256[:16]}{suffix}"


def write_inbox(content: bytes, name: str, inbox: Path) -> Path:
    """Write atomically into the inbox: a temporary name the night skips, then rename."""
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / name
    partial = inbox / f".{name}.{secrets.token_hex(4)}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    folder = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return target


def inbox_folder() -> Path:
    """The local folder the night reads (GRASSROOTS_INBOX may be a file:// URL)."""
    configured = os.environ.get("GRASSROOTS_INBOX", "")
    if configured.startswith("file://"):
        return Path(urlsplit(configured).path)
    if "://" in configured:
        raise RuntimeError(f"the upload page writes only into a local inbox, not {configured}")
    return paths().inbox


def markup_path(event_id: int) -> Path:
    return paths().home / "upload-results" / f"{event_id:010d}.xlsx"


def markup_gone_vi() -> str:
    days = _markup_keep_days()
    kept = f" (bảng tính đã đánh dấu được giữ {days} ngày)" if days > 0 else ""
    return f"Không có kết quả kiểm tra này{kept}."


def _markup_keep_days() -> int:
    return int(
        os.environ.get("GRASSROOTS_UPLOAD_RESULTS_KEEP_DAYS", DEFAULT_UPLOAD_RESULTS_KEEP_DAYS)
    )


def prune_markups(now: float | None = None) -> int:
    """Remove the marked-up workbooks older than GRASSROOTS_UPLOAD_RESULTS_KEEP_DAYS
    (by modification time; 0 keeps all). The attempts' rows stay in upload_events."""
    days = _markup_keep_days()
    folder = markup_path(0).parent
    if days <= 0 or not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - days * 86400
    removed = 0
    for entry in os.scandir(folder):
        if entry.name.endswith(".xlsx") and entry.stat().st_mtime < cutoff:
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


def log_event(
    conn: psycopg.Connection, link: Link | None, client_ip: str | None, o: Outcome
) -> int:
    result = o.result
    (event_id, at) = conn.execute(
        "insert into landing.upload_events (link_id, unit_code, client_ip, original_name,"
        " size_bytes, sha256, outcome, reason, form_code, period, errors, warnings, findings,"
        " inbox_name) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " returning event_id, attempted_at",
        (
            link.link_id if link else o.link_id, link.unit_code if link else None, client_ip,
            o.name, o.size, o.sha256, "accepted" if o.accepted else "refused", o.reason,
            result.form_code if result else None, result.period if result else None,
            result.errors if result else 0, result.warnings if result else 0,
            json.dumps(result.as_json()["findings"] if result else [], ensure_ascii=False),
            o.inbox_name,
        ),
    ).fetchone()  # fmt: skip
    o.event_id, o.received_at = event_id, at.isoformat(timespec="seconds")
    return event_id


def judge(dsn: str, link: Link, name: str, content: bytes) -> Outcome:
    """Check an upload and decide; write it into the inbox when it passes. A file that
    would load also gets the warehouse-side warnings (X*, P*) the night would give."""
    outcome = Outcome(False, None, "", name, len(content))
    try:
        zip_guard(content)
    except Refused as refused:
        outcome.reason, outcome.message_vi = refused.reason, refused.message_vi
        return outcome
    result = check_content(name, content)
    outcome.result, outcome.sha256 = result, result.sha256
    if result.unit_code is not None and result.unit_code != link.unit_code:
        outcome.reason = "other_unit"
        outcome.message_vi = (
            f"Tệp là báo cáo của đơn vị {shown(result.unit_code)}, không phải của đơn vị"
            f" {link.unit_code} được cấp đường dẫn này: tệp không được nhận."
        )
    elif result.errors:
        outcome.reason = "errors"
        outcome.message_vi = (
            f"Tệp có {result.errors} lỗi nên chưa được nhận. Sửa theo từng dòng dưới đây"
            " (hoặc tải bảng tính đã đánh dấu) rồi gửi lại."
        )
    else:
        add_warehouse_findings(dsn, [result])
        outcome.accepted = True
        outcome.inbox_name = inbox_name(result)
        write_inbox(content, outcome.inbox_name, inbox_folder())
        note = f" với {result.warnings} cảnh báo cần xem lại" if result.warnings else ""
        outcome.message_vi = f"Đã nhận tệp{note}. Tệp sẽ được nạp trong lần xử lý đêm nay."
    return outcome


def receive(dsn: str, link: Link, name: str, content: bytes, client_ip: str | None) -> Outcome:
    """The whole accept path of one upload: judge, log, keep the marked-up workbook."""
    outcome = judge(dsn, link, shown_name(name), content)
    with psycopg.connect(dsn) as conn:
        event_id = log_event(conn, link, client_ip, outcome)
    if outcome.result is not None:
        private_dir(markup_path(event_id).parent)
        write_private(markup_path(event_id), marked_workbook(content, outcome.result))
    return outcome


def refused(dsn: str, link: Link | None, name: str, size: int, client_ip, error) -> Outcome:
    """Log an attempt refused before its content was judged (link, size)."""
    outcome = Outcome(False, error.reason, error.message_vi, shown_name(name), size)
    outcome.link_id = getattr(error, "link_id", None)
    with psycopg.connect(dsn) as conn:
        log_event(conn, link, client_ip, outcome)
    return outcome
