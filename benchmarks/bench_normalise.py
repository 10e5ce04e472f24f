"""The normalise stage on a national-shaped workload of many small files, beside the floor of reading them.

Usage::

    python benchmarks/bench_normalise.py [--councils 100] [--workers 2] [--repeat 1] [--keep DIR]

It generates the mock council web for ``--councils`` councils and stores every file the site serves
as a crawl would leave it (originals by sha256 under ``raw/``, ``files.parquet`` with council, URL,
dataset, period), without crawling. Then it reports, side by side:

* **floor**: open and read every stored file once: CSVs with ``pyarrow.csv`` (as Latin-1), workbooks
  with python-calamine (every sheet), in one process. Only reading: no header search, no value
  parsing, no output written; files pyarrow cannot read as they are (ragged rows) are skipped and
  counted as ``unreadable``, so the floor is lower than any reading of all of them;
* **stage**: the normalise flow run where Prefect is already up, as the demo, ``councilspend run`` and a
  served national deployment run it (a subflow of the national flow): a fresh process starts Prefect
  with a no-op flow run, then the stage is timed from its call to its return. Beside it, the same stage
  as a command, ``councilspend normalise --workers N`` in a fresh process, which adds Python's and
  Prefect's start (its database migrated beforehand, its temporary server started and stopped by the
  command). Each with the flow's own phases as it logs them, and the ratio to the floor read just before it;
* **the stage without Prefect** (``normalise_folder`` called directly, as the flow does): its
  phases (select, parse, rebuild, record and commit) and, before it, worker start-up and hand-off
  alone (the same pool running no-op batches);
* **where a file's parse goes**: the stage's parse batches run in one process without threads under
  cProfile (so the parts add up): hashing, format and encoding detection, header and column inference,
  reading cells, normalising rows (alone or with alike small files), row ids and supplier keys, staging
  writes (Arrow IPC files), and committing each parse (its JSON summary, a batch's flush).

Timings on a shared machine are noisy: run with ``--repeat 3`` and read the spread. Each measurement also
reports what creating a file costs at that moment (``file creation us``, see :func:`file_creation_us`): the
stage creates some 8,000, so on a disk where that cost has risen tenfold (recent mass deletions on ext4 without a
journal) the stage is slower for reasons outside the code; leave the disk a few minutes after deleting much.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mockweb.answers import load_answer_key  # noqa: E402
from mockweb.generate import generate  # noqa: E402
from mockweb.offline import BASE_URL as OFFLINE_URL  # noqa: E402
from mockweb.offline import OfflineWeb  # noqa: E402
from normalise.parsing.sniff import sniff_format  # noqa: E402
from normalise.parsing.tables import HEAD_BYTES  # noqa: E402
from normalise.schema import arrow_schema  # noqa: E402
from normalise.store.layout import Layout  # noqa: E402
from normalise.store.parquet_io import write_table  # noqa: E402
from normalise.store.raw import put_bytes  # noqa: E402

BASE_URL = "http://127.0.0.1:8765"
#: cProfile functions whose cumulative time is one part of a file's parse: part -> (file suffix, function names)
PARSE_PARTS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "hash the file": (("store/raw.py", ("sha256_of",)),),
    "sniff format and encoding": (
        ("parsing/sniff.py", ("sniff_format",)),
        ("parsing/encoding.py", ("detect_encoding",)),
    ),
    "header and column inference": (
        ("parsing/header.py", ("find_header",)),
        ("parsing/datasets.py", ("not_spend_reason", "dataset_from_values", "detect_dataset")),
        ("parsing/council_inference.py", ("infer_council",)),
    ),
    "read cells (CSV chunks, workbook rows)": (
        ("parsing/tables.py", ("_csv_batches", "_stream_batches", "_list_batches", "_workbook_grids", "_csv_grid")),
    ),
    "find header rows mid-sheet": (("parsing/sheet.py", ("segments",)),),
    # a file's own parts and the groups of alike small files normalised together (see normalise.parsing.together)
    "normalise rows": (("parsing/parse.py", ("_normalise",)), ("parsing/together.py", ("normalise_together",))),
    "row ids, supplier keys, provenance": (("parsing/parse.py", ("_finish_rows",)),),
    "staging writes (Arrow IPC)": (("parsing/parse.py", ("write_batch", "close")),),
    "commit each parse (summaries, a batch's flush)": (
        ("store/work.py", ("save_parse",)),
        ("parsing/batch.py", ("_flush",)),
    ),
}


def build_output(out: Path, councils: int) -> dict:
    """An output folder holding what a crawl of the mock web would have stored; returns counts."""
    site = generate(out / "_mockweb", councils=councils)
    key = load_answer_key(site.root)
    web = OfflineWeb(site.root)
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    rows = []
    for f in key.files[key.files["http_status"] == 200].itertuples():
        answer = web.get(OFFLINE_URL + f.url_path)
        if answer is None:
            continue
        body = answer[0]
        fmt = sniff_format(body[:HEAD_BYTES])
        sha, _ = put_bytes(Layout(out), body, fmt)
        rows.append(
            {
                "council_code": f.council_code,
                "url": BASE_URL + f.url_path,
                "first_seen_at": now,
                "last_seen_at": now,
                "fetched_at": now,
                "http_status": 200,
                "size": len(body),
                "sha256": sha,
                "format": fmt,
                # a crawl guesses the dataset from the link: registers come with no hint
                "dataset": None if f.dataset == "contracts" else f.dataset,
                "period_start": f.period_start,
                "period_end": f.period_end,
            }
        )
    write_table(pa.Table.from_pylist(rows, schema=arrow_schema("files")), Layout(out).manifest)
    return {"files": len(rows), "councils": len(key.files["council_code"].unique())}


def floor_seconds(out: Path) -> dict:
    """Open and read every stored file with pyarrow (CSV) or calamine (workbooks)."""
    import pyarrow.csv as pacsv
    from python_calamine import CalamineWorkbook

    paths = sorted(p for p in (out / "raw").rglob("*") if p.is_file())
    start, cpu = time.perf_counter(), time.process_time()
    rows = unreadable = 0
    for path in paths:
        try:
            if path.suffix == ".csv":
                rows += pacsv.read_csv(path, read_options=pacsv.ReadOptions(encoding="latin-1")).num_rows
            elif path.suffix in (".xlsx", ".xls", ".ods"):
                book = CalamineWorkbook.from_path(str(path))
                rows += sum(len(book.get_sheet_by_name(n).to_python()) for n in book.sheet_names)
        except Exception:  # ragged or odd files: the parser reads them, the floor does not
            unreadable += 1
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "files": len(paths),
        "rows": rows,
        "unreadable": unreadable,
    }


def _timed_child(argv: list[str], prefect_home: Path, what: str) -> tuple[float, subprocess.CompletedProcess]:
    """``python <argv>`` in the repository with Prefect's home set (already migrated), never on Dask: wall seconds
    and the finished process; a failure stops the benchmark with the child's last words."""
    env = {**os.environ, "PREFECT_HOME": str(prefect_home)}
    env.pop("COUNCILSPEND_DASK_ADDRESS", None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-3000:]}")
    return seconds, done


