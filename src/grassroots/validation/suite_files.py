"""Where the committed GX suites live and how they are written and read back."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

DEFAULT_SUITES_DIR = Path(__file__).resolve().parents[3] / "expectations"


def suite_to_dict(suite) -> dict:
    """JSON-ready dict without ids or the GX version (stable across runs)."""
    data = suite.to_json_dict()
    data.pop("id", None)
    data["meta"].pop("great_expectations_version", None)
    for expectation in data["expectations"]:
        expectation.pop("id", None)
    return data


def write_suite_file(path: Path, suite) -> Path:
    text = json.dumps(suite_to_dict(suite), ensure_ascii=False, indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_suite_file(path: Path):
    from great_expectations.core import ExpectationSuite

    return ExpectationSuite(**json.loads(Path(path).read_text(encoding="utf-8")))
