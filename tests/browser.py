"""Debian's headless Chromium, driven by Playwright, for the tests of pages a person looks at.

Playwright's own browser download does not work on these machines: the tests point it at
/usr/bin/chromium (package chromium). Screenshots go under ARTIFACTS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

ARTIFACTS = REPO_ROOT / ".state" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_or_skip() -> None:
    """Chromium is installed from Debian's packages as root: missing in CI is a failure."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true" or os.geteuid() == 0:
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (.ci/run does it as root)")
    pytest.skip(f"{CHROMIUM} missing and not root: apt-get install -y chromium (CI runs this)")


@contextmanager
def chromium(profile: Path, **options) -> Iterator:
    """A headless Chromium context with a fresh profile (--user-data-dir), closed after;
    options go to Playwright's launch_persistent_context (viewport, accept_downloads…)."""
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS, **options
        )
        try:
            yield context
        finally:
            context.close()
