"""Intake: from files in the inbox to rows in raw.*, every file accounted for.

discover -> register (hash, archive read-only, registry row; the inbox copy is
removed only once registry and archive hold the file) -> per batch: parse, validate
(one GX run per form per batch), load (one COPY per form per batch) and quarantine.

A batch is loaded in one transaction together with the status of its files, so a
file is either completely loaded or not at all. If a batch fails, it is retried file
by file, so one bad file cannot hold back the others.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from grassroots.forms import FORMS
from grassroots.reader import ParsedFile, parse_content

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
IGNORED_PREFIXES = (".", "~$")


@dataclass
class IntakeSummary:
    registered: int = 0
    duplicates: int = 0
    loaded: int = 0
    quarantined: int = 0
    superseded: int = 0
    rows_loaded: int = 0
    findings: int = 0
    errors_by_rule: dict[str, int] = field(default_factory=dict)

    def add(self, other: IntakeSummary) -> None:
        for name in (
            "registered",
            "duplicates",
            "loaded",
            "quarantined",
            "superseded",
            "rows_loaded",
            "findings",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for rule, count in other.errors_by_rule.items():
            self.errors_by_rule[rule] = self.errors_by_rule.get(rule, 0) + count

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# -- discover and register ------------------------------------------------------------


def discover(inbox: Path) -> list[Path]:
    """Regular files in the inbox (recursively), oldest first; editor temp files skipped."""
    if not inbox.exists():
        return []
    found = [
        path
        for path in inbox.rglob("*")
        if path.is_file() and not path.is_symlink() and not path.name.startswith(IGNORED_PREFIXES)
    ]
    return sorted(found, key=lambda p: (p.stat().st_mtime, str(p)))


def archive_path(archive: Path, sha256: str) -> Path:
    """Content-addressed: the path comes from the hash, never from the file's name."""
    return archive / sha256[:2] / sha256


def register(
    conn: psycopg.Connection,
    files: Iterable[Path],
    archive: Path,
    run_id: str | None = None,
    *,
    remove_from_inbox: bool = True,
) -> IntakeSummary:
    """Archive each file and record its receipt; a byte-identical resend is a duplicate."""
    summary = IntakeSummary()
    for path in files:
        content = path.read_bytes()
        sha256 = hashlib.sha256(content).hexdigest()
        target = archive_path(archive, sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            partial.write_bytes(content)
            os.fsync(os.open(partial, os.O_RDONLY))
            partial.chmod(0o444)
            partial.replace(target)
        with conn.transaction():
            first = conn.execute(
                "select file_id from landing.received_files"
                " where sha256 = %s and status <> 'duplicate'",
                (sha256,),
            ).fetchone()
            conn.execute(
                "insert into landing.received_files"
                " (sha256, original_name, size_bytes, archived_path, status, duplicate_of,"
                "  status_reason, run_id)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    sha256,
                    path.name,
                    len(content),
                    str(target),
                    "duplicate" if first else "received",
                    first[0] if first else None,
                    f"identical to file {first[0]}" if first else None,
                    run_id,
                ),
            )
        if first:
            summary.duplicates += 1
        else:
            summary.registered += 1
        if remove_from_inbox:
            path.unlink()
    return summary


# -- parse, validate, load --------------------------------------------------------------


def pending_files(conn: psycopg.Connection) -> list[tuple[int, str, str]]:
    return conn.execute(
        "select file_id, original_name, archived_path from landing.received_files"
        " where status = 'received' order by file_id"
    ).fetchall()


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def process_pending(
    conn: psycopg.Connection,
    quarantine_dir: Path,
    run_id: str | None = None,
    batch_size: int = BATCH_SIZE,
    registry=None,
) -> IntakeSummary:
    """Parse, validate and load every registered file not yet processed, in batches."""
    from grassroots.registry import Registry

    registry = registry or Registry.load()
    pending = pending_files(conn)
    summary = IntakeSummary()
    for number, batch in enumerate(_batches(pending, batch_size), start=1):
        parsed = [
            parse_content(file_id, name, Path(archived).read_bytes())
            for file_id, name, archived in batch
        ]
        outcome = _validate_and_load(conn, parsed, quarantine_dir, run_id, registry)
        summary.add(outcome)
        log.info(
            "batch %d: %d files, %d loaded, %d quarantined, %d rows (%d/%d files done)",
            number,
            len(batch),
            outcome.loaded,
            outcome.quarantined,
            outcome.rows_loaded,
            min(number * batch_size, len(pending)),
            len(pending),
        )
    return summary


def _validate_and_load(conn, parsed, quarantine_dir, run_id, registry) -> IntakeSummary:
    from grassroots.validation.runner import validate_batch

    result = validate_batch(parsed, registry=registry)
    try:
        return load_batch(conn, parsed, result, quarantine_dir, run_id)
    except psycopg.Error:
        conn.rollback()
        if len(parsed) == 1:
            raise
        log.exception("batch of %d files failed to load; retrying file by file", len(parsed))
        summary = IntakeSummary()
        for item in parsed:
            single = validate_batch([item], registry=registry)
            summary.add(load_batch(conn, [item], single, quarantine_dir, run_id))
        return summary


def _copy_rows(cur: psycopg.Cursor, table: str, frame) -> int:
    """One COPY for all rows of a batch; CSV text built by pandas, not row by row."""
    if frame.empty:
        return 0
    buffer = io.StringIO()
    # Missing values are written as unquoted empty fields, which COPY CSV reads as NULL.
    frame.to_csv(buffer, index=False, header=False)
    statement = f"copy {table} ({', '.join(frame.columns)}) from stdin with (format csv)"
    with cur.copy(statement) as copy:
        copy.write(buffer.getvalue())
    return len(frame)


