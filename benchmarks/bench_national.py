"""The national flow end to end on a national-size mock web, first run and incremental re-run.

Run: ``python benchmarks/bench_national.py [--councils 397] [--years 10] [--web DIR] [--out DIR] [--json FILE]``

Generates (or reuses, with ``--web``) a mock council web of ``--councils`` councils publishing
monthly for ``--years`` years, serves it from its own process with every council on its own
loopback address (the crawler's per-host limits hold per council), and runs the national flow
(crawl, normalise, registers, match, compliance, publish) twice into one fresh output folder: the
first run finds everything new, the second nothing changed (304s). The flow runs in a child
process; the parent samples the memory and CPU of its whole process tree (crawler, parse workers,
the local Prefect server) every 0.2 s and cuts the samples into stages by the ``runs`` table.

Prints, per run and stage: wall seconds, files/s, rows/s, peak RSS of the tree, and the CPU seconds
of each kind of process (where the time goes); ``--json`` writes the same figures. ``--profile``
runs the flow under cProfile and prints the costliest functions of the flow's own process.
The crawler runs with the demo's loopback settings (no delay, no AutoThrottle).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psutil
from bench_crawl import _wait_for
from bench_mockweb import _free_port, _serve

from mockweb.generate import generate
from mockweb.server import MockWeb
from normalise.store.layout import Layout

REPO = Path(__file__).resolve().parents[1]
STAGES = ("crawl", "normalise", "registers", "match", "compliance", "publish")
SAMPLE_SECONDS = 0.2


@dataclass
class Sample:
    """The process tree at one moment: seconds since the run began, RSS, CPU seconds by kind of process."""

    at: float
    rss: int
    cpu: dict[str, float]


@dataclass
class Stage:
    """One stage of one run."""

    name: str
    seconds: float
    files: int = 0
    rows: int = 0
    peak_rss_mib: int = 0
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def process_kind(cmdline: list[str]) -> str:
    """Which part of the flow a process of the tree is, from its command line.

    >>> process_kind(["python", "-m", "crawler.run", "--sources", "s.yaml"])
    'crawler'
    >>> process_kind(["python", "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"])
    'prefect server'
    >>> process_kind(["python", "-c", "from multiprocessing.forkserver import main; main()"])
    'workers'
    """
    line = " ".join(cmdline)
    if "crawler.run" in line:
        return "crawler"
    if "prefect.server" in line or "uvicorn" in line:
        return "prefect server"
    if "multiprocessing" in line or "forkserver" in line or "spawn_main" in line:
        return "workers"
    return "flow"


def watch(proc: subprocess.Popen, started: float) -> list[Sample]:
    """Sample the tree under ``proc`` until it exits; CPU seconds of exited children are kept at their last value."""
    root, samples = psutil.Process(proc.pid), []
    last_cpu: dict[int, tuple[str, float]] = {}
    while proc.poll() is None:
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss = 0
        for member in members:
            try:
                with member.oneshot():
                    rss += member.memory_info().rss
                    times = member.cpu_times()
                    kind = last_cpu.get(member.pid, (None, 0.0))[0] or process_kind(member.cmdline())
                    last_cpu[member.pid] = (kind, times.user + times.system)
            except psutil.Error:
                continue
        cpu: Counter[str] = Counter()
        for kind, seconds in last_cpu.values():
            cpu[kind] += seconds
        samples.append(Sample(time.monotonic() - started, rss, dict(cpu)))
        time.sleep(SAMPLE_SECONDS)
    return samples


def run_flow(job: Path, env: dict[str, str], profile: Path | None) -> tuple[float, float, list[Sample], list[list]]:
    """Run the national flow in a child process: when it started (epoch), its wall seconds, the samples
    and the child's stage marks."""
    marks = job.with_suffix(".marks.json")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(job), "--marks", str(marks)]
    if profile:
        cmd += ["--profile-to", str(profile)]
    began, started = time.time(), time.monotonic()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        samples = watch(proc, started)
        proc.wait()
        seconds = time.monotonic() - started
        errors.seek(0)
        tail = errors.read().decode("utf-8", "replace")[-3000:]
    if proc.returncode != 0:
        raise RuntimeError(f"national flow failed:\n{tail}")
    return began, seconds, samples, json.loads(marks.read_text(encoding="utf-8"))


