"""One crawl shared by any number of crawler processes, on any machines, through Redis.

Set ``COUNCILSPEND_REDIS_URL`` (or pass ``--redis URL``) and start ``councilspend crawl`` on each
machine with the same ``--out`` (a folder every machine sees), the same sources and the same
``--crawl-name``. Then:

* **the queue and the duplicate filter are in Redis** (scrapy-redis): every process runs the
  spiders, their landing requests are filtered by the shared duplicate filter, so the first process
  to start seeds the crawl and every process consumes the queue;
* **the crawl has a name** (default: the ISO week, ``crawl-2026-W49``, then ``crawl-2026-W49.2`` once
  that one has finished) under which all its Redis keys live, so next week's crawl never shares a
  stale queue; a finished crawl cannot be joined again;
* **one leader** — the first process to join, or one joining after the leader stopped; a process
  started with ``--follow`` never leads — takes the output folder's run lock, repairs what an
  interrupted run left, and says the crawl is ready; the others (**followers**) wait for that and never
  touch the lock. Every process stores originals in ``raw/`` (content-addressed, atomic renames:
  safe beside each other) and writes its own logs in ``_crawl/<name>.w<N>/``. When the queue is
  empty and nobody is busy, each process stops; the leader waits for the followers, then merges
  every process's log into ``files.parquet`` and ``pages.parquet`` (one commit per process, each whole);
* **politeness holds across processes**: before a request to a host starts, the process takes one
  of the host's leases in Redis (:class:`HostLeases`; at most ``CONCURRENT_REQUESTS_PER_DOMAIN``, each
  with an expiry so a killed process's leases lapse) and honours the host's next start time (the
  download delay, shared). Scrapy's own per-host slots only see one process.

A process killed mid-crawl loses the requests it had taken off the queue (scrapy-redis has no
acknowledgement); its log is still merged, and the next crawl fetches what is missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured, ScrapyDeprecationWarning
from scrapy.utils.asyncio import create_looping_call
from scrapy_redis.scheduler import Scheduler

# scrapy-redis 0.9.1 still passes ``spider`` to the stats collector, which Scrapy 2.19 deprecates:
# one warning per call site in every crawl log, about code that is not ours.
warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")

#: Environment variable naming the Redis server of a distributed crawl.
REDIS_URL_ENV = "COUNCILSPEND_REDIS_URL"
#: Environment variable naming the crawl (default: the ISO week).
CRAWL_NAME_ENV = "COUNCILSPEND_CRAWL_NAME"
#: Seconds between a process's heartbeats; a process silent for ``ALIVE_SECONDS`` is taken for dead.
HEARTBEAT_SECONDS = 2.0
ALIVE_SECONDS = 30.0
#: How long a follower waits for its leader to say the crawl is ready, and the leader for its followers.
WAIT_SECONDS = 600.0
#: How long a finished crawl's name is remembered (so it is not joined again by mistake).
REMEMBER_SECONDS = 30 * 24 * 3600
#: The crawler stat set when a follower stopped because its leader had.
LEADER_GONE = "councilspend/leader_gone"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,100}$")


class CoordinationError(RuntimeError):
    """The distributed crawl cannot go on (finished, another config, leader gone)."""


def default_crawl_name(now: datetime | None = None) -> str:
    """The crawl's name when none is given: one a week, so a weekly crawl's processes meet.

    >>> default_crawl_name(datetime(2026, 12, 5, tzinfo=UTC))
    'crawl-2026-W49'
    """
    year, week, _ = (now or datetime.now(UTC)).isocalendar()
    return f"crawl-{year}-W{week:02d}"


def config_digest(sources: Path | None, councils: list[str] | None) -> str:
    """A fingerprint of what a process was asked to crawl; every process of one crawl must agree."""
    digest = hashlib.sha256(Path(sources).read_bytes() if sources else b"(bundled)")
    digest.update(",".join(sorted(c.upper() for c in councils or [])).encode())
    return digest.hexdigest()[:16]


def _now_ms() -> int:
    return int(time.time() * 1000)


# Join a crawl atomically: refused once it is closing, or when the config differs from the first joiner's.
# The first to join leads; so does a newcomer when the leader has stopped beating (it takes over);
# a process joining with ARGV[4] = 0 never leads (it waits for one that does).
_JOIN = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'closing' or state == 'done' then return {-1, state} end
local config = redis.call('HGET', KEYS[1], 'config')
if config and config ~= ARGV[1] then return {-2, config} end
redis.call('HSET', KEYS[1], 'config', ARGV[1])
local n = redis.call('HINCRBY', KEYS[1], 'workers', 1)
local leader = redis.call('HGET', KEYS[1], 'leader')
local beat = leader and redis.call('ZSCORE', KEYS[2], leader)
if ARGV[4] == '1' and (not beat or tonumber(beat) < tonumber(ARGV[3])) then
    leader = tostring(n)
    redis.call('HSET', KEYS[1], 'leader', leader, 'state', 'starting')
end
redis.call('ZADD', KEYS[2], ARGV[2], n)
return {n, leader or ''}
"""


