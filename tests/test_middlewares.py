"""The crawler's downloader middlewares on requests and responses made here (no network)."""

from __future__ import annotations

import pytest
from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.middlewares import RedirectGuardMiddleware, Refused, RetryAfterMiddleware


@pytest.fixture
def retry_after():
    crawler = get_crawler(Spider, {"COUNCILSPEND_HOST_REFUSALS_MAX": 3, "RETRY_TIMES": 0})
    crawler.spider = Spider.from_crawler(crawler, name="probe")
    crawler.stats.open_spider()
    return RetryAfterMiddleware.from_crawler(crawler)


def refusal(url: str, retry_after: str | None = "1") -> tuple[Request, Response]:
    request = Request(url)
    headers = {"Retry-After": retry_after} if retry_after else {}
    return request, Response(url, status=429, headers=headers, request=request)


def test_a_host_that_refuses_again_and_again_is_given_up_for_the_run(retry_after):
    """COUNCILSPEND_HOST_REFUSALS_MAX: a 429 storm costs a few requests, not the rest of the run."""
    for n in range(3):
        request, response = refusal(f"http://127.0.0.2/spend-{n}.csv")
        retry_after.process_request(request)
        assert retry_after.process_response(request, response) is response  # retries spent: recorded as it is
    with pytest.raises(Refused, match="refused 3 requests in a row"):
        retry_after.process_request(Request("http://127.0.0.2/spend-9.csv"))
    retry_after.process_request(Request("http://127.0.0.3/spend-1.csv"))  # other hosts carry on


def test_an_answer_in_between_resets_the_count(retry_after):
    for n in range(5):
        request, response = refusal(f"http://127.0.0.2/a-{n}.csv")
        retry_after.process_response(request, response)
        ok = Request(f"http://127.0.0.2/b-{n}.csv")
        retry_after.process_response(ok, Response(ok.url, status=200, request=ok))
    retry_after.process_request(Request("http://127.0.0.2/c.csv"))  # not given up


def test_a_wait_longer_than_the_cap_is_recorded_not_waited(retry_after):
    request, response = refusal("http://127.0.0.2/spend.csv", retry_after="86400")
    assert retry_after.process_response(request, response) is response
    assert "asked to retry after 86400 s" in request.meta["councilspend_failure"]


@pytest.mark.parametrize(
    "origin,location,reason",
    [
        ("https://www.leeds.gov.uk/a", "http://127.0.0.1:8080/admin", "private address"),
        ("https://www.leeds.gov.uk/a", "http://169.254.169.254/latest/meta-data/", "private address"),
        ("https://www.leeds.gov.uk/a", "http://intranet.local/spend.csv", "private address"),
        ("https://www.leeds.gov.uk/a", "file:///etc/passwd", "non-web"),
        ("https://www.leeds.gov.uk/a", "ftp://www.leeds.gov.uk/a.csv", "non-web"),
    ],
)
def test_redirects_off_the_web_or_into_a_private_network_are_refused(origin, location, reason):
    request = Request(origin)
    response = Response(origin, status=302, headers={"Location": location}, request=request)
    with pytest.raises(Refused, match=reason):
        RedirectGuardMiddleware().process_response(request, response)


@pytest.mark.parametrize(
    "origin,location",
    [
        ("https://www.leeds.gov.uk/download/1", "https://files.leeds.gov.uk/a.csv"),  # same site
        ("https://www.oldcouncil.gov.uk/spend", "https://www.newcouncil.gov.uk/spend"),  # a council renamed
        ("https://www.leeds.gov.uk/download/1", "https://leedscc.blob.core.windows.net/a.csv"),  # file storage
        ("http://127.0.0.2/a.csv", "http://127.0.0.9/a.csv"),  # private to private: a test web, an intranet
    ],
)
def test_redirects_on_the_web_are_followed(origin, location):
    request = Request(origin)
    response = Response(origin, status=302, headers={"Location": location}, request=request)
    assert RedirectGuardMiddleware().process_response(request, response) is response
