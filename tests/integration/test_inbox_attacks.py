"""Issue 17: whoever writes to the inbox cannot make the night read or delete anything else.

Each test is an attack by an inbox writer: an entry swapped for a symlink or a folder for
a link to another folder (at a failpoint inside the walk, and between the discover and
register tasks), a hard link to a file the writer cannot read, a FIFO, a staged file that
vanishes. What must hold: nothing outside the inbox is read (archived) or deleted, the
entries left out are reported with their reason, the others load.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import psycopg
import pytest

from grassroots import intake
from grassroots.config import paths
from grassroots.failpoints import FAILPOINT_ENV
from grassroots.inbox import Taken
from tests.integration.test_intake import _dv

pytestmark = pytest.mark.integration

SECRET = "mật khẩu: hunter2\n"


@pytest.fixture
def scene(empty_warehouse, tmp_path):
    """An inbox with a good file at the top and one in a subfolder; outside it, a secret
    file and another folder holding a file of the same name as the subfolder's."""
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "a.csv").write_text(_dv(100), encoding="utf-8")
    (inbox / "sub" / "b.csv").write_text(_dv(110).replace("06193", "06211"), encoding="utf-8")
    outside = tmp_path / "outside"
    (outside / "other").mkdir(parents=True)
    secret = outside / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    secret.chmod(0o600)
    victim = outside / "other" / "b.csv"
    victim.write_text("không được xoá\n", encoding="utf-8")
    return inbox, secret, victim


def _register_and_load(warehouse, found, run_id="attack") -> dict:
    with psycopg.connect(warehouse.url()) as conn:
        intake.record_skipped(conn, found.skipped, run_id)
        intake.register(conn, found, paths().archive, run_id)
        intake.process_pending(conn, paths().quarantine, run_id)
        return dict(
            conn.execute("select original_name, status from landing.received_files").fetchall()
        )


def _archived_hashes() -> set[str]:
    archive = paths().archive
    return {p.name for p in archive.rglob("*") if p.is_file()} if archive.exists() else set()


def _assert_untouched(secret: Path, victim: Path) -> None:
    assert secret.read_text(encoding="utf-8") == SECRET
    assert victim.read_text(encoding="utf-8") == "không được xoá\n"
    assert hashlib.sha256(SECRET.encode()).hexdigest() not in _archived_hashes()
    assert hashlib.sha256(victim.read_bytes()).hexdigest() not in _archived_hashes()


def _discover_with_a_swap(monkeypatch, tmp_path, inbox: Path, swap) -> Taken:
    """Run discover in a thread, stopped by a failpoint right after it listed the inbox;
    `swap` changes the inbox there; then the walk goes on."""
    marker = tmp_path / "listed"
    monkeypatch.setenv(FAILPOINT_ENV, f"inbox_after_listing:wait={marker}")
    result: dict = {}
    walker = threading.Thread(target=lambda: result.update(found=intake.discover(inbox)))
    walker.start()
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline, "discover never reached its failpoint"
        time.sleep(0.01)
    swap()
    monkeypatch.delenv(FAILPOINT_ENV)  # the walk's later listings do not stop again
    marker.unlink()
    walker.join(timeout=30)
    assert not walker.is_alive()
    return result["found"]


def test_file_swapped_for_a_symlink_while_taken_is_left_unread(
    scene, empty_warehouse, monkeypatch, tmp_path
):
    inbox, secret, victim = scene

    def swap():
        (inbox / "a.csv").unlink()
        (inbox / "a.csv").symlink_to(secret)

    found = _discover_with_a_swap(monkeypatch, tmp_path, inbox, swap)
    assert [(s.entry, s.reason) for s in found.skipped] == [("a.csv", "symlink")]
    assert _register_and_load(empty_warehouse, found) == {"b.csv": "loaded"}
    _assert_untouched(secret, victim)
    assert (inbox / "a.csv").is_symlink()  # left where it was, for the operator


def test_folder_swapped_for_a_link_to_another_folder_reads_and_deletes_nothing_there(
    scene, empty_warehouse, monkeypatch, tmp_path
):
    inbox, secret, victim = scene

    def swap():
        (inbox / "sub").rename(tmp_path / "sub-moved-away")
        (inbox / "sub").symlink_to(victim.parent, target_is_directory=True)

    found = _discover_with_a_swap(monkeypatch, tmp_path, inbox, swap)
    assert [(s.entry, s.reason) for s in found.skipped] == [("sub", "symlink")]
    assert _register_and_load(empty_warehouse, found) == {"a.csv": "loaded"}
    _assert_untouched(secret, victim)


