"""Cross-form and cross-year checks (rules X1-X4, P1-P6), pushed down to PostgreSQL.

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
- P5 needs at least MIN_SERIES_YEARS points in the segment. Modified z-score
  0.6745 * (x - median) / MAD (Iglewicz and Hoaglin), flagged above 3.5 either way.
  MAD = 0 happens when half the series or more holds one value (a commune that admitted
  5 members four years running): any other value would be infinitely far. Then the
  divisor is max(1, 1 % of the median): a change of one member, or of 1 %, is never an
  outlier by itself, while a constant series of 300 that jumps to 600 still is.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import pandas as pd
import psycopg

from grassroots.config import SEEDS_DIR
from grassroots.safe_text import shown
from grassroots.validation import stored_results
from grassroots.validation.suites import DEFAULT_SUITES_DIR

log = logging.getLogger(__name__)
logging.getLogger("great_expectations").setLevel(logging.WARNING)

SUITE_NAME = "grassroots.cross_checks"
SUITE_FILE = "cross_checks.json"
# The run's cross-check result in landing.validation_results (its Data Docs page).
RESULTS_NAME = "cross_checks"
BATCH_SCHEMA, BATCH_TABLE = "landing", "cross_check_batch"
CROSSWALK_FILE = SEEDS_DIR / "registry" / "ref_commune_crosswalk_2025.csv"
REFORM_YEAR = 2025
RATING_SCALE_CHANGE_YEAR = 2018
MIN_SERIES_YEARS = 5
Z_THRESHOLD = 3.5
RULES = ("X1", "X2", "X3", "X4", "P1", "P2", "P3", "P4", "P5", "P6")

# --- SQL building blocks (no braces other than {batch}: GX formats the query) -------------

# Current accepted versions: the newest loaded file of a form, unit and period.
_CURRENT = "landing.received_files"
_LOADED = "status = 'loaded'"
# A row's year is the first year of a new series of its commune (lineage event).
_NO_BREAK = (
    "not exists (select 1 from landing.commune_series_breaks as b"
    " where b.commune_code = {code} and b.break_year = {year})"
)
# Ratings on one ordinal scale (the pre-2018 scale mapped to the four-level one).
_STEP = (
    "case {r} when 'excellent' then 4 when 'clean_strong' then 4 when 'good' then 3"
    " when 'completed' then 2 when 'not_completed' then 1 when 'weak' then 1 end"
)


def _no_break(code: str, year: str) -> str:
    return _NO_BREAK.replace("{code}", code).replace("{year}", year)


def _step(rating: str) -> str:
    return _STEP.replace("{r}", rating)


def _checked(forms: str) -> str:
    return (
        "checked as (select file_id, form_code, unit_code, cast(period as integer) as year"
        f" from {{batch}} where form_code in ({forms}))"
    )


def _year_before(form: str, columns: str, condition: str = "") -> str:
    """CTE `previous`: the accepted rows of `form` for the year before each checked
    file's year, keyed on the checked year (period + 1); `columns` read alias r."""
    extra = f" and {condition}" if condition else ""
    return f"""previous as materialized (
    select f.unit_code, cast(f.period as integer) + 1 as year, {columns}
    from {_CURRENT} as f
    inner join raw.form_{form.lower()} as r on f.file_id = r.file_id
    where f.{_LOADED} and f.form_code = '{form}'{extra}
        and (f.unit_code, f.period) in (
            select unit_code, cast(year - 1 as text) from checked
        )
)"""