def _observed(seconds: float, stderr: str) -> dict:
    """Wall seconds, the machine's load now, and the normalise flow's phases as it logged them."""
    phases = re.search(r"rebuilt \d+ councils \(([^)]*)\)", stderr)
    return {
        "seconds": round(seconds, 2),
        "load": round(os.getloadavg()[0], 1),
    } | ({"flow phases": phases.group(1)} if phases else {})


def councilspend(out: Path, prefect_home: Path, *args: str) -> dict:
    """A ``councilspend`` command on ``out`` in a fresh process (see :func:`_observed` for what it reports)."""
    seconds, done = _timed_child(["-m", "flows.cli", *args, "--out", str(out)], prefect_home, " ".join(args))
    return _observed(seconds, done.stderr)


def command_seconds(out: Path, workers: int, prefect_home: Path) -> dict:
    """``councilspend normalise --workers N`` (see :func:`councilspend`)."""
    return councilspend(out, prefect_home, "normalise", "--workers", str(workers))


#: Run in a fresh process: Prefect started by a no-op flow run (heartbeat off, as the demo runs), then the stage timed.
_IN_PREFECT = """
import json, sys, time
from pathlib import Path
from prefect import flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
import flows
from flows.normalise_files import normalise_flow

@flow(name="warm-up")
def warm_up() -> None:
    return None

with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
    warm_up()
    start = time.perf_counter()
    normalise_flow(Path(sys.argv[1]), workers=int(sys.argv[2]))
    print(json.dumps({"seconds": round(time.perf_counter() - start, 2)}))
"""


