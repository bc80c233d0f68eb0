import subprocess

import psycopg
import pytest

from grassroots.config import ANALYST_ROLE

pytestmark = pytest.mark.integration


def test_psql_accepts_the_printed_urls(warehouse):
    for role in ("loader", "analyst"):
        command = [".venv/bin/grassroots", "warehouse", "url", "--role", role]
        masked = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        # Secrets are printed only when asked for.
        assert ":***@" in masked and warehouse.url() not in masked
        url = subprocess.run(
            [*command, "--show-password"], capture_output=True, text=True, check=True
        ).stdout.strip()
        who = subprocess.run(
            ["psql", url, "-Atc", "select current_user"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert who == {"loader": "grassroots_loader", "analyst": "analyst"}[role]


def test_status_reports_running(warehouse):
    result = subprocess.run(
        [".venv/bin/grassroots", "warehouse", "status"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "running" in result.stdout


def test_server_listens_on_loopback_only_and_not_as_root(warehouse):
    with psycopg.connect(warehouse.admin_url()) as conn:
        listen = conn.execute("show listen_addresses").fetchone()[0]
        data_dir = conn.execute("show data_directory").fetchone()[0]
    assert listen == "127.0.0.1"
    owner = subprocess.run(
        ["stat", "-c", "%U", data_dir], capture_output=True, text=True
    ).stdout.strip()
    assert owner != "root"


def test_bootstrap_is_idempotent(warehouse):
    warehouse.bootstrap()
    warehouse.bootstrap()
    with psycopg.connect(warehouse.url()) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace").fetchall()}
    assert {"landing", "raw", "staging", "intermediate", "reference", "marts"} <= schemas


def test_analyst_reads_marts_and_cannot_write_anything(warehouse):
    with psycopg.connect(warehouse.url(), autocommit=True) as loader:
        loader.execute("drop table if exists marts.zz_grant_probe")
        loader.execute("create table marts.zz_grant_probe as select 1 as x")
    try:
        with psycopg.connect(warehouse.url(ANALYST_ROLE), autocommit=True) as analyst:
            assert analyst.execute("select x from marts.zz_grant_probe").fetchone() == (1,)
            forbidden = [
                "insert into marts.zz_grant_probe values (2)",
                "delete from marts.zz_grant_probe",
                "create table marts.t (x int)",
                "create table public.t (x int)",
                "create table staging.t (x int)",
                "select * from landing.received_files",
                "select * from raw.form_dv",
            ]
            for statement in forbidden:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    analyst.execute(statement)
    finally:
        with psycopg.connect(warehouse.url(), autocommit=True) as loader:
            loader.execute("drop table marts.zz_grant_probe")


def test_registry_seeds_load_once_per_fingerprint(warehouse):
    """Setup loads the registry seeds; the nightly DAG leaves them out (see orchestration)."""
    from grassroots.dbt_manifest import full_build_fingerprint
    from grassroots.runtime import load_reference_seeds, runtime_env

    env = runtime_env(warehouse)
    with psycopg.connect(warehouse.url()) as conn:
        communes = conn.execute("select count(*) from reference.ref_communes").fetchone()[0]
        fingerprints = [
            r[0] for r in conn.execute("select fingerprint from landing.reference_seed_loads")
        ]
    assert communes > 10_000
    assert full_build_fingerprint() in fingerprints
    # Same seeds: nothing to do.
    assert load_reference_seeds(warehouse, env, quiet=True) is False
    # The warehouse holds what its latest full build made. A later release built it, then
    # was rolled back: this fingerprint, though loaded before, must rebuild (as must a new
    # or restored warehouse, or changed seeds: the latest build is not this one).
    with psycopg.connect(warehouse.url()) as conn:
        conn.execute(
            "insert into landing.reference_seed_loads (fingerprint, loaded_at)"
            " values ('a later release', now())"
            " on conflict (fingerprint) do update set loaded_at = excluded.loaded_at"
        )
        conn.execute("truncate reference.ref_communes")
    assert load_reference_seeds(warehouse, env, quiet=True) is True
    with psycopg.connect(warehouse.url()) as conn:
        assert conn.execute("select count(*) from reference.ref_communes").fetchone()[0] == communes
        latest = conn.execute(
            "select fingerprint from landing.reference_seed_loads order by loaded_at desc limit 1"
        ).fetchone()[0]
        conn.execute(
            "delete from landing.reference_seed_loads where fingerprint = 'a later release'"
        )
    assert latest == full_build_fingerprint()


def test_restart_keeps_the_port_even_with_connections_just_closed(warehouse):
    """A restart must not move the server: tasks and dbt got its port in their environment."""
    from urllib.parse import urlsplit

    port = urlsplit(warehouse.url()).port
    conn = psycopg.connect(warehouse.url(), autocommit=True)
    conn.execute("select 1")
    warehouse.stop()  # the server closes this connection: TIME_WAIT on its port
    conn.close()
    warehouse.start()
    assert urlsplit(warehouse.url()).port == port
    with psycopg.connect(warehouse.url()) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_a_deleted_state_folder_starts_a_new_cluster(tmp_path):
    """As root the cluster lives outside the state folder; a state folder deleted and made
    again at the same path must not meet the old cluster (another superuser password)."""
    import shutil

    from grassroots.config import Paths
    from grassroots.warehouse import EmbeddedServer

    home = tmp_path / "home"
    roots = []
    try:
        for _ in range(2):
            server = EmbeddedServer(Paths(home))
            state = server.start()
            roots.append(state["cluster_root"])
            with psycopg.connect(server.admin_url()) as conn:
                assert conn.execute("select 1").fetchone() == (1,)
            server.stop()
            shutil.rmtree(home)
        assert roots[0] != roots[1] or not roots[0].startswith("/tmp/grassroots-")
    finally:
        for root in roots:
            if root.startswith("/tmp/grassroots-"):
                shutil.rmtree(root, ignore_errors=True)