def _x1() -> str:
    return f"""
with {_checked("'CB', 'DV'")},
keys as (select distinct unit_code, year from checked),
cur as (
    select f.file_id, f.form_code, f.unit_code, cast(f.period as integer) as year
    from {_CURRENT} as f
    inner join keys on f.unit_code = keys.unit_code and f.period = cast(keys.year as text)
    where f.{_LOADED} and f.form_code in ('CB', 'DV')
),
dv as materialized (
    select cur.file_id, cur.unit_code, cur.year, d.row_number, d.members_end
    from cur inner join raw.form_dv as d on cur.file_id = d.file_id
    where cur.form_code = 'DV'
),
cb as materialized (
    select cur.file_id, cur.unit_code, cur.year, sum(c.members) as cb_members
    from cur inner join raw.form_cb as c on cur.file_id = c.file_id
    where cur.form_code = 'CB'
    group by cur.file_id, cur.unit_code, cur.year
),
pairs as (
    select
        dv.file_id as dv_file_id, dv.row_number as dv_row, dv.members_end,
        cb.file_id as cb_file_id, cb.cb_members,
        dv.file_id in (select file_id from checked) as dv_checked
    from dv inner join cb on dv.unit_code = cb.unit_code and dv.year = cb.year
    where abs(cb.cb_members - dv.members_end) > 0.02 * dv.members_end
)
select
    case when dv_checked then dv_file_id else cb_file_id end as file_id,
    case when dv_checked then dv_row end as row_number,
    case when dv_checked then 'members_end' else 'members' end as column_name,
    cast(case when dv_checked then members_end else cb_members end as text) as value,
    members_end, cb_members
from pairs
where dv_checked or cb_file_id in (select file_id from checked)
"""


def _x2() -> str:
    return f"""
with {_checked("'DV'")},
this as (
    select checked.file_id, checked.unit_code, checked.year, d.row_number, d.members_start
    from checked inner join raw.form_dv as d on checked.file_id = d.file_id
),
{_year_before("DV", "r.members_end")}
select
    this.file_id, this.row_number, 'members_start' as column_name,
    cast(this.members_start as text) as value,
    this.year - 1 as previous_year, previous.members_end as previous_end
from this
inner join previous on this.unit_code = previous.unit_code and this.year = previous.year
where this.members_start <> previous.members_end
    and {_no_break("this.unit_code", "this.year")}
"""


def _x3() -> str:
    return f"""
with {_checked("'TC', 'DV'")},
tc_keys as (
    select distinct t.org_code as unit_code, checked.year
    from checked inner join raw.form_tc as t on checked.file_id = t.file_id
    where checked.form_code = 'TC' and t.org_type in ('commune', 'ward', 'town')
),
keys as (
    select unit_code, year from tc_keys
    union
    select unit_code, year from checked where form_code = 'DV'
),
dv as materialized (
    select f.file_id, f.unit_code, cast(f.period as integer) as year, d.row_number,
        d.members_end
    from {_CURRENT} as f
    inner join keys on f.unit_code = keys.unit_code and f.period = cast(keys.year as text)
    inner join raw.form_dv as d on f.file_id = d.file_id
    where f.{_LOADED} and f.form_code = 'DV'
),
tc as materialized (
    select f.file_id, cast(f.period as integer) as year, t.row_number, t.org_code,
        t.members
    from {_CURRENT} as f
    inner join raw.form_tc as t on f.file_id = t.file_id
    where f.{_LOADED} and f.form_code = 'TC'
        and t.org_type in ('commune', 'ward', 'town')
        and (t.org_code, f.period) in (select unit_code, cast(year as text) from keys)
),
pairs as (
    select
        tc.file_id as tc_file_id, tc.row_number as tc_row, tc.members,
        dv.file_id as dv_file_id, dv.row_number as dv_row, dv.members_end,
        tc.file_id in (select file_id from checked) as tc_checked
    from tc inner join dv on tc.org_code = dv.unit_code and tc.year = dv.year
    where abs(tc.members - dv.members_end) > 0.02 * dv.members_end
)
select
    case when tc_checked then tc_file_id else dv_file_id end as file_id,
    case when tc_checked then tc_row else dv_row end as row_number,
    case when tc_checked then 'members' else 'members_end' end as column_name,
    cast(case when tc_checked then members else members_end end as text) as value,
    members as tc_members, members_end
from pairs
where tc_checked or dv_file_id in (select file_id from checked)
"""