def load_batch(
    conn, parsed: list[ParsedFile], result, quarantine_dir: Path, run_id
) -> IntakeSummary:
    """One transaction: findings, accepted rows, file statuses, supersessions."""
    summary = IntakeSummary()
    rejected = result.files_with_errors()
    identity = result.file_identity()
    accepted = [p.file_id for p in parsed if p.file_id not in rejected]
    with conn.transaction(), conn.cursor() as cur:
        summary.findings = _copy_findings(cur, result.findings, identity, run_id)
        for form_code, frame in result.typed.items():
            rows = frame[frame["file_id"].isin(accepted)]
            summary.rows_loaded += _copy_rows(cur, FORMS[form_code].raw_table, rows)
        for item in parsed:
            form_code, unit_code, period = identity.get(item.file_id, (None, None, None))
            if item.file_id in rejected:
                reasons = _reasons(result.findings, item.file_id)
                cur.execute(
                    "update landing.received_files set status = 'quarantined', form_code = %s,"
                    " unit_code = %s, period = %s, status_reason = %s,"
                    " status_changed_at = now(), run_id = %s where file_id = %s",
                    (form_code, unit_code, period, reasons, run_id, item.file_id),
                )
                summary.quarantined += 1
            else:
                cur.execute(
                    "update landing.received_files set status = 'loaded', form_code = %s,"
                    " unit_code = %s, period = %s, status_reason = null,"
                    " status_changed_at = now(), run_id = %s where file_id = %s",
                    (form_code, unit_code, period, run_id, item.file_id),
                )
                summary.loaded += 1
        summary.superseded = _supersede(cur)
    for rule in (f.rule_id for f in result.findings if f.severity == "error"):
        summary.errors_by_rule[rule] = summary.errors_by_rule.get(rule, 0) + 1
    # The quarantine copy is written after commit: the registry is the source of truth,
    # and a crash here leaves nothing that a rerun would not recreate.
    for item in parsed:
        if item.file_id in rejected:
            write_quarantine(conn, quarantine_dir, item.file_id)
    return summary


def _copy_findings(cur, findings, identity, run_id) -> int:
    if not findings:
        return 0
    statement = (
        "copy landing.validation_findings (file_id, form_code, unit_code, period, rule_id,"
        " severity, row_number, column_name, value, message_vi, message_en, run_id) from stdin"
    )
    with cur.copy(statement) as copy:
        for f in findings:
            form_code, unit_code, period = identity.get(f.file_id, (None, None, None))
            copy.write_row(
                (
                    f.file_id,
                    form_code,
                    unit_code,
                    period,
                    f.rule_id,
                    f.severity,
                    f.row_number,
                    f.column,
                    f.value,
                    f.message_vi,
                    f.message_en,
                    run_id,
                )
            )
    return len(findings)


def _reasons(findings, file_id: int) -> str:
    errors = [f for f in findings if f.file_id == file_id and f.severity == "error"]
    return "; ".join(sorted({f"{f.rule_id}: {f.message_vi}" for f in errors}))[:2000]


def _supersede(cur) -> int:
    """Older loaded versions of the same form, unit and period become 'superseded'."""
    cur.execute(
        """
        with ranked as (
            select file_id,
                   first_value(file_id) over (
                       partition by form_code, unit_code, period
                       order by received_at desc, file_id desc
                   ) as newest
            from landing.received_files
            where status = 'loaded'
        )
        update landing.received_files as f
        set status = 'superseded', superseded_by = ranked.newest,
            status_reason = 'replaced by file ' || ranked.newest, status_changed_at = now()
        from ranked
        where f.file_id = ranked.file_id and ranked.file_id <> ranked.newest
        """
    )
    return cur.rowcount


def write_quarantine(conn, quarantine_dir: Path, file_id: int) -> Path:
    """Copy the archived file and a reasons file (Vietnamese, then English) to quarantine."""
    name, archived, reason = conn.execute(
        "select original_name, archived_path, status_reason from landing.received_files"
        " where file_id = %s",
        (file_id,),
    ).fetchone()
    findings = conn.execute(
        "select rule_id, severity, row_number, column_name, value, message_vi, message_en"
        " from landing.validation_findings where file_id = %s"
        " order by row_number nulls first, rule_id",
        (file_id,),
    ).fetchall()
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    content = Path(archived).read_bytes()
    extension = "xlsx" if zipfile.is_zipfile(io.BytesIO(content)) else "csv"
    target = quarantine_dir / f"{file_id:08d}.{extension}"
    if not target.exists():
        shutil.copyfile(archived, target)
    lines = [
        f"Tệp / file: {name!r} (file_id {file_id})",
        "Lý do / reasons:",
    ]
    labels = {c.name: c.label_vi for form in FORMS.values() for c in form.columns}
    for rule_id, severity, row_number, column, value, message_vi, message_en in findings:
        where = f"dòng {row_number}" if row_number else "cả tệp"
        column_label = f"“{labels.get(column, column)}” ({column})" if column else "-"
        lines.append(
            f"- [{rule_id} {severity}] {where}, cột {column_label}, giá trị {value!r}: "
            f"{message_vi} / {message_en}"
        )
    if not findings and reason:
        lines.append(f"- {reason}")
    (quarantine_dir / f"{file_id:08d}.reasons.txt").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    return target


def account(conn: psycopg.Connection) -> dict[str, int]:
    """Files received, by status: received = loaded + quarantined + superseded + duplicate."""
    rows = conn.execute(
        "select status, count(*) from landing.received_files group by status"
    ).fetchall()
    counts = {
        status: 0 for status in ("received", "loaded", "quarantined", "superseded", "duplicate")
    }
    counts.update(dict(rows))
    return counts
