"""Download handler: data files stream to disk chunk by chunk; pages are read as Scrapy always does.

Scrapy 2.19's HTTP handler holds each response body in memory until it is complete, so a crawl
could hold ``CONCURRENT_REQUESTS`` × ``DOWNLOAD_MAXSIZE`` (32 × 200 MB) of files at once; the
``bytes_received`` signal sees each chunk but cannot stop it being buffered, and a body written to
a file arrives only with Scrapy 2.20 (the ``body_file`` request meta key). Until then this handler
takes the requests the spiders mark as files (:data:`crawler.middlewares.FILE_REQUEST`) and fetches
them with httpx, writing each chunk to a spool file of the store as it arrives and hashing it on
the way (:class:`normalise.store.raw.Spool`): memory holds a chunk per download whatever the file
sizes. The response reaching the spider has an empty body and the spooled file in its meta
(:data:`SPOOLED`); the pipelines record it and move it into ``raw/``.

Everything else (pages, portal APIs, robots.txt, and files through a proxy) goes to Scrapy's own
handler. For files it keeps Scrapy's behaviour where it matters: it runs inside the downloader, so
per-site concurrency and delays apply; ``DOWNLOAD_TIMEOUT`` bounds the whole download (a slow
drip cannot hold a slot for ever); ``DOWNLOAD_MAXSIZE`` is checked against Content-Length and
against the bytes received after any Content-Encoding is decoded (a compressed bomb stops at the
limit, decoded a chunk at a time so it never inflates in memory either; only gzip and deflate are
asked for); ``DOWNLOAD_VERIFY_CERTIFICATES`` applies; failures raise Scrapy's own exceptions, so
retries and failure records are the same as for pages; ``download_latency`` feeds AutoThrottle.
Only a 2xx body is kept: a 304 has none and the spiders ignore the body of an error.

A full disk stops the crawl (:func:`halt_on_store_error`): carrying on would only record every
remaining file as failed.
"""

from __future__ import annotations

import asyncio
import socket
import time
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from crawler.middlewares import FILE_REQUEST
from normalise.store.errors import is_disk_full
from normalise.store.layout import Layout
from normalise.store.raw import Spool, Spooled

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

#: Response meta key holding the :class:`normalise.store.raw.Spooled` body of a file.
SPOOLED = "councilspend_spooled"
#: Stats key set (to a one-line message) when the output folder cannot take more files.
STORE_ERROR = "councilspend/store_error"
#: Bytes of file bodies received here (Scrapy's own byte count sees only their headers).
BODY_BYTES = "councilspend/body_bytes"
#: Headers describing the body as sent; the spider gets the decoded bytes, so they no longer apply.
_TRANSFER_HEADERS = ("content-encoding", "content-length", "transfer-encoding")
_CHUNK = 64 * 1024
#: Encodings asked for on file requests: the ones :class:`Decoder` undoes in bounded pieces.
ACCEPTED_ENCODINGS = "gzip, deflate"


def halt_on_store_error(crawler: Crawler, error: OSError) -> None:
    """Record a store failure (full disk) once and close the spider; the crawl then exits non-zero."""
    if crawler.stats.get_value(STORE_ERROR):
        return
    crawler.stats.set_value(STORE_ERROR, f"{error.filename}: {error.strerror}" if error.filename else str(error))
    if crawler.engine is not None:
        asyncio.get_running_loop().create_task(crawler.engine.close_spider_async(reason="store_error"))


