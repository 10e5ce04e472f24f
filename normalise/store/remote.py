"""Output on object storage: ``--out s3://bucket/prefix`` and the local working copy that stands for it.

Every stage works on a local folder with the ordinary store (locks, atomic commits, the raw
store); for an ``s3://`` output that folder is a cache (``$COUNCILSPEND_CACHE``, default
``~/.cache/councilspend``, then ``s3/<bucket>/<prefix>``) bound to the URL by
``_work/remote/remote.json``. The binding makes the store mirror each commit to the bucket
(:mod:`normalise.store.sync`) and take the bucket's lock (:mod:`normalise.store.s3lock`).

The endpoint and credentials come from the standard AWS settings (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``AWS_DEFAULT_REGION``, …) plus
``COUNCILSPEND_S3_ENDPOINT`` (or ``AWS_ENDPOINT_URL``) for an S3-compatible server. A missing
bucket, refused credentials or an unreachable endpoint is a :class:`RemoteError` of one line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from normalise.store.atomic import write_json
from normalise.store.layout import Layout, ObjectLayout

SCHEME = "s3://"


class RemoteError(Exception):
    """The object store cannot be used as asked (no bucket, refused credentials, unreachable)."""


@dataclass(frozen=True)
class ObjectLocation:
    """A bucket and a key prefix (no leading or trailing slash).

    >>> ObjectLocation.parse("s3://spend-data/national/2026/")
    ObjectLocation(bucket='spend-data', prefix='national/2026')
    >>> ObjectLocation.parse("s3://spend-data").url
    's3://spend-data'
    """

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> ObjectLocation:
        if not url.startswith(SCHEME):
            raise RemoteError(f"{url}: not an s3:// URL")
        bucket, _, prefix = url[len(SCHEME) :].partition("/")
        if not bucket:
            raise RemoteError(f"{url}: no bucket named (s3://BUCKET/PREFIX)")
        return cls(bucket, prefix.strip("/"))

    @property
    def url(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{SCHEME}{self.bucket}"

    @property
    def keys(self) -> ObjectLayout:
        return ObjectLayout(self.prefix)


def is_remote(out: str | Path) -> bool:
    """Whether an ``--out`` value names object storage.

    >>> is_remote("s3://bucket/prefix"), is_remote("data")
    (True, False)
    """
    return str(out).startswith(SCHEME)


def cache_root() -> Path:
    """Where working copies of object-store outputs live (``COUNCILSPEND_CACHE``)."""
    configured = os.environ.get("COUNCILSPEND_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "councilspend"


def working_copy(location: ObjectLocation) -> Path:
    """The local folder that stands for ``location``, one per bucket and prefix."""
    return cache_root() / "s3" / location.bucket / (location.prefix or "_")


def local_folder(out: str | Path) -> Path:
    """The folder the stages work in for an ``--out`` value: itself, or an ``s3://`` URL's working copy.

    The working copy is bound to its URL here; the bucket is first used (and checked) when a
    command opens the folder (:func:`normalise.store.folder.open_folder`).
    """
    if not is_remote(out):
        return Path(out)
    location = ObjectLocation.parse(str(out))
    folder = working_copy(location)
    binding = Layout(folder).remote_binding
    if bound(Layout(folder)) != location:
        write_json(binding, {"url": location.url})
    return folder


def bound(layout: Layout) -> ObjectLocation | None:
    """The object-store location this folder is the working copy of, if any."""
    try:
        return ObjectLocation.parse(json.loads(layout.remote_binding.read_text(encoding="utf-8"))["url"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, RemoteError) as exc:
        raise RemoteError(f"{layout.remote_binding}: unreadable link to object storage ({exc})") from None


def endpoint() -> str | None:
    """An S3-compatible server's address, when not AWS itself."""
    return os.environ.get("COUNCILSPEND_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL") or None