def stages_of(out: Path, marks: list[list], started: float, samples: list[Sample]) -> list[Stage]:
    """Cut the samples into the stages the child marked (name, epoch begin, epoch end); the crawl's file
    count from the ``runs`` table."""
    import duckdb

    crawled = duckdb.execute(
        "SELECT sum(files_new + files_changed + files_unchanged + files_failed) FROM read_parquet(?) "
        "WHERE flow = 'crawl' AND epoch(started_at) >= ?",
        [str(Layout(out).table("runs")), started],
    ).fetchone()[0]
    found = []
    imports, stages = marks[0], sorted(marks[1:], key=lambda m: m[1])
    if stages:  # the national flow's own start: the local Prefect server, the flow run
        marks = [imports, ["prefect start", imports[2], stages[0][1]], *stages]
    for name, begins, ends in marks:
        window = [s for s in samples if begins - started <= s.at <= ends - started]
        stage = Stage(name, ends - begins, files=int(crawled or 0) if name == "crawl" else 0)
        if window:
            stage.peak_rss_mib = round(max(s.rss for s in window) / 2**20)
            first, last = window[0].cpu, window[-1].cpu
            stage.cpu_seconds = {
                k: round(v - first.get(k, 0.0), 1) for k, v in last.items() if v - first.get(k, 0.0) >= 0.1
            }
        found.append(stage)
    return found


def figures(out: Path) -> dict[str, int]:
    """What the output folder holds: files, spend and reject rows, suppliers, compliance rows, partition files."""
    import duckdb

    layout = Layout(out)

    def rows(paths: list[Path]) -> int:
        found = [str(p) for p in paths if p.exists()]
        return duckdb.execute("SELECT count(*) FROM read_parquet(?)", [found]).fetchone()[0] if found else 0

    got = {
        "files": rows([layout.table("files")]),
        "spend_rows": rows(layout.spend_files()),
        "reject_rows": rows([layout.table("rejects")]),
        "suppliers": rows([layout.table("suppliers")]),
        "compliance_rows": rows([layout.table("compliance")]),
    }
    got["parquet_files"] = len(layout.spend_files()) + len(layout.partition_files("contracts"))
    got["output_mib"] = round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20)
    return got


def assign_work(stages: list[Stage], held: dict[str, int]) -> None:
    """Give each stage the rows it handled: the parse and everything after it read every spend row;
    the match handles supplier names."""
    for stage in stages:
        if stage.name in ("normalise", "compliance", "publish"):
            stage.rows = held["spend_rows"] + held["reject_rows"]
        elif stage.name == "match":
            stage.rows = held["suppliers"]
        if stage.name in ("normalise", "publish"):
            stage.files = held["files"] if stage.name == "normalise" else held["parquet_files"]


def table(label: str, seconds: float, stages: list[Stage]) -> str:
    lines = [
        f"{label}: {seconds:.0f} s wall",
        f"{'stage':<11} {'seconds':>8} {'files':>8} {'files/s':>8} {'rows':>10} {'rows/s':>9} {'peak MiB':>8}  cpu s",
    ]
    for s in stages:
        cpu = ", ".join(f"{k} {v:.0f}" for k, v in sorted(s.cpu_seconds.items(), key=lambda kv: -kv[1]))
        lines.append(
            f"{s.name:<11} {s.seconds:>8.1f} {s.files:>8} {s.files_per_s:>8.1f} {s.rows:>10} {s.rows_per_s:>9.0f}"
            f" {s.peak_rss_mib:>8.0f}  {cpu}"
        )
    accounted = sum(s.seconds for s in stages)
    lines.append(f"{'(rest)':<11} {seconds - accounted:>8.1f}  interpreter start, Prefect shut-down, hand-overs")
    return "\n".join(lines)


def timed(stage: Callable[..., Any], name: str, marks: list[list]) -> Callable[..., Any]:
    """``stage`` (a subflow the national flow calls), noting when each call begins and ends."""

    def call(*args: Any, **kwargs: Any) -> Any:
        begins = time.time()
        try:
            return stage(*args, **kwargs)
        finally:
            marks.append([name, begins, time.time()])

    return call