def _x4() -> str:
    return f"""
with {_checked("'CB'")},
this as (
    select checked.file_id, checked.unit_code, checked.year, c.row_number,
        c.village_code, c.village_name
    from checked inner join raw.form_cb as c on checked.file_id = c.file_id
    where {_no_break("checked.unit_code", "checked.year")}
),
{_year_before("CB", "r.village_code, r.village_name")},
had_previous as (select distinct unit_code, year from previous),
new_villages as (
    select this.file_id, this.row_number, this.village_code, this.village_name,
        'new' as change, this.year - 1 as previous_year
    from this
    inner join had_previous
        on this.unit_code = had_previous.unit_code and this.year = had_previous.year
    where not exists (
        select 1 from previous as p
        where p.unit_code = this.unit_code and p.year = this.year
            and p.village_code = this.village_code
    )
),
missing_villages as (
    select checked.file_id, cast(null as integer) as row_number, p.village_code,
        p.village_name, 'missing' as change, checked.year - 1 as previous_year
    from previous as p
    inner join checked
        on p.unit_code = checked.unit_code and p.year = checked.year
    where {_no_break("checked.unit_code", "checked.year")}
        and not exists (
            select 1 from this
            where this.file_id = checked.file_id and this.village_code = p.village_code
        )
)
select file_id, row_number, 'village_code' as column_name, village_code as value,
    village_name, change, previous_year
from new_villages
union all
select file_id, row_number, 'village_code' as column_name, village_code as value,
    village_name, change, previous_year
from missing_villages
"""


def _p1_dv() -> str:
    return f"""
with {_checked("'DV'")},
this as (
    select checked.file_id, checked.unit_code, checked.year, d.row_number, d.members_end
    from checked inner join raw.form_dv as d on checked.file_id = d.file_id
),
{_year_before("DV", "r.members_end")}
select
    this.file_id, this.row_number, 'members_end' as column_name,
    cast(this.members_end as text) as value, previous.members_end as previous_value,
    this.year - 1 as previous_year,
    round(100.0 * (this.members_end - previous.members_end) / previous.members_end, 1)
        as growth_percent
from this
inner join previous on this.unit_code = previous.unit_code and this.year = previous.year
where previous.members_end > 0
    and abs(this.members_end - previous.members_end) > 0.2 * previous.members_end
    and {_no_break("this.unit_code", "this.year")}
"""


def _tc_year_pairs(select: str, where: str) -> str:
    """TC rows of tonight's files with the same organization's row of the year before
    (same sender: the reform changed the senders and the codes of non-commune orgs)."""
    return f"""
with {_checked("'TC'")},
this as (
    select checked.file_id, checked.unit_code, checked.year, t.row_number, t.org_code,
        t.members, t.rating
    from checked inner join raw.form_tc as t on checked.file_id = t.file_id
),
{_year_before("TC", "r.org_code, r.members, r.rating")}
select {select}
from this
inner join previous
    on this.unit_code = previous.unit_code and this.year = previous.year
    and this.org_code = previous.org_code
where {where} and {_no_break("this.org_code", "this.year")}
"""


def _p1_tc() -> str:
    return _tc_year_pairs(
        """this.file_id, this.row_number, 'members' as column_name,
    cast(this.members as text) as value, previous.members as previous_value,
    this.year - 1 as previous_year,
    round(100.0 * (this.members - previous.members) / previous.members, 1)
        as growth_percent""",
        "previous.members > 0 and abs(this.members - previous.members) > 0.2 * previous.members",
    )


def _p2() -> str:
    return f"""
with {_checked("'DV'")}
select d.file_id, d.row_number, 'admitted' as column_name, cast(d.admitted as text) as value,
    d.members_start,
    round(100.0 * d.admitted / nullif(d.members_start, 0), 1) as admitted_percent
from checked inner join raw.form_dv as d on checked.file_id = d.file_id
where d.admitted > 0.15 * d.members_start
"""


def _p3() -> str:
    return f"""
with {_checked("'DV'")}
select d.file_id, d.row_number, 'members_end' as column_name,
    cast(d.members_end as text) as value, d.population,
    round(100.0 * d.members_end / nullif(d.population, 0), 1) as members_percent
from checked inner join raw.form_dv as d on checked.file_id = d.file_id
where d.members_end > 0.25 * d.population
"""