class Bucket:
    """One bucket and prefix through boto3, every failure turned into a one-line :class:`RemoteError`."""

    def __init__(self, location: ObjectLocation):
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise RemoteError("s3:// output needs boto3: pip install 'councilspend[s3]'") from None
        self.location = location
        self.name = location.bucket
        self.keys = location.keys
        # a few quick retries: an unreachable endpoint should fail in seconds, not minutes
        config = Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=32,  # the mirror sends 16 files at once
        )
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint(), config=config)

    def call(self, operation: str, **kwargs: Any) -> Any:
        """Run one S3 operation; errors other than a failed precondition or a missing key become RemoteError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("PreconditionFailed", "NoSuchKey", "404", "NotFound", "ConditionalRequestConflict"):
                raise
            raise RemoteError(self._explain(code, exc)) from None
        except BotoCoreError as exc:
            raise RemoteError(self._explain(type(exc).__name__, exc)) from None

    def _explain(self, code: str, exc: Exception) -> str:
        where = self.location.url
        if code in ("NoSuchBucket",):
            return f"{where}: bucket {self.name!r} does not exist"
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"):
            return (
                f"{where}: the S3 credentials were refused ({code}); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            )
        if code in ("AccessDenied", "403", "Forbidden"):
            return f"{where}: access denied; check the credentials' permissions on bucket {self.name!r}"
        if code == "NoCredentialsError":
            return f"{where}: no S3 credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
        if code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
            return f"{where}: cannot reach the S3 endpoint {endpoint() or 'of AWS'} ({code})"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else code
        return f"{where}: {first_line}"

    def check(self) -> None:
        """Fail with one line unless the bucket exists and these credentials may list it.

        A listing (unlike ``HEAD``) answers with an error code that tells a missing bucket from
        refused credentials.
        """
        self.call("list_objects_v2", Bucket=self.name, Prefix=self.keys.current, MaxKeys=1)

    # --- objects ---------------------------------------------------------------------------

    def get(self, key: str) -> tuple[bytes, str] | None:
        """An object's bytes and ETag, or None when it does not exist."""
        from botocore.exceptions import ClientError

        try:
            answer = self.call("get_object", Bucket=self.name, Key=key)
        except ClientError:
            return None
        return answer["Body"].read(), answer["ETag"]

    def put(self, key: str, body: bytes, **conditions: str) -> str:
        """Write an object in one request (atomic for readers); ``IfMatch``/``IfNoneMatch`` make it conditional."""
        return str(self.call("put_object", Bucket=self.name, Key=key, Body=body, **conditions)["ETag"])

    def upload(self, path: Path, key: str) -> None:
        """Upload a file (multipart when large); the object appears whole when the upload completes."""
        from boto3.s3.transfer import S3UploadFailedError

        try:
            self.call("upload_file", Filename=str(path), Bucket=self.name, Key=key)
        except S3UploadFailedError as exc:
            raise RemoteError(f"{self.location.url}: upload of {path} failed ({exc})") from None

    def download(self, key: str, path: Path) -> None:
        """Download an object to ``path`` through a temporary name (never half a file at ``path``)."""
        from normalise.store.atomic import replacing

        with replacing(path) as tmp:
            self.call("download_file", Bucket=self.name, Key=key, Filename=str(tmp))

    def copy(self, source: str, key: str) -> None:
        """Copy an object inside the bucket, server-side (no bytes travel)."""
        self.call("copy", CopySource={"Bucket": self.name, "Key": source}, Bucket=self.name, Key=key)

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # the most one request may delete
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            self.call("delete_objects", Bucket=self.name, Delete={"Objects": batch, "Quiet": True})

    def listing(self, prefix: str) -> Iterator[dict]:
        """Every object under ``prefix`` (``Key``, ``Size``, ``ETag``, ``LastModified``)."""
        for page in self._pages(Prefix=prefix):
            yield from page.get("Contents", [])

    def folders(self, prefix: str) -> list[str]:
        """The names of the 'folders' directly under ``prefix``."""
        pages = self._pages(Prefix=prefix, Delimiter="/")
        return [p["Prefix"][len(prefix) :].rstrip("/") for page in pages for p in page.get("CommonPrefixes", [])]

    def _pages(self, **query: str) -> Iterator[dict]:
        """The pages of a listing, errors turned into RemoteError."""
        from botocore.exceptions import BotoCoreError, ClientError

        pages = iter(self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, **query))
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except ClientError as exc:
                raise RemoteError(self._explain(str(exc.response.get("Error", {}).get("Code", "")), exc)) from None
            except BotoCoreError as exc:
                raise RemoteError(self._explain(type(exc).__name__, exc)) from None
            yield page
