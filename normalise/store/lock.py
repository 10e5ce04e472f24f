"""The run lock: one run at a time writes an output folder.

The lock is an ``flock`` on ``_work/lock``. The kernel releases it when its holder dies, however
it dies (``kill -9`` included), so a lock left by a killed run is never mistaken for a live one:
the next run simply gets it, sees the dead run's details still in the file, says so and carries on
(its recovery finishes or discards what the dead run left half-done; see :mod:`normalise.store.folder`).

A second run while the first is alive fails at once with :class:`FolderLocked`, naming the first
(pid, host, command, start time), which the file holds as JSON while the lock is held.

Within one process the lock is re-entrant (the command line takes it, then each flow it runs takes
it again), and a child process started by the holder (the crawler subprocess) inherits it by file
descriptor (:func:`inheritance`) rather than competing for it, and dies with its parent (an
orphan would otherwise hold the lock of a dead run). The working copy of an ``s3://`` output is
held by this lock on its machine and by a lease on its bucket besides (:mod:`.s3lock`).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from normalise.store.errors import naming
from normalise.store.layout import Layout

#: Environment variables through which a lock holder hands its lock to a child process.
INHERITED_FD = "COUNCILSPEND_LOCK_FD"
PARENT_PID = "COUNCILSPEND_LOCK_PARENT"
_PR_SET_PDEATHSIG = 1


class FolderLocked(Exception):
    """Another live run holds the output folder."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock."""

    pid: int
    host: str
    command: str
    started_at: str

    @classmethod
    def me(cls, command: str) -> Holder:
        return cls(os.getpid(), socket.gethostname(), command, datetime.now(UTC).isoformat(timespec="seconds"))

    def describe(self) -> str:
        """One line naming the run.

        >>> Holder(12, "box", "councilspend run", "2026-12-01T03:00:00+00:00").describe()
        "pid 12 on box, started 2026-12-01T03:00:00+00:00: 'councilspend run'"
        """
        return f"pid {self.pid} on {self.host}, started {self.started_at}: {self.command!r}"


def _read_holder(fd: int) -> Holder | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64 * 1024).decode("utf-8", "replace").strip()
    try:
        return Holder(**json.loads(text)) if text else None
    except (ValueError, TypeError):
        return None  # written half-way by a run killed while taking the lock


class RunLock:
    """The ``flock`` on one output folder's lock file."""

    def __init__(self, layout: Layout):
        self.path = layout.lock
        self.fd: int | None = None
        self.inherited = False

    def acquire(self, command: str) -> Holder | None:
        """Take the lock or raise :class:`FolderLocked`; returns the details a dead holder left, if any."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise naming(exc, self.path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            who = holder.describe() if holder else "a run that is still starting"
            raise FolderLocked(f"{self.path.parent.parent} is in use by another run ({who})") from None
        stale = _read_holder(fd)
        with contextlib.suppress(OSError):  # on a full disk the lock holds all the same, unnamed
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(asdict(Holder.me(command))).encode("utf-8"), 0)
            os.fsync(fd)
        self.fd = fd
        return stale

    def adopt(self, fd: int, parent_pid: int) -> bool:
        """Use a lock inherited from the parent process, if ``fd`` is this folder's lock file.

        The process then dies when its parent does (Linux), so it never outlives the run it works for.
        """
        try:
            mine, theirs = os.stat(self.path), os.fstat(fd)
        except OSError:
            return False
        if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
            return False
        # The same open file description as the parent's: flock() on it succeeds and holds nothing new.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.fd, self.inherited = fd, True
        _die_with(parent_pid)
        return True

    def release(self) -> None:
        """Clear the holder's details and let go (an inherited lock is only closed: the parent still holds it)."""
        if self.fd is None:
            return
        if not self.inherited:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


_held: dict[Path, tuple[RunLock, int]] = {}
_guard = threading.Lock()


@contextlib.contextmanager
def holding(layout: Layout, command: str) -> Iterator[tuple[RunLock, bool, Holder | None]]:
    """Hold the folder's lock for the block; re-entrant within the process.

    Yields ``(lock, first, stale)``: ``first`` is true for the outermost holder (the one that
    should recover the folder), ``stale`` the details a killed run left behind.
    """
    key = layout.root.resolve()
    with _guard:
        if key in _held:
            lock, depth = _held[key]
            _held[key] = (lock, depth + 1)
            first, stale = False, None
        else:
            lock = RunLock(layout)
            fd, parent = os.environ.get(INHERITED_FD, ""), os.environ.get(PARENT_PID, "")
            adopted = fd.isdigit() and parent.isdigit() and lock.adopt(int(fd), int(parent))
            stale = None if adopted else lock.acquire(command)
            _held[key] = (lock, 1)
            first = not lock.inherited
    try:
        yield lock, first, stale
    finally:
        with _guard:
            lock, depth = _held[key]
            if depth > 1:
                _held[key] = (lock, depth - 1)
            else:
                del _held[key]
                lock.release()


def inheritance(layout: Layout) -> tuple[dict[str, str], tuple[int, ...]]:
    """Environment and file descriptors that hand this process's lock to a child it starts.

    Empty when the process does not hold the folder's lock.
    """
    held = _held.get(layout.root.resolve())
    if held is None or held[0].fd is None:
        return {}, ()
    fd = held[0].fd
    return {INHERITED_FD: str(fd), PARENT_PID: str(os.getpid())}, (fd,)


def _die_with(parent_pid: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def command_line() -> str:
    """How this process was started, for the lock's holder details."""
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else "python"