@dataclass(frozen=True)
class Member:
    """This process's place in a named distributed crawl."""

    url: str
    name: str
    worker: int
    leader: bool = False

    @property
    def run_id(self) -> str:
        """The crawl run (``_crawl/<run_id>/``) holding this process's logs."""
        return self.run_of(self.worker)

    def run_of(self, worker: int) -> str:
        """The crawl run of any process of this crawl."""
        return f"{self.name}.w{worker}"

    def key(self, *parts: str) -> str:
        return ":".join(("councilspend", "crawl", self.name, *parts))

    def client(self) -> redis.Redis:
        return _client(self.url)

    def settings(self) -> dict[str, Any]:
        """The Scrapy settings of this process's crawl."""
        return {
            # the queue and the duplicate filter of every spider live in Redis, under the crawl's name
            "SCHEDULER": "crawler.distributed.SharedScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_QUEUE_KEY": self.key("%(spider)s", "requests"),
            "SCHEDULER_DUPEFILTER_KEY": self.key("%(spider)s", "seen"),
            # the first process to finish must not empty the queue and filter the others still use
            "SCHEDULER_PERSIST": True,
            "REDIS_URL": self.url,
            "COUNCILSPEND_REDIS_WORKER": self.worker,
            "COUNCILSPEND_REDIS_LEADER": self.leader,
            "COUNCILSPEND_CRAWL_NAME": self.name,
            "EXTENSIONS": {"crawler.distributed.SharedCrawl": 500},
        }

    @classmethod
    def from_settings(cls, settings: Any) -> Member | None:
        """The member a crawler process was started as, or ``None`` for a crawl of its own."""
        worker = settings.getint("COUNCILSPEND_REDIS_WORKER")
        if not worker or not settings.get("REDIS_URL"):
            return None
        return cls(
            settings["REDIS_URL"],
            settings["COUNCILSPEND_CRAWL_NAME"],
            worker,
            settings.getbool("COUNCILSPEND_REDIS_LEADER"),
        )

    # -- life of the crawl ------------------------------------------------------------------
    def alive(self) -> None:
        """Heartbeat: this process is still working on the crawl."""
        self.client().zadd(self.key("alive"), {str(self.worker): _now_ms() + int(ALIVE_SECONDS * 1000)})

    @contextlib.contextmanager
    def beating(self) -> Iterator[None]:
        """Beat from a background thread for the block (a leader's folder repair or merge may take long)."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_SECONDS):
                with contextlib.suppress(redis.RedisError):
                    self.alive()

        self.alive()
        thread = threading.Thread(target=beat, name="councilspend-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def is_alive(self, worker: int) -> bool:
        score = self.client().zscore(self.key("alive"), str(worker))
        return score is not None and score > _now_ms()

    def leader_alive(self) -> bool:
        """Whether the crawl's leader (the one that took over, if one did) still beats."""
        leader = self.client().hget(self.key("run"), "leader")
        return leader is not None and self.is_alive(int(leader))

    def state(self) -> str | None:
        state = self.client().hget(self.key("run"), "state")
        return str(state) if state is not None else None

    def ready(self) -> None:
        """The leader holds the folder and has repaired it: followers may crawl."""
        self.client().hset(self.key("run"), mapping={"state": "ready", "leader_host": socket.gethostname()})

    def beside_leader(self) -> bool:
        """Whether this process runs on the leader's machine."""
        return self.client().hget(self.key("run"), "leader_host") == socket.gethostname()

    def wait_until_ready(self, timeout: float = WAIT_SECONDS) -> None:
        """Block a follower until its leader says ready; raise if the leader dies or nobody leads in time."""
        deadline = time.monotonic() + timeout
        while (state := self.state()) in (None, "starting"):
            if state == "starting" and not self.leader_alive():
                raise CoordinationError(f"crawl {self.name}: its leader stopped before it was ready")
            if time.monotonic() > deadline:
                raise CoordinationError(f"crawl {self.name}: no leader was ready after {timeout:.0f} s")
            time.sleep(0.2)
        if state != "ready":
            raise CoordinationError(f"crawl {self.name} is {state}: start a new one with another --crawl-name")

    def finished(self, stats: dict) -> None:
        """A follower is done: its figures for the leader, which merges its log."""
        client = self.client()
        client.hset(self.key("finished"), str(self.worker), json.dumps(stats))
        client.zrem(self.key("alive"), str(self.worker))

    def followers_stats(self, timeout: float = WAIT_SECONDS) -> dict[int, dict | None]:
        """Close the crawl to newcomers and wait for every follower; their figures (``None`` for one that died)."""
        client = self.client()
        client.hset(self.key("run"), "state", "closing")
        deadline = time.monotonic() + timeout
        while True:
            workers = int(client.hget(self.key("run"), "workers") or 1)
            done = {int(w): json.loads(s) for w, s in client.hgetall(self.key("finished")).items()}
            others = [w for w in range(1, workers + 1) if w != self.worker]
            waiting = [w for w in others if w not in done and self.is_alive(w)]
            if not waiting or time.monotonic() > deadline:
                return {w: done.get(w) for w in others}
            time.sleep(0.5)

    def done(self) -> None:
        """The leader has merged everything: drop the queues, filters and leases, remember the name."""
        client = self.client()
        prefix = self.key("")
        stale = [k for k in client.scan_iter(match=prefix + "*", count=1000) if k != self.key("run")]
        if stale:
            client.delete(*stale)
        client.hset(self.key("run"), mapping={"state": "done", "finished_at": datetime.now(UTC).isoformat()})
        client.expire(self.key("run"), REMEMBER_SECONDS)

    # -- politeness ------------------------------------------------------------------------
    def leases(self, limit: int, lease_seconds: float) -> HostLeases:
        return HostLeases(
            self.client(), self.key("host"), f"{socket.gethostname()}:{self.worker}", limit, lease_seconds
        )


