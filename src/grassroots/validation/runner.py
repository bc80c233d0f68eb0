"""Validate a batch of parsed files with Great Expectations and map failures to findings.

One GX validation run per form and frame per batch, whatever the number of files
(GX costs about as much for one small frame as for a large one): the rows of all files
of a form are stacked in one frame, with `file_id` and `row_number` as GX's
`unexpected_index_column_names`, so every failing row comes back with its file and row.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import pandas as pd

from grassroots.forms import FORMS
from grassroots.reader import ParsedFile, forms_in
from grassroots.validation import frames as fr
from grassroots.validation.findings import (
    FINDINGS_PER_RULE,
    Finding,
    Raw,
    bounded,
    capped,
    file_findings,
    problem_findings,
    row_findings,
    suppress,
)
from grassroots.validation.suites import DEFAULT_SUITES_DIR, load_suite

# Finding and FINDINGS_PER_RULE live in findings.py; callers import them from here too.
__all__ = ["FINDINGS_PER_RULE", "Finding", "ValidationResult", "docs_result", "validate_batch"]

log = logging.getLogger(__name__)
logging.getLogger("great_expectations").setLevel(logging.WARNING)

# COMPLETE: every unexpected row, not a sample. The extra position column lets us
# read any frame value of a failing row without a join.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [fr.FILE_ID, fr.ROW_NUMBER, fr.POSITION],
    "return_unexpected_index_query": False,
    "include_unexpected_rows": False,
}
_FILES_INDEX = [fr.FILE_ID, fr.POSITION]
# A batch's GX results are kept for the night's Data Docs (runner findings come from the
# complete lists first): each list in an expectation's result is cut to this many
# entries, so a national night's docs stay a few MB however many rows fail.
DOCS_LIST_CAP = 20


@dataclass
class ValidationResult:
    typed: dict[str, pd.DataFrame]
    findings: list[Finding]
    identity: dict[int, tuple[str, str | None, str | None]] = field(default_factory=dict)
    gx_runs: int = 0  # GX validation calls made for this batch (one per form and frame)
    # (form code, frame, GX ExpectationSuiteValidationResult.to_json_dict()) per GX run,
    # named after the committed form suite, lists capped: for the night's Data Docs.
    gx_results: list[tuple[str, str, dict]] = field(default_factory=list)

    def files_with_errors(self) -> set[int]:
        return {f.file_id for f in self.findings if f.severity == "error"}

    def file_identity(self) -> dict[int, tuple[str, str | None, str | None]]:
        """file_id -> (form code, unit code, period) for files of a known form; unit or
        period is None where the file does not hold exactly one (S4)."""
        return dict(self.identity)

    def subset(self, file_ids: set[int]) -> ValidationResult:
        """The same results restricted to some files (a batch loaded in parts)."""
        return ValidationResult(
            typed={
                form: frame[frame["file_id"].isin(file_ids)] for form, frame in self.typed.items()
            },
            findings=[f for f in self.findings if f.file_id in file_ids],
            identity={k: v for k, v in self.identity.items() if k in file_ids},
            gx_runs=0,
        )


def docs_result(result, suite_name: str) -> dict:
    """A GX validation result as JSON for the Data Docs: under the committed suite's name
    (the runner validates it in a files part and a rows part), every list in an
    expectation's result capped at DOCS_LIST_CAP entries. Changes `result` in place:
    call it after the findings are taken."""
    for item in result.results:
        details = item.result or {}
        for key, value in details.items():
            if isinstance(value, list) and len(value) > DOCS_LIST_CAP:
                details[key] = value[:DOCS_LIST_CAP]
    result.suite_name = suite_name
    return result.to_json_dict()


# --- GX plumbing ------------------------------------------------------------------------

# GX 1.24 rebuilds an expectation's ExpectationConfiguration (a pydantic .dict() of the
# whole expectation) on every read of its public `configuration` property, and reads it
# once per domain key, success key and metric while building the validation graph: ~8,000
# rebuilds per run on a form suite, about 0.3 s of the ~0.5 s a GX run costs whatever the
# frame's size. During our own validate calls the property is memoised per expectation
# object: GX builds those objects from the suite's configurations for this run and does
# not change them while validating. The patch is scoped to one call (under a lock), and
# tests/unit/test_runner_gx_memo.py checks that GX still defines the property and that
# results are identical with and without it.
MEMOISE_GX_CONFIGURATIONS = True
_memo_lock = threading.Lock()


@contextmanager
def _memoised_configurations():
    from great_expectations.expectations.expectation import Expectation

    original = Expectation.__dict__.get("configuration")
    if not MEMOISE_GX_CONFIGURATIONS or not isinstance(original, property):
        yield
        return
    cache: dict[int, tuple[Any, Any]] = {}  # id -> (expectation kept alive, its configuration)

    def configuration(self):
        hit = cache.get(id(self))
        if hit is None or hit[0] is not self:
            hit = (self, original.fget(self))
            cache[id(self)] = hit
        return hit[1]

    with _memo_lock:
        Expectation.configuration = property(configuration, doc=original.__doc__)
        try:
            yield
        finally:
            Expectation.configuration = original


class _Gx:
    """One ephemeral GX context per process, with a pandas dataframe asset per frame."""

    _lock = threading.Lock()
    _instance: _Gx | None = None

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GX fingerprints every pandas frame below HASH_THRESHOLD bytes (an md5 over a
        # hash of every cell, ~10 % of a batch's GX time) only to note it in the batch
        # markers; nothing reads it. 0 turns it off for this process's pandas batches.
        # tests/unit/test_runner_gx_memo.py checks GX still honours the constant.
        pandas_execution_engine.HASH_THRESHOLD = 0
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("grassroots")
        self.batch_definitions = {
            name: source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            for name in (fr.FILES, fr.ROWS)
        }

    @classmethod
    def get(cls) -> _Gx:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def validate(self, frame_name: str, frame: pd.DataFrame, suite, parameters: dict):
        batch = self.batch_definitions[frame_name].get_batch(batch_parameters={"dataframe": frame})
        result_format = dict(RESULT_FORMAT)
        if frame_name == fr.FILES:
            result_format["unexpected_index_column_names"] = _FILES_INDEX
        with warnings.catch_warnings():
            # pandas warns that our number regexes have groups (they need them).
            warnings.filterwarnings(
                "ignore", message="This pattern is interpreted", category=UserWarning
            )
            with _memoised_configurations():
                return batch.validate(
                    suite, result_format=result_format, expectation_parameters=parameters
                )


_suite_cache: dict[tuple[Path, str, float], dict[str, Any]] = {}


def _suites(directory: Path, form_code: str) -> dict[str, Any]:
    """The form's committed suite, split by the frame each expectation reads."""
    from great_expectations.core import ExpectationSuite

    from grassroots.validation.suites import suite_path

    path = suite_path(directory, form_code)
    key = (path.resolve(), form_code, path.stat().st_mtime)
    if key not in _suite_cache:
        suite = load_suite(directory, form_code)
        parts: dict[str, Any] = {"name": suite.name}
        for frame_name in (fr.FILES, fr.ROWS):
            chosen = [e for e in suite.expectations if e.meta["frame"] == frame_name]
            parts[frame_name] = ExpectationSuite(
                name=f"{suite.name}.{frame_name}", expectations=chosen, meta=suite.meta
            )
        _suite_cache[key] = parts
    return _suite_cache[key]


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple | set):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def _used_columns(frame: pd.DataFrame, suite, index: list[str]) -> pd.DataFrame:
    """The frame restricted to the columns the suite's expectations name (in any kwarg,
    row conditions included) plus the index columns. GX fingerprints every frame it is
    given (a hash of all cells) and filters the whole frame for each expectation, so
    columns no expectation reads only cost time; our own lookups (message placeholders,
    values) still read the full frame."""
    named: set[str] = set(index)
    for expectation in suite.expectations:
        named |= _strings(expectation.configuration.kwargs)
    return frame[[c for c in frame.columns if c in named]]