class StreamingDownloadHandler(BaseDownloadHandler):
    """http(s) handler: file requests streamed to the store's spool, the rest to Scrapy's handler."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self.pages = HTTP11DownloadHandler(crawler)
        self.layout = Layout(settings["COUNCILSPEND_OUT"])
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.client = httpx.AsyncClient(
            verify=settings.getbool("DOWNLOAD_VERIFY_CERTIFICATES"),
            follow_redirects=False,  # Scrapy's redirect middleware follows them, checking each hop
            trust_env=False,
            limits=httpx.Limits(max_connections=settings.getint("CONCURRENT_REQUESTS")),
            headers={},
        )
        for name in ("accept", "accept-encoding", "user-agent"):
            self.client.headers.pop(name, None)  # only the request's own headers are sent

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get(FILE_REQUEST) or request.method != "GET" or request.meta.get("proxy"):
            return await self.pages.download_request(request)
        request.meta.pop(SPOOLED, None)
        timeout = float(request.meta.get("download_timeout") or self.timeout)
        try:
            async with asyncio.timeout(timeout):
                return await self._stream(request)
        except (TimeoutError, httpx.TimeoutException):
            raise DownloadTimeoutError(f"Getting {request.url} took longer than {timeout} seconds.") from None
        except httpx.ConnectError as exc:
            if any(isinstance(cause, socket.gaierror) for cause in _causes(exc)):
                raise CannotResolveHostError(str(exc)) from exc
            raise DownloadConnectionRefusedError(str(exc)) from exc
        except httpx.RemoteProtocolError as exc:
            raise ResponseDataLossError(f"{request.url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise DownloadFailedError(f"{type(exc).__name__}: {exc}") from exc

    async def _stream(self, request: Request) -> Response:
        maxsize = int(request.meta.get("download_maxsize", self.maxsize))
        started = time.monotonic()
        headers = [(k, v) for k, v in request.headers.to_tuple_list() if k.lower() != "accept-encoding"]
        headers.append(("Accept-Encoding", ACCEPTED_ENCODINGS))
        async with self.client.stream(request.method, request.url, headers=headers, content=request.body) as reply:
            request.meta["download_latency"] = time.monotonic() - started
            received = Headers([(k, v) for k, v in reply.headers.multi_items() if k.lower() not in _TRANSFER_HEADERS])
            if 200 <= reply.status_code < 300:
                declared = reply.headers.get("content-length", "")
                if maxsize and declared.isdigit() and int(declared) > maxsize:
                    raise DownloadCancelledError(_too_large(int(declared), maxsize, request, expected=True))
                request.meta[SPOOLED] = await self._spool(reply, request, maxsize)
            else:
                await _drain(reply)
        cls = responsetypes.from_args(headers=received, url=request.url)
        return cls(url=request.url, status=reply.status_code, headers=received, body=b"", protocol=reply.http_version)

    async def _spool(self, reply: httpx.Response, request: Request, maxsize: int) -> Spooled:
        try:
            spool = Spool(self.layout)
        except OSError as exc:
            self._store_failed(exc)
            raise
        try:
            decoder = Decoder(reply.headers.get("content-encoding", ""))
            async for raw in reply.aiter_raw(_CHUNK):
                for chunk in decoder.feed(raw):
                    spool.write(chunk)
                    if maxsize and spool.size > maxsize:
                        raise DownloadCancelledError(_too_large(spool.size, maxsize, request, expected=False))
            spool.write(decoder.finish())
            spooled = await asyncio.to_thread(spool.finish)
        except OSError as exc:
            spool.discard()
            self._store_failed(exc)
            raise
        except BaseException:
            spool.discard()
            raise
        self.crawler.stats.inc_value(BODY_BYTES, spooled.size)
        return spooled

    def _store_failed(self, exc: OSError) -> None:
        if is_disk_full(exc):
            halt_on_store_error(self.crawler, exc)

    async def close(self) -> None:
        await self.client.aclose()
        await self.pages.close()


class Decoder:
    """Undo a gzip or deflate Content-Encoding a bounded piece at a time (a bomb never inflates in memory).

    >>> import gzip
    >>> pieces = list(Decoder("gzip").feed(gzip.compress(b"0" * 200_000)))
    >>> max(len(p) for p in pieces) <= 65536, sum(len(p) for p in pieces)
    (True, 200000)
    >>> list(Decoder("").feed(b"as sent"))
    [b'as sent']
    """

    def __init__(self, encoding: str):
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflate = None
        elif encoding in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise DownloadFailedError(f"unsupported Content-Encoding {encoding!r}")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._inflate is None:
            yield data
            return
        try:
            piece = self._inflate.decompress(data, _CHUNK)
            while piece:
                yield piece
                piece = self._inflate.decompress(self._inflate.unconsumed_tail, _CHUNK)
        except zlib.error as exc:
            raise DownloadFailedError(f"corrupt compressed body: {exc}") from None

    def finish(self) -> bytes:
        """What the decoder still holds once the body has ended (nothing, for a whole stream)."""
        return self._inflate.flush() if self._inflate is not None else b""


async def _drain(reply: httpx.Response) -> None:
    """Read a short body nobody keeps (a 304's, an error page's) so its connection serves the next request;
    a long one is dropped with its connection instead."""
    received = 0
    async for chunk in reply.aiter_raw(_CHUNK):
        received += len(chunk)
        if received > _CHUNK:
            break


def _causes(exc: BaseException) -> list[BaseException]:
    found, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _too_large(size: int, limit: int, request: Request, *, expected: bool) -> str:
    """Scrapy's wording, which the spiders' failure records recognise ("max size")."""
    prefix = "Expected to receive" if expected else "Received"
    return f"{prefix} {size} bytes which is larger than download max size ({limit}) in request {request}."
