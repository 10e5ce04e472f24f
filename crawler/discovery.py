"""Find spend files and sub-pages on a council web page.

Pure functions over HTML text: no Scrapy engine, no network. The spiders call
:func:`read_links` on every page they fetch (:func:`discover_links` and :func:`follow_links`
are its two halves); ``councilspend discover`` runs the same code on a saved page.

A link is judged by the link and by where it sits (:mod:`crawler.page_structure`):

* **is it a file?** A data extension in its path or query (decoded: ``Spend%20March.csv``,
  ``?file=spend%2Ecsv``), a download attribute, a CMS download handler or asset id
  (``downloads/file/4301/...``, ``GetFile.ashx?assetId=12``), or the words of the link and of
  the block it alone fills ("[csv]", "(CSV, 245KB)", "Download"). A CKAN resource page
  (``/dataset/x/resource/<id>``) is not the file: it is followed to find the download URL;
* **its format**: extension, link text, its block ("(CSV)" after Manchester's links), ``type``
  attribute, file name words; else unknown, and the crawl's HEAD request decides;
* **its kind and period**: from the link text, its row, its column, the table caption, the
  headings above it, the page that led here, then the file name, in that order of evidence
  (:mod:`crawler.periods` weighs the period's clues);
* **is it data?** Documents about the data (guides, definitions, policies, budget books),
  contract registers (unless contracts are wanted), and links with neither a period nor a kind
  of their own are not spend links.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlsplit

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from crawler.page_structure import Anchor, Page
from crawler.periods import AMBIGUOUS, Choice, Clue, choose_period, file_name_clue, read_clue

#: Formats a link can be guessed to hold (the bytes decide later: ``normalise.parsing.sniff``).
FORMATS = ("csv", "xlsx", "xls", "ods", "zip", "pdf", "json", "unknown")
#: Kinds of spend data; a link can also be a contract register (``contracts``), wanted only when asked for.
SPEND_KINDS = ("spend_over_500", "purchase_card", "grants")

_DATA_EXTENSIONS = {
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
#: Files that are never data: office documents, images, media.
_DOCUMENT_EXTENSIONS = {
    "doc",
    "docx",
    "rtf",
    "odt",
    "ppt",
    "pptx",
    "odp",
    "jpg",
    "jpeg",
    "png",
    "gif",
    "svg",
    "mp3",
    "mp4",
}
_PAGE_EXTENSIONS = {"html", "htm", "shtml", "php", "asp", "aspx", "jsp", "cfm"}
#: Words in link text, blocks or slugs that name a format ("CSV file", "[pdf]", "Excel").
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
_FILE_SIZE = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:kb|mb|bytes)\b", re.I)
_DOWNLOAD_WORD = re.compile(r"\bdownload\b", re.I)
#: URL shapes of download handlers and asset stores that serve a file without an extension.
_DOWNLOAD_URL = re.compile(
    r"/downloads?/file/|[./]download(?:\.\w+)?(?:\?|$)|/download/file"
    r"|/(?:attachments?|assets?|media|documents?|files?|blobs?)/\d+(?:[/?]|$)"
    r"|\.ashx(?:[?]|$)|/(?:get|show|view|download)[-_]?(?:file|document|attachment|asset)"
    r"|[?&](?:asset|doc|document|file|attachment|media|download|blob)[-_]?(?:id|name)?=",
    re.I,
)
_CKAN_RESOURCE_PAGE = re.compile(r"/dataset/[^/]+/resource/[^/]+/?$", re.I)
_DATA_MIME = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/comma-separated-values": "csv",
    "text/plain": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/pdf": "pdf",
    "application/json": "json",
}
_PAGE_MIME = ("text/html", "application/xhtml+xml")
_DOCUMENT_MIME = re.compile(
    r"^(?:application/(?:msword|rtf|vnd\.openxmlformats-officedocument\.(?:wordprocessing|presentation)|vnd\.oasis\.opendocument\.(?:text|presentation)|vnd\.ms-powerpoint)|image/|audio/|video/)",
    re.I,
)

#: Words naming each kind; card and grant words win over the generic spend words they sit with.
_KIND_WORDS = {
    "purchase_card": re.compile(
        r"purchas\w*[\s_-]*cards?|procurement[\s_-]*cards?|\bgpc\b|\bp[\s-]?cards?\b"
        r"|(?:credit|corporate|payment)[\s_-]*cards?|card[\s_-]*(?:payments|transactions|spend)",
        re.I,
    ),
    "grants": re.compile(
        r"\bgrants?\b|voluntary[\s_-]*(?:and[\s_-]*community[\s_-]*)?sector|\bvcse\b|360[\s_-]*giving", re.I
    ),
    "contracts": re.compile(
        r"\bcontracts?\b|\btenders?\b|invitations?[\s_-]*to[\s_-]*(?:tender|quote)|procurement[\s_-]*pipeline", re.I
    ),
    "spend_over_500": re.compile(
        r"spend|expenditure|\bpayments\b|payments?[\s_-]*(?:to|over|made)|over[\s_-]*(?:£|&pound;)?\s*(?:500|250|100)\b"
        r"|transactions?[\s_-]*over|supplier|invoices",
        re.I,
    ),
}
#: Documents about the data, and other papers that sit beside it: never spend files.
_ABOUT_THE_DATA = re.compile(
    r"guid(?:e|ance)|\bhelp\b|how[\s_-]to\b|read[\s_-]?me|explanat|explained|glossary|definitions?\b|dictionary"
    r"|data[\s_-](?:schema|standard|specification|quality)|(?:field|column)[\s_-]descriptions?|methodolog|metadata"
    r"|\bfaq|frequently[\s_-]asked|polic(?:y|ies)|procedures?\b|privacy|licen[cs]e\b|strateg(?:y|ies)"
    r"|transparency[\s_-]code|budget|\bestimates\b|outturn|statement[\s_-]of[\s_-]accounts|annual[\s_-](?:report|accounts)"
    r"|capital[\s_-]programme|medium[\s_-]term|council[\s_-]tax|pay[\s_-](?:policy|multiple|statement)|salar(?:y|ies)"
    r"|senior[\s_-](?:officers?|staff|employees|managers)|organisation(?:al)?[\s_-](?:chart|structure)"
    r"|trade[\s_-]union|\btemplates?\b|\bforms?\b|consultation|\bminutes\b|\bagenda\b|gender[\s_-]pay"
    r"|\bparking\b|allowances|business[\s_-]rates|\bfraud\b|land[\s_-]and[\s_-](?:property|buildings|assets)"
    r"|social[\s_-]housing|asset[\s_-]register|newsletter|constitution",
    re.I,
)
#: Headings over papers beside the data rather than the data.
_NOT_DATA_SECTION = re.compile(
    _ABOUT_THE_DATA.pattern
    + r"|(?:supporting|related|useful|other|further|background)[\s_-](?:documents?|information|links|resources|reading)",
    re.I,
)

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
class Evidence:
    """Which words decided a link's format, kind and period ("" when nothing did)."""

    format: str = ""
    kind: str = ""
    period: str = ""


