"""Commit a stage's results as a whole: readers see all of the old outputs or all of the new.

A stage writes everything it produces into a staging folder (``_work/staging/<txn>/``, which
mirrors the output folder but lies outside every published path, so no reader's glob reaches it),
then commits:

1. every staged file and folder is flushed to disk;
2. a journal (``_work/journal/<txn>.json``) listing the replacements is written atomically: from
   here on the commit *will* happen, even if this process dies;
3. each replacement is made in the order the stage staged it (data first, status last), each one
   atomic: a file by ``rename``; a folder (a council's partitions, the report) by swapping it with
   the staged one in a single ``renameat2(RENAME_EXCHANGE)`` on Linux, or where that is missing by
   moving the old one aside and the new one in;
4. the journal is deleted, then the replaced outputs and the staging folder.

A run that finds a journal (:func:`recover`) finishes that commit: every step is idempotent,
a folder recognised by the inode it had when staged. A staging folder without a journal is a stage
that died before committing: it is deleted, leaving the previous outputs as they were.

The interface — :meth:`Transaction.file`, :meth:`Transaction.directory`, :meth:`Transaction.remove`,
:meth:`Transaction.commit` — hands out local paths to write and promises all-or-nothing
publication. For an ``s3://`` output the folder is a working copy, and each commit is then
published to the bucket as an immutable snapshot with a pointer moved last (:mod:`.sync`).
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal

from normalise.store.atomic import TMP_SUFFIX, fsync_dir, fsync_tree, write_json
from normalise.store.errors import naming
from normalise.store.layout import Layout
from normalise.store.sync import publish_commit

logger = logging.getLogger(__name__)

Kind = Literal["file", "directory", "remove"]


@dataclass(frozen=True)
class Replacement:
    """One output replaced by a commit: ``target`` relative to the output folder."""

    kind: Kind
    target: str
    inode: int | None = None  # of the staged folder (directory) or of the folder to remove (remove)


# --- the two filesystem steps, kept apart so tests can watch or interrupt each one ------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False where the system cannot (then nothing changed)."""
    if _renameat2 is None:
        return False
    result = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # an old kernel, or a filesystem without exchange
    raise OSError(code, os.strerror(code), str(b))


def rename(source: Path, target: Path) -> None:
    """``os.replace``, creating the target's folder first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _inode(path: Path) -> int | None:
    try:
        return path.lstat().st_ino
    except FileNotFoundError:
        return None


class Transaction:
    """The results of one stage, staged and then committed (or discarded) as a whole.

    Use as a context manager: the block stages files, a clean exit commits them, an exception
    discards them and leaves the previous outputs untouched.
    """

    def __init__(self, layout: Layout, name: str):
        self.layout = layout
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.id = f"{stamp}-{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.staging = layout.staging_root / self.id
        self._replacements: dict[str, Kind] = {}

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
            return
        self.abort()
        if isinstance(value, OSError) and value.filename and value.errno is not None:
            target = self._target_of(Path(value.filename))
            if target is not None:  # name the output the user knows, not its staging copy
                raise OSError(value.errno, value.strerror, str(target)) from None

    # --- staging --------------------------------------------------------------------------

    def _stage(self, target: Path, kind: Kind) -> Path:
        relative = self.layout.relative(Path(target))
        if relative in self._replacements:
            raise ValueError(f"{relative} is already staged in this commit")
        self._replacements[relative] = kind
        return self.staging / relative

    def file(self, target: Path) -> Path:
        """Where to write the new version of the file ``target`` (its folder exists)."""
        staged = self._stage(target, "file")
        staged.parent.mkdir(parents=True, exist_ok=True)
        return staged

    def directory(self, target: Path) -> Path:
        """An empty folder to fill with the complete new contents of the folder ``target``.

        Left empty, it removes ``target``.
        """
        staged = self._stage(target, "directory")
        staged.mkdir(parents=True)
        return staged

    def remove(self, target: Path) -> None:
        """Remove the folder ``target`` (a council with no rows left) as part of the commit."""
        self._stage(target, "remove")

    def staged(self, target: Path) -> Path | None:
        """The staged version of ``target`` in this commit, if it has one."""
        relative = self.layout.relative(Path(target))
        return self.staging / relative if self._replacements.get(relative) in ("file", "directory") else None

    def _target_of(self, path: Path) -> Path | None:
        """The output a path inside this commit's staging folder (or a temporary file beside one) belongs to."""
        for relative in self._replacements:
            staged = self.staging / relative
            beside = path.parent == staged.parent and path.name.startswith(f".{staged.name}.")
            if path == staged or staged in path.parents or beside:
                return self.layout.root / relative
        return None

    def current(self, target: Path) -> Path:
        """What ``target`` will be once committed: its staged version, else the published one."""
        return self.staged(target) or Path(target)

    @property
    def empty(self) -> bool:
        return not self._replacements

    # --- committing -----------------------------------------------------------------------

    def commit(self) -> None:
        """Flush, journal, replace, clean up (see the module's docstring)."""
        if self.empty:
            self.abort()
            return
        try:
            replacements = []
            for relative, kind in self._replacements.items():
                inode = None
                if kind == "file" and not (self.staging / relative).is_file():
                    raise ValueError(f"{relative} was staged but never written")
                if kind == "directory" and not any((self.staging / relative).iterdir()):
                    kind = "remove"  # staged empty: the folder goes (a council left with no rows)
                if kind == "directory":
                    inode = _inode(self.staging / relative)
                elif kind == "remove":
                    inode = _inode(self.layout.root / relative)
                    if inode is None:
                        continue  # nothing to remove
                replacements.append(Replacement(kind, relative, inode))
            if self.staging.exists():
                fsync_tree(self.staging)
            write_json(self._journal, {"id": self.id, "replacements": [r.__dict__ for r in replacements]})
        except OSError as exc:
            self.abort()
            raise naming(exc, self.staging) from None
        except BaseException:
            self.abort()
            raise
        _finish(self.layout, self.id, replacements)
        publish_commit(self.layout)  # a working copy of object storage sends the commit on

    def abort(self) -> None:
        """Discard everything staged; the published outputs are untouched."""
        shutil.rmtree(self.staging, ignore_errors=True)

    @property
    def _journal(self) -> Path:
        return self.layout.journal_dir / f"{self.id}.json"


