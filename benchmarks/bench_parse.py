"""Benchmark the file parser against a bare ``pyarrow.csv.read_csv`` of the same bytes.

Usage::

    python benchmarks/bench_parse.py [--size-gb 1] [--sizes-gb 0.25,1] [--corpus ../shared/realdata]

For the real corpus (every file under spend/, gpc/, grants/) and for a synthetic
spend CSV of each requested size (written under /tmp and deleted afterwards) it
reports rows/s of ``parse_to_files``, rows/s of a bare ``pyarrow.csv.read_csv``
(the floor), their ratio (target: <= 4x) and the peak RSS of each parse, measured
in a fresh subprocess so sizes do not share memory (target: flat as the file grows).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "realdata"
HEADER = "Body Name,Payment Date,Transaction Number,Net Amount,Supplier Name,Expense Area,Expense Type,Purpose\n"
SUPPLIERS = np.array([f'"Supplier {i} Ltd"' if i % 7 else '"REDACTED PERSONAL DATA"' for i in range(5000)])
AREAS = np.array(["Adult Social Care", "Children's Services", "Highways", "Resources", "Housing"])
TYPES = np.array(["Professional Fees", "Third Party Payments", "Equipment", "Energy", "Rents"])


def write_synthetic_csv(path: Path, size_bytes: int, seed: int = 7) -> int:
    """A spend CSV of about ``size_bytes`` (dd/mm/yyyy dates, quoted thousands, negatives); returns rows."""
    rng = np.random.default_rng(seed)
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        while out.tell() < size_bytes:
            n = 200_000
            pence = rng.integers(-50_000, 5_000_000, n)
            pounds = [f"{'-' if p < 0 else ''}{abs(p) // 100:,}.{abs(p) % 100:02d}" for p in pence.tolist()]
            day, month = rng.integers(1, 29, n), rng.integers(1, 13, n)
            supplier = SUPPLIERS[rng.integers(0, len(SUPPLIERS), n)]
            area, kind = AREAS[rng.integers(0, 5, n)], TYPES[rng.integers(0, 5, n)]
            lines = [
                f'Example Council,{d:02d}/{m:02d}/2024,T{rows + i},"{a}",{s},{ar},{k},Payment for services\n'
                for i, (d, m, a, s, ar, k) in enumerate(
                    zip(day.tolist(), month.tolist(), pounds, supplier.tolist(), area.tolist(), kind.tolist())
                )
            ]
            out.write("".join(lines))
            rows += n
    return rows


def _measure_child(kind: str, path: str) -> dict:
    """Run in a subprocess: time one parse or bare read and report peak RSS."""
    import pyarrow.csv as pacsv

    from normalise.parsing.parse import parse_to_files

    start = time.perf_counter()
    if kind == "bare":
        result = {"rows": pacsv.read_csv(path).num_rows}
    else:
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
            summary = parse_to_files(Path(path), Path(tmp) / "out.parquet", council_code="BIR")
        result = {"rows": summary["rows"], "rejected": summary["rows_rejected"], "status": summary["status"]}
    result["seconds"] = time.perf_counter() - start
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def measure(kind: str, path: Path) -> dict:
    """``_measure_child`` in a fresh interpreter, so peak RSS belongs to this run alone."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(REPO)!r}); from benchmarks.bench_parse import _measure_child; "
        f"print(json.dumps(_measure_child({kind!r}, {str(path)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_corpus(corpus: Path) -> dict:
    """Parse every real file in one process; bare-read the CSVs that pyarrow can read at all."""
    import pyarrow.csv as pacsv

    from normalise.parsing.parse import parse_to_files

    files = sorted(p for d in ("spend", "gpc", "grants") if (corpus / d).is_dir() for p in (corpus / d).iterdir())
    rows = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        for i, path in enumerate(files):
            rows += parse_to_files(path, Path(tmp) / f"{i}.parquet")["rows"]
    parse_seconds = time.perf_counter() - start
    bare_rows, bare_seconds, bare_failed = 0, 0.0, 0
    for path in files:
        start = time.perf_counter()
        try:
            bare_rows += pacsv.read_csv(path, read_options=pacsv.ReadOptions(encoding="latin-1")).num_rows
        except Exception:  # many real files are not rectangular CSV: that is why the parser exists
            bare_failed += 1
        bare_seconds += time.perf_counter() - start
    return {
        "files": len(files),
        "rows": rows,
        "parse_seconds": round(parse_seconds, 2),
        "parse_rows_per_s": round(rows / parse_seconds),
        "bare_csv_rows": bare_rows,
        "bare_seconds": round(bare_seconds, 2),
        "bare_files_unreadable": bare_failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-gb", type=float, default=1.0, help="largest synthetic CSV (default 1 GB)")
    parser.add_argument("--sizes-gb", default=None, help="comma-separated sizes; default: 0.25 and --size-gb")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes_gb.split(",")] if args.sizes_gb else sorted({0.25, args.size_gb})
    report: dict = {"cpus": os.cpu_count()}
    if args.corpus.is_dir():
        report["real_corpus"] = bench_corpus(args.corpus)
        print(json.dumps({"real_corpus": report["real_corpus"]}), flush=True)
    report["synthetic"] = []
    for size in sizes:
        fd, name = tempfile.mkstemp(suffix=".csv", dir="/tmp", prefix="bench_parse_")
        os.close(fd)
        path = Path(name)
        try:
            rows = write_synthetic_csv(path, int(size * 1e9))
            bare, parsed = measure("bare", path), measure("parse", path)
            entry = {
                "size_gb": round(path.stat().st_size / 1e9, 3),
                "rows": rows,
                "bare_seconds": round(bare["seconds"], 2),
                "bare_rows_per_s": round(rows / bare["seconds"]),
                "bare_peak_rss_mb": round(bare["peak_rss_mb"]),
                "parse_seconds": round(parsed["seconds"], 2),
                "parse_rows_per_s": round(parsed["rows"] / parsed["seconds"]),
                "parse_peak_rss_mb": round(parsed["peak_rss_mb"]),
                "parsed_rows": parsed["rows"],
                "ratio": round(parsed["seconds"] / bare["seconds"], 2),
            }
        finally:
            path.unlink(missing_ok=True)
        report["synthetic"].append(entry)
        print(json.dumps(entry), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
