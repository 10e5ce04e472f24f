"""Find spend files and sub-pages on a council web page.

Pure functions over HTML text: no Scrapy engine, no network. The spiders call
:func:`discover_links` on every page they fetch and :func:`follow_links` to pick
the sub-pages (year pages, pagination) worth fetching next; ``councilspend
discover`` runs the same code on a saved page.

What councils do, and how it is handled here:

* links are relative (``2015/December.csv``): made absolute against the page URL;
* links carry no extension (``downloads/file/4301/2018_september_supplier_spend_-_csv_file``,
  ``PSCM_Web.download?p_ID=558156``): the format comes from the slug or the link
  text (``[csv]``, ``(CSV, 245KB)``, ``CSV file``);
* pages are cp1252 while declaring UTF-8: :func:`decode_html` checks the bytes;
* the period is in the text, the URL or split between them (text ``December``,
  URL ``2015/December.csv``): :func:`guess_period` reads the text first, then the
  URL, then both together.
"""

from __future__ import annotations

import calendar
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import urldefrag, urljoin, urlsplit

import parsel
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

#: Formats a link can be guessed to hold (the bytes decide later: ``normalise.parsing.sniff``).
FORMATS = ("csv", "xlsx", "xls", "ods", "zip", "pdf", "json", "unknown")

_EXTENSIONS = {
    "csv": "csv",
    "txt": "csv",
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "xls": "xls",
    "ods": "ods",
    "zip": "zip",
    "pdf": "pdf",
    "json": "json",
}
#: Words in link text or slugs that name a format ("CSV file", "[pdf]", "Excel").
_FORMAT_WORDS = [
    (re.compile(r"\bcsv\b", re.I), "csv"),
    (re.compile(r"\bxlsx\b", re.I), "xlsx"),
    (re.compile(r"\bxls\b", re.I), "xls"),
    (re.compile(r"\bods\b|\bopendocument\b", re.I), "ods"),
    (re.compile(r"\bexcel\b|\bspreadsheet\b", re.I), "xlsx"),
    (re.compile(r"\bzip\b", re.I), "zip"),
    (re.compile(r"\bpdf\b", re.I), "pdf"),
    (re.compile(r"\bjson\b", re.I), "json"),
]
#: URL shapes of CMS download endpoints that serve a file without an extension.
_DOWNLOAD_URL = re.compile(
    r"/downloads?/file/|[./]download\?|/download/file|/files?/\d+(?:/|$)|/attachments?/\d+|[?&]filename=",
    re.I,
)
_PAGE_EXTENSIONS = {"html", "htm", "shtml", "php", "asp", "aspx", "jsp", "cfm"}

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = r"(?P<{0}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_YEAR4 = r"(?P<{0}>(?:19|20)\d\d)"
_YEAR = r"(?P<{0}>(?:19|20)?\d\d)"
_TO = r"\s*(?:-|–|—|to|until)\s*"
_TO_OR_NOTHING = r"(?:\s*(?:-|–|—|to|until)\s*|\s+|)"  # URL words "jan mar 2017", "julysep2010"

