"""Owner-only files: the data folder 0700, every file in it 0600.

The data file holds the API key, and the log holds contacts' emails: nobody else on the machine
should read them. SQLite creates a database's ``-wal`` and ``-shm`` files with the mode of the
database file itself, so creating that file 0600 *before* SQLite opens it is what makes the
whole family private, without touching the process-wide umask (threads share it).

Files that already exist with wider modes are narrowed, and the caller is told which, so the
console can say so once ("fixed the permissions of …").
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO

__all__ = [
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "SQLITE_COMPANIONS",
    "narrowed",
    "open_private",
    "private_dir",
    "private_file",
    "private_sqlite",
]

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")

_narrowed: list[str] = []
_narrowed_lock = threading.Lock()


def narrowed() -> list[str]:
    """Every path whose mode this process narrowed, as ``"path (0644 → 0600)"``, and every
    shared folder it left open, oldest first."""
    with _narrowed_lock:
        return list(_narrowed)


def _narrow(path: Path, wanted: int) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if os.name == "nt" or mode & ~wanted == 0:
        return  # Windows has no such bits; already as private as wanted (or more)
    os.chmod(path, wanted)
    with _narrowed_lock:
        _narrowed.append(
            f"{path} was readable by others, made owner-only ({mode:04o} → {wanted:04o})"
        )


def _shared(path: Path) -> bool:
    """A folder that is not the console's to narrow: sticky or writable by all (``/tmp``), the
    file system's root, the home folder, or the folder the console was started from (a
    ``CONNECTOR_DB=connector.db`` beside a project)."""
    mode = path.stat().st_mode
    resolved = path.resolve()
    return bool(mode & (stat.S_ISVTX | stat.S_IWOTH)) or resolved in {
        Path(resolved.anchor),
        Path.home().resolve(),
        Path.cwd().resolve(),
    }


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with the folder itself owner-only; narrow it if it was
    wider, unless it is a shared folder (then only the console's files in it are narrowed, and
    that is said). Parents that already exist are left alone."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if not _shared(path):
        _narrow(path, PRIVATE_DIR)
    elif stat.S_IMODE(path.stat().st_mode) & ~PRIVATE_DIR and os.name != "nt":
        note = (
            f"{path} is left as it is: a shared folder (its files of the console are "
            "owner-only); give CONNECTOR_DB a folder of its own"
        )
        with _narrowed_lock:
            if note not in _narrowed:
                _narrowed.append(note)
    return path


_creating = threading.Lock()


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists (empty when new) and is owner-only, in an owner-only folder.

    An existing file is never opened here, only narrowed: closing any descriptor of a file
    drops every POSIX lock this process holds on it, and SQLite's locks are POSIX locks, so
    opening and closing a database another connection of this process is using would let
    another process write under it (measured: a lost write among six processes seeding one
    file). A new file is created exclusively, under a lock that every creator in this process
    takes, before any connection of this process can have it open."""
    private_dir(path.parent)
    with _creating:
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
        except FileExistsError:
            pass
    _narrow(path, PRIVATE_FILE)
    return path


def private_sqlite(path: Path, *, companions: Iterable[str] = SQLITE_COMPANIONS) -> Path:
    """An SQLite file and its companions (WAL, shared memory, journal) owner-only, before this
    process opens it (SQLite creates the companions with the database file's mode)."""
    private_file(path)
    for suffix in companions:
        _narrow(Path(f"{path}{suffix}"), PRIVATE_FILE)
    return path


def open_private(path: str | Path, mode: str = "w", **kwargs: object) -> IO[str]:
    """``open(path, mode)`` for a file that must not be readable by others (an export of the
    log holds emails): created 0600; an existing file is narrowed before it is written."""
    target = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(target, flags, PRIVATE_FILE)
    _narrow(target, PRIVATE_FILE)
    return os.fdopen(fd, mode, **kwargs)  # type: ignore[call-overload]