def _p4_cb() -> str:
    return f"""
with {_checked("'CB'")},
this as (
    select checked.file_id, checked.unit_code, checked.year, c.row_number, c.village_code,
        c.branch_rating
    from checked inner join raw.form_cb as c on checked.file_id = c.file_id
    where c.branch_rating is not null
),
{_year_before("CB", "r.village_code, r.branch_rating", "r.branch_rating is not null")}
select this.file_id, this.row_number, 'branch_rating' as column_name,
    this.branch_rating as value, previous.branch_rating as previous_rating,
    this.year - 1 as previous_year
from this
inner join previous
    on this.unit_code = previous.unit_code and this.year = previous.year
    and this.village_code = previous.village_code
where abs({_step("this.branch_rating")} - {_step("previous.branch_rating")}) >= 2
    and {_no_break("this.unit_code", "this.year")}
"""


def _p4_tc() -> str:
    return _tc_year_pairs(
        """this.file_id, this.row_number, 'rating' as column_name, this.rating as value,
    previous.rating as previous_rating, this.year - 1 as previous_year""",
        f"abs({_step('this.rating')} - {_step('previous.rating')}) >= 2",
    )


def _p5() -> str:
    return f"""
with {_checked("'DV', 'TC'")},
units as (select distinct form_code, unit_code from checked),
files as (
    select f.file_id, f.form_code, f.unit_code, cast(f.period as integer) as year
    from {_CURRENT} as f
    inner join units on f.form_code = units.form_code and f.unit_code = units.unit_code
    where f.{_LOADED}
),
points as (
    select files.*, m.column_name, d.row_number, m.x
    from files
    inner join raw.form_dv as d on files.file_id = d.file_id
    cross join lateral (
        values ('members_end', d.members_end), ('admitted', d.admitted)
    ) as m (column_name, x)
    where files.form_code = 'DV'
    union all
    select files.*, 'members' as column_name, cast(null as integer) as row_number,
        sum(t.members) as x
    from files
    inner join raw.form_tc as t on files.file_id = t.file_id
    where files.form_code = 'TC'
    group by files.file_id, files.form_code, files.unit_code, files.year
),
segmented as (
    select points.*, coalesce(max(b.break_year), 0) as segment
    from points
    left join landing.commune_series_breaks as b
        on points.unit_code = b.commune_code and points.year >= b.break_year
    group by points.file_id, points.form_code, points.unit_code, points.year,
        points.column_name, points.row_number, points.x
),
centre as (
    select form_code, unit_code, segment, column_name, count(*) as n,
        percentile_cont(0.5) within group (order by x) as median
    from segmented
    group by form_code, unit_code, segment, column_name
),
deviations as (
    select segmented.*, centre.n, centre.median, abs(segmented.x - centre.median) as dev
    from segmented
    inner join centre using (form_code, unit_code, segment, column_name)
),
-- Each series' points ride along in arrays and come back with its MAD: joining the
-- points to the per-series MADs instead let the planner, which expects a handful of
-- rows from these CTEs, re-aggregate every series once per checked point (42 s for a
-- 4,400-file night on the national history; 0.7 s this way).
spread as (
    select form_code, unit_code, segment, column_name, n, median,
        percentile_cont(0.5) within group (order by dev) as mad,
        array_agg(file_id) as file_ids, array_agg(row_number) as row_numbers,
        array_agg(x) as xs
    from deviations
    group by form_code, unit_code, segment, column_name, n, median
),
scored as (
    select point.file_id, point.row_number, spread.column_name, point.x, spread.n,
        spread.median, spread.segment,
        0.6745 * (point.x - spread.median)
        / case
            when spread.mad > 0 then spread.mad
            else greatest(1, 0.01 * abs(spread.median))
        end as z
    from spread
    cross join lateral unnest(spread.file_ids, spread.row_numbers, spread.xs)
        as point (file_id, row_number, x)
)
select file_id, row_number, column_name, cast(x as text) as value,
    round(cast(z as numeric), 1) as z_score, round(cast(median as numeric), 1) as median,
    n as series_years, case when segment > 0 then segment end as series_start
from scored
where file_id in (select file_id from checked)
    and n >= {MIN_SERIES_YEARS} and abs(z) > {Z_THRESHOLD}
"""


