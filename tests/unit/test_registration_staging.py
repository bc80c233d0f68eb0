"""Registration's reader threads: a batch staged in slices comes back in inbox order."""

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from grassroots.intake import registration

pytestmark = pytest.mark.unit


def test_a_batch_is_staged_in_its_order_without_vanished_files(tmp_path):
    """Seven files over the reader threads (uneven slices), one gone before it is read:
    the staged files keep the batch's order (receipts, hence file ids and version order,
    follow it) and each archive copy holds its file's bytes under its hash."""
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    files = []
    for number in range(7):
        path = inbox / f"CB_{number:03d}_2024.csv"
        path.write_bytes(f"file {number}\n".encode())
        files.append(path)
    files.insert(3, inbox / "gone.csv")  # listed, then deleted before registration
    with ThreadPoolExecutor(registration.REGISTER_THREADS) as readers:
        staged = registration._stage_batch(readers, files, archive)
    assert [item[0] for item in staged] == [p for p in files if p.name != "gone.csv"]
    for path, sha256, size, target in staged:
        content = path.read_bytes()
        assert sha256 == hashlib.sha256(content).hexdigest()
        assert size == len(content) and target.read_bytes() == content
        assert target == registration.archive_path(archive, sha256)
