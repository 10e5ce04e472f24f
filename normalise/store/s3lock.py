"""The run lock of an object-store output: a lease object, written only by conditional requests.

Machines share no kernel, so the local ``flock`` (:mod:`normalise.store.lock`) cannot keep two of
them off one bucket. The lock is the object ``<prefix>/LOCK`` holding its holder's details:

* taken with ``PUT If-None-Match: *``, which the store accepts from one writer only;
* renewed by its holder every :data:`HEARTBEAT` seconds with ``PUT If-Match: <its ETag>``;
* released with ``DELETE If-Match: <its ETag>``;
* taken over when its last renewal is older than :data:`LEASE` seconds (a holder killed, or cut
  off), by ``PUT If-Match: <the stale ETag>``: of several machines trying at once, one wins.

Ages are measured on the store's clock (the object's ``Last-Modified`` against the ``Date`` of
the answer), so the machines' clocks need not agree. A holder that fails to renew (its lease
taken over after a long stall) stops publishing: :meth:`Lease.check` raises before each commit
is published. Commits are fenced besides: the ``CURRENT`` pointer is only replaced by a
conditional write on the ETag its writer last saw (:mod:`normalise.store.sync`).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from email.utils import parsedate_to_datetime
from pathlib import Path

from normalise.store.layout import Layout
from normalise.store.lock import FolderLocked, Holder
from normalise.store.remote import Bucket, RemoteError

#: Seconds without renewal after which a lease counts as abandoned.
LEASE = float(os.environ.get("COUNCILSPEND_S3_LEASE", "120"))
#: Seconds between renewals.
HEARTBEAT = LEASE / 4


class LeaseLost(RemoteError):
    """Another run took the lock over while this one held it (this one stalled for longer than the lease)."""


def _failed_precondition(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    return exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict")


class Lease:
    """This run's hold on the bucket's lock, renewed by a background thread until released."""

    def __init__(self, bucket: Bucket, command: str):
        self.bucket = bucket
        self.key = bucket.keys.lock
        self.holder = Holder.me(command)
        self.token = uuid.uuid4().hex
        self.etag: str | None = None
        self.stale: Holder | None = None
        self._lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_until_stopped, name="s3-lease", daemon=True)

    def _body(self) -> bytes:
        return json.dumps({"holder": asdict(self.holder), "token": self.token}).encode("utf-8")

    def acquire(self) -> Lease:
        """Take the lock (or take over an abandoned one) and start renewing it; else raise FolderLocked."""
        from botocore.exceptions import ClientError

        for _ in range(3):  # the holder may release the lock between our two requests: try again
            try:
                self.etag = self.bucket.put(self.key, self._body(), IfNoneMatch="*")
                break
            except ClientError as exc:
                if not _failed_precondition(exc):
                    raise
            try:
                self._take_over()
                break
            except ClientError:
                continue  # the lock went away between the refusal and the look at it
        if self.etag is None:
            raise FolderLocked(f"{self.bucket.location.url} is being taken and released by other runs")
        self._thread.start()
        return self

    def _take_over(self) -> None:
        """Take over the lock if its holder stopped renewing it; else raise FolderLocked naming the holder."""
        answer = self.bucket.call("head_object", Bucket=self.bucket.name, Key=self.key)
        now = parsedate_to_datetime(answer["ResponseMetadata"]["HTTPHeaders"]["date"])
        age = (now - answer["LastModified"]).total_seconds()
        found = self.bucket.get(self.key)
        holder = _holder(found[0]) if found else None
        if age < LEASE:
            who = holder.describe() if holder else "an unknown run"
            raise FolderLocked(
                f"{self.bucket.location.url} is in use by another run ({who}; renewed {age:.0f} s ago)"
            ) from None
        try:
            self.etag = self.bucket.put(self.key, self._body(), IfMatch=answer["ETag"])
        except Exception as exc:
            if _failed_precondition(exc):  # another machine took it over first
                raise FolderLocked(f"{self.bucket.location.url} was just taken over by another run") from None
            raise
        self.stale = holder

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                self.etag = self.bucket.put(self.key, self._body(), IfMatch=str(self.etag))
            except Exception as exc:  # noqa: BLE001 (a network blip: try again at the next beat)
                if _failed_precondition(exc):
                    self._lost = True
                    return

    def check(self) -> None:
        """Raise :class:`LeaseLost` if another run has taken the lock over."""
        if self._lost:
            raise LeaseLost(
                f"{self.bucket.location.url}: another run took the lock over while this one stalled; "
                "nothing more is published by this run"
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._lost or self.etag is None:
            return
        try:
            self.bucket.call("delete_object", Bucket=self.bucket.name, Key=self.key, IfMatch=self.etag)
        except Exception as exc:
            if not _failed_precondition(exc):
                raise


def _holder(body: bytes) -> Holder | None:
    try:
        return Holder(**json.loads(body)["holder"])
    except (ValueError, KeyError, TypeError):
        return None


_leases: dict[Path, Lease] = {}


def active_lease(layout: Layout) -> Lease | None:
    """The lease this process holds on the folder's object store, if it holds one."""
    return _leases.get(layout.root.resolve())


@contextlib.contextmanager
def leased(layout: Layout, bucket: Bucket, command: str) -> Iterator[Lease]:
    """Hold the bucket's lock for the block (a missing bucket or refused credentials fail here, in one line)."""
    bucket.check()
    lease = Lease(bucket, command).acquire()
    _leases[layout.root.resolve()] = lease
    try:
        yield lease
    finally:
        del _leases[layout.root.resolve()]
        lease.release()
