"""What the dbt manifest tells setup: whether it is fresh, which models are incremental,
and the fingerprint of everything a nightly build cannot see change."""

from __future__ import annotations

import hashlib
import json
import re

from grassroots.config import DBT_PROJECT_DIR, SEEDS_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
SEEDS_REGISTRY_DIR = SEEDS_DIR / "registry"


def full_build_fingerprint() -> str:
    """SHA-256 over what a full build depends on and a nightly build does not see: the
    registry seeds (what the reference schema holds) and, from the dbt manifest, the
    incremental models and every model they are built from (staging views included),
    with their config and the project macros they call (a night rebuilds only changed
    partitions, so rows or indexes built by an older version of any of these models
    would stay; a release that changes one rebuilds the warehouse once).
    Needs a fresh manifest: setup parses the project first."""
    digest = hashlib.sha256()
    for path in sorted(SEEDS_REGISTRY_DIR.glob("*.csv")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    manifest = read_manifest()
    for node in _with_model_ancestors(manifest, incremental_models(manifest)):
        macros = [
            manifest["macros"][macro]["macro_sql"]
            for macro in _project_macros_called(manifest, node)
        ]
        part = [node["unique_id"], node["raw_code"], json.dumps(node["config"], sort_keys=True)]
        digest.update("\0".join(part + macros).encode() + b"\0")
    return digest.hexdigest()


def read_manifest() -> dict:
    """The dbt manifest that setup wrote (dbt parse)."""
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def incremental_models(manifest: dict) -> list[dict]:
    """The manifest's incremental model nodes, by unique_id."""
    return sorted(
        (
            node
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
            and node["config"].get("materialized") == "incremental"
        ),
        key=lambda node: node["unique_id"],
    )


def _with_model_ancestors(manifest: dict, nodes: list[dict]) -> list[dict]:
    """The nodes and every model they depend on, directly or not, by unique_id."""
    found: dict[str, dict] = {}
    pending = [node["unique_id"] for node in nodes]
    while pending:
        unique_id = pending.pop()
        node = manifest["nodes"].get(unique_id)
        if unique_id in found or node is None or node["resource_type"] != "model":
            continue
        found[unique_id] = node
        pending += node["depends_on"].get("nodes", [])
    return [found[unique_id] for unique_id in sorted(found)]


def incremental_tables() -> list[str]:
    """schema.table of every incremental model, from the manifest setup wrote."""
    return [f"{node['schema']}.{node['alias']}" for node in incremental_models(read_manifest())]


def _project_macros_called(manifest: dict, node: dict) -> list[str]:
    """The project's macros a node calls, directly or through other macros, sorted.

    Read from the code, not only from the manifest's depends_on, which depends on who
    wrote the manifest: `dbt parse` lists on a model only the macros its Jinja called
    while parsing, and `dbt build` adds those called at run time (e.g. changed_since,
    behind `if since`, in a model's body or in another macro). A project macro whose
    name is called anywhere in the code reached counts either way."""
    package = node["package_name"]
    project = {
        macro["name"]: unique_id
        for unique_id, macro in manifest["macros"].items()
        if macro["package_name"] == package
    }
    if not project:
        return []
    ids = set(project.values())
    called = re.compile(r"\b(" + "|".join(map(re.escape, project)) + r")\s*\(")

    def calls(code: str, listed: list[str]) -> list[str]:
        return [project[name] for name in called.findall(code)] + [
            unique_id for unique_id in listed if unique_id in ids
        ]

    seen: set[str] = set()
    pending = calls(node["raw_code"], node["depends_on"]["macros"])
    while pending:
        unique_id = pending.pop()
        if unique_id in seen:
            continue
        seen.add(unique_id)
        macro = manifest["macros"][unique_id]
        pending += calls(macro["macro_sql"], macro.get("depends_on", {}).get("macros", []))
    return sorted(seen)


def manifest_is_fresh() -> bool:
    """True when the dbt manifest is newer than every file of the dbt project.

    `dbt parse` costs about 5 s even when nothing changed; every `grassroots run` and
    test session would pay it. The manifest does not depend on the connection, so a
    manifest newer than the project's files (seeds included) is the one parse would write.
    """
    if not MANIFEST.exists():
        return False
    built = MANIFEST.stat().st_mtime
    project_files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests", "seeds"):
        project_files.extend(
            path for path in (DBT_PROJECT_DIR / folder).rglob("*") if path.is_file()
        )
    return all(path.stat().st_mtime < built for path in project_files)
