"""Scrapy settings: polite to real council sites by default, fast on a loopback mock web.

Politeness knobs come from the environment so the same code crawls real sites
gently and the mock council web (every mock council on one host, 127.0.0.1) fast:

* ``COUNCILSPEND_DOWNLOAD_DELAY`` seconds between requests to one site (default 1);
* ``COUNCILSPEND_CONCURRENCY`` parallel requests per site (default 2);
* ``COUNCILSPEND_AUTOTHROTTLE`` 1/0, adapt the delay to the site's latency (default 1);
* ``COUNCILSPEND_MAX_FILE_BYTES`` largest file downloaded (default 200 MB);
* ``COUNCILSPEND_TIMEOUT`` seconds a whole request may take, a slow drip included (default 60);
* ``COUNCILSPEND_RETRY_AFTER_MAX`` longest ``Retry-After`` (seconds) waited out before a 429/503
  is recorded as a failure instead (default 300);
* ``COUNCILSPEND_CONTACT`` the URL or e-mail address put in the User-Agent, so a council's web
  team can reach whoever runs the crawl (default: the project's home page).

The output folder and run id are set by :mod:`crawler.run` as
``COUNCILSPEND_OUT`` and ``COUNCILSPEND_RUN_ID``. A crawl shared by several processes
(``COUNCILSPEND_REDIS_URL``, ``--redis``) adds scrapy-redis's scheduler and duplicate filter and
its own extension through ``run_crawl(member=...)``: see :meth:`crawler.distributed.Member.settings`.
The spiders build their start requests from the sources config alone, so they need no change for it.
"""

from __future__ import annotations

import os


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


BOT_NAME = "councilspend"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

#: Where a council's web team can reach whoever runs the crawl; set it when you run a national crawl.
CONTACT = os.environ.get("COUNCILSPEND_CONTACT") or "https://github.com/councilspend/councilspend"
# The project and a contact in every request: a site that is unhappy can say so instead of blocking.
USER_AGENT = f"councilspend/0.1 (UK council spending data; +{CONTACT})"
ROBOTSTXT_OBEY = True

DOWNLOAD_DELAY = _env_float("COUNCILSPEND_DOWNLOAD_DELAY", 1.0)
CONCURRENT_REQUESTS_PER_DOMAIN = int(_env_float("COUNCILSPEND_CONCURRENCY", 2))
# Many councils are crawled at once; the per-site limit above is what keeps each one safe.
CONCURRENT_REQUESTS = max(32, CONCURRENT_REQUESTS_PER_DOMAIN)
# Scrapy's own downloader lets a host's whole queue through at once when there is no delay.
DOWNLOADER = "crawler.downloader.PoliteDownloader"
AUTOTHROTTLE_ENABLED = _env_flag("COUNCILSPEND_AUTOTHROTTLE", True)
AUTOTHROTTLE_START_DELAY = max(DOWNLOAD_DELAY, 0.1)
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# A slow council server is slowed down further, but never to more than a request a minute.
AUTOTHROTTLE_MAX_DELAY = 60.0
# A spend file is a few MB; anything far larger is a mistake or a trap, recorded as "too large".
# Scrapy applies the same limit to a compressed body's decompressed size.
DOWNLOAD_MAXSIZE = int(_env_float("COUNCILSPEND_MAX_FILE_BYTES", 200 * 1024 * 1024))
DOWNLOAD_WARNSIZE = DOWNLOAD_MAXSIZE // 4
# The whole request, so a server dripping a byte a second is cut off too.
DOWNLOAD_TIMEOUT = _env_float("COUNCILSPEND_TIMEOUT", 60)
DNS_TIMEOUT = min(DOWNLOAD_TIMEOUT, 20)
# A connection dropped before the promised Content-Length is a failure, never a (truncated) file.
DOWNLOAD_FAIL_ON_DATALOSS = True
# Council servers fail transiently; two retries, then the file is recorded as failed.
RETRY_TIMES = 2
# 429 and 503 are retried by RetryAfterMiddleware, which waits as long as the server asks.
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]
#: Longest Retry-After waited out; a server asking for more is recorded as rate limiting us.
COUNCILSPEND_RETRY_AFTER_MAX = _env_float("COUNCILSPEND_RETRY_AFTER_MAX", 300)
#: Wait after a 429/503 without Retry-After (doubled on each retry).
COUNCILSPEND_RETRY_AFTER_DEFAULT = 5.0
#: Refusals (429/503) in a row from one host before its remaining requests this run are given up.
COUNCILSPEND_HOST_REFUSALS_MAX = 8
# A council file is at most a couple of redirects away; loops are caught earlier (RedirectGuardMiddleware).
REDIRECT_MAX_TIMES = 5

# Every file's outcome is recorded in the manifest; pages are re-read on each run
# to find new links, and files are revalidated with conditional GETs instead.
HTTPCACHE_ENABLED = False
COOKIES_ENABLED = False
# No way into a running crawl: Scrapy's telnet console and its remote-control server (on by
# default since 2.19, runs code sent to it) are both off.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# DEBUG (Scrapy's default) logs every request and costs about 30 % of throughput.
LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    # before Scrapy's RetryMiddleware (550) sees the response
    "crawler.middlewares.RetryAfterMiddleware": 560,
    "crawler.middlewares.ConditionalGetMiddleware": 590,
    # before Scrapy's RedirectMiddleware (600) follows a redirect
    "crawler.middlewares.RedirectGuardMiddleware": 610,
}
# Data files stream to disk a chunk at a time instead of sitting whole in memory (crawler/download.py,
# which uses asyncio, Scrapy's default reactor, named here because it depends on it); pages use Scrapy's
# handler. Only the web: a link or redirect to file://, ftp://, s3:// or data: is never fetched.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
DOWNLOAD_HANDLERS: dict[str, str | None] = {
    "http": "crawler.download.StreamingDownloadHandler",
    "https": "crawler.download.StreamingDownloadHandler",
    "file": None,
    "ftp": None,
    "s3": None,
    "data": None,
}
# Record each file first, then move its bytes into raw/: every stored original is recorded, so a
# killed crawl's files are revalidated by the next run, not downloaded again.
ITEM_PIPELINES = {
    "pipelines.manifest.ManifestPipeline": 100,
    "pipelines.store.StoreOriginalPipeline": 200,
    "pipelines.pages.PagesPipeline": 300,
}
