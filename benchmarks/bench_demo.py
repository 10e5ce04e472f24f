"""Demo wall time and peak memory: ``python benchmarks/bench_demo.py [--councils 12 50]``.

Runs ``councilspend demo`` in a fresh output folder for each size, samples the resident memory
of the whole process tree (CLI, crawler subprocess, parser processes, Prefect's server) every
0.2 s, then runs it a second time into the same folder to time the incremental re-run. Each run's
stages are timed from its rows in ``runs.parquet`` (crawl, normalise, match, compliance, publish).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq

STAGES = ("crawl", "normalise", "match", "compliance", "publish")


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants."""
    total = 0
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_demo(out: Path, councils: int, port: int) -> tuple[float, int, int]:
    """Wall seconds, peak tree RSS and exit code of one demo run."""
    cmd = [
        sys.executable,
        "-m",
        "flows.cli",
        "demo",
        "--out",
        str(out),
        "--councils",
        str(councils),
        "--port",
        str(port),
    ]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watched, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(watched))
        time.sleep(0.2)
    stderr = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        print(stderr[-3000:], file=sys.stderr)
    return time.monotonic() - started, peak, proc.returncode


def stage_seconds(out: Path, runs_before: int) -> dict[str, float]:
    """Seconds each stage of the last demo run took, from the rows it added to ``runs.parquet``."""
    runs = pq.read_table(out / "runs.parquet").to_pylist()[runs_before:]
    return {r["flow"]: (r["finished_at"] - r["started_at"]).total_seconds() for r in runs if r["flow"] in STAGES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, nargs="+", default=[12, 50])
    args = parser.parse_args()
    print(
        f"{'councils':>8} {'run':>12} {'seconds':>8} {'peak MiB':>9} {'exit':>4}  "
        + " ".join(f"{s:>10}" for s in STAGES)
    )
    for n in args.councils:
        out = Path(tempfile.mkdtemp(prefix=f"bench-demo-{n}-"))
        port = free_port()  # the same port for both runs, so the second one is incremental
        try:
            for label in ("first", "incremental"):
                runs_before = pq.read_metadata(out / "runs.parquet").num_rows if (out / "runs.parquet").exists() else 0
                seconds, peak, code = run_demo(out, n, port)
                stages = stage_seconds(out, runs_before) if code == 0 else {}
                timings = " ".join(f"{stages.get(s, float('nan')):>10.2f}" for s in STAGES)
                print(f"{n:>8} {label:>12} {seconds:>8.1f} {peak / 2**20:>9.0f} {code:>4}  {timings}", flush=True)
        finally:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
