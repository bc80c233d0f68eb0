"""dbt's documentation site (models, columns, tests, lineage) in $GRASSROOTS_HOME/dbt_docs,
served behind the Airflow login at /grassroots/dbt-docs/ (grassroots.web.sites).

`grassroots docs` (and `make docs`) call generate_if_stale(): `dbt docs generate` runs
only when the site is missing or a file of the dbt project is newer than it, into a
scratch target folder; the three files the site needs (index.html, manifest.json,
catalog.json) are then moved into place, so a reader never sees a half-written site and
dbt's compiled SQL and caches stay out of the served folder. The catalog describes the
relations as they are in the warehouse at that moment: after a change to the
warehouse's tables alone, `grassroots docs --force` refreshes it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from grassroots.config import DBT_PROJECT_DIR, paths

SITE_FILES = ("index.html", "manifest.json", "catalog.json")
# What the docs are generated from: the project's files (target/, logs/ and packages
# are dbt's own output).
SOURCE_DIRS = ("models", "macros", "tests", "snapshots", "seeds", "analyses")
SOURCE_FILES = ("dbt_project.yml", "packages.yml", "profiles.yml")


def docs_dir() -> Path:
    return paths().dbt_docs


def built() -> bool:
    return all((docs_dir() / name).is_file() for name in SITE_FILES)


def newest_source_mtime(project: Path = DBT_PROJECT_DIR) -> float:
    """The latest modification time of a file the docs are generated from."""
    newest = 0.0
    for name in SOURCE_FILES:
        if (project / name).is_file():
            newest = max(newest, (project / name).stat().st_mtime)
    for folder in SOURCE_DIRS:
        for path in (project / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def is_stale(project: Path = DBT_PROJECT_DIR) -> bool:
    if not built():
        return True
    oldest = min((docs_dir() / name).stat().st_mtime for name in SITE_FILES)
    return newest_source_mtime(project) > oldest


def generate(env: dict[str, str], say: Callable[[str], None] = print) -> Path:
    """Run `dbt docs generate` against the warehouse and publish the site; the site's
    folder. Raises RuntimeError when dbt fails (the published site stays as it was)."""
    from grassroots.files import private_dir
    from grassroots.runtime import run_tool

    target = docs_dir()
    target.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="dbt-docs-", dir=private_dir(paths().tmp)))
    try:
        say(f"dbt docs generate (scratch target {scratch})")
        code = run_tool(
            ["dbt", "docs", "generate", "--target-path", str(scratch)],
            env,
            cwd=DBT_PROJECT_DIR,
        )
        if code != 0:
            raise RuntimeError(f"dbt docs generate failed (exit {code})")
        for name in SITE_FILES:
            # A rename within one file system: each file is replaced whole.
            staged = target / f".{name}.new"
            shutil.copyfile(scratch / name, staged)
            os.replace(staged, target / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def generate_if_stale(
    env: dict[str, str] | None = None, *, force: bool = False, say: Callable[[str], None] = print
) -> bool:
    """Generate the docs when missing or older than the dbt project (or when forced);
    whether they were generated."""
    if not force and not is_stale():
        say(f"dbt docs in {docs_dir()} are up to date")
        return False
    if env is None:
        from grassroots.runtime import runtime_env

        env = runtime_env()
    generate(env, say)
    say(f"dbt docs in {docs_dir()}: served at /grassroots/dbt-docs/ by grassroots serve")
    return True
