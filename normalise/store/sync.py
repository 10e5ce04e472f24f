"""Mirroring a working copy to object storage: each commit an immutable snapshot, one pointer moved last.

S3 has no rename, so a commit cannot swap folders there. Instead each publication of the working
copy (after every local commit, and when a command ends) goes to the bucket in this order:

1. shared files not yet there — originals in ``raw/`` (content-addressed, never changed), the
   normaliser's parses in ``_work/parsed/`` (each summary after the rows it names) and complete
   releases (``release.json`` last) — under their own keys, which no snapshot owns;
2. the published tables, report, descriptors and the build state that must agree with them,
   as a new snapshot ``snapshots/<id>/…``: files unchanged since the last snapshot are copied
   server-side, the rest uploaded; then ``snapshots/<id>/_snapshot.json``, listing them;
3. ``CURRENT`` (a single PUT, atomic), naming ``<id>``; written only if it still holds what this
   working copy last saw (``If-Match``), so two writers can never interleave their commits;
4. snapshots beyond the newest :data:`KEEP` deleted, and parses the working copy replaced.

A reader follows ``CURRENT`` to ``snapshots/<id>/`` and globs there (``spend/**/*.parquet``):
that folder is complete before ``CURRENT`` names it and never changes afterwards, so during a
commit such a reader sees the previous snapshot whole, and after it the new one whole — never a
mix, never a staged file. A run killed at any step leaves ``CURRENT`` where it was (at worst a
snapshot folder no pointer names, deleted by a later pruning). ``datapackage.json`` and
``councilspend.duckdb`` inside a snapshot name their files relative to it.

A working copy keeps in ``_work/remote/index.json`` which snapshot it mirrors and the sha256 of
each file in it, so an unchanged file is never hashed or sent twice. When the bucket's
``CURRENT`` is not the snapshot the working copy last saw (a fresh cache, or another machine
ran since), :meth:`Mirror.pull` makes the working copy that snapshot first: its tables and
build state, every parse and release; originals are fetched only when a stage needs one
(:func:`normalise.store.raw.local_original`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from normalise.store.atomic import write_json
from normalise.store.layout import Layout, sync_area
from normalise.store.raw import sha256_of
from normalise.store.remote import Bucket, ObjectLocation, RemoteError, bound

logger = logging.getLogger(__name__)

#: Snapshots kept on the store, newest first (``CURRENT``'s included); older ones are deleted.
KEEP = int(os.environ.get("COUNCILSPEND_S3_KEEP", "3"))
#: Transfers at once.
THREADS = 16
#: Shared files removed from the store when the working copy removes them (replaced parses).
REPLACEABLE = "_work/parsed/"


@dataclass
class Index:
    """What the store holds of this working copy, as last sent or received."""

    snapshot: str | None = None
    current_etag: str | None = None
    files: dict[str, list] = field(default_factory=dict)  # snapshot files: relative -> [size, mtime_ns, sha256]
    shared: dict[str, int] = field(default_factory=dict)  # shared files on the store: relative -> size

    @classmethod
    def load(cls, layout: Layout) -> Index:
        try:
            return cls(**json.loads(layout.remote_index.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return cls()  # none yet, or unreadable: everything is compared afresh

    def save(self, layout: Layout) -> None:
        write_json(layout.remote_index, self.__dict__)

    def listing(self) -> dict[str, str]:
        return {relative: entry[2] for relative, entry in self.files.items()}


def new_snapshot_id() -> str:
    """A sortable, unique snapshot id.

    >>> a, b = new_snapshot_id(), new_snapshot_id()
    >>> a != b and len(a) == len(b) and a[:8].isdigit()
    True
    """
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:6]}"


def commit_points_last(relative: str) -> tuple[bool, bool, str]:
    """Order shared uploads: data first, then the JSON that names it, a release's ``release.json`` last of all.

    >>> sorted(["_work/parsed/B/ab.json", "_work/parsed/B/ab-1.parquet"], key=commit_points_last)
    ['_work/parsed/B/ab-1.parquet', '_work/parsed/B/ab.json']
    """
    return relative.endswith(".json"), relative.endswith("release.json"), relative


@dataclass
class Publication:
    """What one publication sent: files uploaded (and their bytes), files copied server-side."""

    snapshot: str | None = None
    uploaded: int = 0
    uploaded_bytes: int = 0
    copied: int = 0

    def count(self, size: int) -> None:
        self.uploaded += 1
        self.uploaded_bytes += size


@dataclass(frozen=True)
class Local:
    """A file of the working copy."""

    path: Path
    size: int
    mtime_ns: int


class Mirror:
    """A working copy and the bucket location it stands for."""

    def __init__(self, layout: Layout, location: ObjectLocation):
        self.layout = layout
        self.bucket = Bucket(location)
        self.keys = location.keys
        self.index = Index.load(layout)

    # --- the working copy ------------------------------------------------------------------

    def scan(self) -> dict[str, dict[str, Local]]:
        """The working copy's files by area, ``snapshot`` and ``shared`` (local-only ones are not looked at)."""
        found: dict[str, dict[str, Local]] = {"snapshot": {}, "shared": {}}
        root = self.layout.root
        for folder, dirs, files in os.walk(root):
            relative_folder = Path(folder).relative_to(root).as_posix()
            prefix = "" if relative_folder == "." else f"{relative_folder}/"
            dirs[:] = [d for d in dirs if sync_area(f"{prefix}{d}/") != "local" or prefix + d == "_work"]
            for name in files:
                relative = prefix + name
                area = sync_area(relative)
                if area != "local":
                    stat = (Path(folder) / name).stat()
                    found[area][relative] = Local(Path(folder) / name, stat.st_size, stat.st_mtime_ns)
        return found

    def _sha(self, relative: str, local: Local) -> str:
        known = self.index.files.get(relative)
        if known and known[0] == local.size and known[1] == local.mtime_ns:
            return str(known[2])
        return sha256_of(local.path)

    # --- publishing ------------------------------------------------------------------------

    def publish(self, check: Callable[[], None] | None = None) -> Publication:
        """Send what changed since the last publication (no new snapshot when nothing did)."""
        self.index = Index.load(self.layout)  # other publications (a crawler process's) may have moved it on
        sent = Publication()
        found = self.scan()
        self._send_shared(found["shared"], sent)
        listing = {relative: self._sha(relative, local) for relative, local in found["snapshot"].items()}
        previous = self.index.snapshot
        if listing == self.index.listing() and (previous is not None or not listing):
            self._forget_replaced(found["shared"])
            return sent
        if check is not None:
            check()
        snapshot = new_snapshot_id()
        old = self.index.listing()
        copies = {r for r in listing if previous is not None and old.get(r) == listing[r]}

        def send(relative: str) -> None:
            key = self.keys.snapshot_file(snapshot, relative)
            if relative in copies:
                self.bucket.copy(self.keys.snapshot_file(str(previous), relative), key)
            else:
                self.bucket.upload(found["snapshot"][relative].path, key)

        _each(send, sorted(listing))
        sent.copied = len(copies)
        for relative in set(listing) - copies:
            sent.count(found["snapshot"][relative].size)
        described = {r: {"size": found["snapshot"][r].size, "sha256": sha} for r, sha in sorted(listing.items())}
        self.bucket.put(self.keys.snapshot_listing(snapshot), _json({"snapshot": snapshot, "files": described}))
        if check is not None:
            check()
        self._point_to(snapshot, previous)
        self.index.files = {
            r: [found["snapshot"][r].size, found["snapshot"][r].mtime_ns, sha] for r, sha in listing.items()
        }
        self.index.save(self.layout)
        self._prune(snapshot)
        self._forget_replaced(found["shared"])
        sent.snapshot = snapshot
        logger.info(
            "published snapshot %s to %s: %d files uploaded (%d bytes), %d unchanged copied in the store",
            snapshot,
            self.bucket.location.url,
            sent.uploaded,
            sent.uploaded_bytes,
            sent.copied,
        )
        return sent

    def _send_shared(self, shared: dict[str, Local], sent: Publication) -> None:
        pending = [r for r, local in shared.items() if self.index.shared.get(r) != local.size]
        data = [r for r in pending if not r.endswith(".json")]
        points = sorted((r for r in pending if r.endswith(".json")), key=commit_points_last)
        _each(lambda r: self.bucket.upload(shared[r].path, self.keys.shared(r)), data)
        for relative in points:  # one at a time, in order: each names files already sent
            self.bucket.upload(shared[relative].path, self.keys.shared(relative))
        for relative in pending:
            self.index.shared[relative] = shared[relative].size
            sent.count(shared[relative].size)
        if pending:
            self.index.save(self.layout)

    def _point_to(self, snapshot: str, previous: str | None) -> None:
        from botocore.exceptions import ClientError

        pointer = _json({"snapshot": snapshot, "previous": previous, "committed_at": datetime.now(UTC).isoformat()})
        condition = {"IfMatch": self.index.current_etag} if self.index.current_etag else {"IfNoneMatch": "*"}
        try:
            self.index.current_etag = self.bucket.put(self.keys.current, pointer, **condition)
        except ClientError:
            raise RemoteError(
                f"{self.bucket.location.url}: another run published since this one started; "
                f"this run's results stay in {self.layout.root} and were not published"
            ) from None
        self.index.snapshot = snapshot

    def _prune(self, current: str) -> None:
        """Delete the snapshots older than the newest :data:`KEEP` (never the current one)."""
        names = sorted(self.bucket.folders(self.keys.snapshots), reverse=True)
        for old in [name for name in names[KEEP:] if name != current]:
            self.bucket.delete([o["Key"] for o in self.bucket.listing(self.keys.snapshot(old))])

    def _forget_replaced(self, shared: dict[str, Local]) -> None:
        """Delete from the store the parses the working copy replaced (their summaries now name newer ones)."""
        gone = [r for r in self.index.shared if r.startswith(REPLACEABLE) and r not in shared]
        if not gone:
            return
        self.bucket.delete([self.keys.shared(r) for r in gone])
        for relative in gone:
            del self.index.shared[relative]
        self.index.save(self.layout)

    # --- pulling ---------------------------------------------------------------------------

    def current(self) -> tuple[dict, str] | None:
        """The pointer ``CURRENT`` (as JSON) and its ETag, or None before the first publication."""
        found = self.bucket.get(self.keys.current)
        return (json.loads(found[0]), found[1]) if found else None

    def holds(self, relative: str) -> bool:
        """Whether the store's current snapshot has this file."""
        pointer = self.current()
        if pointer is None:
            return False
        return relative in json.loads(self._get(self.keys.snapshot_listing(pointer[0]["snapshot"])))["files"]

    def pull(self) -> bool:
        """Make the working copy the store's current snapshot if it is not; True when it had to."""
        pointer = self.current()
        if pointer is None:
            if self.index.snapshot is not None:  # the store was emptied: send everything again
                self.index = Index()
            return False
        snapshot, etag = pointer[0]["snapshot"], pointer[1]
        if snapshot == self.index.snapshot:
            if etag != self.index.current_etag:
                self.index.current_etag = etag
                self.index.save(self.layout)
            return False
        logger.info("updating the working copy %s to snapshot %s", self.layout.root, snapshot)
        for leftover in (self.layout.staging_root, self.layout.journal_dir, self.layout.trash_root):
            shutil.rmtree(leftover, ignore_errors=True)  # uncommitted work of an older state of this copy
        found = self.scan()
        listed = json.loads(self._get(self.keys.snapshot_listing(snapshot)))["files"]
        stale = [r for r, local in found["snapshot"].items() if r not in listed]
        for relative in stale:
            found["snapshot"][relative].path.unlink()
        wanted = [
            r
            for r, entry in listed.items()
            if r not in found["snapshot"] or self._sha(r, found["snapshot"][r]) != entry["sha256"]
        ]
        _each(lambda r: self.bucket.download(self.keys.snapshot_file(snapshot, r), self.layout.root / r), wanted)
        self.index.files = {}
        for relative, entry in listed.items():
            stat = (self.layout.root / relative).stat()
            self.index.files[relative] = [stat.st_size, stat.st_mtime_ns, entry["sha256"]]
        self._pull_shared(found["shared"])
        self.index.snapshot, self.index.current_etag = snapshot, etag
        self.index.save(self.layout)
        return True

    def _pull_shared(self, local: dict[str, Local]) -> None:
        """Record every shared file on the store; fetch the parses and releases (originals wait until needed)."""
        self.index.shared = {}
        fetch = []
        for area in ("raw/", REPLACEABLE, "releases/"):
            for entry in self.bucket.listing(self.keys.shared(area)):
                relative = self.keys.relative(entry["Key"])
                self.index.shared[relative] = int(entry["Size"])
                mine = local.get(relative)
                if area != "raw/" and (mine is None or mine.size != entry["Size"] or relative.endswith(".json")):
                    fetch.append(relative)
        _each(lambda r: self.bucket.download(self.keys.shared(r), self.layout.root / r), fetch)

    def fetch_shared(self, relative: str) -> bool:
        """Download one shared file (an original) into the working copy; False if the store lacks it."""
        if relative not in self.index.shared:
            return False
        self.bucket.download(self.keys.shared(relative), self.layout.root / relative)
        return True

    def _get(self, key: str) -> bytes:
        found = self.bucket.get(key)
        if found is None:
            raise RemoteError(f"{self.bucket.location.url}: {key} is missing (a snapshot deleted while in use?)")
        return found[0]


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _each(action: Callable[[str], None], items: Iterable[str]) -> None:
    """Run ``action`` on every item on a thread pool; the first error is raised."""
    items = list(items)
    if not items:
        return
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for _ in pool.map(action, items):
            pass