_PERIOD_PATTERNS = [
    # "1 Jan 2014 - 31 Dec 2014", "April 2014 - March 2015", "January 2025 to March 2025"
    (
        "range",
        re.compile(
            r"\b(?:\d{1,2}(?:st|nd|rd|th)?\s+)?"
            + _MONTH.format("m1")
            + r"\w*\s*"
            + _YEAR4.format("y1")
            + _TO
            + r"(?:\d{1,2}(?:st|nd|rd|th)?\s+)?"
            + _MONTH.format("m2")
            + r"\w*\s*"
            + _YEAR.format("y2")
            + r"\b",
            re.I,
        ),
    ),
    # "October to December 2010", "Jan-Mar 2017", "julysep2010"
    (
        "range",
        re.compile(
            r"\b"
            + _MONTH.format("m1")
            + r"[a-z]*?"
            + _TO_OR_NOTHING
            + _MONTH.format("m2")
            + r"[a-z]*[\s_\-'.,]*"
            + _YEAR.format("y2")
            + r"\b",
            re.I,
        ),
    ),
    # "Q3 2024/25", "Quarter 3 2024-2025" (financial year), "Q3 2024" and "2024-Q3" (calendar)
    (
        "quarter",
        re.compile(
            r"\b(?:q|quarter\s*)(?P<q>[1-4])\s*(?:of\s*)?"
            + _YEAR4.format("y")
            + r"(?:\s*(?:/|-|_|to)\s*(?P<y2>\d{2}|\d{4}))?\b",
            re.I,
        ),
    ),
    ("quarter", re.compile(r"\b" + _YEAR4.format("y") + r"\s*[-_ ]\s*q(?P<q>[1-4])\b", re.I)),
    # "2025-03", "2025_03" (a month; "2024-25" is a financial year, below)
    ("iso_month", re.compile(r"\b" + _YEAR4.format("y") + r"[-_/ ](?P<m>0[1-9]|1[0-2])(?![\d/])", re.I)),
    # "2024/25", "2024-2025", "2017 / 2018", "2017_2018"
    (
        "financial_year",
        re.compile(
            r"\b" + _YEAR4.format("y") + r"(?:\s*(?:/|-|–|_|to)\s*(?P<y2>\d{4}|\d{2})|\s+(?P<y2b>\d{4}))\b", re.I
        ),
    ),
    # "March 2025", "Mar-25", "march__15", "December 2016"
    ("month", re.compile(r"\b" + _MONTH.format("m") + r"[a-z]*[\s_\-'.,]*" + _YEAR.format("y") + r"(?!\d)", re.I)),
    # "2018 September", "2015/December"
    ("month", re.compile(r"\b" + _YEAR4.format("y") + r"[\s_\-/]*" + _MONTH.format("m") + r"(?![a-z])", re.I)),
]

_DATASET_WORDS = [
    (
        "purchase_card",
        re.compile(
            r"purchas\w*[\s_-]*cards?|procurement[\s_-]*cards?|\bgpc\b|\bp[\s-]?cards?\b|card[\s_-]*(?:payments|transactions|spend)",
            re.I,
        ),
    ),
    ("grants", re.compile(r"\bgrants?\b|voluntary[\s_-]*sector", re.I)),
    (
        "spend_over_500",
        re.compile(
            r"spend|expenditure|payments?[\s_-]*(?:to|over)|over[\s_-]*(?:£|&pound;)?\s*(?:500|250)|transactions?[\s_-]*over"
            r"|supplier|invoices",
            re.I,
        ),
    ),
]

_PAGINATION_TEXT = re.compile(r"^\s*(?:next(?:\s+page)?|older|more|›|»|>|>>|\d{1,3})\s*[›»>]*\s*$", re.I)
_ARCHIVE_TEXT = re.compile(r"^\s*(?:archive[sd]?|previous\s+years?|past\s+years?|earlier\s+years?)\s*$", re.I)
_PAGINATION_URL = re.compile(r"[?&](?:page|p|pg|start|offset)=\d+|/page/\d+", re.I)
_YEARISH = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_BARE_YEAR_TEXT = re.compile(
    r"^\s*(?:(?:spending|expenditure|payments|year)\s*)?(?:19|20)\d\d(?:\s*[/-]\s*\d{2,4})?\s*$", re.I
)
_SPEND_PAGE_WORDS = re.compile(
    r"spend|expenditure|payments|transparen|purchase|procurement|grants|over\s*£?\s*(?:500|250)", re.I
)


@dataclass(frozen=True)
class DiscoveredLink:
    """A link to a file that looks like published spending data."""

    url: str
    text: str
    format_guess: str
    dataset: str | None
    period_start: date | None
    period_end: date | None


