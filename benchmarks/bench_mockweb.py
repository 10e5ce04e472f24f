"""Measure the mock web server: responses per second over keep-alive connections.

Run: ``python benchmarks/bench_mockweb.py [--councils 12] [--connections 16] [--requests 20000]``.
The server runs in its own process (as under a crawl), the client here with asyncio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from mockweb.generate import generate
from mockweb.server import MockWeb


def _serve(root: str, port: int, council_hosts: bool = False) -> None:
    MockWeb(Path(root), port=port, council_hosts=council_hosts).serve_forever()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _client(port: int, paths: list[str], counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for path in paths:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        counts.append(1)
    writer.close()


async def _load(port: int, paths: list[str], connections: int) -> int:
    counts: list[int] = []
    share = [paths[i::connections] for i in range(connections)]
    await asyncio.gather(*(_client(port, chunk, counts) for chunk in share))
    return len(counts)


def measure(root: Path, connections: int, requests: int) -> float:
    """Responses per second for ``requests`` GETs of pages and files spread over ``connections``."""
    routes = json.loads((root / "routes.json").read_text(encoding="utf-8"))
    servable = [r for r, v in routes.items() if v["status"] == 200 and not v.get("delay") and "/registers/" not in r]
    # route keys are decoded paths ("Spending over £500.csv"): ask for them as a client writes them
    paths = [quote(servable[i % len(servable)], safe="/?&=:") for i in range(requests)]
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(root), port), daemon=True)
    server.start()
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        asyncio.run(_load(port, paths[: connections * 5], connections))  # warm the body cache
        started = time.perf_counter()
        done = asyncio.run(_load(port, paths, connections))
        return done / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=12)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--root", type=Path, default=None, help="generated site to reuse (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or Path(tmp) / "mockweb"
        started = time.perf_counter()
        generate(root, councils=args.councils)
        print(f"generated {args.councils} councils in {time.perf_counter() - started:.1f} s")
        rate = measure(root, args.connections, args.requests)
        print(f"{rate:,.0f} responses/s over {args.connections} keep-alive connections")


if __name__ == "__main__":
    main()