@dataclass(frozen=True)
class DiscoveredLink:
    """A link to a file that looks like published spending data."""

    url: str
    text: str
    format_guess: str
    dataset: str | None
    period_start: date | None
    period_end: date | None
    evidence: Evidence = field(default_factory=Evidence, compare=False)
    #: What the page said around the link (text, row, heading): inherited if it turns out to be a page.
    context: str = field(default="", compare=False, repr=False)

    def record(self) -> dict[str, str | None]:
        """The link as a JSON-ready dict, with the evidence for each judgement."""
        return {
            "url": self.url,
            "text": self.text,
            "format": self.format_guess,
            "kind": self.dataset,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "format_from": self.evidence.format or None,
            "kind_from": self.evidence.kind or None,
            "period_from": self.evidence.period or None,
        }


@dataclass(frozen=True)
class SubPage:
    """A page to fetch for more links: a year page, the next page of a list, a CKAN resource page.

    ``context`` is what this page said about the link (its text, row and heading): the sub-page's
    own links inherit it as their weakest evidence.
    """

    url: str
    text: str
    pagination: bool
    context: str = ""
    resource: bool = False


@dataclass(frozen=True)
class PageLinks:
    """What one page offers: its spend file links and the sub-pages worth fetching."""

    files: list[DiscoveredLink]
    follow: list[SubPage]


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