def _p6_share() -> str:
    return f"""
with {_checked("'TC'")}
select checked.file_id, cast(null as integer) as row_number, 'rating' as column_name,
    cast(count(*) filter (where t.rating = 'excellent') as text) as value,
    count(*) filter (where t.rating in ('excellent', 'good')) as good_or_above
from checked inner join raw.form_tc as t on checked.file_id = t.file_id
where checked.year >= {RATING_SCALE_CHANGE_YEAR}
group by checked.file_id
having count(*) filter (where t.rating = 'excellent')
    > 0.2 * count(*) filter (where t.rating in ('excellent', 'good'))
"""


def _p6_points() -> str:
    return f"""
with {_checked("'TC'")}
select t.file_id, t.row_number, 'rating_points' as column_name,
    cast(trim_scale(t.rating_points) as text) as value, t.rating
from checked inner join raw.form_tc as t on checked.file_id = t.file_id
where t.rating_points is not null
    and not case t.rating
        when 'excellent' then t.rating_points >= 90
        when 'good' then t.rating_points >= 70 and t.rating_points < 90
        when 'completed' then t.rating_points >= 50 and t.rating_points < 70
        when 'not_completed' then t.rating_points < 50
        else true
    end
"""


@dataclass(frozen=True)
class Check:
    rule_id: str
    name: str
    query: str
    message_vi: str
    message_en: str
    description: str


