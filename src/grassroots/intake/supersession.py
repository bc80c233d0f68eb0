"""Supersession: a newer version of a unit's report for a period replaces the older.

Numbering versions is the one step two batches must not do at once: it runs under a
lock on landing.intake_lock (a table analysts cannot reach), from just before it to the
batch's commit.
"""

from __future__ import annotations

# The table whose lock makes batches number versions one at a time: in schema landing,
# which analysts cannot use, so no analyst can take it (an advisory key anyone could).
SUPERSEDE_LOCK = "landing.intake_lock"
# Accepted receipts over the planner's estimate by more than this share: the batch
# analyzes the registry first (_statistics_are_stale).
STALE_STATISTICS_SHARE = 0.1


def _statistics_are_stale(cur) -> bool:
    """Whether the planner underestimates the accepted receipts by over 10 %.

    Supersession joins the batch's keys to the accepted receipts (status loaded or
    superseded, which this batch has just set on its files). Statistics taken before
    most of them were accepted make the planner expect a handful and pick nested
    loops: minutes, not ms. So the batch compares the planner's estimate (EXPLAIN,
    ~1 ms) with the count (an index-only scan of the partial key index, 30-60 ms on a
    national registry) and analyzes (~0.4 s under the lock) only when they are apart by
    over autovacuum's own share (autovacuum_analyze_scale_factor). Every batch of a bulk
    load does; a night's batch, a fraction of a percent of a national registry, does
    not. Comparing the batch with the registry's row count instead was wrong: after a
    bulk registration (427,000 receipts, none accepted yet) no 25,000-file batch
    analyzed, and the history's load took 212 s instead of 40.
    """
    cur.execute("select reltuples from pg_class where oid = 'landing.received_files'::regclass")
    if cur.fetchone()[0] < 0:  # never analyzed: the estimate is a guess from the file size
        return True
    accepted = "from landing.received_files where status in ('loaded', 'superseded')"
    cur.execute(f"explain (format json) select 1 {accepted}")
    estimated = cur.fetchone()[0][0]["Plan"]["Plan Rows"]
    cur.execute(f"select count(*) {accepted}")
    counted = cur.fetchone()[0]
    return counted - estimated > STALE_STATISTICS_SHARE * estimated


def supersede(cur, loaded_ids: list[int]) -> int:
    """Number the accepted versions of the keys this batch touched; older ones step down.

    Only the form/unit/period keys of the batch are looked at, so a night's cost
    follows the new files, not the size of the registry.
    """
    if not loaded_ids:
        return 0
    # Two batches loading at once (worker processes) must not number the same key's
    # versions from two snapshots: one batch at a time from here to its commit.
    cur.execute(f"lock table {SUPERSEDE_LOCK} in exclusive mode")
    if _statistics_are_stale(cur):
        cur.execute("analyze landing.received_files")
    cur.execute(
        """
        with touched as (
            select distinct form_code, unit_code, period
            from landing.received_files where file_id = any(%(ids)s)
        ),
        ranked as (
            select f.file_id, f.status as old_status,
                   row_number() over keyed as version,
                   last_value(f.file_id) over (
                       keyed rows between unbounded preceding and unbounded following
                   ) as newest
            from landing.received_files as f
            join touched using (form_code, unit_code, period)
            where f.status in ('loaded', 'superseded')
            window keyed as (
                partition by f.form_code, f.unit_code, f.period
                order by f.received_at, f.file_id
            )
        ),
        updated as (
            update landing.received_files as f
            set version = ranked.version,
                status = case when ranked.file_id = ranked.newest
                              then 'loaded' else 'superseded' end,
                superseded_by = nullif(ranked.newest, ranked.file_id),
                superseded_at = case
                    when ranked.file_id = ranked.newest then null
                    else coalesce(f.superseded_at, now())
                end,
                status_reason = case
                    when ranked.file_id = ranked.newest then null
                    else 'replaced by file ' || ranked.newest
                end
            from ranked
            where f.file_id = ranked.file_id
              and (f.version is distinct from ranked.version
                   or (f.status = 'loaded' and ranked.file_id <> ranked.newest))
            returning f.status, ranked.old_status
        )
        -- Files that stepped down now; an older version only renumbered is not counted.
        select count(*) from updated where status = 'superseded' and old_status = 'loaded'
        """,
        {"ids": loaded_ids},
    )
    return cur.fetchone()[0]