def read_links(
    html: str | bytes,
    base_url: str,
    *,
    link_pattern: str | None = None,
    follow_pattern: str | None = None,
    dataset_hint: str | None = None,
    context: str | None = None,
) -> PageLinks:
    """The spend file links and the sub-pages of one page (see the module docstring).

    ``link_pattern`` (a regex over URL or text) narrows the files for a council whose pages
    mislead the rules; ``follow_pattern`` names exactly the same-site pages to follow instead of
    the built-in rules (year pages, pagination, archives); CKAN resource pages are always
    followed. ``dataset_hint`` is the kind the sources config gives the page (the weakest
    evidence; ``contracts`` also asks for contract registers); ``context`` is what the page
    that led here said about it.
    """
    page = Page(decode_html(html) if isinstance(html, bytes) else html, base_url)
    roles: dict[str, str] = {}
    for anchor in page.anchors:  # a URL is a file if any of its links says so
        role = _role(anchor)
        if _ROLE_STRENGTH[role] > _ROLE_STRENGTH.get(roles.get(anchor.url, ""), -1):
            roles[anchor.url] = role
    this_page = _page_key(base_url)
    for url in roles:
        if _page_key(url) == this_page:
            roles[url] = "page"  # "Skip to content", "Top of the page"
    page.set_files(lambda a: roles[a.url] == "file")
    wanted = re.compile(link_pattern, re.I) if link_pattern else None
    files: dict[str, DiscoveredLink] = {}
    for anchor in _first_with_text(page.anchors):
        if roles[anchor.url] != "file" or (wanted and not (wanted.search(anchor.url) or wanted.search(anchor.text))):
            continue
        link = _judge(page, anchor, dataset_hint, context)
        if link is not None:
            files[link.url] = link
    return PageLinks(list(files.values()), _follow(page, roles, base_url, follow_pattern))


def discover_links(
    html: str | bytes,
    base_url: str,
    *,
    link_pattern: str | None = None,
    dataset_hint: str | None = None,
    context: str | None = None,
) -> list[DiscoveredLink]:
    """Every link on the page to a spend file, made absolute, once per URL.

    >>> page = '<h2>Spending over £500</h2><table><tr><td>March 2025</td><td><a href="f/1">CSV</a></td></tr></table>'
    >>> [link] = discover_links(page, "http://127.0.0.1/bir/spend/")
    >>> link.url, link.format_guess, link.dataset, str(link.period_start), link.evidence.period
    ('http://127.0.0.1/bir/spend/f/1', 'csv', 'spend_over_500', '2025-03-01', 'row')
    """
    return read_links(html, base_url, link_pattern=link_pattern, dataset_hint=dataset_hint, context=context).files


def follow_links(html: str | bytes, base_url: str, *, follow_pattern: str | None = None) -> list[SubPage]:
    """Sub-pages worth fetching: year pages, pagination and CKAN resource pages on the same site.

    With ``follow_pattern`` (a regex over URL or link text) exactly the matching
    same-site pages are followed instead of the built-in rules.

    >>> page = ('<a href="?page=2">Next</a> <a href="2024-25/">Spending 2024/25</a> '
    ...         '<a href="/care-act-2014">The Care Act 2014</a> <a href="https://other.org/2024">2024</a>')
    >>> for sub in follow_links(page, "http://127.0.0.1/bir/spend/"):
    ...     print(sub.url, sub.pagination)
    http://127.0.0.1/bir/spend/?page=2 True
    http://127.0.0.1/bir/spend/2024-25/ False
    """
    return read_links(html, base_url, follow_pattern=follow_pattern).follow


def guess_format(url: str, text: str = "") -> str:
    """The format a link probably serves: extension (decoded), then link text, then file name words.

    >>> guess_format("https://x.gov.uk/media/7811/transactions_over_500_october__2018.csv")
    'csv'
    >>> guess_format("https://x.gov.uk/download?p_ID=558156", "April 2014 spend [csv]")
    'csv'
    >>> guess_format("https://x.gov.uk/downloads/file/4300/2018_september_supplier_spend_-_pdf_document")
    'pdf'
    >>> guess_format("https://x.gov.uk/GetFile.ashx?name=Spend%20April%202024%2Exlsx")
    'xlsx'
    >>> guess_format("https://x.gov.uk/downloads/file/568/expenditure_exceeding_500_september_2018")
    'unknown'
    """
    return _format(_url_names(url)[0], [("link text", text)])[0]