# --- findings ---------------------------------------------------------------------------


def _check_exceptions(result, form_code: str) -> None:
    for item in result.results:
        info = item.exception_info or {}
        if info.get("raised_exception"):
            raise RuntimeError(
                f"GX expectation {item.expectation_config.type} failed to run on form "
                f"{form_code}: {info.get('exception_message')}"
            )


# --- entry point ------------------------------------------------------------------------


def validate_batch(
    parsed: list[ParsedFile],
    registry=None,
    suites_dir: Path | None = None,
    today: date | None = None,
) -> ValidationResult:
    """Validate many files at once: one GX run per form present and frame."""
    if registry is None:
        from grassroots.registry import Registry

        registry = Registry.load()
    directory = Path(suites_dir or DEFAULT_SUITES_DIR)
    parameters = {fr.CURRENT_YEAR_PARAMETER: (today or date.today()).year}

    raw: list[Raw] = []
    findings: list[Finding] = []
    typed: dict[str, pd.DataFrame] = {}
    identity: dict[int, tuple[str, str | None, str | None]] = {}
    missing: dict[int, set[str]] = {}
    kept: list[tuple[str, str, dict]] = []
    runs = 0
    for item in parsed:
        findings += problem_findings(item)
        missing[item.file_id] = set(item.missing_columns)

    for form_code, items in forms_in(parsed).items():
        if not items:
            continue
        form = FORMS[form_code]
        rows = fr.build_rows(form, items, registry)
        files = fr.build_files(form, items, rows)
        suites = _suites(directory, form_code)
        gx = _Gx.get()
        for frame_name, frame in ((fr.FILES, files), (fr.ROWS, rows)):
            if frame.empty or not suites[frame_name].expectations:
                continue
            index = (
                _FILES_INDEX
                if frame_name == fr.FILES
                else RESULT_FORMAT["unexpected_index_column_names"]
            )
            used = _used_columns(frame, suites[frame_name], index)
            result = gx.validate(frame_name, used, suites[frame_name], parameters)
            runs += 1
            _check_exceptions(result, form_code)
            if frame_name == fr.FILES:
                raw += file_findings(form, files, result)
            else:
                raw += row_findings(form, rows, result)
            kept.append((form_code, frame_name, docs_result(result, suites["name"])))
        typed[form_code] = fr.typed_rows(form, rows)
        for record in files.itertuples(index=False):
            identity[record.file_id] = (form_code, record.unit, record.period)

    findings += suppress(raw, missing)
    findings.sort(key=lambda f: (f.file_id, f.row_number or 0, f.rule_id, f.column or ""))
    findings = capped([bounded(f) for f in findings])
    findings.sort(key=lambda f: (f.file_id, f.row_number or 0, f.rule_id, f.column or ""))
    return ValidationResult(
        typed=typed, findings=findings, identity=identity, gx_runs=runs, gx_results=kept
    )