CHECKS: tuple[Check, ...] = (
    Check(
        "X1", "cb_members_match_dv", _x1(),
        "Tổng số đảng viên các thôn ở biểu CB ({cb_members}) lệch quá 2% so với số đảng"
        " viên cuối năm ở biểu DV ({members_end}) cùng năm: kiểm tra lại hai biểu.",
        "The CB villages' members ({cb_members}) differ by more than 2% from DV"
        " members_end ({members_end}) for the same year.",
        "X1: the members of a commune's CB rows add up to its DV.members_end (within 2%).",
    ),
    Check(
        "X2", "members_start_is_last_years_end", _x2(),
        "Đảng viên đầu năm ({value}) khác số đảng viên cuối năm {previous_year} đã báo cáo"
        " ({previous_end}).",
        "members_start ({value}) differs from the accepted {previous_year} members_end"
        " ({previous_end}).",
        "X2: DV.members_start equals the previous year's accepted DV.members_end.",
    ),
    Check(
        "X3", "tc_commune_members_match_dv", _x3(),
        "Số đảng viên của xã ở biểu TC ({tc_members}) lệch quá 2% so với số đảng viên"
        " cuối năm ở biểu DV của xã ({members_end}).",
        "The commune's TC members ({tc_members}) differ by more than 2% from its DV"
        " members_end ({members_end}).",
        "X3: a commune-type TC row's members equal that commune's DV.members_end (within 2%).",
    ),
    Check(
        "X4", "villages_match_last_year", _x4(),
        "Thôn {value} ({village_name}) {change_vi} so với biểu CB năm {previous_year}:"
        " nếu thôn đã sáp nhập, chia tách hoặc đổi mã, ghi rõ khi gửi báo cáo.",
        "Village {value} ({village_name}) is {change} compared with the {previous_year}"
        " CB report.",
        "X4: a CB file lists every village the commune reported the year before.",
    ),
    Check(
        "P1", "dv_member_growth", _p1_dv(),
        "Số đảng viên cuối năm ({value}) thay đổi {growth_percent}% so với năm"
        " {previous_year} ({previous_value}), vượt ngưỡng ±20%: kiểm tra lại.",
        "members_end ({value}) changed {growth_percent}% from {previous_year}"
        " ({previous_value}), beyond ±20%.",
        "P1: DV member growth beyond ±20% in a year.",
    ),
    Check(
        "P1", "tc_member_growth", _p1_tc(),
        "Số đảng viên của tổ chức ({value}) thay đổi {growth_percent}% so với năm"
        " {previous_year} ({previous_value}), vượt ngưỡng ±20%: kiểm tra lại.",
        "The organization's members ({value}) changed {growth_percent}% from"
        " {previous_year} ({previous_value}), beyond ±20%.",
        "P1: TC organization member growth beyond ±20% in a year.",
    ),
    Check(
        "P2", "admissions_share", _p2(),
        "Số kết nạp mới ({value}) bằng {admitted_percent}% số đảng viên đầu năm"
        " ({members_start}), vượt 15%: kiểm tra lại.",
        "admitted ({value}) is {admitted_percent}% of members_start ({members_start}),"
        " above 15%.",
        "P2: admissions above 15% of members_start.",
    ),
    Check(
        "P3", "members_share_of_population", _p3(),
        "Số đảng viên ({value}) bằng {members_percent}% dân số ({population}), vượt 25%:"
        " kiểm tra lại số đảng viên và dân số.",
        "members_end ({value}) is {members_percent}% of population ({population}),"
        " above 25%.",
        "P3: members above 25% of population.",
    ),
    Check(
        "P4", "cb_rating_jump", _p4_cb(),
        "Xếp loại chi bộ thay đổi từ hai bậc trở lên trong một năm ({previous_rating} năm"
        " {previous_year} → {value}): kiểm tra lại.",
        "branch_rating moved two or more steps in a year ({previous_rating} in"
        " {previous_year} -> {value}).",
        "P4: a CB branch rating that moves two or more steps in one year.",
    ),
    Check(
        "P4", "tc_rating_jump", _p4_tc(),
        "Xếp loại tổ chức cơ sở đảng thay đổi từ hai bậc trở lên trong một năm"
        " ({previous_rating} năm {previous_year} → {value}): kiểm tra lại.",
        "rating moved two or more steps in a year ({previous_rating} in {previous_year}"
        " -> {value}).",
        "P4: a TC rating that moves two or more steps in one year.",
    ),
    Check(
        "P5", "far_from_own_history", _p5(),
        "Giá trị {value} khác xa chuỗi số liệu của chính đơn vị (trung vị {median} qua"
        " {series_years} năm, điểm z hiệu chỉnh {z_score}): kiểm tra lại.",
        "Value {value} is far from the unit's own series (median {median} over"
        " {series_years} years, modified z-score {z_score}).",
        "P5: modified z-score above 3.5 on the unit's yearly series (restarting at a"
        " lineage event).",
    ),
    Check(
        "P6", "excellent_share", _p6_share(),
        "Số tổ chức xếp loại Hoàn thành xuất sắc nhiệm vụ ({value}) vượt 20% số tổ chức"
        " xếp loại từ Hoàn thành tốt nhiệm vụ trở lên ({good_or_above}).",
        "Excellent ratings ({value}) exceed 20% of the organizations rated good or above"
        " ({good_or_above}).",
        "P6: excellent ratings above 20% of those rated good or above.",
    ),
    Check(
        "P6", "rating_points_band", _p6_points(),
        "Điểm đánh giá {value} không nằm trong khung điểm của mức xếp loại {rating}"
        " (xuất sắc ≥ 90, tốt 70 – dưới 90, hoàn thành 50 – dưới 70, không hoàn thành"
        " dưới 50).",
        "rating_points {value} is outside the band of rating {rating}.",
        "P6: rating_points outside the band of the rating.",
    ),
)  # fmt: skip

CHANGE_VI = {"new": "mới xuất hiện", "missing": "không còn trong danh sách"}


# --- suite -----------------------------------------------------------------------------


def build_suite():
    """The GX suite: one UnexpectedRowsExpectation per check, tagged with rule and severity."""
    import great_expectations.expectations as gxe
    from great_expectations.core import ExpectationSuite

    expectations = [
        gxe.UnexpectedRowsExpectation(
            unexpected_rows_query=_tidy(check.query),
            description=check.description,
            severity="warning",
            meta={
                "rule_id": check.rule_id,
                "severity": "warning",
                "check": check.name,
                "message_vi": check.message_vi,
                "message_en": check.message_en,
            },
        )
        for check in CHECKS
    ]
    return ExpectationSuite(
        name=SUITE_NAME,
        expectations=expectations,
        meta={"batch": f"{BATCH_SCHEMA}.{BATCH_TABLE}", "rules": list(RULES)},
    )