def guess_dataset(text: str, url: str = "", hint: str | None = None) -> str | None:
    """Which Transparency Code dataset a link is, from its words; ``hint`` when silent.

    >>> guess_dataset("April 2014 spend over £250 - purchase cards [csv]")
    'purchase_card'
    >>> guess_dataset("Expenditure exceeding &pound;500 May 2018")
    'spend_over_500'
    >>> guess_dataset("December", "https://x.gov.uk/2015/December-card-payments.csv")
    'purchase_card'
    >>> guess_dataset("Download", "https://x.gov.uk/f/1", hint="grants")
    'grants'
    """
    for source in (text, _url_text(url)):
        kind = kind_in(source)
        if kind:
            return kind
    return hint


def guess_period(text: str, url: str = "") -> tuple[date | None, date | None]:
    """The period a link covers, from its text, else its URL's file name, else its folders.

    >>> guess_period("Spending over £500 – March 2025 (CSV, 245KB)")
    (datetime.date(2025, 3, 1), datetime.date(2025, 3, 31))
    >>> guess_period("December [CSV file 1671KB]", "https://x.gov.uk/payments/2015/December.csv")
    (datetime.date(2015, 12, 1), datetime.date(2015, 12, 31))
    >>> guess_period("Download")
    (None, None)
    """
    choice = choose_period([("link text", read_clue(text)), *_url_clues(url)])
    return (choice.start, choice.end) if choice else (None, None)


@lru_cache(maxsize=8192)
def kind_in(text: str) -> str | None:
    """The one kind of data ``text`` names; None when it names none, or kinds that do not go together.

    A card or grant file is often described as spend ("spend over £250 - purchase cards").

    >>> kind_in("Spend data over £250 - Government Procurement Card [csv]")
    'purchase_card'
    >>> kind_in("Transparency: spending, contracts and grants") is None
    True
    """
    found = {kind for kind, words in _KIND_WORDS.items() if words.search(text or "")}
    if len(found) > 1:
        found.discard("spend_over_500")
    return found.pop() if len(found) == 1 else None


@lru_cache(maxsize=8192)
def is_about_the_data(text: str) -> bool:
    """Whether ``text`` names a document about the data (or another paper beside it), not the data.

    >>> is_about_the_data("Spending over £500: guide to the fields (PDF)"), is_about_the_data("Redaction policy")
    (True, True)
    >>> is_about_the_data("April 2014 spend over £250 - invoices & credit notes [csv]")
    False
    """
    return bool(_ABOUT_THE_DATA.search(text or ""))


def format_from_headers(content_type: str | None, disposition: str | None = None) -> str:
    """What a HEAD answer says a link serves: a :data:`FORMATS` value, ``html`` or ``document``.

    The file name in Content-Disposition wins over the Content-Type, which servers often get
    wrong (``application/octet-stream``).

    >>> format_from_headers("application/octet-stream", "attachment; filename=\\"Spend April 2024.xlsx\\"")
    'xlsx'
    >>> format_from_headers("text/csv; charset=windows-1252"), format_from_headers("text/html; charset=utf-8")
    ('csv', 'html')
    >>> format_from_headers("application/octet-stream", "attachment; filename*=UTF-8''Spend%20May%202024.ods")
    'ods'
    >>> format_from_headers("application/msword")
    'document'
    """
    name = disposition_file_name(disposition)
    if name:
        extension = _extension(name)
        if extension in _DATA_EXTENSIONS:
            return _DATA_EXTENSIONS[extension]
        if extension in _DOCUMENT_EXTENSIONS:
            return "document"
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in _DATA_MIME:
        return _DATA_MIME[mime]
    if mime in _PAGE_MIME:
        return "html"
    if _DOCUMENT_MIME.match(mime):
        return "document"
    return "unknown"


def disposition_file_name(disposition: str | None) -> str:
    """The file name a Content-Disposition header gives (RFC 6266, either form), or "".

    >>> disposition_file_name("attachment; filename*=UTF-8''Spend%20May%202024.csv; filename=x.csv")
    'Spend May 2024.csv'
    """
    if not disposition:
        return ""
    extended = re.search(r"filename\*\s*=\s*[\w-]*'[^']*'([^;]+)", disposition, re.I)
    if extended:
        return unquote(extended.group(1).strip().strip('"'))
    plain = re.search(r'filename\s*=\s*("([^"]*)"|[^;]+)', disposition, re.I)
    return (plain.group(2) if plain and plain.group(2) is not None else plain.group(1) if plain else "").strip()


