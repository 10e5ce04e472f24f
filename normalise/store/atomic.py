"""Atomic writes: a reader sees the old file or the new one, never half of either.

Every write goes to a temporary name beside its target (unique to this process and call, so two
runs never collide), is flushed to disk, then renamed over the target; the folder entry is
flushed too, so a crash right after the rename cannot bring the old file back. An error names
the file it hit (pyarrow's and ``write()``'s errors do not), so a full disk is one clear line.

Several files that must change together go through a commit instead (:mod:`normalise.store.commit`).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from normalise.store.errors import naming

#: Suffix of every temporary file; nothing published ends with it, so readers' globs skip them.
TMP_SUFFIX = ".tmp"


def temporary_name(target: Path) -> Path:
    """A hidden name beside ``target``, unique to this process and call.

    >>> name = temporary_name(Path("data/files.parquet"))
    >>> name.parent.as_posix(), name.name.startswith(".files.parquet."), name.suffix
    ('data', True, '.tmp')
    """
    return target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}{TMP_SUFFIX}")


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk, where the platform allows."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush a written file's bytes to disk."""
    with open(path, "rb+") as stream:
        os.fsync(stream.fileno())


_syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)


def flush_filesystem(path: Path) -> bool:
    """Flush everything written to the filesystem holding ``path`` in one call (Linux ``syncfs``).

    False where the system has no such call (then nothing was flushed).
    """
    if _syncfs is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return _syncfs(fd) == 0
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder entry under ``root`` (files first, then the folders holding them).

    One ``syncfs`` where the system has it: a file at a time costs a disk flush each.
    """
    if flush_filesystem(root):
        return
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            fsync_file(Path(folder) / name)
        fsync_dir(Path(folder))


@contextlib.contextmanager
def replacing(target: Path, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is flushed (unless not ``durable``) and renamed over ``target``.

    On any error the temporary file is removed and ``target`` is left as it was. A caller writing
    many files with ``durable=False`` flushes them together (:func:`flush_filesystem`).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise naming(exc, target.parent) from None
    tmp = temporary_name(target)
    try:
        yield tmp
        if durable:
            fsync_file(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise naming(exc, target) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(target.parent)


def write_bytes(target: Path, data: bytes, durable: bool = True) -> Path:
    with replacing(target, durable) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: Path, text: str, durable: bool = True) -> Path:
    return write_bytes(target, text.encode("utf-8"), durable)


def write_json(target: Path, value: Any, durable: bool = True, readable: bool = True) -> Path:
    """``value`` as JSON: indented for people to read, or (not ``readable``) on one line, several times faster to write."""
    indent = 2 if readable else None
    return write_text(target, json.dumps(value, indent=indent, ensure_ascii=False, default=str) + "\n", durable)


def write_parquet(target: Path, table: pa.Table) -> Path:
    with replacing(target) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return Path(target)
