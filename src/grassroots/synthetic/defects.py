"""Defect injection: one function per rule id, each breaking a submission so that this
rule fires and no other.

`inject` breaks a planned file of the national generator on a random row; the demo
inbox calls the same row breakers on rows it picks itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from grassroots.catalog.rules import file_rule_ids

if TYPE_CHECKING:
    from grassroots.synthetic.specs import Spec

# The rule ids a generated file can be broken by (structure S*, content C*), in the
# catalog's order (the order of the draws: a new rule changes the generated files).
FILE_RULES = file_rule_ids()
# Forms a rule can be injected into so that the file breaks that rule and no other.
RULE_FORMS = {
    "S1": ("CB", "DV", "TC", "CT"),
    "S2": ("CB", "DV", "TC", "CT"),
    "S3": ("CB", "TC", "CT"),
    "S4": ("DV", "CT"),
    "S5": ("DV", "CT"),
    "S6": ("CB", "DV", "TC", "CT"),
    "S7": ("CB", "TC", "CT"),
    "S8": ("CB", "DV", "TC", "CT"),
    "C1": ("DV",),
    "C2": ("DV",),
    "C3": ("CB",),
    "C4": ("CB",),
    "C5": ("CB",),
}
# The column S1 drops and S2 spoils, per form.
MISSING_COLUMN = {"CB": "members", "DV": "admitted", "TC": "org_type", "CT": "basis"}
NOT_A_NUMBER_COLUMN = {"CB": "members", "DV": "members_end", "TC": "members", "CT": "target_value"}

# (staff row or None for the whole file, column, description); header = row 1.
Outcome = tuple[int | None, str | None, str]


class NotApplicable(Exception):
    """The file has nothing this rule can break (e.g. no joint village for C3)."""


# --- row helpers ---------------------------------------------------------------------


def plain_independent(rows: list[dict]) -> list[int]:
    """Indexes of independent villages that host nobody (safe to alter alone)."""
    hosts = {r["host_village_code"] for r in rows if r["host_village_code"]}
    return [
        i
        for i, r in enumerate(rows)
        if r["branch_status"] == "independent" and r["village_code"] not in hosts
    ]


def largest_other_independent(rows: list[dict], exclude: int) -> int:
    candidates = [
        i for i, r in enumerate(rows) if r["branch_status"] == "independent" and i != exclude
    ]
    return max(candidates, key=lambda i: (rows[i]["members"], -i))


def rename_cb_commune(rows: list[dict], old: str, new: str) -> list[dict]:
    """CB rows of commune `old` as sent by `new`: the villages carry the same prefix, so
    the only defect is the commune code itself."""
    renamed = []
    for row in rows:
        row = dict(row, commune_code=new)
        for key in ("village_code", "host_village_code"):
            row[key] = row[key].replace(old, new)
        renamed.append(row)
    return renamed


def duplicate_village(rows: list[dict], first: int, second: int) -> None:
    rows[second]["village_code"] = rows[first]["village_code"]


def members_without_branch(rows: list[dict], target: int, donor: int) -> None:
    """Four members in a village without a branch, given by a donor village: the CB
    total still equals DV (no X1 noise)."""
    rows[target]["members"], rows[donor]["members"] = 4, rows[donor]["members"] - 4


def two_member_branch(rows: list[dict], target: int, receiver: int) -> None:
    """An independent branch down to two members, the rest moved to a receiver."""
    rows[receiver]["members"] += rows[target]["members"] - 2
    rows[target]["members"] = 2


# --- one injector per rule: (spec, copied rows, random row, rng, pool) -> outcome ------


def _other_unit(spec: Spec, pool: list[Spec]) -> Spec:
    for other in pool:
        if other.form == spec.form and other.unit != spec.unit and other.rows:
            return other
    raise NotApplicable


def _s1(spec, rows, pick, rng, pool) -> Outcome:
    column = MISSING_COLUMN[spec.form]
    spec.drop = (column,)
    return (None, column, f"column {column} missing")


def _s2(spec, rows, pick, rng, pool) -> Outcome:
    column = NOT_A_NUMBER_COLUMN[spec.form]
    value = rng.choice(("abc", "12a", "x", "1 2 3 4"))
    rows[pick][column] = value
    return (pick + 2, column, f"{value!r} is not a number")


def _s3(spec, rows, pick, rng, pool) -> Outcome:
    if spec.form == "CB":
        pick = rng.choice(plain_independent(rows) or [0])
        rows[pick]["branch_status"] = "sometimes"
        return (pick + 2, "branch_status", "unknown branch status")
    if spec.form == "TC":
        wrong = "clean_strong" if int(spec.period) >= 2018 else "excellent"
        rows[pick]["rating"] = wrong
        return (pick + 2, "rating", f"rating {wrong} of the other scale")
    rows[pick]["basis"] = "monthly"
    return (pick + 2, "basis", "unknown basis")


def _s4(spec, rows, pick, rng, pool) -> Outcome:
    other = _other_unit(spec, pool)
    if spec.form == "DV":
        rows.append(dict(other.rows[0], report_year=rows[0]["report_year"]))
        return (None, "commune_code", f"second commune {other.unit}")
    rows[-1]["unit_code"] = other.unit
    return (None, "unit_code", f"second unit {other.unit}")


def _s5(spec, rows, pick, rng, pool) -> Outcome:
    if spec.form == "DV":
        value = rng.choice((1999, 2031, 2040))
        rows[0]["report_year"] = value
        return (2, "report_year", f"year {value}")
    start = int(spec.period[:4])
    term = rng.choice((f"{start}-{start + 6}", f"{start}/{start + 5}"))
    for row in rows:
        row["term"] = term
    return (2, "term", f"term {term}")


def _s6(spec, rows, pick, rng, pool) -> Outcome:
    unknown = f"{rng.randint(33000, 99999)}"
    if spec.form == "CB":
        rows[:] = rename_cb_commune(rows, spec.unit, unknown)
        return (2, "commune_code", f"unknown commune {unknown}")
    if spec.form == "DV":
        rows[0]["commune_code"] = unknown
        return (2, "commune_code", f"unknown commune {unknown}")
    if spec.form == "TC":
        others = [i for i, r in enumerate(rows) if "-" in r["org_code"]]
        if not others:
            raise NotApplicable
        pick = rng.choice(others)
        prefix = "999" if len(spec.unit) == 3 else "99"
        suffix = rows[pick]["org_code"].split("-")[1]
        rows[pick]["org_code"] = f"{prefix}-{suffix}"
        return (pick + 2, "org_code", f"organization of another sender {prefix}")
    for row in rows:
        row["unit_code"] = unknown
    return (2, "unit_code", f"unknown unit {unknown}")


def _s7(spec, rows, pick, rng, pool) -> Outcome:
    if spec.form == "CB":
        plain = plain_independent(rows)
        if len(plain) < 2:
            raise NotApplicable
        duplicate_village(rows, plain[0], plain[1])
        return (plain[1] + 2, "village_code", "duplicate village")
    if spec.form == "TC":
        others = [i for i, r in enumerate(rows) if "-" in r["org_code"]]
        if len(others) < 2:
            raise NotApplicable
        rows[others[1]]["org_code"] = rows[others[0]]["org_code"]
        return (others[1] + 2, "org_code", "duplicate organization")
    rows[1]["basis"] = rows[0]["basis"]  # admissions per_year twice
    return (3, "indicator_code", "duplicate indicator and basis")


def _s8(spec, rows, pick, rng, pool) -> Outcome:
    rows.clear()
    return (None, None, "header only")


def _c1(spec, rows, pick, rng, pool) -> Outcome:
    delta = rng.choice((-7, -2, 1, 3, 5, 10))
    rows[0]["members_end"] += delta
    return (2, "members_end", f"members_end off by {delta}")


def _c2(spec, rows, pick, rng, pool) -> Outcome:
    rows[0]["probationary_end"] = rows[0]["members_end"] + rng.randint(1, 9)
    return (2, "probationary_end", "probationary above members")


def _c3(spec, rows, pick, rng, pool) -> Outcome:
    joint = [i for i, r in enumerate(rows) if r["branch_status"] == "joint"]
    if not joint:
        raise NotApplicable
    pick = rng.choice(joint)
    rows[pick]["host_village_code"] = ""
    return (pick + 2, "host_village_code", "joint village without host")


def _c4(spec, rows, pick, rng, pool) -> Outcome:
    none = [i for i, r in enumerate(rows) if r["branch_status"] == "none"]
    if not none:
        raise NotApplicable
    pick = rng.choice(none)
    donor = max(range(len(rows)), key=lambda i: (rows[i]["members"], -i))
    members_without_branch(rows, pick, donor)
    return (pick + 2, "members", "no branch but members")


def _c5(spec, rows, pick, rng, pool) -> Outcome:
    plain = [i for i in plain_independent(rows) if i != 0]
    if not plain:
        raise NotApplicable
    pick = rng.choice(plain)
    two_member_branch(rows, pick, 0)
    return (pick + 2, "members", "independent branch with two members")


INJECTORS: dict[str, Callable[..., Outcome]] = {
    "S1": _s1,
    "S2": _s2,
    "S3": _s3,
    "S4": _s4,
    "S5": _s5,
    "S6": _s6,
    "S7": _s7,
    "S8": _s8,
    "C1": _c1,
    "C2": _c2,
    "C3": _c3,
    "C4": _c4,
    "C5": _c5,
}


def inject(spec: Spec, rule: str, rng: random.Random, pool: list[Spec]) -> Outcome:
    """Break `spec` (its rows are copied) by `rule`: returns (row, column, description);
    row is the staff row (header = 1) or None for a file-level defect."""
    if rule not in INJECTORS:
        raise ValueError(rule)
    rows = [dict(r) for r in spec.rows]
    pick = rng.randrange(len(rows))  # drawn for every rule: keeps the draws in order
    result = INJECTORS[rule](spec, rows, pick, rng, pool)
    spec.rows = rows
    return result
