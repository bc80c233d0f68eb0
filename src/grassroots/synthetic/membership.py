"""Plausible values shared by every generator: the membership balance, rating walks,
the district's cap on excellent ratings, member splits and congress-term targets.

Scalar versions draw from `random.Random` (the demo inbox), vectorized ones from a numpy
Generator (the national universe); the draws of each stay in a fixed order so a seed
always gives the same files.
"""

from __future__ import annotations

import math
import random

import numpy as np

# Rating scales, best first; the same level means the same step on either scale.
OLD_SCALE = ("clean_strong", "good", "completed", "weak")
NEW_SCALE = ("excellent", "good", "completed", "not_completed")
SCALE_CHANGE_YEAR = 2018
# Demo walk: first level weights, and (up one, stay, down one) per level, pulled back
# towards "good".
FIRST_LEVEL_WEIGHTS = (15, 55, 25, 5)
LEVEL_MOVES = {0: (0, 65, 35), 1: (12, 73, 15), 2: (35, 60, 5), 3: (60, 40, 0)}
# National walk: the same shape as probabilities.
FIRST_LEVEL = np.array([0.14, 0.56, 0.26, 0.04])
MOVES = np.array([[0.0, 0.65, 0.35], [0.12, 0.73, 0.15], [0.35, 0.60, 0.05], [0.6, 0.4, 0.0]])


def rating(level: int, year: int) -> str:
    """The rating code of a level (0 = best) on the scale in force in `year`."""
    return (OLD_SCALE if year < SCALE_CHANGE_YEAR else NEW_SCALE)[level]


def members_end(start, admitted, transferred_in, transferred_out, deceased, expelled, removed):
    """The balance every DV row keeps (rule C1); ints or numpy arrays alike."""
    return start + admitted + transferred_in - transferred_out - deceased - expelled - removed


class RatingWalk:
    """One unit's yearly ratings: at most one step a year (two steps would raise P4)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.level: int | None = None

    def next(self, year: int) -> str:
        if self.level is None:
            self.level = self.rng.choices(range(4), weights=FIRST_LEVEL_WEIGHTS)[0]
        else:
            move = self.rng.choices((-1, 0, 1), weights=LEVEL_MOVES[self.level])[0]
            self.level += move
        return rating(self.level, year)

    def override(self, code: str) -> None:
        scale = OLD_SCALE if code in OLD_SCALE else NEW_SCALE
        self.level = scale.index(code)


def rating_walks(rng: np.random.Generator, n: int, years: int) -> np.ndarray:
    """Rating levels (0 = best) per unit and year: at most one step a year."""
    levels = np.empty((n, years), dtype=np.int8)
    levels[:, 0] = rng.choice(4, size=n, p=FIRST_LEVEL)
    cumulative = MOVES.cumsum(axis=1)
    for t in range(1, years):
        draw = rng.random(n)
        previous = levels[:, t - 1]
        step = np.where(
            draw < cumulative[previous, 0], -1, np.where(draw < cumulative[previous, 1], 0, 1)
        )
        levels[:, t] = previous + step
    return levels


def cap_excellent(ratings: list[str]) -> list[str]:
    """Excellent ratings at most 20 % of those rated good or above in one sender (P6):
    the first ones keep it, the others become good."""
    allowed = math.floor(0.2 * sum(r in ("excellent", "good") for r in ratings))
    capped: list[str] = []
    for code in ratings:
        if code == "excellent":
            if allowed > 0:
                allowed -= 1
            else:
                code = "good"
        capped.append(code)
    return capped


def split_members(
    total: int, statuses: list[str], weights: list[float], rng: random.Random
) -> list[int]:
    """Members per village summing exactly to total: none 0, joint 1-2, independent >= 3;
    the rest shared by weight, the rounding to the biggest fractions (largest remainder)."""
    members = [0] * len(statuses)
    for i, status in enumerate(statuses):
        if status == "joint":
            members[i] = rng.randint(1, 2)
    independent = [i for i, s in enumerate(statuses) if s == "independent"]
    remaining = total - sum(members) - 3 * len(independent)
    drawn = [weights[i] * rng.uniform(0.95, 1.05) for i in independent]
    shares = [remaining * w / sum(drawn) for w in drawn]
    floors = [math.floor(s) for s in shares]
    leftovers = remaining - sum(floors)
    by_fraction = sorted(range(len(shares)), key=lambda k: (floors[k] - shares[k], k))
    for k in by_fraction[:leftovers]:
        floors[k] += 1
    for k, i in enumerate(independent):
        members[i] = 3 + floors[k]
    return members


def ct_targets(
    rng: random.Random, term: str, unit: str, base: int, independent: int, villages: int
) -> list[dict]:
    """A commune's congress-term targets (CT rows) from its members at the term's start."""
    per_year = max(3, round(base * rng.uniform(0.025, 0.035)))
    ratio = math.floor(independent / villages * 100 / 2.5) * 2.5  # e.g. 87.5
    targets = [
        ("admissions", per_year, "per_year", "at_least"),
        ("admissions", per_year * 5, "term_total", "at_least"),
        ("independent_branch_ratio_pct", ratio, "per_year", "at_least"),
        ("members_total", round(base * rng.uniform(1.05, 1.10)), "term_total", "at_least"),
        ("villages_without_branch", 0, "per_year", "at_most"),
    ]
    return [
        {
            "term": term,
            "unit_code": unit,
            "indicator_code": code,
            "target_value": value,
            "basis": basis,
            "direction": direction,
        }
        for code, value, basis, direction in targets
    ]
