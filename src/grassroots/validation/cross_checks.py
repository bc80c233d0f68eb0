"""Cross-form and cross-year checks (rules X1-X4, P1-P6), pushed down to PostgreSQL.

This module is the entry point the pipeline imports (run_cross_checks); the work is done by
cross_suite (the suite, from the rule catalog and checks/*.sql), cross_run (batch,
validation, storing), cross_findings (messages) and series_breaks (lineage events).

After a night's files are loaded, the files loaded in that run (current accepted
versions, status 'loaded') are written to `landing.cross_check_batch`. That table is a
Great Expectations SQL table asset; the suite expectations/cross_checks.json holds one
`UnexpectedRowsExpectation` per rule (and per variant of a rule): a query that joins
`{batch}` to raw.form_* and the accepted history and returns one row per finding, with
the file, the row as staff see it, the column, the value and the figures the message
quotes. Nothing of the history is pulled into pandas: only the unexpected rows come back.

Every rule here is a warning: the files are already loaded. Findings go to
landing.validation_findings with one insert per rule; a rerun of the night deletes the
findings of these rules for the checked files first (idempotent).

The CTEs that gather each side of a comparison (this year's rows, last year's, the
other form's) are MATERIALIZED: computed once from the batch's keys. Inlined, the
planner, which sees a few rows where a national night has thousands, interleaved the
two sides (X3 joined every TC file to every DV file of the same year before matching
units: 21 s instead of 0.15 s after a night's load).

Decisions (also in docs):
- A check is made from the file loaded tonight towards the accepted history (the
  previous year, the other form of the same unit and year). When a pair mismatches and
  both files came tonight, the finding goes to one of them (DV for X1, TC for X3).
- Series restart at a lineage event: a commune whose code is new, or whose code changed
  meaning in the 2025 reform (merged, split, renamed into another territory; see
  seeds/registry/ref_commune_crosswalk_2025.csv) starts a new yearly series in 2025.
  Year-on-year rules (X2, X4, P1, P4) skip the break year; P5 computes the median and
  MAD on each segment separately, so a merger is never flagged as an outlier.
- P5 needs at least 5 points in the segment. Modified z-score
  0.6745 * (x - median) / MAD (Iglewicz and Hoaglin), flagged above 3.5 either way.
  MAD = 0 happens when half the series or more holds one value (a commune that admitted
  5 members four years running): any other value would be infinitely far. Then the
  divisor is max(1, 1 % of the median): a change of one member, or of 1 %, is never an
  outlier by itself, while a constant series of 300 that jumps to 600 still is.
"""

from __future__ import annotations

from grassroots.validation.cross_run import run_cross_checks

__all__ = ["run_cross_checks"]