def _tidy(query: str) -> str:
    return "\n".join(line.rstrip() for line in query.strip().splitlines())


def write_suite(directory: Path = DEFAULT_SUITES_DIR) -> Path:
    from grassroots.validation.suites import suite_to_dict

    path = Path(directory) / SUITE_FILE
    text = json.dumps(suite_to_dict(build_suite()), ensure_ascii=False, indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def load_suite(directory: Path = DEFAULT_SUITES_DIR):
    from great_expectations.core import ExpectationSuite

    data = json.loads((Path(directory) / SUITE_FILE).read_text(encoding="utf-8"))
    return ExpectationSuite(**data)


# --- running ---------------------------------------------------------------------------


def refresh_series_breaks(conn: psycopg.Connection, crosswalk: Path = CROSSWALK_FILE) -> int:
    """Communes whose series restarts in 2025, from the crosswalk (replaced when changed).

    A post-reform code continues its series only when exactly one old commune maps to
    it, whole, under the same code; any other new code (a merger, a split part, a code
    reused for another territory) starts a new series in REFORM_YEAR.
    """
    table = pd.read_csv(crosswalk, dtype=str, keep_default_na=False)
    rows = table.groupby("new_commune_code", sort=True).agg(
        n=("old_commune_code", "size"),
        old=("old_commune_code", "first"),
        whole=("is_whole", "first"),
    )
    unchanged = (rows.n == 1) & (rows.old == rows.index) & (rows.whole.str.lower() == "true")
    breaks = sorted(rows.index[~unchanged])
    stored = conn.execute(
        "select coalesce(array_agg(commune_code order by commune_code), '{}')"
        " from landing.commune_series_breaks where break_year = %s",
        (REFORM_YEAR,),
    ).fetchone()[0]
    if list(stored) != breaks:
        with conn.transaction():
            conn.execute("delete from landing.commune_series_breaks")
            with conn.cursor().copy(
                "copy landing.commune_series_breaks (commune_code, break_year) from stdin"
            ) as copy:
                for code in breaks:
                    copy.write_row((code, REFORM_YEAR))
    return len(breaks)


def _fill_batch(conn: psycopg.Connection, run_id: str | None, file_ids: list[int] | None) -> int:
    """The files to check: loaded (current) files of the run, or the given ones."""
    with conn.transaction():
        conn.execute(f"delete from {BATCH_SCHEMA}.{BATCH_TABLE}")
        if file_ids is not None:
            where, params = "file_id = any(%s)", (list(file_ids),)
        else:
            where, params = "run_id is not distinct from %s", (run_id,)
        cursor = conn.execute(
            f"insert into {BATCH_SCHEMA}.{BATCH_TABLE} (file_id, form_code, unit_code, period)"
            " select file_id, form_code, unit_code, period from landing.received_files"
            f" where status = 'loaded' and form_code in ('CB', 'DV', 'TC') and {where}",
            params,
        )
        return cursor.rowcount


def _sqlalchemy_url(dsn: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg2://" + dsn[len(prefix) :]
    return dsn


def _validate(dsn: str, suite):
    """One GX validation of the whole suite against the batch table."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_postgres("warehouse", connection_string=_sqlalchemy_url(dsn))
    asset = source.add_table_asset(BATCH_TABLE, table_name=BATCH_TABLE, schema_name=BATCH_SCHEMA)
    batch = asset.add_batch_definition_whole_table("tonight").get_batch()
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    return batch, result


def _all_rows(batch, item) -> list[dict]:
    """Every unexpected row: GX returns at most 200 with the result; fetch the rest."""
    rows = item.result.get("details", {}).get("unexpected_rows") or []
    count = item.result.get("observed_value") or 0
    if count > len(rows):
        from great_expectations.metrics.query.batch_table import QueryBatchTable

        query = item.expectation_config.kwargs["unexpected_rows_query"]
        rows = batch.compute_metrics(QueryBatchTable(query=query, fetch_all=True)).value
    return rows


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _shown(value: Any) -> str:
    if value is None:
        return "(trống)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if "." in text and text.replace(".", "", 1).lstrip("-").isdigit():
        text = text.rstrip("0").rstrip(".")
    return text


def _finding_rows(item, rows: list[dict], identity: dict, run_id) -> list[tuple]:
    meta = item.expectation_config.meta
    out = []
    for row in rows:
        values = {k: shown(_shown(v)) for k, v in row.items()}
        if "change" in row:
            values["change_vi"] = CHANGE_VI.get(row["change"], row["change"])
        file_id = int(row["file_id"])
        form_code, unit_code, period = identity[file_id]
        number = row.get("row_number")
        out.append(
            (
                file_id, form_code, unit_code, period, meta["rule_id"], meta["severity"],
                int(number) if number is not None else None, row.get("column_name"),
                None if row.get("value") is None else shown(row["value"]),
                meta["message_vi"].format_map(_Missing(values)),
                meta["message_en"].format_map(_Missing(values)),
                run_id,
            )
        )  # fmt: skip
    return out


def _store(conn: psycopg.Connection, findings: dict[str, list[tuple]], file_ids: list[int]):
    """Replace these rules' findings for the checked files: one insert per rule."""
    with conn.transaction():
        conn.execute(
            "delete from landing.validation_findings where rule_id = any(%s) and file_id = any(%s)",
            (list(RULES), file_ids),
        )
        for rule_id in RULES:
            rows = findings.get(rule_id) or []
            if not rows:
                continue
            columns = list(zip(*rows, strict=True))
            conn.execute(
                "insert into landing.validation_findings (file_id, form_code, unit_code,"
                " period, rule_id, severity, row_number, column_name, value, message_vi,"
                " message_en, run_id)"
                " select * from unnest(%s::bigint[], %s::text[], %s::text[], %s::text[],"
                " %s::text[], %s::text[], %s::integer[], %s::text[], %s::text[], %s::text[],"
                " %s::text[], %s::text[])",
                [list(c) for c in columns],
            )


def safe_name(run_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(run_id))


def run_cross_checks(
    dsn: str,
    run_id: str | None,
    file_ids: list[int] | None = None,
    suites_dir: Path | None = None,
    save_results: bool = True,
) -> dict:
    """Check the run's loaded files against the accepted history; store the findings."""
    suite = load_suite(suites_dir or DEFAULT_SUITES_DIR)
    with psycopg.connect(dsn) as conn:
        refresh_series_breaks(conn)
        checked = _fill_batch(conn, run_id, file_ids)
        identity = {
            file_id: (form, unit, period)
            for file_id, form, unit, period in conn.execute(
                f"select file_id, form_code, unit_code, period from {BATCH_SCHEMA}.{BATCH_TABLE}"
            ).fetchall()
        }
    summary: dict[str, Any] = {"files_checked": checked, "findings": {}}
    if not checked:
        log.info("cross checks: no file loaded in run %s", run_id)
        return summary
    batch, result = _validate(dsn, suite)
    findings: dict[str, list[tuple]] = {}
    for item in result.results:
        info = item.exception_info or {}
        if info.get("raised_exception"):
            raise RuntimeError(
                f"cross check {item.expectation_config.meta.get('check')} failed to run:"
                f" {info.get('exception_message')}"
            )
        if item.success:
            continue
        rows = _all_rows(batch, item)
        findings.setdefault(item.expectation_config.meta["rule_id"], []).extend(
            _finding_rows(item, rows, identity, run_id)
        )
    with psycopg.connect(dsn) as conn:
        _store(conn, findings, sorted(identity))
        if save_results and run_id is not None:
            # For the run's Data Docs, in the warehouse (observed values HTML-escaped).
            stored_results.store(conn, run_id, RESULTS_NAME, result.to_json_dict())
            summary["results"] = RESULTS_NAME
    summary["findings"] = {rule: len(rows) for rule, rows in sorted(findings.items())}
    log.info("cross checks: %d files, findings %s", checked, summary["findings"])
    return summary


if __name__ == "__main__":
    print(write_suite(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SUITES_DIR))
