"""Private files: what the product writes is readable by its own user only.

The state folder holds the warehouse's passwords, every file ever received (the archive)
and the night's findings: folders 0700, files 0600, the archive 0400. Every entry point
(the CLI, each task of the DAG) sets the umask 077 first, so files written by any library
(GX Data Docs, Airflow's logs, dbt's copies) are private too; the writers here also set
their modes explicitly. One exception, when running as root with the embedded server:
the server runs as `nobody`, which must pass through the state folder and its postgres
folder to reach the cluster, so those two are 0711 (enter, not list); what lies in them
is still 0700 / 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
ARCHIVE_FILE_MODE = 0o400
# Enter but not list: the path the embedded server's user takes to its cluster.
PASSAGE_DIR_MODE = 0o711
# Marks a state folder whose older, looser modes were tightened once.
TIGHTENED_STAMP = ".private-v1"


def use_private_umask() -> None:
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path, mode: int = PRIVATE_DIR_MODE, *, public_parents=False) -> Path:
    """`path` as a folder only its owner can use, created with its missing parents (0700,
    or with public_parents 0755 like any folder: those above the state folder)."""
    path = Path(path)
    if not path.is_dir():
        previous = os.umask(0o022 if public_parents else PRIVATE_UMASK)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        finally:
            os.umask(previous)
        path.mkdir(mode=mode, exist_ok=True)
    if path.stat().st_mode & 0o777 != mode and path.stat().st_uid == os.geteuid():
        path.chmod(mode)
    return path


def write_private(path: Path, data: str | bytes) -> Path:
    """Replace `path` with `data`, readable by this user only from its first byte, and
    atomically (a temporary name, then rename): a reader never sees it half written."""
    path = Path(path)
    if not path.parent.is_dir():
        private_dir(path.parent)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    fd = os.open(partial, flags, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # O_CREAT's mode does not apply to a leftover
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    return path


def make_private(path: Path) -> None:
    """Mode 0600 for a file an older release wrote readable by others."""
    if path.exists() and path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_FILE_MODE)


def secure_state_folder(home: Path, server_passage: bool) -> None:
    """Make the state folder private; tighten once what an older release left readable.

    server_passage: the embedded server runs as another user (we are root) and its
    cluster lives under <home>/postgres, so home and postgres get 0711 instead of 0700.
    """
    passage = PASSAGE_DIR_MODE if server_passage else PRIVATE_DIR_MODE
    private_dir(home, passage, public_parents=True)
    private_dir(home / "postgres", passage)
    stamp = home / TIGHTENED_STAMP
    if stamp.exists():
        return
    tighten(home, skip={home / "postgres" / "cluster"})
    write_private(stamp, "")


def tighten(root: Path, skip: set[Path]) -> int:
    """Remove group and other permissions from everything under root that we own
    (the embedded server's own cluster, owned by its user, is skipped). Returns the
    number of entries changed."""
    changed = 0
    me = os.geteuid()
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d not in skip]
        for name in [*dirs, *files]:
            entry = here / name
            info = entry.lstat()
            if info.st_uid != me or entry.is_symlink():
                continue
            mode = info.st_mode & 0o7777
            if mode & 0o077:
                entry.chmod(mode & ~0o077)
                changed += 1
    return changed
