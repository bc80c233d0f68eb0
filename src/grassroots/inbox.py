"""Taking files out of the inbox without trusting it.

Whoever can write to the inbox can also swap an entry between two looks at it: a file
for a symlink to /etc/passwd, a subfolder for a link to another folder, or hard-link a
file they cannot read into it. So an entry is never opened, read or deleted by its path.
The inbox is walked through directory descriptors opened without following links, each
file is opened the same way and checked on the open descriptor (a regular file with one
link, the same inode the listing saw), and then moved by rename, within the directory
already checked, into the private staging folder. Only staged files are read, archived
and deleted later (intake.register); nobody else can write there.

What does not qualify stays where it is, unread and undeleted, and is reported with its
reason (the night's digest lists it) every night until someone removes it.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from grassroots.failpoints import failpoint
from grassroots.files import private_dir

log = logging.getLogger(__name__)

# Office lock files and uploads still in flight are not submissions (yet): left alone
# without a report. Every other entry, hidden or oddly named, is taken or reported.
IGNORED_PREFIXES = ("~$",)
IN_FLIGHT_SUFFIXES = (".part", ".partial", ".crdownload", ".tmp")
# Where the staged files wait for registration, under the staging folder: one folder per
# take, so two inbox files of the same name (in two subfolders) both keep their name.
TAKE_PREFIX = "take-"

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO someone put there must not hang the night.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

# Why an entry was not taken; Vietnamese for staff, English for the log.
REASONS = {
    "symlink": ("là liên kết tượng trưng (symlink), không phải tệp", "a symbolic link"),
    "hard_link": (
        "là liên kết cứng tới một tệp khác (hard link), không phải tệp được gửi",
        "a hard link to a file with other names",
    ),
    "not_regular": (
        "không phải tệp thông thường (thiết bị, FIFO, socket...)",
        "not a regular file (device, FIFO, socket)",
    ),
    "changed": (
        "bị thay đổi trong lúc hệ thống đang nhận; đã chuyển sang thư mục bị từ chối",
        "changed while it was being taken; moved to the rejected folder",
    ),
    "unreadable": ("không mở được để đọc", "could not be opened for reading"),
}


@dataclass(frozen=True)
class Skipped:
    """An inbox entry that was not taken: its path inside the inbox and why."""

    entry: str
    reason: str

    @property
    def reason_vi(self) -> str:
        return REASONS[self.reason][0]

    @property
    def reason_en(self) -> str:
        return REASONS[self.reason][1]


class Taken(list):
    """The staged files to register (oldest first), and the entries skipped."""

    def __init__(self, files=(), skipped=()):
        super().__init__(files)
        self.skipped: list[Skipped] = list(skipped)


def _ignored(name: str) -> bool:
    return name.startswith(IGNORED_PREFIXES) or name.endswith(IN_FLIGHT_SUFFIXES)


@dataclass
class _Take:
    """One walk of the inbox into a fresh folder of the staging area."""

    staging: Path
    rejected: Path
    folder: Path | None = None
    folder_fd: int | None = None
    names: set[str] | None = None

    def __post_init__(self) -> None:
        self.skipped: list[Skipped] = []
        self.count = 0
        self._token = f"{TAKE_PREFIX}{time.time_ns()}-{os.getpid()}"
        self._extra = 0

    # -- the staging folder ------------------------------------------------------------
    def _target(self, name: str) -> tuple[int, str]:
        """A directory fd and a free name for `name` in this take's staging folder."""
        if self.folder_fd is None or name in self.names:
            if self.folder_fd is not None:
                os.close(self.folder_fd)
                self._extra += 1
            suffix = f"-{self._extra}" if self._extra else ""
            self.folder = private_dir(self.staging / f"{self._token}{suffix}")
            self.folder_fd = os.open(self.folder, _DIR_FLAGS)
            self.names = set()
        self.names.add(name)
        return self.folder_fd, name

    def close(self) -> None:
        if self.folder_fd is not None:
            os.close(self.folder_fd)
            self.folder_fd = None

    # -- walking -----------------------------------------------------------------------
    def walk(self, dir_fd: int, prefix: str) -> None:
        with os.scandir(dir_fd) as listing:
            names = sorted(entry.name for entry in listing)
        failpoint("inbox_after_listing")
        for name in names:
            if _ignored(name):
                continue
            relative = f"{prefix}{name}"
            try:
                seen = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # gone since the listing: nothing to account for
            if stat.S_ISDIR(seen.st_mode):
                self._descend(dir_fd, name, relative)
            elif stat.S_ISLNK(seen.st_mode):
                self._skip(relative, "symlink")
            elif not stat.S_ISREG(seen.st_mode):
                self._skip(relative, "not_regular")
            else:
                self._take_file(dir_fd, name, relative)

    def _descend(self, dir_fd: int, name: str, relative: str) -> None:
        try:
            sub_fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            return
        except OSError:  # ELOOP / ENOTDIR: swapped for a link or a file since the listing
            self._skip(relative, "symlink")
            return
        try:
            self.walk(sub_fd, relative + "/")
        finally:
            os.close(sub_fd)

    def _take_file(self, dir_fd: int, name: str, relative: str) -> None:
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            return
        except OSError as error:
            self._skip(relative, "symlink" if error.errno == errno.ELOOP else "unreadable")
            return
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                self._skip(relative, "not_regular")
                return
            if opened.st_nlink != 1:
                self._skip(relative, "hard_link")
                return
            self._move(dir_fd, name, relative, opened, fd)
        finally:
            os.close(fd)

    def _move(self, dir_fd: int, name: str, relative: str, opened, fd: int) -> None:
        """Rename the entry into staging and check it is the file opened; another
        filesystem: copy from the open descriptor, then remove the inbox name."""
        target_fd, target = self._target(name)
        try:
            os.rename(name, target, src_dir_fd=dir_fd, dst_dir_fd=target_fd)
        except FileNotFoundError:
            self.names.discard(target)
            return
        except OSError as error:
            if error.errno != errno.EXDEV:  # the inbox is on another filesystem
                raise
            self._copy_across(dir_fd, name, relative, opened, fd, target_fd, target)
            return
        moved = os.stat(target, dir_fd=target_fd, follow_symlinks=False)
        if (moved.st_dev, moved.st_ino) != (opened.st_dev, opened.st_ino):
            # Swapped between the open and the rename: what we moved is not what we
            # checked. Kept aside, unread; never deleted.
            aside = private_dir(self.rejected / self.folder.name)
            os.rename(target, aside / target, src_dir_fd=target_fd)
            self.names.discard(target)
            self._skip(relative, "changed")
            return
        self.count += 1

    def _copy_across(self, dir_fd, name, relative, opened, fd, target_fd, target) -> None:
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=target_fd)
        try:
            while chunk := os.read(fd, 1 << 20):
                os.write(out, chunk)
        finally:
            os.close(out)
        os.utime(target, ns=(opened.st_atime_ns, opened.st_mtime_ns), dir_fd=target_fd)
        now = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino):
            # A name in the inbox folder checked above; even if swapped this instant,
            # unlinking a name removes no other file's data.
            os.unlink(name, dir_fd=dir_fd)
            self.count += 1
        else:
            os.unlink(target, dir_fd=target_fd)
            self.names.discard(target)
            self._skip(relative, "changed")

    def _skip(self, relative: str, reason: str) -> None:
        log.warning("inbox entry %r skipped: %s", relative, REASONS[reason][1])
        self.skipped.append(Skipped(relative, reason))