def stage_seconds(out: Path, workers: int, prefect_home: Path) -> dict:
    """The normalise flow run in a process whose Prefect is already up (see :data:`_IN_PREFECT`): its own timing."""
    _, done = _timed_child(["-c", _IN_PREFECT, str(out), str(workers)], prefect_home, "the normalise flow")
    return _observed(json.loads(done.stdout.strip().splitlines()[-1])["seconds"], done.stderr)


def fresh_copy(pristine: Path, runs: Path) -> Path:
    """A new copy of the stored workload under ``runs``, nothing normalised yet, on disk as a crawl leaves its originals
    (flushed: otherwise the stage's own flushes would write the copy's 300 MB and time that too).

    Earlier copies stay until the benchmark ends. Deleting one seconds before a timing made every file the stage
    then created cost more: ext4 without a journal (as on this machine) passes over recently freed inodes when it
    allocates one, and that showed as 1.5 to 5.5 s of system CPU in identical runs.
    """
    runs.mkdir(parents=True, exist_ok=True)
    run = runs / str(len(list(runs.iterdir())))
    shutil.copytree(pristine, run, ignore=shutil.ignore_patterns("_mockweb"))
    os.sync()
    return run


def file_creation_us(runs: Path, files: int = 300) -> float:
    """CPU microseconds to create one small file where the copies live, now (the files are kept, like the copies).

    The stage creates about two files per parse. On ext4 without a journal (this machine's disk) a creation passes
    over every inode freed in the last one to six minutes, so the same code measured 25 us a file on a quiet disk and
    200-840 us minutes after some 100,000 files were deleted (a test run, another benchmark's clean-up).
    """
    folder = Path(tempfile.mkdtemp(prefix="probe-", dir=runs))
    start = time.process_time()
    for i in range(files):
        (folder / f"{i}.json").write_bytes(b"{}")
    return round((time.process_time() - start) / files * 1e6)


def _nothing(batch: list, root: Path) -> list:
    return []


def _jobs(out: Path) -> list:
    """The stage's parse jobs on a fresh folder, as the flow selects them."""
    from flows import normalise_files as nf

    layout = Layout(out)
    rows = pq.read_table(layout.manifest).to_pylist()
    return nf.pending_jobs(layout, rows, nf.load_parses(layout, rows), {}, nf.Selection())


