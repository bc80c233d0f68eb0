"""The init step of a container deployment (docker/): run once per release, before the
Airflow components start (compose waits for it to succeed).

`grassroots setup` (databases, roles, schemas, Airflow's migrations, the registry seeds
and, when they changed, a full build) and the UI's admin password, from
GRASSROOTS_ADMIN_PASSWORD, into the simple auth manager's passwords file (0600, in the
state folder every component mounts).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PASSWORDS_FILE_ENV = "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
ADMIN_PASSWORD_ENV = "GRASSROOTS_ADMIN_PASSWORD"


def deploy_init() -> int:
    from grassroots.files import write_private
    from grassroots.runtime import setup

    password = os.environ.get(ADMIN_PASSWORD_ENV, "")
    passwords_file = os.environ.get(PASSWORDS_FILE_ENV, "")
    if not password or not passwords_file:
        raise SystemExit(f"{ADMIN_PASSWORD_ENV} and {PASSWORDS_FILE_ENV} must be set")
    setup(quiet=True)
    write_private(Path(passwords_file), json.dumps({"admin": password}))
    print("deployment ready: databases, roles, Airflow's metadata, registry, admin login")
    return 0