def mirror_of(layout: Layout) -> Mirror | None:
    """The mirror of a working copy bound to object storage; None for an ordinary folder."""
    location = bound(layout)
    return Mirror(layout, location) if location is not None else None


def crawled(layout: Layout) -> bool:
    """Whether a crawl's manifest is in the folder or, for a working copy, in its store's current snapshot."""
    if layout.manifest.is_file():
        return True
    mirror = mirror_of(layout)
    return mirror is not None and mirror.holds(layout.relative(layout.manifest))


def output_name(layout: Layout) -> str:
    """How the user named the output: its ``s3://`` URL for a working copy, else its path."""
    location = bound(layout)
    return location.url if location is not None else str(layout.root)


def publish_commit(layout: Layout) -> None:
    """Publish a working copy's commit to its object store (nothing for an ordinary folder)."""
    from normalise.store.s3lock import active_lease

    mirror = mirror_of(layout)
    if mirror is not None:
        lease = active_lease(layout)
        mirror.publish(lease.check if lease else None)


class Originals:
    """Which originals the store holds, in the folder or (for a working copy) on its object store."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.remote = set(Index.load(layout).shared) if layout.remote_binding.is_file() else set()

    def has(self, sha256: str, fmt: str) -> bool:
        path = self.layout.raw_file(sha256, fmt)
        return path.exists() or self.layout.relative(path) in self.remote


def local_original(layout: Layout, sha256: str, fmt: str) -> Path | None:
    """The original's path in the folder, fetched from the object store first if only there; None if lost."""
    path = layout.raw_file(sha256, fmt)
    if path.exists():
        return path
    mirror = mirror_of(layout)
    if mirror is not None and mirror.fetch_shared(layout.relative(path)):
        return path
    return None
