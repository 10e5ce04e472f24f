"""A small, fast HTTP/1.1 server for the generated mock council web.

Serves the pre-rendered routes of ``<root>/routes.json`` from memory with asyncio (keep-alive,
GET and HEAD, ETag/Last-Modified revalidation, redirects, slow and failing routes). Run it in a
background thread (``with MockWeb(root) as web: ...``) or in the foreground (``serve_forever``).

Hostile routes (``--faults``, see ``mockweb.hostile``) carry a ``fault``: ``drop`` (the
connection is cut half way through the body), ``drip`` (the body comes a few bytes at a time),
``endless`` (a body with no end, or a ``Content-Length`` far beyond it), ``hangup`` (no answer at
all) and ``rate_limited`` (429 with ``Retry-After`` to the first requests). With ``council_hosts`` every council is also served on its own loopback address
(127.0.1.1, 127.0.1.2, ...: Linux routes all of 127/8 to this machine), so a crawler's per-host
limits apply per council as they would on the real web; ``max_in_flight`` and ``log`` show what
a crawler did to each host.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlencode

from mockweb.hostile import OFFSITE_HOST
from mockweb.site import BASE_URL_PLACEHOLDER, PORT_PLACEHOLDER

MAX_HEADER_BYTES = 16 * 1024
IDLE_SECONDS = 15.0
CACHE_BYTES = 512 * 1024**2  # bodies kept in memory; a bigger web is read from disk past this
#: An endless body stops here even if nobody hangs up (the crawler should have long before).
ENDLESS_LIMIT = 4 * 1024**3
REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
NOT_FOUND_PAGE = (
    b"<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>Page not found</h1></body></html>\n"
)
ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Server error</title></head><body><h1>Internal Server Error</h1></body></html>\n"
)
CKAN_NOT_FOUND = json.dumps(
    {
        "help": "/ckan/api/3/action/help_show",
        "success": False,
        "error": {"message": "Not found", "__type": "Not Found Error"},
    }
).encode()


class MockWebError(RuntimeError):
    """The mock web cannot be served (no generated site, or the port is taken)."""


class _Routes:
    """The route table, with bodies read from disk once and kept in memory."""

    def __init__(self, root: Path):
        index = root / "routes.json"
        if not index.exists():
            raise MockWebError(f"{root} holds no generated mock web (routes.json missing); run generate() first")
        self.root = root
        self.table: dict[str, dict] = json.loads(index.read_text(encoding="utf-8"))
        self.bodies: dict[str, bytes] = {}
        self.cached = 0
        # query parameters that select a route, per path (``id`` of package_show, ``fq`` of a search)
        self.selectors: dict[str, set[str]] = {}
        for route in self.table:
            path, _, query = route.partition("?")
            if query:
                self.selectors.setdefault(path, set()).update(name for name, _ in parse_qsl(query))

    def find(self, target: str) -> tuple[str, dict | None]:
        path, _, query = target.partition("?")
        path = unquote(path)
        full = f"{path}?{query}" if query else path
        found = self.table.get(full)
        if found is None and query and path in self.selectors:
            wanted = [(k, v) for k, v in parse_qsl(query) if k in self.selectors[path]]
            found = self.table.get(f"{path}?{urlencode(wanted, safe=':')}") if wanted else None
        return path, found or self.table.get(path)

    def body(self, route: dict) -> bytes:
        """A route's body, kept in memory once read until the cache holds ``CACHE_BYTES`` (a national web
        holds gigabytes: the rest is read from disk each time)."""
        name = route["file"]
        if name in self.bodies:
            return self.bodies[name]
        body = (self.root / name).read_bytes()
        if self.cached + len(body) <= CACHE_BYTES:
            self.bodies[name] = body
            self.cached += len(body)
        return body


def _not_modified(route: dict, headers: dict[str, str]) -> bool:
    tags = headers.get("if-none-match")
    if tags is not None:
        return route["etag"] in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
    since = headers.get("if-modified-since")
    if since:
        try:
            return parsedate_to_datetime(route["last_modified"]) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


class Hit(NamedTuple):
    """One request as the server saw it: when, on which local address, for what, answered how."""

    at: float
    host: str
    target: str
    status: int
    method: str = "GET"


class _Handler:
    def __init__(self, routes: _Routes, base_url: str, latency: float = 0.0, record: bool = False):
        self.routes, self.base_url = routes, base_url
        self.latency, self.record = latency, record
        self.requests = 0
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.log: list[Hit] = []
        self.answered: Counter[str] = Counter()  # per rate-limited route: requests seen

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local = (writer.get_extra_info("sockname") or ("?",))[0]
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_SECONDS)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    return
                except asyncio.LimitOverrunError:
                    await self.send(writer, 400, {}, b"", head_only=False, keep_alive=False)
                    return
                self.in_flight[local] += 1
                self.max_in_flight[local] = max(self.max_in_flight[local], self.in_flight[local])
                try:
                    if self.latency:
                        await asyncio.sleep(self.latency)
                    keep_alive = await self.respond(head, writer, local)
                    await writer.drain()
                finally:
                    self.in_flight[local] -= 1
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def respond(self, head: bytes, writer: asyncio.StreamWriter, local: str = "?") -> bool:
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            await self.send(writer, 400, {}, b"", False, keep_alive=False)
            return False
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        self.requests += 1
        head_only = method == "HEAD"
        if method not in ("GET", "HEAD"):
            await self.send(writer, 405, {"Allow": "GET, HEAD"}, b"", head_only, keep_alive)
            return keep_alive
        path, route = self.routes.find(target)
        logged = len(self.log)  # this request's Hit, corrected below if it is answered 304
        if self.record:
            status = route["status"] if route else 404
            if route and route.get("fault") == "rate_limited" and self.answered[path] < route["times"]:
                status = 429
            self.log.append(Hit(time.monotonic(), local, target, status, method))
        if route is not None and route.get("fault") == "hangup":  # a dead server: no answer at all
            writer.transport.abort()
            return False
        if route is None:
            if path.startswith("/ckan/api/"):
                await self.send(
                    writer, 404, {"Content-Type": "application/json"}, CKAN_NOT_FOUND, head_only, keep_alive
                )
            else:
                await self.send(
                    writer, 404, {"Content-Type": "text/html; charset=utf-8"}, NOT_FOUND_PAGE, head_only, keep_alive
                )
            return keep_alive
        status = route["status"]
        if status in (301, 302):
            location = route["location"].replace(PORT_PLACEHOLDER, str(self.base_url.rsplit(":", 1)[-1]))
            await self.send(writer, status, {"Location": location}, b"", head_only, keep_alive)
            return keep_alive
        if route.get("fault") == "rate_limited":
            self.answered[path] += 1
            if self.answered[path] <= route["times"]:
                status = 429
        if status != 200:
            extra = {"Retry-After": str(route["retry_after"])} if "retry_after" in route else {}
            page = {"Content-Type": "text/html; charset=utf-8", **extra}
            await self.send(writer, status, page, ERROR_PAGE, head_only, keep_alive)
            return keep_alive
        if route.get("delay"):
            await asyncio.sleep(route["delay"])
        validators = {"ETag": route["etag"], "Last-Modified": route["last_modified"]}
        if _not_modified(route, headers):
            if self.record:
                self.log[logged] = self.log[logged]._replace(status=304)
            await self.send(writer, 304, validators, b"", head_only=True, keep_alive=keep_alive)
            return keep_alive
        body = self.routes.body(route)
        if route.get("template"):
            host = headers.get("host")
            base = f"http://{host}" if host else self.base_url
            body = body.replace(BASE_URL_PLACEHOLDER.encode(), base.encode())
        fault = route.get("fault")
        if fault in ("drop", "drip", "endless") and not head_only:
            await self.misbehave(writer, route, body)
            return False
        await self.send(writer, 200, {"Content-Type": route["type"], **validators}, body, head_only, keep_alive)
        return keep_alive

    async def misbehave(self, writer: asyncio.StreamWriter, route: dict, body: bytes) -> None:
        """A 200 whose body never arrives whole: cut off, dripped, or without end."""
        head = [
            "HTTP/1.1 200 OK",
            f"Date: {formatdate(usegmt=True)}",
            "Server: councilspend-mockweb",
            "Connection: close",
            f"Content-Type: {route['type']}",
        ]
        fault = route["fault"]
        length = route.get("claims", len(body)) if fault != "endless" or "claims" in route else None
        if length is not None:
            head.append(f"Content-Length: {length}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if fault == "drop":
            writer.write(body[: len(body) // 2])
            await writer.drain()
            writer.transport.abort()
        elif fault == "drip":
            for i in range(0, len(body), route["chunk"]):
                writer.write(body[i : i + route["chunk"]])
                await writer.drain()
                await asyncio.sleep(route["every"])
        else:
            chunk = (body or b"0") * max(1, 65536 // max(1, len(body) or 1))
            sent = 0
            while sent < ENDLESS_LIMIT:
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)

    async def send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        headers: dict[str, str],
        body: bytes,
        head_only: bool,
        keep_alive: bool,
    ) -> None:
        out = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
            f"Date: {formatdate(usegmt=True)}",
            "Server: councilspend-mockweb",
            f"Connection: {'keep-alive' if keep_alive else 'close'}",
        ]
        if status != 304:
            out.append(f"Content-Length: {len(body)}")
        out += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        if body and not head_only:
            writer.write(body)


def council_address(index: int) -> str:
    """The loopback address of the ``index``-th council (0-based) when councils have their own hosts.

    >>> council_address(0), council_address(249), council_address(250)
    ('127.0.1.1', '127.0.1.250', '127.0.2.1')
    """
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


class MockWeb:
    """The mock council web served on ``host:port`` (port 0 picks a free one).

    ``council_hosts`` also serves it on one loopback address per council of the generated web
    (:meth:`council_base_urls`); ``latency`` delays every answer, as a real server's would;
    ``record`` keeps a :class:`Hit` per request in ``log``.
    """

    def __init__(
        self,
        root: Path,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        council_hosts: bool = False,
        latency: float = 0.0,
        record: bool = False,
    ):
        self.root, self.host, self.port = Path(root), host, port
        self.routes = _Routes(self.root)
        self.latency, self.record = latency, record
        meta_path = self.root / "mockweb.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        codes = [*meta.get("council_codes", []), *meta.get("down_councils", [])] if council_hosts else []
        self.council_hosts = {code: council_address(i) for i, code in enumerate(codes)}
        #: Further addresses serving the same web: where the hostile web's off-site redirect leads.
        self.mirror_hosts = [OFFSITE_HOST] if meta.get("args", {}).get("faults") else []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._thread: threading.Thread | None = None
        self._handler: _Handler | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def council_base_urls(self) -> dict[str, str]:
        """Each council's own base URL (its loopback address), when served with ``council_hosts``."""
        return {code: f"http://{host}:{self.port}" for code, host in self.council_hosts.items()}

    @property
    def requests_served(self) -> int:
        return self._handler.requests if self._handler else 0

    @property
    def max_in_flight(self) -> Counter[str]:
        """The most requests in progress at once, per local address served."""
        return self._handler.max_in_flight if self._handler else Counter()

    @property
    def log(self) -> list[Hit]:
        """Every request, when recording."""
        return self._handler.log if self._handler else []

    async def _start(self) -> None:
        self._handler = _Handler(self.routes, "", self.latency, self.record)
        hosts = [self.host, *(h for h in [*self.council_hosts.values(), *self.mirror_hosts] if h != self.host)]
        try:
            first = await asyncio.start_server(
                self._handler.connection, hosts[0], self.port, limit=MAX_HEADER_BYTES, backlog=512
            )
            self._servers.append(first)
            self.port = first.sockets[0].getsockname()[1]
            if hosts[1:]:
                self._servers.append(
                    await asyncio.start_server(
                        self._handler.connection, hosts[1:], self.port, limit=MAX_HEADER_BYTES, backlog=512
                    )
                )
        except OSError as exc:
            for server in self._servers:
                server.close()
            raise MockWebError(f"cannot serve the mock web on {self.host}:{self.port}: {exc.strerror}") from None
        self._handler.base_url = self.base_url

    def __enter__(self) -> MockWeb:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._start())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            for server in self._servers:
                server.close()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            for server in self._servers:
                loop.run_until_complete(server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="mockweb", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and wait for the server thread to end."""
        if self._loop and self._thread and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def serve_forever(self) -> None:
        """Serve in the foreground until Ctrl-C."""

        async def main() -> None:
            await self._start()
            await asyncio.gather(*(server.serve_forever() for server in self._servers))

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
