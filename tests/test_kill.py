"""The national flow killed with SIGKILL at random points of every stage, then run again, ends as if never killed.

A small mock council web is served from this process, so every response is counted. One
uninterrupted run is the baseline. Then each chain starts a fresh folder and runs
``councilspend run`` again and again, killing its whole process group (the flow, the crawler,
the parser processes) at a random moment of the next stage each time — crawl, normalise,
match, compliance, publish — and finishes with a run left alone. After every kill the folder
must show readers no staging file and no status without its data; the run after a crawl was
killed must download no body the killed crawl had stored; the finished folder must equal the
baseline: the same row_ids, totals per council, files.parquet rows (times aside, and which of two
copies of a transaction is kept, which follows first_seen_at), rejects,
compliance and suppliers. Two runs started on one folder: the second is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from flows.demo import register_urls
from mockweb.generate import generate
from mockweb.server import MockWeb
from normalise.publish.package import connect
from normalise.store.crawl_log import read_items
from normalise.store.layout import PARTITIONED, Layout

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
STAGES = ("crawl", "normalise", "match", "compliance", "publish")
CHAINS = 4
COUNCILS = 2
#: Columns of files.parquet that record when something happened, or how (a 304 revalidates a 200).
TIMES = ("first_seen_at", "last_seen_at", "fetched_at", "http_status")
PARTITION_FILE = re.compile(r"(spend|contracts)/council=[A-Z]{3}/year=(\d{4}|unknown)/part-0\.parquet$")
MARKER = re.compile(r"for flow '(\w+)'")


@dataclass
class Web:
    site: object
    server: MockWeb
    sources: Path
    register_args: list[str]


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    site = generate(root, councils=COUNCILS, seed=7)
    with MockWeb(site.root, record=True) as server:
        sources = root / "sources.yaml"
        sources.write_text(site.sources_yaml(server.base_url), encoding="utf-8")
        registers = register_urls(site.registers_dir, server.base_url)
        args = [
            f"--{name}={url}"
            for name in ("companies", "charities", "oscr", "ccni", "mutuals")
            for url in getattr(registers, name)
        ]
        yield Web(site, server, sources, args)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The runs' environment: one standing Prefect server for all of them (each run would start its own)."""
    home = tmp_path_factory.mktemp("prefect")
    offline = {
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
    }
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=os.environ | offline,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None and time.monotonic() < deadline, "the Prefect server did not start"
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{api}/health", timeout=2):
                break
            time.sleep(0.25)
        yield (
            os.environ
            | offline
            | {
                "PREFECT_API_URL": api,
                "COUNCILSPEND_DOWNLOAD_DELAY": "0",
                "COUNCILSPEND_CONCURRENCY": "16",
                "COUNCILSPEND_AUTOTHROTTLE": "0",
            }
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class Outcome:
    """How one run ended."""

    killed_in: str | None  # the stage running when it was killed; None if it ran to the end
    returncode: int
    stderr: list[str] = field(default_factory=list)


def national(out: Path, web: Web, env: dict[str, str], kill_in: str | None = None, delay: float = 0.0) -> Outcome:
    """``councilspend run`` into ``out``; with ``kill_in``, SIGKILL its process group ``delay`` s into that stage."""
    command = [sys.executable, "-m", "flows.cli", "run", "--out", str(out), "--sources", str(web.sources)]
    command += ["--as-of", web.site.as_of.isoformat(), "--workers", "2"]
    child = subprocess.Popen(
        command, cwd=REPO, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True
    )
    lines: list[str] = []
    stage: list[str | None] = [None]
    killed: list[str | None] = [None]

    def kill() -> None:
        if child.poll() is None:
            killed[0] = stage[0]
            os.killpg(child.pid, signal.SIGKILL)

    def read() -> None:
        assert child.stderr is not None
        for line in child.stderr:
            lines.append(line)
            found = MARKER.search(line)
            if found and found.group(1) in STAGES:
                stage[0] = found.group(1)
                if found.group(1) == kill_in:
                    threading.Timer(delay, kill).start()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    child.wait(timeout=300)
    reader.join(timeout=10)
    return Outcome(killed[0], child.returncode, lines)


def load_registers(out: Path, web: Web, env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "flows.cli", "registers", "load", "--out", str(out), *web.register_args]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def published(out: Path) -> dict:
    """What a researcher sees: read through the DuckDB views."""
    with connect(out) as con:
        row_ids = {r for (r,) in con.sql("SELECT row_id FROM spend").fetchall()}
        views = {v for (v,) in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        contracts = sorted(con.sql("SELECT row_id FROM contracts").fetchall()) if "contracts" in views else []
        totals = dict(con.sql("SELECT council_code, sum(amount) FROM spend GROUP BY 1").fetchall())
        files = {row["url"]: row for row in con.sql("SELECT * FROM files").to_arrow_table().to_pylist()}
        rejects = con.sql("SELECT count(*) FROM rejects").fetchall()[0][0]
        compliance = sorted(con.sql("SELECT council_code, period, dataset, status FROM compliance").fetchall())
        suppliers = sorted(con.sql("SELECT council_code, supplier_key, org_id FROM suppliers").fetchall())
    for row in files.values():
        for name in TIMES:
            row.pop(name)
        # Which copy of a transaction published twice with the same period is kept follows
        # first_seen_at (the earliest seen wins), a time; each file's rows read stay the same.
        row["rows_read"] = (row.pop("rows") or 0) + (row.pop("rows_rejected") or 0)
    return {
        "row_ids": row_ids,
        "contracts": contracts,
        "totals": {k: Decimal(v) for k, v in totals.items()},
        "files": files,
        "rejects": rejects,
        "compliance": compliance,
        "suppliers": suppliers,
    }


@pytest.fixture(scope="module")
def baseline(web, env, tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline")
    load_registers(out, web, env)
    registers = tmp_path_factory.mktemp("registers")
    shutil.copytree(Layout(out).registers, registers, dirs_exist_ok=True)
    done = national(out, web, env)
    assert done.returncode == 0, "".join(done.stderr[-40:])
    runs = pq.read_table(Layout(out).table("runs")).to_pylist()
    seconds = {r["flow"]: (r["finished_at"] - r["started_at"]).total_seconds() for r in runs if r["flow"] in STAGES}
    return published(out), seconds, registers


def check_killed_folder(out: Path) -> None:
    """What readers see in a killed run's folder: no staging file, no status without its data."""
    layout = Layout(out)
    for table in PARTITIONED:
        if not layout.partitioned(table).exists():
            continue
        with duckdb.connect() as con:
            glob = f"{layout.partitioned(table)}/**/*.parquet"
            names = con.sql(f"SELECT DISTINCT filename FROM read_parquet('{glob}', filename=true)").fetchall()
        for (name,) in names:
            assert PARTITION_FILE.search(name), f"a reader of {table}/** sees {name}"
    committing = layout.journal_dir.is_dir() and any(layout.journal_dir.iterdir())
    if layout.manifest.exists() and not committing:
        files = pq.read_table(layout.manifest).to_pylist()
        for council in {f["council_code"] for f in files}:
            claimed = sum(
                f["rows"] or 0 for f in {(f["sha256"]): f for f in files if f["council_code"] == council}.values()
            )
            published = [p for table in PARTITIONED for p in layout.partition_files(table, council)]
            present = sum(pq.read_metadata(p).num_rows for p in published)
            assert claimed == present, (
                f"{council}: files.parquet claims {claimed} rows, spend and contracts hold {present}"
            )
    if layout.duckdb.exists():
        with connect(out) as con:
            con.sql("SELECT count(*) FROM files").fetchall()  # the views are all there


def stored_by_crawl(out: Path) -> set[str]:
    """URLs whose bodies a (killed) crawl recorded and stored, and a check that it stored nothing unrecorded."""
    layout = Layout(out)
    items = [
        i for run in layout.crawl_runs.glob("*") for i in read_items(layout.crawl_items(run.name)) if i.get("sha256")
    ]
    raw = {p.name.split(".")[0] for p in layout.raw.rglob("*") if p.is_file()} if layout.raw.exists() else set()
    assert raw <= {i["sha256"] for i in items}, "an original was stored without being recorded"
    return {i["url"] for i in items if i["sha256"] in raw}


def test_killed_anywhere_the_national_flow_ends_as_if_it_never_was(web, env, baseline, tmp_path):
    expected, seconds, registers = baseline
    rng = random.Random(int(os.environ.get("COUNCILSPEND_KILL_SEED", "7")))
    kills: Counter[str] = Counter()
    report = []
    for chain in range(CHAINS):
        out = tmp_path / f"chain{chain}"
        shutil.copytree(registers, Layout(out).registers)
        stored: set[str] = set()  # bodies a killed crawl stored: the next run must not download them
        for stage in (*STAGES, None):  # ... then a run left alone
            for attempt in range(3):
                delay = rng.uniform(0, max(seconds[stage], 0.05)) if stage and attempt == 0 else 0.0
                before = len(web.server.log)
                outcome = national(out, web, env, kill_in=stage, delay=delay)
                base = web.server.base_url
                bodies = {base + h.target for h in web.server.log[before:] if h.status == 200 and h.method == "GET"}
                assert not bodies & stored, f"downloaded again: {sorted(bodies & stored)[:5]}"
                stored = set()
                report.append((chain, stage, round(delay, 3), outcome.killed_in, outcome.returncode))
                if outcome.killed_in is None:
                    assert outcome.returncode == 0, "".join(outcome.stderr[-40:])
                    if stage is None:
                        break
                    continue  # finished before the kill landed: try this stage again, sooner
                assert outcome.returncode == -signal.SIGKILL
                kills[outcome.killed_in] += 1
                check_killed_folder(out)
                if outcome.killed_in == "crawl":
                    stored = stored_by_crawl(out)
                break
        got = published(out)
        assert got["row_ids"] == expected["row_ids"]
        assert got["totals"] == expected["totals"]
        assert got["files"].keys() == expected["files"].keys()
        differences = {
            url: {
                name: (value, expected["files"][url][name])
                for name, value in row.items()
                if value != expected["files"][url][name]
            }
            for url, row in got["files"].items()
        }
        assert {url: diff for url, diff in differences.items() if diff} == {}
        for key in ("contracts", "rejects", "compliance", "suppliers"):
            assert got[key] == expected[key], key
        layout = Layout(out)
        for leftover in (layout.staging_root, layout.journal_dir, layout.trash_root, layout.incoming):
            assert not leftover.exists() or not any(leftover.iterdir()), leftover
    print("\nkill points (chain, stage aimed at, delay s, stage killed, exit):")
    for row in report:
        print("  ", row)
    assert sum(kills.values()) >= 20 and set(kills) == set(STAGES), kills


def test_a_second_run_on_the_same_folder_is_refused_at_once(web, env, baseline, tmp_path):
    _, _, registers = baseline
    out = tmp_path / "busy"
    shutil.copytree(registers, Layout(out).registers)
    command = [sys.executable, "-m", "flows.cli", "run", "--out", str(out), "--sources", str(web.sources)]
    first = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (Layout(out).lock.exists() and Layout(out).lock.read_text()):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        started = time.monotonic()
        second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert time.monotonic() - started < 15  # refused before any stage starts
        assert second.returncode == 2
        lines = [line for line in second.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and "in use by another run" in lines[0], lines
        holder = json.loads(Layout(out).lock.read_text())
        assert holder["pid"] == first.pid and "run --out" in holder["command"]
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0
