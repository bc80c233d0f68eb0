"""Where things live, read from the environment once.

GRASSROOTS_HOME       state folder (embedded PostgreSQL, Airflow home, archive,
                      quarantine, staging, inbox); default <repo>/.state, git-ignored.
                      Workers on several machines mount it as one shared path.
GRASSROOTS_INBOX      folder the nightly run reads (or a file:// URL); default
                      <home>/inbox.
GRASSROOTS_WAREHOUSE_URL  an external PostgreSQL (admin URL) instead of the embedded one.
GRASSROOTS_REPORTS_DIR    folder of the report site the night rebuilds; default
                      <home>/reports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE_CONN_ID = "grassroots_warehouse"
SMTP_CONN_ID = "grassroots_smtp"
WAREHOUSE_DB = "grassroots"
AIRFLOW_DB = "airflow"
LOADER_ROLE = "grassroots_loader"
ANALYST_ROLE = "analyst"


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def postgres(self) -> Path:
        return self.home / "postgres"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def inbox(self) -> Path:
        return Path(os.environ.get("GRASSROOTS_INBOX") or self.home / "inbox")

    @property
    def reports(self) -> Path:
        """The report site (grassroots.reports): rebuilt every night, the default of
        `grassroots report`, served at /grassroots/reports/."""
        return Path(os.environ.get("GRASSROOTS_REPORTS_DIR") or self.home / "reports")

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def staging(self) -> Path:
        """Files taken from the inbox, waiting for registration (private)."""
        return self.home / "staging"

    @property
    def rejected(self) -> Path:
        """Inbox entries swapped while being taken: kept aside, unread."""
        return self.home / "inbox-rejected"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def tmp(self) -> Path:
        """TMPDIR of every process the product starts."""
        return self.home / "tmp"

    @property
    def dbt_docs(self) -> Path:
        """dbt's docs site `grassroots docs` generates (served at /grassroots/dbt-docs/)."""
        return self.home / "dbt_docs"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets.json"


def paths() -> Paths:
    home = Path(os.environ.get("GRASSROOTS_HOME") or REPO_ROOT / ".state").resolve()
    return Paths(home)


DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
SEEDS_DIR = REPO_ROOT / "seeds"
DAGS_DIR = REPO_ROOT / "dags"
DEMO_INBOX = SEEDS_DIR / "demo_inbox"
# The national register extract the registry seeds are built from (its README says whence).
REGISTRY_SOURCES_DIR = SEEDS_DIR / "registry-sources"
