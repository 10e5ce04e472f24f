"""Scrapy's downloader, holding each host to its concurrency limit also when there is no download delay.

Scrapy 2.19 starts each download as an asyncio task that counts itself as transferring only once
it runs. With ``DOWNLOAD_DELAY = 0`` the downloader's queue loop therefore sees every transfer
slot of a host free and starts the host's whole queue at once: measured on the mock web, 32
requests in flight to one host with ``CONCURRENT_REQUESTS_PER_DOMAIN = 2``. (With a delay the
loop starts one request per call and the limit holds.) Here a download counts as transferring
from the moment it is started.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.http import Response
from twisted.internet.defer import Deferred


class PoliteDownloader(Downloader):
    """The downloader of every councilspend crawl (``DOWNLOADER`` setting)."""

    def _wait_for_download(
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[Any, Any, None]:
        slot.transferring.add(request)  # at once, before the loop asks how many slots are free
        return super()._wait_for_download(slot, request, queue_dfd)