def child(job_path: Path, profile_to: Path | None, marks_to: Path) -> None:
    """The national flow itself, as ``councilspend demo`` runs it (heartbeat off), its stages timed."""
    marks: list[list] = [["imports", time.time(), 0.0]]
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    import flows.national
    from flows.national import NationalRun, RegisterSources, national_flow

    for name in STAGES:  # the national flow looks its stages up in its module when it calls them
        setattr(flows.national, f"{name}_flow", timed(getattr(flows.national, f"{name}_flow"), name, marks))

    job = json.loads(job_path.read_text(encoding="utf-8"))
    run = NationalRun(
        out=Path(job["out"]),
        sources=Path(job["sources"]),
        councils=job["councils"],
        registers=RegisterSources(**{k: tuple(v) for k, v in job["registers"].items()}),
        as_of=date.fromisoformat(job["as_of"]),
        workers=job["workers"],
        council_retries=0,
    )
    profiler = cProfile.Profile() if profile_to else None
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        if profiler:
            profiler.enable()
        marks[0][2] = time.time()  # imports done
        national_flow(run)
        if profiler and profile_to:
            profiler.disable()
            profiler.dump_stats(profile_to)
    marks_to.write_text(json.dumps(marks), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=397, help="how many councils (397: every council)")
    parser.add_argument("--years", type=int, default=10, help="years of monthly files, up to September 2026")
    parser.add_argument("--web", type=Path, default=None, help="where to generate (or reuse) the mock web")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temp folder, removed)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here as JSON")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=2, help="1: first run only; 2: and the incremental re-run")
    parser.add_argument("--profile", action="store_true", help="profile the flow's own process (cProfile)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--marks", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profile_to, args.marks)
        return
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        report = bench(args, Path(tmp))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


def bench(args: argparse.Namespace, tmp: Path) -> dict:
    """Generate, serve, run the flow ``args.runs`` times; the figures."""
    from flows.demo import LOOPBACK_CRAWL_SETTINGS, register_urls

    web_root = args.web or tmp / "mockweb"
    started = time.monotonic()
    site = generate(web_root, councils=args.councils, years=args.years)
    generated = time.monotonic() - started
    web_files = sum(1 for _ in (web_root / "site").rglob("*") if _.is_file())
    web_mib = sum(p.stat().st_size for p in web_root.rglob("*") if p.is_file()) / 2**20
    print(
        f"mock web: {args.councils} councils x {args.years} years, {web_files:,} files, {web_mib:,.0f} MiB"
        f" ({generated:.0f} s to generate or reuse)",
        flush=True,
    )
    report: dict = {
        "councils": args.councils,
        "years": args.years,
        "web": {"files": web_files, "mib": round(web_mib), "seconds": round(generated, 1)},
        "runs": [],
    }
    out = args.out or tmp / "out"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(web_root), port, True), daemon=True)
    server.start()
    try:
        _wait_for(port)
        base = f"http://127.0.0.1:{port}"
        own = MockWeb(web_root, port=port, council_hosts=True).council_base_urls()  # addresses only
        sources = tmp / "sources.yaml"
        sources.write_text(site.sources_yaml(base, own), encoding="utf-8")
        job = tmp / "job.json"
        registers = {k: list(v) for k, v in asdict(register_urls(site.registers_dir, base)).items()}
        job.write_text(
            json.dumps(
                {
                    "out": str(out),
                    "sources": str(sources),
                    "councils": site.council_codes,
                    "registers": registers,
                    "as_of": site.as_of.isoformat(),
                    "workers": args.workers,
                }
            ),
            encoding="utf-8",
        )
        env = dict(os.environ, **LOOPBACK_CRAWL_SETTINGS)
        env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        for label in ("first", "incremental")[: args.runs]:
            load = os.getloadavg()
            profile = tmp / f"{label}.prof" if args.profile else None
            serving = psutil.Process(server.pid).cpu_times()
            began, seconds, samples, marks = run_flow(job, env, profile)
            served = psutil.Process(server.pid).cpu_times()
            web_cpu = served.user + served.system - serving.user - serving.system
            stages = stages_of(out, marks, began, samples)
            held = figures(out)
            assign_work(stages, held)
            print(table(f"{label} run ({args.councils} councils x {args.years} years)", seconds, stages))
            print(f"  output: {held}; mock web server {web_cpu:.0f} cpu s", flush=True)
            print(f"  load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f} (2 cores)", flush=True)
            if profile:
                pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(25)
            report["runs"].append(
                {
                    "run": label,
                    "seconds": round(seconds, 1),
                    "peak_rss_mib": round(max((s.rss for s in samples), default=0) / 2**20),
                    "mock_web_cpu_seconds": round(web_cpu, 1),
                    "load_before": round(load[0], 2),
                    "load_after": round(os.getloadavg()[0], 2),
                    "output": held,
                    "stages": [
                        {**asdict(s), "files_per_s": round(s.files_per_s, 1), "rows_per_s": round(s.rows_per_s)}
                        for s in stages
                    ],
                }
            )
    finally:
        server.terminate()
        server.join()
    return report


if __name__ == "__main__":
    main()
