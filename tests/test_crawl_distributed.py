"""A crawl shared by several crawler processes through a real Redis server (crawler/distributed.py).

Two ``python -m crawler.run --redis`` processes crawl the mock web on loopback into one folder and
must leave the same ``files.parquet`` rows (times aside), ``pages.parquet`` and raw store as one
process alone; each council host must never see more than two requests at once from both together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import redis

from crawler.distributed import CoordinationError, HostLeases, config_digest, default_crawl_name, join
from mockweb.generate import generate
from mockweb.server import MockWeb

pytestmark = pytest.mark.distributed

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = {"COUNCILSPEND_DOWNLOAD_DELAY": "0", "COUNCILSPEND_AUTOTHROTTLE": "0", "COUNCILSPEND_TIMEOUT": "10"}
#: Columns that say when, not what: they differ between any two crawls.
TIMES = {"first_seen_at", "last_seen_at", "fetched_at", "checked_at", "last_ok_at", "run_id"}


def _rows(path: Path, key: tuple[str, ...]) -> list[dict]:
    rows = [{k: v for k, v in row.items() if k not in TIMES} for row in pq.read_table(path).to_pylist()]
    return sorted(rows, key=lambda row: tuple(str(row[k]) for k in key))


def _raw(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out / "raw")) for p in (out / "raw").rglob("*") if p.is_file())


def _crawler(sources: Path, out: Path, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "crawler.run", "--sources", str(sources), "--out", str(out), *args]
    env = os.environ | LOOPBACK
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = proc.communicate(timeout=300)
    return proc.returncode, stdout, stderr


@pytest.fixture(scope="module")
def crawls(tmp_path_factory, redis_url):
    """The same mock web crawled by two processes sharing Redis, then by one process alone."""
    tmp = tmp_path_factory.mktemp("distributed")
    site = generate(tmp / "web", councils=3)
    # latency keeps requests in flight long enough for both processes' requests to a host to overlap
    with MockWeb(site.root, council_hosts=True, latency=0.03) as web:
        sources = tmp / "sources.yaml"
        sources.write_text(site.sources_yaml(web.base_url, web.council_base_urls()), encoding="utf-8")
        shared = [
            _crawler(
                sources,
                tmp / "shared",
                "--redis",
                redis_url,
                "--crawl-name",
                "weekly",
                "--log-file",
                str(tmp / f"w{i}.log"),
            )
            for i in range(2)
        ]
        results = [_finish(proc) for proc in shared]
        busiest = dict(web.max_in_flight)
        late = _finish(_crawler(sources, tmp / "shared", "--redis", redis_url, "--crawl-name", "weekly"))
        alone = _finish(_crawler(sources, tmp / "alone", "--run-id", "alone", "--log-file", str(tmp / "alone.log")))
    for code, _, stderr in [*results, alone]:
        assert code == 0, stderr[-3000:]
    stats = [json.loads(stdout.strip().splitlines()[-1]) for _, stdout, _ in results]
    return {"tmp": tmp, "stats": stats, "busiest": busiest, "late": late, "web": web, "redis": redis_url}


def test_two_processes_leave_the_same_manifest_pages_and_raw_store_as_one(crawls):
    shared, alone = crawls["tmp"] / "shared", crawls["tmp"] / "alone"
    files = _rows(shared / "files.parquet", ("url",))
    assert len(files) > 100 and any(row["sha256"] for row in files)
    assert files == _rows(alone / "files.parquet", ("url",))
    assert _rows(shared / "pages.parquet", ("council_code", "url")) == _rows(
        alone / "pages.parquet", ("council_code", "url")
    )
    assert _raw(shared) == _raw(alone)


def test_both_processes_crawled_and_the_leader_merged_both_logs(crawls):
    leader = next(s for s in crawls["stats"] if "manifest" in s)
    follower = next(s for s in crawls["stats"] if "manifest" not in s)
    assert sorted(leader["runs"]) == ["weekly.w1", "weekly.w2"]
    shared = crawls["tmp"] / "shared"
    for run_id in leader["runs"]:
        assert (shared / "_crawl" / run_id / "stats.json").is_file()  # merged, so not taken for an interrupted crawl
    assert leader["manifest"]["new"] == len(
        [r for r in pq.read_table(shared / "files.parquet").to_pylist() if r["sha256"]]
    )
    # each process's own figures add up to the whole crawl's (which of them did more is the scheduler's business)
    own = [json.loads((shared / "_crawl" / run_id / "stats.json").read_text())["requests"] for run_id in leader["runs"]]
    assert sum(own) == leader["requests"] > 0 and follower["requests"] in own


def test_each_host_gets_at_most_two_requests_at_once_from_both_processes(crawls):
    busiest, web = crawls["busiest"], crawls["web"]
    assert set(busiest) == set(web.council_hosts.values())
    assert max(busiest.values()) == 2, busiest


def test_a_finished_crawl_is_not_joined_again(crawls):
    code, _, stderr = crawls["late"]
    assert code == 2
    assert "crawl weekly is done: start a new one with another --crawl-name" in stderr
    leftovers = redis.Redis.from_url(crawls["redis"]).keys("councilspend:crawl:weekly:*")
    assert leftovers == [b"councilspend:crawl:weekly:run"]  # queues, filters and leases dropped


def test_without_a_name_the_weeks_next_crawl_follows_a_finished_one(redis_url):
    first = join(redis_url, None, "cfg")
    assert first.name == default_crawl_name() and first.leader
    first.done()
    second = join(redis_url, None, "cfg", lead=False)
    assert second.name == f"{default_crawl_name()}.2" and not second.leader  # waits for a leader to come


def test_a_process_with_other_sources_is_refused(redis_url, tmp_path):
    first = tmp_path / "a.yaml"
    first.write_text("councils: {}\n", encoding="utf-8")
    join(redis_url, "config-check", config_digest(first, None))
    with pytest.raises(CoordinationError, match="other sources or councils"):
        join(redis_url, "config-check", config_digest(first, ["BIR"]))


def test_a_newcomer_takes_over_from_a_leader_that_stopped(redis_url):
    first = join(redis_url, "takeover", "cfg")
    second = join(redis_url, "takeover", "cfg")
    assert first.leader and not second.leader
    redis.Redis.from_url(redis_url).zadd(first.key("alive"), {"1": 0})  # worker 1's heartbeat lapsed
    third = join(redis_url, "takeover", "cfg")
    assert third.leader and third.worker == 3


def test_host_leases_hold_the_limit_and_the_delay_across_holders_and_lapse(redis_url):
    from scrapy import Request

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    one = HostLeases(client, "test:leases", "machine-a:1", limit=2, lease_seconds=0.5)
    two = HostLeases(client, "test:leases", "machine-b:1", limit=2, lease_seconds=0.5)
    a, b, c = Request("http://x/a"), Request("http://x/b"), Request("http://x/c")
    assert one.take("x", a, 0) == 0 and two.take("x", b, 0) == 0
    assert two.take("x", c, 0) == HostLeases.poll_seconds  # both leases held, by two processes
    one.give_back("x", a)
    assert two.take("x", c, 0) == 0
    time.sleep(0.6)  # holders killed without giving back: their leases lapse
    assert one.take("x", a, 0.3) == 0
    assert 0.2 < two.take("x", b, 0.3) <= 0.3  # the host's shared delay: wait for the next start


def test_the_crawl_flow_leads_a_shared_crawl_and_records_it_once(tmp_path, redis_url, prefect_harness, monkeypatch):
    """``councilspend crawl --redis``'s flow as leader, a bare crawler process as follower."""
    from flows.crawl import crawl_flow

    for name, value in LOOPBACK.items():
        monkeypatch.setenv(name, value)
    site = generate(tmp_path / "web", councils=2)
    with MockWeb(site.root, council_hosts=True, latency=0.03) as web:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml(web.base_url, web.council_base_urls()), encoding="utf-8")
        started: list[subprocess.Popen] = []

        def follow() -> None:  # once the flow has joined (and so leads), a second process joins the crawl
            client = redis.Redis.from_url(redis_url)
            while not client.hget("councilspend:crawl:flow-run:run", "leader"):
                time.sleep(0.05)
            started.append(_crawler(sources, tmp_path / "out", "--redis", redis_url, "--crawl-name", "flow-run"))

        helper = threading.Thread(target=follow)
        helper.start()
        result = crawl_flow(tmp_path / "out", sources, council_retries=0, redis_url=redis_url, crawl_name="flow-run")
        helper.join()
        code, stdout, stderr = _finish(started[0])
    assert code == 0, stderr[-3000:]
    helped = json.loads(stdout.strip().splitlines()[-1])
    assert not result.follower and set(result.run_ids) == {"flow-run.w1", "flow-run.w2"}
    [row] = pq.read_table(tmp_path / "out" / "runs.parquet").to_pylist()
    # the follower may have found the queue drained (a small crawl): its figures count all the same
    assert row["run_id"] == "flow-run" and row["requests"] >= helped["requests"]
    files = pq.read_table(tmp_path / "out" / "files.parquet").to_pylist()
    assert row["files_new"] == len(files) - row["files_failed"] > 50
