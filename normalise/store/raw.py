"""The raw store: every original, once, under its sha256 — received a chunk at a time.

A body is written to a spool file in ``_work/incoming/`` as it arrives and hashed on the way
(:class:`Spool`), so memory holds one chunk whatever the file's size. Once whole it is flushed to
disk and renamed to ``raw/<sha256[:2]>/<sha256>.<ext>`` (:func:`put`): a reader never sees half an
original, and the same bytes fetched twice are stored once. A spool left by a killed run is
deleted by the next one (:func:`discard_incoming`).

In the working copy of an ``s3://`` output, originals stored by earlier runs (or other machines)
may be on the bucket only: see :class:`normalise.store.sync.Originals`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from normalise.store.atomic import fsync_dir, write_bytes
from normalise.store.errors import naming
from normalise.store.layout import Layout

#: Bytes kept from the start of a body, enough to sniff its format.
HEAD_BYTES = 8192


@dataclass(frozen=True)
class Spooled:
    """A body received whole into a spool file."""

    path: Path
    sha256: str
    size: int
    head: bytes


class Spool:
    """A body being received: appended to a file under ``_work/incoming/`` and hashed as it comes."""

    def __init__(self, layout: Layout):
        self.path = layout.incoming / f"{os.getpid()}-{uuid.uuid4().hex}.part"
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self.size = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.path, "wb")  # noqa: SIM115 (closed by finish or discard)
        except OSError as exc:
            raise naming(exc, self.path) from None

    def write(self, chunk: bytes) -> None:
        try:
            self._stream.write(chunk)
        except OSError as exc:
            raise naming(exc, self.path) from None
        self._hash.update(chunk)
        if len(self._head) < HEAD_BYTES:
            self._head += chunk[: HEAD_BYTES - len(self._head)]
        self.size += len(chunk)

    def finish(self) -> Spooled:
        """Flush the body to disk and describe it."""
        try:
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
        except OSError as exc:
            self.discard()
            raise naming(exc, self.path) from None
        return Spooled(self.path, self._hash.hexdigest(), self.size, bytes(self._head))

    def discard(self) -> None:
        self._stream.close()
        self.path.unlink(missing_ok=True)


def put(layout: Layout, spooled: Spooled, fmt: str) -> Path:
    """Move a received body to its place in ``raw/`` (or drop it when those bytes are already there)."""
    target = layout.raw_file(spooled.sha256, fmt)
    if target.exists():
        spooled.path.unlink(missing_ok=True)
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(spooled.path, target)
    except OSError as exc:
        raise naming(exc, target) from None
    fsync_dir(target.parent)
    return target


def put_bytes(layout: Layout, body: bytes, fmt: str) -> tuple[str, Path]:
    """Store a body already in memory; returns its sha256 and path."""
    sha256 = hashlib.sha256(body).hexdigest()
    target = layout.raw_file(sha256, fmt)
    if not target.exists():
        write_bytes(target, body)
    return sha256, target


def discard_incoming(layout: Layout) -> int:
    """Delete the spools of runs that died mid-download (under the lock); returns how many."""
    if not layout.incoming.is_dir():
        return 0
    spools = list(layout.incoming.iterdir())
    shutil.rmtree(layout.incoming, ignore_errors=True)
    return len(spools)


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read a block at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