def _apply(layout: Layout, txn: str, replacement: Replacement) -> None:
    """Make one replacement; safe to repeat after a crash at any point."""
    target = layout.root / replacement.target
    staged = layout.staging_root / txn / replacement.target
    trash = layout.trash_root / txn / replacement.target
    if replacement.kind == "file":
        if staged.exists():
            rename(staged, target)
    elif replacement.kind == "remove":
        if _inode(target) == replacement.inode:
            rename(target, trash)
    elif _inode(target) != replacement.inode:  # a folder not yet in place
        if _inode(staged) != replacement.inode:
            raise FileNotFoundError(errno.ENOENT, "staged folder of an unfinished commit is missing", str(staged))
        if target.exists():
            if not exchange(staged, target):
                rename(target, trash)  # readers briefly see no folder here; the journal covers a crash
                rename(staged, target)
        else:
            rename(staged, target)


def _finish(layout: Layout, txn: str, replacements: list[Replacement]) -> None:
    for replacement in replacements:
        try:
            _apply(layout, txn, replacement)
        except OSError as exc:
            raise naming(exc, layout.root / replacement.target) from None
    for folder in {(layout.root / r.target).parent for r in replacements}:
        fsync_dir(folder)  # every rename on disk before the journal goes: once per folder, not per replacement
    journal = layout.journal_dir / f"{txn}.json"
    journal.unlink(missing_ok=True)
    fsync_dir(journal.parent)
    shutil.rmtree(layout.staging_root / txn, ignore_errors=True)
    shutil.rmtree(layout.trash_root / txn, ignore_errors=True)


@dataclass(frozen=True)
class Recovered:
    """What :func:`recover` found: commits finished and stages discarded."""

    finished: list[str]
    discarded: list[str]


def recover(layout: Layout) -> Recovered:
    """Finish every journalled commit and discard every uncommitted staging folder (under the lock)."""
    finished = []
    journals = sorted(layout.journal_dir.glob("*.json")) if layout.journal_dir.is_dir() else []
    for journal in journals:
        try:
            entry = json.loads(journal.read_text(encoding="utf-8"))
            replacements = [Replacement(**r) for r in entry["replacements"]]
        except (ValueError, KeyError, TypeError):
            journal.unlink()  # journals are written atomically; an unreadable one was never committed
            continue
        _finish(layout, entry["id"], replacements)
        finished.append(entry["id"])
    for leftover in layout.journal_dir.glob(f".*{TMP_SUFFIX}") if layout.journal_dir.is_dir() else []:
        leftover.unlink()  # a journal whose writing was interrupted: its commit never began
    discarded = []
    for root in (layout.staging_root, layout.trash_root):
        for leftover in sorted(root.iterdir()) if root.is_dir() else []:
            shutil.rmtree(leftover, ignore_errors=True)
            if root == layout.staging_root:
                discarded.append(leftover.name)
    for txn in finished:
        logger.warning("finished commit %s left half-done by an interrupted run", txn)
    for txn in discarded:
        logger.warning("discarded uncommitted results of an interrupted run (%s)", txn)
    return Recovered(finished, discarded)
