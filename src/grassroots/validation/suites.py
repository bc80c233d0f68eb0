"""Great Expectations suites, one per form, built from grassroots.forms and the rule catalog.

`python -m grassroots.validation.suites` (or `write_suites`) writes them to
expectations/<form>.json; those committed files are what the runner loads, and a unit
test keeps them equal to what this module builds.

Each suite checks two frames that the runner builds per batch of files (frames.py):
- "files": one row per file (rules S1, S4, S8: file_rules),
- "rows": one row per data row of every file: raw text plus derived columns computed
  in pandas where GX has no expectation for the check (parsed numbers, normalized
  codes, registry lookups, the C1 balance): column_rules from each column's kind,
  form_rules and cb_rules for each form's own rules.
What an expectation's `meta` holds is described in expect.py. The cross-form and
plausibility suite (X1-X4, P1-P6) is cross_suite's, written beside these.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from great_expectations.core import ExpectationSuite

from grassroots.forms import FORMS, Form
from grassroots.validation import cross_suite
from grassroots.validation.column_rules import column_expectations
from grassroots.validation.file_rules import file_expectations
from grassroots.validation.form_rules import form_rules
from grassroots.validation.suite_files import (
    DEFAULT_SUITES_DIR,
    read_suite_file,
    suite_to_dict,
    write_suite_file,
)

__all__ = [
    "DEFAULT_SUITES_DIR",
    "build_suite",
    "build_suites",
    "load_suite",
    "suite_path",
    "suite_to_dict",
    "write_suites",
]


def build_suite(form: Form) -> ExpectationSuite:
    expectations = file_expectations(form)
    for column in form.columns:
        expectations += column_expectations(form, column)
    expectations += form_rules(form)
    return ExpectationSuite(
        name=f"grassroots.form_{form.code.lower()}",
        expectations=expectations,
        meta={"form": form.code, "title_vi": form.title_vi},
    )


def build_suites() -> dict[str, ExpectationSuite]:
    return {code: build_suite(form) for code, form in FORMS.items()}


def suite_path(directory: Path, form_code: str) -> Path:
    return Path(directory) / f"{form_code.lower()}.json"


def write_suites(directory: Path = DEFAULT_SUITES_DIR) -> list[Path]:
    """Every committed suite: one per form, then the cross-check suite."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [write_suite_file(suite_path(directory, code), s) for code, s in build_suites().items()]
    paths.append(cross_suite.write_suite(directory))
    return paths


def load_suite(directory: Path, form_code: str) -> ExpectationSuite:
    """The committed suite JSON, read back into a GX suite."""
    return read_suite_file(suite_path(directory, form_code))


if __name__ == "__main__":
    for written in write_suites(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SUITES_DIR):
        print(written)
