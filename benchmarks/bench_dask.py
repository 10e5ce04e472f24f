"""Normalise (and match) on a Dask LocalCluster of 1, 2 and 4 workers, beside the local process pool.

Usage::

    python benchmarks/bench_dask.py [--councils 100] [--dask-workers 1 2 4] [--repeat 1] [--keep DIR]

The workload is bench_normalise's (the mock web of ``--councils`` councils stored as a crawl
leaves it), plus its registers loaded for matching. Each run starts from a fresh copy and runs,
in a fresh process with Prefect already migrated:

* ``councilspend normalise --workers 2`` (the local process pool), then ``councilspend match``;
* ``councilspend normalise --dask --workers N`` (a LocalCluster of N single-threaded worker
  processes on 127.0.0.1, started and stopped by the command), then ``councilspend match --dask
  --workers N`` (supplier names in 4 blocks per worker).

Reported per run: the command's wall time (Prefect's temporary server and the cluster's start-up
included) and the flow's own phases as it logs them (select, parse, rebuild, record and commit).
On a 2-core machine more workers than cores only share the same two cores: 4 workers cannot
beat 2, and Dask's per-task overhead (a Prefect task run per batch) shows against the pool.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_normalise import build_output, councilspend, fresh_copy  # noqa: E402

from flows.demo import register_urls  # noqa: E402
from normalise.registers import load_registers  # noqa: E402
from normalise.store.layout import Layout  # noqa: E402


def load_mock_registers(out: Path) -> None:
    """Load the generated web's register files (by path) into ``out``, as ``registers load`` would."""
    web = Layout(out).demo_web
    files = register_urls(web / "registers", str(web))  # "<web>/registers/<file>": the files' paths
    load_registers(Layout(out).registers, **asdict(files))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--councils", type=int, default=100)
    parser.add_argument("--dask-workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="build the workload here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-dask-"))
    root.mkdir(parents=True, exist_ok=True)
    report: dict = {"cpus": os.cpu_count(), "councils": args.councils, "load_before": os.getloadavg()}
    runs = Path(tempfile.mkdtemp(prefix="runs-", dir=root))  # this benchmark's copies, deleted at its end
    try:
        pristine = root / "pristine"
        if not (pristine / "files.parquet").exists():
            report["workload"] = build_output(pristine, args.councils)
            load_mock_registers(pristine)
        warm = root / "warm"
        if not (warm / "files.parquet").exists():
            build_output(warm, 1)
        prefect_home = root / "prefect"
        councilspend(warm, prefect_home, "normalise", "--workers", "1")  # Prefect's database is migrated here
        setups = [("local pool, 2 processes", [])] + [
            (f"dask LocalCluster, {n} workers", ["--dask", "--workers", str(n)]) for n in args.dask_workers
        ]
        report["runs"] = []
        for _ in range(args.repeat):
            for name, options in setups:
                run = fresh_copy(pristine, runs)
                workers = options or ["--workers", "2"]
                result = {
                    "setup": name,
                    "normalise": councilspend(run, prefect_home, "normalise", *workers),
                    "match": councilspend(run, prefect_home, "match", *workers),
                }
                report["runs"].append(result)
                print(json.dumps(result), flush=True)
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(root if args.keep is None else runs, ignore_errors=True)


if __name__ == "__main__":
    main()