def with_headers(link: DiscoveredLink, fmt: str, disposition: str | None) -> DiscoveredLink:
    """``link`` completed by a HEAD answer: its format, and the period of a Content-Disposition name."""
    name = disposition_file_name(disposition)
    found = file_name_clue(_as_words(name)) if name else None
    period = (link.period_start, link.period_end)
    evidence = replace(link.evidence, format="HEAD")
    if period[0] is None and found is not None and found is not AMBIGUOUS and found.whole:
        period = (found.start, found.end)
        evidence = replace(evidence, period="Content-Disposition")
    return replace(link, format_guess=fmt, period_start=period[0], period_end=period[1], evidence=evidence)


# ------------------------------------------------------------------ judging one link


@dataclass(frozen=True)
class _Words:
    """The words around one link, named by where they come from, strongest evidence first."""

    own: list[tuple[str, str]]  # the link's text and title
    rows: list[tuple[str, str]]
    table: list[tuple[str, str]]  # its column heading and the table's caption
    headings: list[tuple[str, str]]
    parent: list[tuple[str, str]]  # what the page that led here said
    tail: str  # the words of the block only this link fills
    file_name: str
    folders: str
    page_title: str

    @classmethod
    def around(cls, page: Page, anchor: Anchor, context: str | None) -> _Words:
        found = page.surroundings(anchor)
        return cls(
            own=[("link text", anchor.text), ("link title", anchor.title if anchor.title != anchor.text else "")],
            rows=[("row", text) for text in found.rows],
            table=[("column", found.column), ("caption", found.caption)],
            headings=[(f'heading "{_short(text)}"', text) for text in found.headings],
            parent=[("parent page", context or "")],
            tail=anchor.tail,
            file_name=_file_name(anchor),
            folders=_url_names(anchor.url)[1],
            page_title=page.title,
        )

    @property
    def of_the_link(self) -> str:
        """Words that belong to the link alone: its text, title, block and file name."""
        return " ".join([*(text for _, text in self.own), self.tail, self.file_name])

    def around_first(self) -> list[tuple[str, str]]:
        return self.own + self.rows + self.table + self.headings + self.parent

    def period(self) -> Choice | None:
        pieces = [(name, read_clue(text)) for name, text in self.around_first()]
        pieces += [("file name", file_name_clue(self.file_name)), ("folders", _folder_clue(self.folders))]
        return choose_period([*pieces, ("page title", read_clue(self.page_title))])

    def kind(self, hint: str | None) -> tuple[str | None, str]:
        url = [("file name", self.file_name), ("folders", self.folders), ("page title", self.page_title)]
        for name, text in self.around_first() + url:
            kind = kind_in(text)
            if kind:
                return kind, name
        return (hint, "sources hint") if hint else (None, "")

    def format(self, type_attribute: str) -> tuple[str, str]:
        pieces = self.own + [("row", self.tail)] + self.rows + [("type attribute", type_attribute)] + self.parent
        return _format(self.file_name, pieces)


def _judge(page: Page, anchor: Anchor, hint: str | None, context: str | None) -> DiscoveredLink | None:
    """The link as spend data, or None when it is not: a paper about the data, a contract register
    (unless contracts are wanted), a menu link that does not name its data, or a link with neither a
    period nor a kind of its own (a "Download" with nothing around it to say what)."""
    words = _Words.around(page, anchor, context)
    own_kind = kind_in(words.of_the_link)
    if is_about_the_data(words.of_the_link) or (own_kind is None and page.in_furniture(anchor)):
        return None
    chosen = words.period()
    kind, kind_from = words.kind(hint)
    own_period = any(read_clue(text) not in (None, AMBIGUOUS) for _, text in words.own)
    if (kind == "contracts" and hint != "contracts") or (chosen is None and own_kind is None):
        return None
    if kind is None and not own_period:
        return None  # nothing says what it is: a link naming its own period is kept, the parser reads its kind
    section = " ".join(text for _, text in words.headings[:1] + words.rows[:1])
    if _NOT_DATA_SECTION.search(section) and not (own_kind or own_period):
        return None  # "Notes (PDF)" under "Related documents"
    fmt, fmt_from = words.format(anchor.attributes.get("type", ""))
    return DiscoveredLink(
        url=anchor.url,
        text=anchor.text,
        format_guess=fmt,
        dataset=kind,
        period_start=chosen.start if chosen else None,
        period_end=chosen.end if chosen else None,
        evidence=Evidence(fmt_from, kind_from, chosen.evidence if chosen else ""),
        context=" | ".join(
            filter(None, [anchor.text, *(t for _, t in words.rows[:1] + words.headings[:1]), page.title])
        ),
    )


