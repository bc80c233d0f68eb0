"""The runner memoises GX's Expectation.configuration during its own validate calls.

GX 1.24 rebuilds the configuration (a pydantic dump) on every read; the runner caches it
per expectation object for one call. These tests fail if GX stops defining the property
as we patch it, if the patch leaks out of the call, if it stops saving rebuilds, or if
results differ in any way from GX's own.
"""

from __future__ import annotations

import pytest
from great_expectations.expectations.expectation import Expectation

from grassroots.config import DEMO_INBOX
from grassroots.reader import parse_content
from grassroots.registry import Registry
from grassroots.validation import runner

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def parsed():
    files = sorted(DEMO_INBOX.iterdir())[:40] + sorted(DEMO_INBOX.glob("broken_*"))
    return [parse_content(i, p.name, p.read_bytes()) for i, p in enumerate(files)]


@pytest.fixture(scope="module")
def registry():
    return Registry.load()


def _comparable(result) -> tuple:
    docs = [
        (
            form,
            frame,
            [(r["success"], r["expectation_config"], r["result"]) for r in doc["results"]],
        )
        for form, frame, doc in result.gx_results
    ]
    typed = {form: frame.to_csv(index=False) for form, frame in result.typed.items()}
    return result.findings, docs, typed, result.identity


def test_gx_still_defines_configuration_as_a_rebuilt_property():
    prop = Expectation.__dict__.get("configuration")
    assert isinstance(prop, property) and prop.fset is None


def test_results_are_identical_with_and_without_the_memo(parsed, registry, monkeypatch):
    monkeypatch.setattr(runner, "MEMOISE_GX_CONFIGURATIONS", False)
    plain = runner.validate_batch(parsed, registry=registry)
    monkeypatch.setattr(runner, "MEMOISE_GX_CONFIGURATIONS", True)
    memoised = runner.validate_batch(parsed, registry=registry)
    assert any(f.severity == "error" for f in plain.findings)  # the sample has broken files
    assert _comparable(memoised) == _comparable(plain)


def test_memo_saves_rebuilds_and_leaves_gx_as_it_was(parsed, registry, monkeypatch):
    original = Expectation.__dict__["configuration"]
    calls = {"n": 0}

    def counting(self):
        calls["n"] += 1
        return original.fget(self)

    monkeypatch.setattr(Expectation, "configuration", property(counting))
    counted = Expectation.__dict__["configuration"]
    counts = {}
    for memo in (False, True):
        monkeypatch.setattr(runner, "MEMOISE_GX_CONFIGURATIONS", memo)
        calls["n"] = 0
        runner.validate_batch(parsed, registry=registry)
        counts[memo] = calls["n"]
        assert Expectation.__dict__["configuration"] is counted  # restored after each call
    assert counts[True] * 3 < counts[False]


def test_gx_skips_the_frame_fingerprint_it_would_otherwise_compute(parsed, registry):
    from great_expectations.execution_engine import pandas_execution_engine

    result = runner.validate_batch(parsed, registry=registry)
    assert pandas_execution_engine.HASH_THRESHOLD == 0  # set by the runner's GX context
    markers = [doc["meta"]["batch_markers"] for _, _, doc in result.gx_results]
    assert markers and all("ge_load_time" in m for m in markers)
    assert not any("pandas_data_fingerprint" in m for m in markers)
    # GX still reads the constant where it decides to fingerprint (else this is moot).
    import inspect

    source = inspect.getsource(pandas_execution_engine.PandasExecutionEngine)
    assert "< HASH_THRESHOLD" in source and "pandas_data_fingerprint" in source
