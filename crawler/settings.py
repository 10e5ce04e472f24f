"""Scrapy settings: polite to real council sites by default, fast on a loopback mock web.

Politeness knobs come from the environment so the same code crawls real sites
gently and the mock council web (every mock council on one host, 127.0.0.1) fast:

* ``COUNCILSPEND_DOWNLOAD_DELAY`` seconds between requests to one site (default 1);
* ``COUNCILSPEND_CONCURRENCY`` parallel requests per site (default 2);
* ``COUNCILSPEND_AUTOTHROTTLE`` 1/0, adapt the delay to the site's latency (default 1);
* ``COUNCILSPEND_MAX_FILE_BYTES`` largest file downloaded (default 200 MB);
* ``COUNCILSPEND_TIMEOUT`` seconds before a request is given up (default 60).

The output folder and run id are set by :mod:`crawler.run` as
``COUNCILSPEND_OUT`` and ``COUNCILSPEND_RUN_ID``. A distributed crawl (scrapy-redis,
not built yet) would pass its ``SCHEDULER``, ``DUPEFILTER_CLASS`` and ``REDIS_URL``
through ``run_crawl(settings=...)``; the spiders already build their start requests
from the sources config alone, so they need no change for it.
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

USER_AGENT = "councilspend/0.1 (+https://github.com/councilspend/councilspend)"
ROBOTSTXT_OBEY = True

DOWNLOAD_DELAY = _env_float("COUNCILSPEND_DOWNLOAD_DELAY", 1.0)
CONCURRENT_REQUESTS_PER_DOMAIN = int(_env_float("COUNCILSPEND_CONCURRENCY", 2))
# Many councils are crawled at once; the per-site limit above is what keeps each one safe.
CONCURRENT_REQUESTS = max(32, CONCURRENT_REQUESTS_PER_DOMAIN)
AUTOTHROTTLE_ENABLED = _env_flag("COUNCILSPEND_AUTOTHROTTLE", True)
AUTOTHROTTLE_START_DELAY = max(DOWNLOAD_DELAY, 0.1)
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# A spend file is a few MB; anything far larger is a mistake or a trap, recorded as "too large".
DOWNLOAD_MAXSIZE = int(_env_float("COUNCILSPEND_MAX_FILE_BYTES", 200 * 1024 * 1024))
DOWNLOAD_WARNSIZE = DOWNLOAD_MAXSIZE // 4
DOWNLOAD_TIMEOUT = _env_float("COUNCILSPEND_TIMEOUT", 60)
# Council servers fail transiently; two retries, then the file is recorded as failed.
RETRY_TIMES = 2

# Every file's outcome is recorded in the manifest; pages are re-read on each run
# to find new links, and files are revalidated with conditional GETs instead.
HTTPCACHE_ENABLED = False
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# DEBUG (Scrapy's default) logs every request and costs about 30 % of throughput.
LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.ConditionalGetMiddleware": 590,
}
ITEM_PIPELINES = {
    "pipelines.store.StoreOriginalPipeline": 100,
    "pipelines.manifest.ManifestPipeline": 200,
}
