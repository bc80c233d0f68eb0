"""The pipeline's and the analysts' logins on the warehouse server: what each may do.

Each login is plain (no superuser, no server files or programs); the analyst role is
bounded so a forgotten session cannot stop the night; the pipeline's roles keep reserved
connection slots; Airflow's metadata database belongs to Airflow's own login.
"""

from __future__ import annotations

import logging

from grassroots.config import AIRFLOW_DB, ANALYST_ROLE, LOADER_ROLE

log = logging.getLogger("grassroots.warehouse")

# Airflow's metadata database is owned and used by its own login, never the superuser.
AIRFLOW_ROLE = "grassroots_airflow"

# Bounds of the analyst role (docs/operations.md, docs/analyst-guide.md): a forgotten or
# runaway analyst session must not hold locks, memory, disk or connection slots the
# night needs.
ANALYST_STATEMENT_TIMEOUT = "5min"
ANALYST_IDLE_IN_TRANSACTION_TIMEOUT = "5min"
ANALYST_IDLE_SESSION_TIMEOUT = "30min"
ANALYST_TEMP_FILE_LIMIT = "5GB"
ANALYST_CONNECTION_LIMIT = 40
# Server-side powers no pipeline or analyst login may hold (COPY ... PROGRAM, files).
SERVER_ACCESS_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")


def ensure_login_role(admin, role: str, password: str) -> None:
    """A plain login: no superuser, no role or database creation, no server files or
    programs (COPY ... PROGRAM), whatever an older release or an operator gave it."""
    from psycopg import sql

    row = admin.execute("select rolsuper from pg_roles where rolname = %s", (role,)).fetchone()
    verb = "alter" if row else "create"
    # NOSUPERUSER is only said when needed: a managed server's admin may not say it.
    attributes = " nosuperuser" if row and row[0] else ""
    admin.execute(
        sql.SQL(verb + " role {} login" + attributes + " password {}").format(
            sql.Identifier(role), sql.Literal(password)
        )
    )
    for granted in SERVER_ACCESS_ROLES:
        member = admin.execute(
            "select 1 from pg_auth_members m join pg_roles r on r.oid = m.roleid"
            " join pg_roles u on u.oid = m.member where r.rolname = %s and u.rolname = %s",
            (granted, role),
        ).fetchone()
        if member:
            admin.execute(
                sql.SQL("revoke {} from {}").format(sql.Identifier(granted), sql.Identifier(role))
            )


def bound_analyst(admin) -> None:
    import psycopg
    from psycopg import sql

    analyst = sql.Identifier(ANALYST_ROLE)
    admin.execute(
        sql.SQL("alter role {} connection limit {}").format(
            analyst, sql.Literal(ANALYST_CONNECTION_LIMIT)
        )
    )
    for setting, value in (
        ("statement_timeout", ANALYST_STATEMENT_TIMEOUT),
        ("idle_in_transaction_session_timeout", ANALYST_IDLE_IN_TRANSACTION_TIMEOUT),
        ("idle_session_timeout", ANALYST_IDLE_SESSION_TIMEOUT),
        ("temp_file_limit", ANALYST_TEMP_FILE_LIMIT),
    ):
        try:
            admin.execute(
                sql.SQL("alter role {} set {} = {}").format(
                    analyst, sql.Identifier(setting), sql.Literal(value)
                )
            )
        except psycopg.errors.InsufficientPrivilege:
            # temp_file_limit is a superuser setting: a managed server's operator sets it.
            log.warning(
                "could not set %s for %s: set it as the server's operator", setting, ANALYST_ROLE
            )


def reserve_pipeline_slots(admin) -> None:
    """Let the loader and Airflow take the reserved_connections slots (PostgreSQL 16+;
    the embedded server reserves RESERVED_CONNECTIONS, an external one what its
    operator configured)."""
    from psycopg import sql

    if not admin.execute(
        "select 1 from pg_roles where rolname = 'pg_use_reserved_connections'"
    ).fetchone():
        return
    for role in (LOADER_ROLE, AIRFLOW_ROLE):
        admin.execute(
            sql.SQL("grant pg_use_reserved_connections to {}").format(sql.Identifier(role))
        )


def hand_over_airflow_database(airflow) -> None:
    """Airflow's database, its public schema and every object in it belong to
    AIRFLOW_ROLE: `airflow db migrate` runs as that role, also on a database an older
    release created and migrated as the superuser."""
    from psycopg import sql

    role = sql.Identifier(AIRFLOW_ROLE)
    airflow.execute(
        sql.SQL("alter database {} owner to {}").format(sql.Identifier(AIRFLOW_DB), role)
    )
    airflow.execute(sql.SQL("alter schema public owner to {}").format(role))
    # Tables first: their sequences, indexes and row types follow them.
    objects = airflow.execute(
        """
        select kind, name from (
            select case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                                  when 'S' then 'sequence' else 'table' end as kind,
                   format('public.%%I', c.relname) as name,
                   c.relkind = 'S' as later
            from pg_class c
            where c.relnamespace = 'public'::regnamespace
              and c.relkind in ('r', 'p', 'v', 'm', 'S')
              and c.relowner <> %(role)s::regrole
            union all
            select 'type', format('public.%%I', t.typname), true
            from pg_type t
            where t.typnamespace = 'public'::regnamespace and t.typtype in ('e', 'd')
              and t.typowner <> %(role)s::regrole
        ) as owned order by later, name
        """,
        {"role": AIRFLOW_ROLE},
    ).fetchall()
    for kind, name in objects:
        # A sequence of a table's column has moved with its table.
        if (
            kind == "sequence"
            and airflow.execute(
                "select relowner = %s::regrole from pg_class where oid = %s::regclass",
                (AIRFLOW_ROLE, name),
            ).fetchone()[0]
        ):
            continue
        airflow.execute(sql.SQL("alter " + kind + " " + name + " owner to {}").format(role))
