"""The demo into a local folder and into S3 (moto on loopback): ``python benchmarks/bench_s3.py [--councils 12]``.

Runs ``councilspend demo`` four times: into a fresh local folder and again (incremental), then
into ``s3://bench/demo`` from a fresh working copy and again. The S3 server is moto's, served
from this process behind a counter of the bytes it receives: request bodies of uploads (PUT,
POST) and, apart, the number of server-side copies (``x-amz-copy-source``), which move no bytes
over the network. Prints wall seconds per run and, for the S3 runs, requests, bytes received
and copies. moto keeps objects in memory, so its speed says little about a real store's; the
bytes received are what a real store would be sent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench_demo import free_port

REPO = Path(__file__).resolve().parents[1]


class Counting:
    """A WSGI wrapper counting what the S3 server receives."""

    def __init__(self, app: Callable):
        self.app = app
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self.lock:
            self.counts["requests"] += 1
            if environ.get("HTTP_X_AMZ_COPY_SOURCE"):
                self.counts["copies"] += 1
            elif environ["REQUEST_METHOD"] in ("PUT", "POST"):
                self.counts["bytes received"] += int(environ.get("CONTENT_LENGTH") or 0)
        return self.app(environ, start_response)


def serve_s3(port: int) -> tuple[Any, Counting]:
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    counting = Counting(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, counting, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counting


def demo(out: str, councils: int, port: int, env: dict[str, str]) -> float:
    command = [sys.executable, "-m", "flows.cli", "demo", "--out", out, "--councils", str(councils)]
    started = time.monotonic()
    done = subprocess.run(command + ["--port", str(port)], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"demo --out {out} failed:\n{done.stderr[-3000:]}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=12)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    s3_port, web_port = free_port(), free_port()
    server, counting = serve_s3(s3_port)
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "COUNCILSPEND_S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
        "COUNCILSPEND_CACHE": str(work / "cache"),
    }
    try:
        import boto3

        client = boto3.session.Session(
            aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
        ).client("s3", endpoint_url=env["COUNCILSPEND_S3_ENDPOINT"])
        client.create_bucket(Bucket="bench")
        print(f"{'output':>8} {'run':>12} {'seconds':>8} {'requests':>9} {'bytes received':>15} {'copies':>7}")
        for target in (str(work / "local"), "s3://bench/demo"):
            for label in ("first", "incremental"):
                before = counting.counts.copy()
                seconds = demo(target, args.councils, web_port, env)
                sent = counting.counts - before
                kind = "s3" if target.startswith("s3://") else "local"
                print(
                    f"{kind:>8} {label:>12} {seconds:>8.1f} {sent['requests']:>9} "
                    f"{sent['bytes received']:>15,} {sent['copies']:>7}",
                    flush=True,
                )
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
