"""What an intake did, and where every file received stands: the counts."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg


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