@dataclass(frozen=True)
class SubPage:
    """A page to fetch for more links: a year page, or the next page of the same list."""

    url: str
    text: str
    pagination: bool


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode a page: a BOM, else UTF-8 when the bytes are valid UTF-8, else the declared encoding.

    Declarations lie both ways: pages declare UTF-8 and are cp1252 (a raw 0xA3 for
    £), servers declare ISO-8859-1 for UTF-8 pages. Text in a single-byte encoding
    is almost never valid UTF-8, so valid UTF-8 wins.

    >>> decode_html(b'<meta charset="utf-8"><p>\\xa3500</p>')
    '<meta charset="utf-8"><p>£500</p>'
    >>> decode_html("<p>£5</p>".encode("utf-8"), "text/html; charset=iso-8859-1")
    '<p>£5</p>'
    """
    bom, _ = read_bom(body)
    candidates = [
        bom,
        "utf-8",
        http_content_type_encoding(content_type) if content_type else None,
        html_body_declared_encoding(body[:4096]),
    ]
    for encoding in filter(None, candidates):
        try:
            return body.decode(encoding).lstrip("\ufeff")
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("cp1252", errors="replace")


def guess_format(url: str, text: str = "") -> str:
    """The format a link probably serves: extension, then link text, then URL slug.

    >>> guess_format("https://x.gov.uk/media/7811/transactions_over_500_october__2018.csv")
    'csv'
    >>> guess_format("https://x.gov.uk/download?p_ID=558156", "April 2014 spend [csv]")
    'csv'
    >>> guess_format("https://x.gov.uk/downloads/file/4300/2018_september_supplier_spend_-_pdf_document")
    'pdf'
    >>> guess_format("https://x.gov.uk/downloads/file/568/expenditure_exceeding_500_september_2018")
    'unknown'
    """
    parts = urlsplit(url)
    extension = _extension(parts.path)
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    query_file = re.search(r"\.([a-z]{3,4})(?:&|$)", parts.query, re.I)
    if query_file and query_file.group(1).lower() in _EXTENSIONS:
        return _EXTENSIONS[query_file.group(1).lower()]
    slug = re.sub(r"[_\-]+", " ", parts.path.rsplit("/", 1)[-1])
    for source in (text, slug):
        for pattern, fmt in _FORMAT_WORDS:
            if pattern.search(source):
                return fmt
    return "unknown"


def guess_dataset(text: str, url: str = "", hint: str | None = None) -> str | None:
    """Which Transparency Code dataset a link is, from its words; ``hint`` when silent.

    Card and grant words win over generic spend words ("spend over £250 - purchase cards").

    >>> guess_dataset("April 2014 spend over £250 - purchase cards [csv]")
    'purchase_card'
    >>> guess_dataset("Expenditure exceeding &pound;500 May 2018")
    'spend_over_500'
    >>> guess_dataset("December", "https://x.gov.uk/2015/December-card-payments.csv")
    'purchase_card'
    >>> guess_dataset("Download", "https://x.gov.uk/f/1", hint="grants")
    'grants'
    """
    for source in (text, _url_words(url)):
        for dataset, pattern in _DATASET_WORDS:
            if pattern.search(source):
                return dataset
    return hint


def guess_period(text: str, url: str = "") -> tuple[date | None, date | None]:
    """The period a link covers, from its text, else its URL, else both together.

    >>> guess_period("Spending over £500 – March 2025 (CSV, 245KB)")
    (datetime.date(2025, 3, 1), datetime.date(2025, 3, 31))
    >>> guess_period("Q3 2024/25")
    (datetime.date(2024, 10, 1), datetime.date(2024, 12, 31))
    >>> guess_period("December [CSV file 1671KB]", "https://x.gov.uk/payments/2015/December.csv")
    (datetime.date(2015, 12, 1), datetime.date(2015, 12, 31))
    >>> guess_period("Download")
    (None, None)
    """
    url_text = _url_words(url)
    for source in (text, url_text, f"{text} {url_text}"):
        found = _period_in(source)
        if found:
            return found
    return None, None


def discover_links(
    html: str | bytes,
    base_url: str,
    *,
    link_pattern: str | None = None,
    dataset_hint: str | None = None,
) -> list[DiscoveredLink]:
    """Every link on the page that looks like a data file, made absolute, once per URL.

    A link is a file when its URL has a file extension, its text or slug names a
    format, or its URL is a CMS download endpoint. ``link_pattern`` (a regex over
    URL or text) narrows the result for a council whose pages mislead the rules.

    >>> page = '<a href="files/spend-2025-03.csv">Spending over £500 – March 2025 (CSV, 2KB)</a>'
    >>> [link] = discover_links(page, "http://127.0.0.1/bir/spend/")
    >>> link.url, link.format_guess, link.dataset, str(link.period_start)
    ('http://127.0.0.1/bir/spend/files/spend-2025-03.csv', 'csv', 'spend_over_500', '2025-03-01')
    """
    selector = _selector(html)
    wanted = re.compile(link_pattern, re.I) if link_pattern else None
    found: dict[str, DiscoveredLink] = {}
    for url, text in _anchors(selector, base_url):
        if not _is_file_link(url, text):
            continue
        if wanted and not (wanted.search(url) or wanted.search(text)):
            continue
        if url in found and found[url].text:
            continue
        start, end = guess_period(text, url)
        found[url] = DiscoveredLink(
            url=url,
            text=text,
            format_guess=guess_format(url, text),
            dataset=guess_dataset(text, url, dataset_hint),
            period_start=start,
            period_end=end,
        )
    return list(found.values())


def follow_links(html: str | bytes, base_url: str, *, follow_pattern: str | None = None) -> list[SubPage]:
    """Sub-pages worth fetching: year pages and pagination on the same site.

    With ``follow_pattern`` (a regex over URL or link text) exactly the matching
    same-site pages are followed instead of the built-in rules.

    >>> page = ('<a href="?page=2">Next</a> <a href="2024-25/">Spending 2024/25</a> '
    ...         '<a href="/care-act-2014">The Care Act 2014</a> <a href="https://other.org/2024">2024</a>')
    >>> for sub in follow_links(page, "http://127.0.0.1/bir/spend/"):
    ...     print(sub.url, sub.pagination)
    http://127.0.0.1/bir/spend/?page=2 True
    http://127.0.0.1/bir/spend/2024-25/ False
    """
    selector = _selector(html)
    pattern = re.compile(follow_pattern, re.I) if follow_pattern else None
    here = _same_site_key(base_url)
    page = _page_key(base_url)
    follow: dict[str, SubPage] = {}
    for url, text in _anchors(selector, base_url):
        if _page_key(url) == page or url in follow or _same_site_key(url) != here or _is_file_link(url, text):
            continue
        pagination = _looks_like_pagination(url, text)
        if (
            (pattern.search(url) or pattern.search(text))
            if pattern
            else (pagination or _looks_like_year_page(url, text))
        ):
            follow[url] = SubPage(url=url, text=text, pagination=pagination)
    return list(follow.values())


def _period_in(source: str) -> tuple[date, date] | None:
    for kind, pattern in _PERIOD_PATTERNS:
        for match in pattern.finditer(source):
            period = _period_from(kind, match)
            if period:
                return period
    return None


def _period_from(kind: str, match: re.Match) -> tuple[date, date] | None:
    g = match.groupdict()
    try:
        if kind == "month":
            year = _full_year(g["y"])
            month = _MONTHS[g["m"].lower()]
            return _month_start(year, month), _month_end(year, month)
        if kind == "iso_month":
            year, month = int(g["y"]), int(g["m"])
            if _is_next_year(year, g["m"]):
                return None  # "2011-12" reads better as a financial year
            return _month_start(year, month), _month_end(year, month)
        if kind == "financial_year":
            year = int(g["y"])
            if not _is_next_year(year, g["y2"] or g["y2b"]):
                return None
            return date(year, 4, 1), date(year + 1, 3, 31)
        if kind == "quarter":
            year, quarter = int(g["y"]), int(g["q"])
            if g.get("y2") and _is_next_year(year, g["y2"]):
                first_month = 4 + 3 * (quarter - 1)  # financial quarters start in April
                if first_month > 12:
                    year, first_month = year + 1, first_month - 12
            else:
                first_month = 1 + 3 * (quarter - 1)
            return _month_start(year, first_month), _month_end(year, first_month + 2)
        if kind == "range":
            end_year = _full_year(g["y2"])
            m1, m2 = _MONTHS[g["m1"].lower()], _MONTHS[g["m2"].lower()]
            start_year = int(g["y1"]) if g.get("y1") else (end_year if m1 <= m2 else end_year - 1)
            if (start_year, m1) > (end_year, m2):
                return None
            return _month_start(start_year, m1), _month_end(end_year, m2)
    except (ValueError, KeyError):
        return None
    return None


def _is_next_year(year: int, second: str) -> bool:
    """Whether ``second`` ("25" or "2025") is the year after ``year`` (2024)."""
    if len(second) == 2:
        return int(second) == (year + 1) % 100
    return int(second) == year + 1


def _full_year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _url_words(url: str) -> str:
    """The path and query of a URL with separators as spaces, for word matching.

    >>> _url_words("https://x.gov.uk/media/4167/march__15-_including.csv?a=1")
    'media 4167 march 15 including.csv a=1'
    """
    if not url:
        return ""
    parts = urlsplit(url)
    return " ".join(re.sub(r"[_\-/?&+%]+", " ", f"{parts.path}?{parts.query}").split())


def _extension(path: str) -> str:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def _is_file_link(url: str, text: str) -> bool:
    extension = _extension(urlsplit(url).path)
    if extension in _EXTENSIONS:
        return True
    if extension in _PAGE_EXTENSIONS and not _DOWNLOAD_URL.search(url):
        return False
    if _DOWNLOAD_URL.search(url):
        return True
    return guess_format(url, text) != "unknown" and not _looks_like_pagination(url, text)


def _looks_like_pagination(url: str, text: str) -> bool:
    return bool(_PAGINATION_URL.search(url)) or (bool(_PAGINATION_TEXT.match(text)) and not _YEARISH.search(text))


def _looks_like_year_page(url: str, text: str) -> bool:
    """A year page ("Spending 2024/25", a bare "2023") or an archive of earlier years."""
    if _ARCHIVE_TEXT.match(text):
        return True
    if not (_YEARISH.search(text) or _YEARISH.search(url)):
        return False
    return bool(_BARE_YEAR_TEXT.match(text) or _SPEND_PAGE_WORDS.search(text))


def _page_key(url: str) -> str:
    """A URL without scheme, "www." and fragment: the same page whatever the link's form."""
    parts = urlsplit(url)
    return f"{_same_site_key(url)}{parts.path or '/'}?{parts.query}"


def _same_site_key(url: str) -> str:
    host = urlsplit(url).netloc.lower()
    return host[4:] if host.startswith("www.") else host


def _selector(html: str | bytes) -> parsel.Selector:
    text = decode_html(html) if isinstance(html, bytes) else html
    return parsel.Selector(text=text)


def _anchors(selector: parsel.Selector, base_url: str) -> Iterator[tuple[str, str]]:
    """(absolute URL without fragment, whitespace-collapsed text) of every usable ``<a href>``.

    A malformed address (``http://[::1/x.csv``) skips that one link, never the page.
    """
    base = selector.css("base::attr(href)").get()
    if base:
        with contextlib.suppress(ValueError):  # a broken <base href>: resolve against the page's own URL
            base_url = urljoin(base_url, base.strip())
    for anchor in selector.css("a[href]"):
        href = anchor.attrib["href"].strip()
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
            continue
        try:
            url = urldefrag(urljoin(base_url, href)).url
            scheme = urlsplit(url).scheme
        except ValueError:
            continue
        if scheme not in ("http", "https"):
            continue
        text = " ".join(" ".join(anchor.css("::text").getall()).split())
        if not text:
            text = (anchor.attrib.get("title") or "").strip()
        yield url, text
