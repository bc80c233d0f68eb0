"""What the night's `dbt build` selects: the whole project, or only what follows the date.

Every model of the project is built from the intake's files, the registry seeds, the
vars and the clock. A night with no file received, loaded or superseded since the last
complete build of the whole project (landing.dbt_builds, written by the dbt hook
`record_build`) changes nothing the files feed: each incremental model would find no
changed year and write no row, yet the build still paid a round trip for each of its
~250 nodes. Such a night selects only the models tagged `follows_date` (their SQL reads
today's date: which units are current, which submissions are overdue) and their tests.

The whole project is built when no complete build is recorded (a first night, a failed
or partial last build), when a file changed since the newest complete build started, or
when the calendar year changed since (models tagged `follows_year` add the new year).
Seeds and model code do not change at night: `grassroots setup` rebuilds in full when
they do (runtime.load_reference_seeds).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("grassroots.dbt_scope")

# The dbt selection of a night with no new file.
DATE_ONLY = ("tag:follows_date",)
# Model tags that say what a model reads of the clock (tests/unit/test_dbt_scope.py
# checks every model whose SQL reads it carries one).
CLOCK_TAGS = ("follows_date", "follows_year")

_LAST_COMPLETE = """
select started_at,
    date_part('year', started_at) <> date_part('year', current_date) as year_changed
from landing.dbt_builds
where whole_project and succeeded
order by started_at desc
limit 1
"""

_FILES_SINCE = """
select
    (select count(*) from landing.received_files where received_at >= %(since)s)
    + (select count(*) from landing.received_files where loaded_at >= %(since)s)
    + (select count(*) from landing.received_files where superseded_at >= %(since)s)
"""


@dataclass(frozen=True)
class Scope:
    """The night's selection (empty: the whole project) and why."""

    select: tuple[str, ...]
    reason: str

    @property
    def whole(self) -> bool:
        return not self.select


def night_scope(conn) -> Scope:
    """The scope of tonight's build, from the warehouse `conn` (psycopg) holds."""
    last = conn.execute(_LAST_COMPLETE).fetchone()
    if last is None:
        return Scope((), "no complete build of the whole project recorded")
    since, year_changed = last
    built = f"the last complete build ({since:%Y-%m-%d %H:%M})"
    if year_changed:
        return Scope((), f"the calendar year changed since {built}")
    changes = conn.execute(_FILES_SINCE, {"since": since}).fetchone()[0]
    if changes:
        return Scope((), f"{changes} file changes since {built}")
    return Scope(DATE_ONLY, f"no file changed since {built}: only the models that follow the date")


def scope_for(dsn: str) -> Scope:
    import psycopg

    with psycopg.connect(dsn) as conn:
        scope = night_scope(conn)
    selected = " ".join(scope.select) or "the whole project"
    log.info("night's dbt scope: %s (%s)", selected, scope.reason)
    return scope