def stage_parts(out: Path, workers: int) -> dict:
    """The stage run directly (no Prefect) with its own phase timers, after the workers' start-up and hand-off alone."""
    from flows import normalise_files as nf
    from flows.cluster import LocalWorkers
    from normalise.store.folder import open_folder

    parts: dict[str, float] = {}
    start = time.perf_counter()
    with LocalWorkers(workers, nf.WORKER_CODE) as pool:
        pool.run(_nothing, nf.batches(_jobs(out), workers), "no-op batches", root=out)
    parts["worker start-up and hand-off (no-op batches)"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    with open_folder(out, "bench") as layout, LocalWorkers(workers, nf.WORKER_CODE) as pool:  # as the flow opens them
        result = nf.normalise_folder(layout, pool, workers, {}, nf.Selection())
    parts |= result.seconds
    parts["total (no Prefect)"] = round(time.perf_counter() - start, 2)
    return parts | {"files": result.record.files_new, "councils rebuilt": result.rebuilt}


class _Inline:
    """A stand-in executor that runs each submitted call at once, so cProfile sees it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: object, *args: object) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))  # type: ignore[operator]
        return future


def parse_profile(out: Path, workers: int) -> dict:
    """The stage's parse in this process, batch by batch as its workers run it, without threads, under cProfile;
    seconds per part."""
    from flows import normalise_files as nf
    from normalise.parsing import batch, parse, tables

    jobs = _jobs(out)
    saved = (parse.prefetched, tables.prefetched, parse.ThreadPoolExecutor)
    parse.prefetched = tables.prefetched = lambda items, threaded=True: items  # type: ignore[assignment]
    parse.ThreadPoolExecutor = _Inline  # type: ignore[assignment,misc]
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for group in nf.batches(jobs, workers):
        batch.parse_batch(group, out)
    profiler.disable()
    total = time.perf_counter() - start
    parse.prefetched, tables.prefetched, parse.ThreadPoolExecutor = saved  # type: ignore[assignment,misc]
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    parts = {}
    for part, where in PARSE_PARTS.items():
        seconds = 0.0
        for (filename, _, name), (_, _, _, cumulative, _) in stats.items():
            if any(filename.endswith(suffix) and name in names for suffix, names in where):
                seconds += cumulative
        parts[part] = round(seconds, 2)
    parts["everything else"] = round(total - sum(parts.values()), 2)
    return {"files": len(jobs), "seconds": round(total, 2), "ms_per_file": round(1000 * total / len(jobs), 1), **parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--councils", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="times to run the stage and its parts")
    parser.add_argument("--keep", type=Path, default=None, help="build the workload here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-normalise-"))
    root.mkdir(parents=True, exist_ok=True)
    report: dict = {"cpus": os.cpu_count(), "councils": args.councils, "workers": args.workers}
    runs = Path(tempfile.mkdtemp(prefix="runs-", dir=root))  # this benchmark's copies, deleted at its end
    try:
        pristine = root / "pristine"
        if not (pristine / "files.parquet").exists():
            report["workload"] = build_output(pristine, args.councils)
        warm = root / "warm"
        if not (warm / "files.parquet").exists():
            build_output(warm, 1)
        prefect_home = root / "prefect"
        command_seconds(warm, 1, prefect_home)  # Prefect's database is created and migrated here
        measures = {
            "stage": (lambda run: stage_seconds(run, args.workers, prefect_home), "seconds"),
            "command": (lambda run: command_seconds(run, args.workers, prefect_home), "seconds"),
            "parts": (lambda run: stage_parts(run, args.workers), "total (no Prefect)"),
        }
        for _ in range(args.repeat):
            for name, (measure, seconds) in measures.items():
                run = fresh_copy(pristine, runs)
                # The floor is read just before each measurement: this machine's speed drifts by a fifth
                # within minutes, so a ratio is only fair between two timings taken together.
                floor = floor_seconds(pristine)
                creation = file_creation_us(runs)
                result = measure(run) | {"floor": floor["seconds"], "file creation us": creation}
                result["ratio_to_floor"] = round(result[seconds] / floor["seconds"], 2)
                report.setdefault("floor", floor)
                report.setdefault(name, []).append(result)
                print(json.dumps({name: result}), flush=True)
        for name in measures:
            report[f"ratio_{name}_to_floor"] = [r["ratio_to_floor"] for r in report[name]]
        report["parse_per_file"] = parse_profile(fresh_copy(pristine, runs), args.workers)
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(root if args.keep is None else runs, ignore_errors=True)


if __name__ == "__main__":
    main()