def take(inbox: Path, staging: Path, rejected: Path) -> Taken:
    """Move every qualifying file of `inbox` (recursively) into `staging`; return the
    staged files waiting for registration (this take's and any an earlier run left),
    oldest first, and the entries skipped."""
    inbox = Path(inbox)
    try:
        root = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return Taken(staged(staging))
    private_dir(staging)
    walk = _Take(staging, rejected)
    try:
        walk.walk(root, "")
    finally:
        walk.close()
        os.close(root)
    files = staged(staging)
    log.info(
        "inbox %s: %d files taken, %d skipped; %d staged files to register",
        inbox,
        walk.count,
        len(walk.skipped),
        len(files),
    )
    return Taken(files, walk.skipped)


def staged(staging: Path) -> list[Path]:
    """Staged files, oldest first (by the time they were written, which the move keeps),
    so versions register in the order they arrived."""
    if not staging.is_dir():
        return []
    found = []
    for folder in staging.iterdir():
        if folder.name.startswith(TAKE_PREFIX) and folder.is_dir():
            found += [(p.stat().st_mtime, str(p), p) for p in folder.iterdir()]
    return [p for _, _, p in sorted(found)]


def read_staged(path: Path) -> bytes:
    """A staged file's bytes, opened without following a link."""
    fd = os.open(path, _FILE_FLAGS)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def is_staged(path, staging: Path) -> bool:
    return isinstance(path, Path) and path.parent.parent == staging


def release(paths_: list, staging: Path) -> None:
    """Delete registered staged files (only staged ones: nothing else is ever deleted
    here) and the take folders they leave empty."""
    folders = set()
    for path in paths_:
        if is_staged(path, staging):
            path.unlink(missing_ok=True)
            folders.add(path.parent)
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty yet: later batches of the same take
            pass