def _format(file_name: str, pieces: list[tuple[str, str]]) -> tuple[str, str]:
    """The format a link serves and what said so: extension, words, MIME type, file name words."""
    extension = _extension(file_name)
    if extension in _DATA_EXTENSIONS:
        return _DATA_EXTENSIONS[extension], "extension"
    for name, text in pieces:
        if name == "type attribute":
            if text.split(";")[0].strip().lower() in _DATA_MIME:
                return _DATA_MIME[text.split(";")[0].strip().lower()], name
            continue
        found = {fmt for pattern, fmt in _FORMAT_WORDS if pattern.search(text)}
        if len(found) == 1:
            return found.pop(), name
        if found and name == "row":
            break  # a row naming several formats speaks for its other links too: look no further up
    for pattern, fmt in _FORMAT_WORDS:
        if pattern.search(re.sub(r"[_\-]+", " ", file_name)):
            return fmt, "file name"
    return "unknown", ""


# ------------------------------------------------------------------ which links are files


_ROLE_STRENGTH = {"page": 0, "document": 1, "file": 2, "resource": 3}


def _role(anchor: Anchor) -> str:
    """``file``, ``resource`` (a CKAN resource page standing for a file), ``document`` or ``page``."""
    parts = urlsplit(anchor.url)
    path = _decoded(parts.path)
    if _CKAN_RESOURCE_PAGE.search(path):
        return "resource"
    for name in (path, *_query_file_names(parts.query), anchor.attributes.get("download", "")):
        extension = _extension(name)
        if extension in _DATA_EXTENSIONS:
            return "file"
        if extension in _DOCUMENT_EXTENSIONS:
            return "document"
    if _looks_like_pagination(anchor.url, anchor.text):
        return "page"
    if "download" in anchor.attributes or anchor.attributes.get("type", "").split(";")[0].strip().lower() in _DATA_MIME:
        return "file"
    download_url = bool(_DOWNLOAD_URL.search(f"{path}?{parts.query}"))
    if _extension(path) in _PAGE_EXTENSIONS and not download_url:
        return "page"
    words = " ".join([anchor.text, anchor.title, anchor.tail])
    if download_url or _DOWNLOAD_WORD.search(anchor.text) or _FILE_SIZE.search(words):
        return "file"
    if any(pattern.search(words) for pattern, _ in _FORMAT_WORDS):
        return "file"
    if _names_a_month_or_quarter(anchor.text):
        return "file"  # "April 2024" to an address with no file name: perhaps a file; the HEAD request says
    return "page"


def _names_a_month_or_quarter(text: str) -> bool:
    clue = read_clue(text)
    if clue is None or clue is AMBIGUOUS or not clue.whole:
        return False
    return (clue.end.year - clue.start.year) * 12 + clue.end.month - clue.start.month < 3  # type: ignore[union-attr]


def _first_with_text(anchors: list[Anchor]) -> Iterator[Anchor]:
    """Each URL once: its first anchor with words (an icon link before the text link gives way)."""
    chosen: dict[str, Anchor] = {}
    for anchor in anchors:
        if anchor.url not in chosen or (anchor.text and not chosen[anchor.url].text):
            chosen[anchor.url] = anchor
    return iter(chosen.values())


# ------------------------------------------------------------------ sub-pages


