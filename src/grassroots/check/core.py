"""Check files as the night does: read (grassroots.reader), validate with the committed GX
form suites (grassroots.validation.runner: rules S1-S8, C1-C5), and give each finding in
the sender's sheet coordinates with the rule's requirement from the catalog as what to do.

Nothing here restates a rule: the findings are the night's own, for the same bytes.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from grassroots.catalog import rules as catalog
from grassroots.check.layout import place
from grassroots.decode import MAX_FILE_BYTES
from grassroots.reader import ParsedFile, parse_content

# GX's ephemeral context and its batch definitions are shared by the process: one check
# at a time (a check is CPU-bound anyway).
_gx_lock = threading.Lock()


@dataclass(frozen=True)
class SheetFinding:
    rule_id: str
    severity: str  # error | warning
    row: int | None  # the sheet's row number (the header row counts)
    letter: str | None  # the column's letter in the sheet
    header: str | None  # the column's header as written (or the form's label)
    column: str | None  # the form's column name (the night's findings name it so)
    value: str | None
    message_vi: str
    todo_vi: str


@dataclass
class CheckResult:
    name: str
    sha256: str
    size: int
    form_code: str | None = None
    unit_code: str | None = None
    period: str | None = None
    findings: list[SheetFinding] = field(default_factory=list)
    parsed: ParsedFile | None = field(default=None, repr=False)
    # The file's typed rows as the night would load them (cross checks against the
    # warehouse insert them in a transaction that is rolled back).
    typed: object = field(default=None, repr=False)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def exit_code(self) -> int:
        """0 clean, 1 warnings only, 2 errors (the CLI's exit status)."""
        return 2 if self.errors else 1 if self.warnings else 0

    def as_json(self) -> dict:
        return {
            "file": self.name,
            "sha256": self.sha256,
            "size_bytes": self.size,
            "form": self.form_code,
            "unit": self.unit_code,
            "period": self.period,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [asdict(f) for f in self.findings],
        }


@cache
def _registry():
    from grassroots.registry import Registry

    return Registry.load()


def todo(rule_id: str, severity: str) -> str:
    """What to do about a finding: the rule's requirement from the catalog."""
    title = catalog.rule(rule_id).title_vi
    if severity == "error":
        return f"Sửa cho đúng yêu cầu “{title}” rồi gửi lại tệp."
    return f"Xem lại theo yêu cầu “{title}”; tệp vẫn được nhận."


def sheet_finding(parsed: ParsedFile, finding) -> SheetFinding:
    """A finding of the night (runner.Finding) in the sender's sheet coordinates."""
    where = place(parsed, finding.row_number, finding.column)
    return SheetFinding(
        rule_id=finding.rule_id,
        severity=finding.severity,
        row=where.row,
        letter=where.letter,
        header=where.header,
        column=finding.column,
        value=finding.value,
        message_vi=finding.message_vi,
        todo_vi=todo(finding.rule_id, finding.severity),
    )


def check_contents(files: list[tuple[str, bytes]], today: date | None = None) -> list[CheckResult]:
    """Check many files at once (one GX run per form and frame, as a night's batch)."""
    from grassroots.validation.runner import validate_batch

    parsed = [parse_content(i + 1, name, content) for i, (name, content) in enumerate(files)]
    with _gx_lock:
        result = validate_batch(parsed, registry=_registry(), today=today)
    identity = result.file_identity()
    checked = []
    for item, (name, content) in zip(parsed, files, strict=True):
        form_code, unit, period = identity.get(item.file_id, (None, None, None))
        checked.append(
            CheckResult(
                name=name,
                sha256=hashlib.sha256(content).hexdigest(),
                size=len(content),
                form_code=form_code,
                unit_code=unit,
                period=period,
                findings=[
                    sheet_finding(item, f) for f in result.findings if f.file_id == item.file_id
                ],
                parsed=item,
                typed=_rows_of(result.typed.get(form_code), item.file_id),
            )
        )
    return checked


def _rows_of(frame, file_id: int):
    return None if frame is None else frame[frame["file_id"] == file_id]


def check_content(name: str, content: bytes, today: date | None = None) -> CheckResult:
    return check_contents([(name, content)], today)[0]


def read_limited(path: Path) -> bytes:
    """A file's bytes, at most one byte over the night's size limit (reading refuses it
    then, with the night's message) so a huge file is never read whole."""
    with Path(path).open("rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)