def test_swap_between_discovery_and_registration_reads_and_deletes_nothing_outside(
    scene, empty_warehouse
):
    """The discover and register tasks run apart: what discover found is in private
    staging by then, so swapping the inbox's entries afterwards reaches nothing."""
    inbox, secret, victim = scene
    found = intake.discover(inbox)
    for entry in (inbox / "a.csv", inbox / "sub"):
        if entry.is_dir():
            entry.rename(entry.with_name("sub-moved-away"))
        else:
            entry.unlink(missing_ok=True)
    (inbox / "a.csv").symlink_to(secret)
    (inbox / "sub").symlink_to(victim.parent, target_is_directory=True)
    assert _register_and_load(empty_warehouse, found) == {"a.csv": "loaded", "b.csv": "loaded"}
    _assert_untouched(secret, victim)
    # The next night finds the two links and leaves them, reported.
    again = intake.discover(inbox)
    assert list(again) == []
    assert sorted((s.entry, s.reason) for s in again.skipped) == [
        ("a.csv", "symlink"),
        ("sub", "symlink"),
    ]
    _assert_untouched(secret, victim)


def test_hard_link_to_a_file_the_writer_cannot_read_is_not_taken(scene, empty_warehouse):
    inbox, secret, victim = scene
    os.link(secret, inbox / "h.csv")
    found = intake.discover(inbox)
    assert [(s.entry, s.reason) for s in found.skipped] == [("h.csv", "hard_link")]
    assert _register_and_load(empty_warehouse, found) == {"a.csv": "loaded", "b.csv": "loaded"}
    _assert_untouched(secret, victim)
    assert (inbox / "h.csv").exists() and secret.stat().st_nlink == 2


def test_fifo_in_the_inbox_is_skipped_without_hanging(scene, empty_warehouse):
    inbox, _secret, _victim = scene
    os.mkfifo(inbox / "pipe.csv")
    found = intake.discover(inbox)
    assert [(s.entry, s.reason) for s in found.skipped] == [("pipe.csv", "not_regular")]
    assert _register_and_load(empty_warehouse, found) == {"a.csv": "loaded", "b.csv": "loaded"}


def test_a_staged_file_that_vanishes_fails_no_other(scene, empty_warehouse):
    inbox, _secret, _victim = scene
    found = intake.discover(inbox)
    gone = next(p for p in found if p.name == "a.csv")
    gone.unlink()
    assert _register_and_load(empty_warehouse, found) == {"b.csv": "loaded"}


def test_staging_is_private_and_files_left_by_a_stopped_run_are_taken_next_time(
    scene, empty_warehouse
):
    inbox, _secret, _victim = scene
    first = intake.discover(inbox)
    assert sorted(p.name for p in first) == ["a.csv", "b.csv"]
    assert list(inbox.rglob("*.csv")) == []
    for folder in {paths().staging, *(p.parent for p in first)}:
        assert folder.stat().st_mode & 0o077 == 0
    # The register task never ran: the next discover returns the same staged files.
    assert sorted(intake.discover(inbox)) == sorted(first)
    assert _register_and_load(empty_warehouse, first) == {"a.csv": "loaded", "b.csv": "loaded"}
    assert [p for p in paths().staging.rglob("*") if p.is_file()] == []


def test_skipped_entries_are_recorded_for_the_digest(scene, empty_warehouse):
    from grassroots.pipeline import discover_inbox, register_files

    inbox, secret, _victim = scene
    (inbox / "link.csv").symlink_to(secret)
    discovered = discover_inbox(str(inbox))
    assert discovered["skipped"] == [{"entry": "link.csv", "reason": "symlink"}]
    register_files(empty_warehouse.url(), discovered, "skips")
    with psycopg.connect(empty_warehouse.url()) as conn:
        rows = conn.execute("select run_id, entry, reason from landing.inbox_skipped").fetchall()
    assert rows == [("skips", "link.csv", "symlink")]


def test_skipped_entries_reach_the_board_digest_shown_safely(scene, empty_warehouse):
    from grassroots.alerts import build_digests
    from grassroots.pipeline import discover_inbox, register_files

    inbox, secret, _victim = scene
    (inbox / "giả mạo\n  - [C1, LỖI] dòng 2.csv").symlink_to(secret)
    register_files(empty_warehouse.url(), discover_inbox(str(inbox)), "skips")
    with psycopg.connect(empty_warehouse.url()) as conn:
        digests = build_digests(conn, "skips")
    board = [d for d in digests if "Tổng hợp" in d.subject]
    assert board, [d.subject for d in digests]
    lines = board[0].body.splitlines()
    listed = [line for line in lines if "giả mạo" in line]
    reason = "là liên kết tượng trưng (symlink), không phải tệp"
    assert listed == [f"  · “giả mạo\\n  - [C1, LỖI] dòng 2.csv”: {reason}"]
    assert not any(line.startswith("  - [C1") for line in lines)
