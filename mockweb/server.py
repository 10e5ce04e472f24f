"""A small, fast HTTP/1.1 server for the generated mock council web.

Serves the pre-rendered routes of ``<root>/routes.json`` from memory with asyncio (keep-alive,
GET and HEAD, ETag/Last-Modified revalidation, redirects, slow and failing routes). Run it in a
background thread (``with MockWeb(root) as web: ...``) or in the foreground (``serve_forever``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote

from mockweb.site import BASE_URL_PLACEHOLDER

MAX_HEADER_BYTES = 16 * 1024
IDLE_SECONDS = 15.0
REASONS = {
    200: "OK",
    301: "Moved Permanently",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
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

    def find(self, target: str) -> tuple[str, dict | None]:
        path, _, query = target.partition("?")
        path = unquote(path)
        full = f"{path}?{query}" if query else path
        return path, self.table.get(full) or self.table.get(path)

    def body(self, route: dict) -> bytes:
        name = route["file"]
        if name not in self.bodies:
            self.bodies[name] = (self.root / name).read_bytes()
        return self.bodies[name]


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


class _Handler:
    def __init__(self, routes: _Routes, base_url: str):
        self.routes, self.base_url = routes, base_url
        self.requests = 0

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_SECONDS)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    return
                except asyncio.LimitOverrunError:
                    await self.send(writer, 400, {}, b"", head_only=False, keep_alive=False)
                    return
                keep_alive = await self.respond(head, writer)
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def respond(self, head: bytes, writer: asyncio.StreamWriter) -> bool:
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
        if status == 301:
            await self.send(writer, 301, {"Location": route["location"]}, b"", head_only, keep_alive)
            return keep_alive
        if status != 200:
            await self.send(
                writer, status, {"Content-Type": "text/html; charset=utf-8"}, ERROR_PAGE, head_only, keep_alive
            )
            return keep_alive
        if route.get("delay"):
            await asyncio.sleep(route["delay"])
        validators = {"ETag": route["etag"], "Last-Modified": route["last_modified"]}
        if _not_modified(route, headers):
            await self.send(writer, 304, validators, b"", head_only=True, keep_alive=keep_alive)
            return keep_alive
        body = self.routes.body(route)
        if route.get("template"):
            host = headers.get("host")
            base = f"http://{host}" if host else self.base_url
            body = body.replace(BASE_URL_PLACEHOLDER.encode(), base.encode())
        await self.send(writer, 200, {"Content-Type": route["type"], **validators}, body, head_only, keep_alive)
        return keep_alive

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


class MockWeb:
    """The mock council web served on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, root: Path, port: int = 0, host: str = "127.0.0.1"):
        self.root, self.host, self.port = Path(root), host, port
        self.routes = _Routes(self.root)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._handler: _Handler | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests_served(self) -> int:
        return self._handler.requests if self._handler else 0

    async def _start(self) -> None:
        self._handler = _Handler(self.routes, "")
        try:
            self._server = await asyncio.start_server(
                self._handler.connection, self.host, self.port, limit=MAX_HEADER_BYTES, backlog=512
            )
        except OSError as exc:
            raise MockWebError(f"cannot serve the mock web on {self.host}:{self.port}: {exc.strerror}") from None
        self.port = self._server.sockets[0].getsockname()[1]
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
            self._server.close()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(self._server.wait_closed())
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
            async with self._server:
                await self._server.serve_forever()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