def join(url: str, name: str | None, digest: str, lead: bool = True) -> Member:
    """Join the named crawl on the Redis server at ``url``: the first to join leads it, unless ``lead`` is false.

    Without a name, the crawl of the week (:func:`default_crawl_name`); once that one has finished,
    the week's next (``crawl-2026-W49.2``, ...), so running the weekly flow again starts a new crawl.
    """
    names = [name] if name else [default_crawl_name(), *(f"{default_crawl_name()}.{n}" for n in range(2, 100))]
    for candidate in names:
        worker, other = _join(url, candidate, digest, lead)
        if worker == -1 and candidate != names[-1]:
            continue  # finished: the next one of the week
        if worker == -1:
            raise CoordinationError(f"crawl {candidate} is {other}: start a new one with another --crawl-name")
        if worker == -2:
            raise CoordinationError(
                f"crawl {candidate} was started with other sources or councils than this process's: use the same ones"
            )
        return Member(url, candidate, int(worker), leader=str(other) == str(worker))
    raise AssertionError("unreachable")


def _join(url: str, name: str, digest: str, lead: bool) -> tuple[int, str]:
    if not _NAME.match(name):
        raise CoordinationError(f"crawl name {name!r} must be letters, digits, '.', '_', ':' or '-'")
    probe = Member(url, name, 0)
    now = _now_ms()
    try:
        worker, other = probe.client().eval(
            _JOIN, 2, probe.key("run"), probe.key("alive"), digest, now + int(ALIVE_SECONDS * 1000), now, int(lead)
        )
    except redis.RedisError as exc:
        raise CoordinationError(f"cannot reach Redis at {_safe(url)}: {exc}") from None
    return int(worker), str(other)


