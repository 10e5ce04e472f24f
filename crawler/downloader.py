"""Scrapy's downloader, holding each host to its concurrency limit also when there is no download delay.

Scrapy 2.19 starts each download as an asyncio task that counts itself as transferring only once
it runs. With ``DOWNLOAD_DELAY = 0`` the downloader's queue loop therefore sees every transfer
slot of a host free and starts the host's whole queue at once: measured on the mock web, 32
requests in flight to one host with ``CONCURRENT_REQUESTS_PER_DOMAIN = 2``. (With a delay the
loop starts one request per call and the limit holds.) Here a download counts as transferring
from the moment it is started.

In a distributed crawl (:mod:`crawler.distributed`) each download also holds one of its host's
leases in Redis, and the host's delay is the one shared by every process: a request starts only
when a lease is free there and the host's next start time has come.
"""

from __future__ import annotations

from collections.abc import Coroutine
from time import monotonic
from typing import Any

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro
from twisted.internet.defer import Deferred

from crawler.distributed import HostLeases, Member

#: A lease outlives the longest download by this much before it lapses.
LEASE_MARGIN_SECONDS = 30.0


class PoliteDownloader(Downloader):
    """The downloader of every councilspend crawl (``DOWNLOADER`` setting)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        member = Member.from_settings(crawler.settings)
        timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        self.leases: HostLeases | None = (
            member.leases(self.domain_concurrency, timeout + LEASE_MARGIN_SECONDS) if member else None
        )

    def _wait_for_download(
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[Any, Any, None]:
        slot.transferring.add(request)  # at once, before the loop asks how many slots are free
        return super()._wait_for_download(slot, request, queue_dfd)

    def _process_queue(self, slot: Slot) -> None:
        if self.leases is None:
            super()._process_queue(slot)
            return
        if slot.latercall:
            return
        while slot.queue and slot.free_transfer_slots() > 0:
            request, queue_dfd = slot.queue[0]
            wait = self.leases.take(request.meta[self.DOWNLOAD_SLOT], request, slot.download_delay())
            if wait:
                slot.latercall = call_later(wait, self._latercall, slot)
                return
            slot.queue.popleft()
            slot.lastseen = monotonic()
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))

    async def _download(self, slot: Slot, request: Request) -> Response:
        try:
            return await super()._download(slot, request)
        finally:
            if self.leases is not None:
                self.leases.give_back(request.meta[self.DOWNLOAD_SLOT], request)
                if slot.latercall:  # it may have been waiting for the lease just given back
                    slot.latercall.cancel()
                    slot.latercall = None
                self._process_queue(slot)