def _follow(page: Page, roles: dict[str, str], base_url: str, follow_pattern: str | None) -> list[SubPage]:
    pattern = re.compile(follow_pattern, re.I) if follow_pattern else None
    here = _same_site_key(base_url)
    this_page = _page_key(base_url)
    follow: dict[str, SubPage] = {}
    for anchor in _first_with_text(page.anchors):
        url, text = anchor.url, anchor.text
        if _page_key(url) == this_page or url in follow or _same_site_key(url) != here:
            continue
        if roles[url] == "resource":
            follow[url] = SubPage(url, text, pagination=False, context=page.context_text(anchor), resource=True)
            continue
        if roles[url] != "page":
            continue
        pagination = _looks_like_pagination(url, text)
        if pattern:
            wanted = bool(pattern.search(url) or pattern.search(text))
        else:
            wanted = pagination or _looks_like_year_page(url, text) or _names_its_data(page, anchor)
        if wanted:
            follow[url] = SubPage(url, text, pagination, context="" if pagination else page.context_text(anchor))
    return list(follow.values())


def _names_its_data(page: Page, anchor: Anchor) -> bool:
    """A link in the page's content to a page of spend data ("Payments to suppliers over £500",
    "Purchase card transactions"): a transparency page's way to its data."""
    kind = kind_in(anchor.text)
    return kind in SPEND_KINDS and not is_about_the_data(anchor.text) and not page.in_furniture(anchor)


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


# ------------------------------------------------------------------ URL words


def _decoded(text: str) -> str:
    """Percent-decoded, twice at most (names are sometimes encoded twice: ``%2520``)."""
    for _ in range(2):
        if "%" not in text:
            break
        text = unquote(text)
    return text


def _query_file_names(query: str) -> list[str]:
    """Query values that look like file names (``?file=Spend%20April.csv``)."""
    values = [_decoded(value) for _, value in parse_qsl(query, keep_blank_values=False)]
    return [value for value in values if "." in value]


def _url_names(url: str) -> tuple[str, str]:
    """A URL's file name (its last path segment, or a file name in its query) and its folders, as words.

    >>> _url_names("https://x.gov.uk/wp-content/uploads/2024/05/Spend%20April%202024.csv?v=2")
    ('Spend April 2024.csv', 'wp-content uploads 2024')
    >>> _url_names("https://x.gov.uk/pls/portal/NTC_PSCM.PSCM_Web.download?p_ID=558156")
    ('NTC PSCM.PSCM Web.download', 'pls portal')
    """
    if not url:
        return "", ""
    parts = urlsplit(url)
    segments = [s for s in _decoded(parts.path).split("/") if s]
    name = segments[-1] if segments else ""
    in_query = _query_file_names(parts.query)
    if in_query and _extension(name) not in _DATA_EXTENSIONS:
        name = in_query[0].rsplit("/", 1)[-1]
    folders = [s for s in segments[:-1] if not s.isdigit() or len(s) in (4, 6)]
    return _as_words(name), _as_words(" ".join(folders))


def _file_name(anchor: Anchor) -> str:
    """The link's file name as words: from its URL, else from its ``download`` attribute ("Spend May.csv")."""
    name = _url_names(anchor.url)[0]
    suggested = anchor.attributes.get("download", "")
    if _extension(name) not in _DATA_EXTENSIONS and "." in suggested:
        return _as_words(suggested)
    return name


def _url_clues(url: str) -> list[tuple[str, Clue | None]]:
    file_name, folders = _url_names(url)
    return [("file name", file_name_clue(file_name)), ("folders", _folder_clue(folders))]


def _folder_clue(folders: str) -> Clue | None:
    """The period a URL's folders give: a year ("2015/December.csv") or a financial year, never a month.

    Upload folders ("uploads/2024/05", "files/2024-05") say when a file was put up, not what it covers.

    >>> _folder_clue("sites default files 2024-05").year, _folder_clue("spending 2024-25").financial
    (2024, True)
    """
    clue = read_clue(folders)
    if clue is None or clue is AMBIGUOUS or not clue.whole or clue.financial:
        return clue
    return Clue(year=clue.start.year) if clue.start.year == clue.end.year else None  # type: ignore[union-attr]


def _url_text(url: str) -> str:
    file_name, folders = _url_names(url)
    return f"{folders} {file_name}".strip()


def _as_words(text: str) -> str:
    """Underscores and plus signs as spaces; hyphens stay ("2024-25", "Jan-Mar")."""
    return " ".join(re.sub(r"[_+]+", " ", text).split())


def _extension(name: str) -> str:
    last = name.rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower().strip() if "." in last else ""


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) address (the only kind ever requested or shown).

    >>> is_web_url("https://x.gov.uk/a.csv"), is_web_url("file:///etc/passwd"), is_web_url("javascript:x")
    (True, False, False)
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