@cache
def _client(url: str) -> redis.Redis:
    """One connection pool per Redis server and process."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=30, socket_connect_timeout=10)


def _safe(url: str) -> str:
    """A Redis URL without its password, for messages.

    >>> _safe("redis://:secret@cache:6379/0")
    'redis://***@cache:6379/0'
    """
    return re.sub(r"//[^@/]*@", "//***@", url)


# Take one of a host's leases if one is free and the host's next start time has come.
# Returns 0 (taken), the milliseconds to wait for the next start, or -1 (all leases held).
_LEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
local next_start = tonumber(redis.call('GET', KEYS[2]) or '0')
if next_start > now then return next_start - now end
local lease_ms = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + lease_ms, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease_ms)
local delay = tonumber(ARGV[4])
if delay > 0 then redis.call('SET', KEYS[2], now + delay, 'PX', delay) end
return 0
"""


class HostLeases:
    """Per-host concurrency and delay shared by every process of a crawl.

    A host has ``limit`` leases (a Redis sorted set of holders, scored by expiry) and a next start
    time (the shared download delay). Time is Redis's own clock, so machines need not agree on theirs.
    A lease lasts ``lease_seconds`` at most (longer than any download may take), so the leases of a
    killed process lapse by themselves.
    """

    #: Seconds before asking again when all of a host's leases are held (by this or another process).
    poll_seconds = 0.05

    def __init__(self, client: redis.Redis, prefix: str, holder: str, limit: int, lease_seconds: float):
        self.client, self.prefix, self.holder = client, prefix, holder
        self.limit, self.lease_ms = limit, int(lease_seconds * 1000)
        self._script = client.register_script(_LEASE)

    def take(self, host: str, request: Request, delay: float) -> float:
        """Take a lease for ``request`` to ``host``: 0 when taken, else the seconds to wait before asking again."""
        waited = int(
            self._script(
                keys=[f"{self.prefix}:{host}:leases", f"{self.prefix}:{host}:next"],
                args=[self._holder(request), self.limit, self.lease_ms, int(delay * 1000)],
            )
        )
        return 0.0 if waited == 0 else self.poll_seconds if waited < 0 else waited / 1000

    def give_back(self, host: str, request: Request) -> None:
        self.client.zrem(f"{self.prefix}:{host}:leases", self._holder(request))

    def _holder(self, request: Request) -> str:
        return f"{self.holder}:{id(request)}"


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler that marks this process busy the moment it takes a request."""

    def next_request(self) -> Request | None:
        request = super().next_request()
        if request is not None and self.member is not None:
            self.member.client().zadd(
                self.member.key(self.spider.name, "busy"),
                {str(self.member.worker): _now_ms() + int(ALIVE_SECONDS * 1000)},
            )
        return request

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.member = Member.from_settings(crawler.settings)
        return scheduler


class SharedCrawl:
    """Scrapy extension of a distributed crawl: a spider that closes only when all processes are idle.

    A process whose share of the queue is empty keeps its spider open (``DontCloseSpider``) while
    another process is busy with the same spider, since that one may still find pages and files;
    it takes them from the queue as they come. When nobody is busy and the queue is empty, every
    process closes the spider. A follower whose leader has stopped closes its spider too.
    """

    def __init__(self, crawler: Crawler, member: Member):
        self.crawler, self.member = crawler, member
        self._loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedCrawl:
        member = Member.from_settings(crawler.settings)
        if member is None:
            raise NotConfigured("not a distributed crawl")
        extension = cls(crawler, member)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self._loop = create_looping_call(self._beat, spider)
        self._loop.start(HEARTBEAT_SECONDS, now=True)

    def _beat(self, spider: Spider) -> None:
        busy = self.member.key(spider.name, "busy")
        if self.member.client().zscore(busy, str(self.member.worker)) is not None:
            self.member.client().zadd(busy, {str(self.member.worker): _now_ms() + int(ALIVE_SECONDS * 1000)})
        if not self.member.leader and not self.member.leader_alive():
            assert self.crawler.engine is not None
            spider.logger.error("crawl %s: the leader stopped; this process stops too", self.member.name)
            self.crawler.stats.set_value(LEADER_GONE, 1)
            self.crawler.engine.close_spider(spider, "leader_gone")

    def spider_idle(self, spider: Spider) -> None:
        client, busy = self.member.client(), self.member.key(spider.name, "busy")
        client.zrem(busy, str(self.member.worker))
        client.zremrangebyscore(busy, "-inf", _now_ms())  # the marks of processes that died busy
        if client.zcard(busy):
            raise DontCloseSpider

    def spider_closed(self, spider: Spider) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.member.client().zrem(self.member.key(spider.name, "busy"), str(self.member.worker))
