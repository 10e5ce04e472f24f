"""Where each link sits on a council page: the words of its row, column, caption and headings.

A link often says only "CSV", "Download" or "here"; what it is and which month it covers sit
around it: in its table row or list item, the column heading over its cell, the table's caption,
the headings above it. This module reads those words from the page's structure, and never from a
neighbouring row:

* a *row* is any element around the link up to the section it belongs to (the first element that
  also holds a heading of its own); its words are those outside every element that holds another
  file link, so a row of twelve months names none of them, while a table row "April 2024 | CSV |
  PDF" names April 2024 for both links. In a block of lines split by ``<br>``, only the link's line
  counts;
* a *heading* is the nearest h1-h6 (or a bold-only paragraph, or the ``dt`` of a ``dd``) before
  the link in its section, then the nearer higher-rank headings above that; headings inside an
  earlier sibling that holds other file links belong to that sibling and are skipped;
* the *tail* of a link is the text of the largest element around it that links nowhere else
  ("(CSV) Size: 355 KB" after Manchester's links).

Nothing here knows what a spend file is: :mod:`crawler.discovery` decides which links are files and
weighs the words.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

import parsel
from lxml import etree
from w3lib.url import safe_url_string

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
#: Rank of a bold-only paragraph used as a heading, and of a ``dt`` over its ``dd``.
BOLD_HEADING_RANK, TERM_RANK = 7, 8
#: Elements whose words are never a link's context.
_SKIP = {"script", "style", "noscript", "template", "select", "option", "button", "svg"}
#: Elements that end a row's walk: beyond them is the page, not the row.
_PAGE_LEVEL = {"body", "html", "main", "article", "nav", "header", "footer", "aside", "form"}
#: Site furniture whose headings ("Popular tasks") say nothing about a link outside it.
_CHROME = {"nav", "footer", "aside", "form"}
#: Class, id or role words of furniture built from plain elements.
_FURNITURE = re.compile(r"breadcrumb|\bnav|navigation|menu|footer|sidebar|masthead|banner|cookie", re.I)
_BOLD = {"strong", "b"}
#: A row this long is prose around many things, not a label.
MAX_ROW_WORDS = 40
MAX_BOLD_HEADING = 100
#: Rows speak for every link in them; these containers through one labelling child; lists never.
_ROWS = {"tr", "li", "p", "dd", "dt", "td", "th"}
_LABELLED = {"details": "summary", "fieldset": "legend", "figure": "figcaption"}
_LISTS = {"ul", "ol", "dl", "table", "thead", "tbody", "tfoot"}
#: A plain line this short just before a link's block is its label.
MAX_LABEL_WORDS = 8
_LABELS = {"p", "div", "span", "label", "em", "i"}


@dataclass
class Anchor:
    """One ``<a href>`` to a web address, with its words and the element it sits in."""

    url: str
    text: str
    title: str
    element: etree._Element = field(repr=False)
    attributes: dict[str, str] = field(repr=False, default_factory=dict)
    tail: str = ""


@dataclass(frozen=True)
class Surroundings:
    """The words around one link, nearest first in each list."""

    rows: tuple[str, ...] = ()
    column: str = ""
    caption: str = ""
    headings: tuple[str, ...] = ()


class Page:
    """A parsed page: its web links in document order and the structure around them."""

    def __init__(self, html: str, base_url: str):
        self.selector = parsel.Selector(text=html)
        root = self.selector.root
        # keep every element alive so each has one stable Python object (used as a dict key)
        self._elements = [el for el in root.iter() if isinstance(el.tag, str)]
        self._parent = {child: el for el in self._elements for child in el if isinstance(child.tag, str)}
        self.title = _words(" ".join(self.selector.css("title::text").getall()))
        self.anchors = list(self._read_anchors(base_url))
        self._urls_under = self._index_urls(self.anchors)
        self._link_elements = {anchor.element for anchor in self.anchors}
        self._files_under: dict[etree._Element, set[str]] = {}
        self._ranks: dict[etree._Element, int | None] = {}
        for anchor in self.anchors:
            anchor.tail = self._tail(anchor)

    def set_files(self, is_file: Callable[[Anchor], bool]) -> None:
        """Say which links are files: their rows are theirs alone and no one else's context."""
        self._files_under = self._index_urls([a for a in self.anchors if is_file(a)])

    def surroundings(self, anchor: Anchor) -> Surroundings:
        """The rows, column, caption and headings around ``anchor``, other file links left out."""
        files_under = self._files_under
        lineage = [anchor.element, *self._ancestors(anchor.element)]
        rows: list[str] = []
        caption = ""
        column = ""
        node = anchor.element
        for element in lineage[1:]:
            if element.tag in _PAGE_LEVEL or self._holds_other_heading(element, lineage):
                break
            if element.tag == "table":
                caption = _words(" ".join(element.xpath("./caption//text()")))
            if element.tag in ("td", "th") and not column:
                column = self._column_heading(element)
            own = self._row_text(element, node, anchor.url, files_under)
            if len(own.split()) > MAX_ROW_WORDS:
                break
            if own:
                rows.append(own)
            node = element
        return Surroundings(tuple(rows), column, caption, tuple(self._headings(anchor.element, files_under)))

    def in_furniture(self, anchor: Anchor) -> bool:
        """Whether the link sits in the site's furniture (menus, breadcrumbs, header, footer, sidebar), not its content.

        An element that wraps the page's main heading or content is a layout wrapper, whatever its name
        ("page-with-sidebar"), not furniture.
        """
        for element in self._ancestors(anchor.element):
            names = f"{element.get('class') or ''} {element.get('id') or ''} {element.get('role') or ''}"
            if element.tag in _CHROME or element.tag == "header" or _FURNITURE.search(names):
                if element.find(".//h1") is None and element.find(".//main") is None:
                    return True
        return False

    def context_text(self, anchor: Anchor) -> str:
        """The link's text, nearest heading and the page title: what a page it leads to inherits."""
        headings = list(self._headings(anchor.element, self._files_under))
        return " | ".join(filter(None, [anchor.text, *headings[:1], self.title]))

    # ----------------------------------------------------------------- reading

    def _read_anchors(self, base_url: str) -> Iterator[Anchor]:
        base = self.selector.css("base::attr(href)").get()
        if base:
            with contextlib.suppress(ValueError):  # a broken <base href>: resolve against the page's own URL
                base_url = urljoin(base_url, base.strip())
        for element in self._elements:
            if element.tag != "a" or not element.get("href"):
                continue
            url = web_url(element.get("href", ""), base_url)
            if url is None:
                continue
            text = _words(" ".join(element.itertext()))
            if not text:
                images = " ".join(img.get("alt") or "" for img in element.iter("img"))
                text = _words(element.get("aria-label") or element.get("title") or images)
            attributes = {k: str(v) for k, v in element.attrib.items()}
            title = element.get("aria-label") or element.get("title") or ""
            yield Anchor(url, text, _words(title), element, attributes)

    def _index_urls(self, anchors: list[Anchor]) -> dict[etree._Element, set[str]]:
        """For every element, the URLs of the given anchors inside it."""
        under: dict[etree._Element, set[str]] = {}
        for anchor in anchors:
            for element in [anchor.element, *self._ancestors(anchor.element)]:
                under.setdefault(element, set()).add(anchor.url)
        return under

    def _ancestors(self, element: etree._Element) -> Iterator[etree._Element]:
        parent = self._parent.get(element)
        while parent is not None:
            yield parent
            parent = self._parent.get(parent)

    def _tail(self, anchor: Anchor) -> str:
        """The words of the largest element around the link that links nowhere else."""
        block = anchor.element
        for element in self._ancestors(anchor.element):
            if self._urls_under.get(element) != {anchor.url} or element.tag in _PAGE_LEVEL:
                break
            block = element
        if block is anchor.element:
            return ""
        pieces = [block.text or ""]
        for child in block:
            if (
                isinstance(child.tag, str)
                and child.tag not in _SKIP
                and not (child.tag == "a" and child in self._link_elements)
            ):
                pieces.append(_text_outside_links(child, self._link_elements))
            pieces.append(child.tail or "")
        return _words(" ".join(pieces))

    def _row_text(self, element: etree._Element, node: etree._Element, url: str, files_under: dict) -> str:
        """What ``element`` says about the link below it (through its child ``node``), if it is a row of it.

        An element holding no other file link is all the link's. A row (``tr``, ``li``, ``p``,
        ``dd``, a cell) speaks for every link in it, line by line when split by ``<br>``; a
        ``details``, ``fieldset`` or ``figure`` through its summary, legend or caption. Any other
        container of several links speaks for them only with a single label ("April 2024" in a
        ``div`` with a CSV and a PDF link), never with one label among several.
        """
        tag = element.tag
        if files_under.get(element, set()) <= {url}:
            return self._own_text(element, files_under)
        if tag in _ROWS:
            lines = _has_br(element)
            return self._own_text(element, files_under, line_of=node if lines else None)
        if tag in _LABELLED:
            return _words(" ".join(" ".join(label.itertext()) for label in element.findall(_LABELLED[tag])))
        if tag in _LISTS:
            return ""
        chunks = [element.text or ""] + [
            " ".join(child.itertext())
            for child in element
            if isinstance(child.tag, str) and child.tag not in _SKIP | set(HEADINGS) and not files_under.get(child)
        ]
        tails = " ".join(child.tail or "" for child in element)
        chunks = [c for c in chunks if _words(c)] + ([tails] if _words(tails) else [])
        return _words(chunks[0]) if len(chunks) == 1 else ""

    def _own_text(self, element: etree._Element, files_under: dict, line_of: etree._Element | None = None) -> str:
        """The words of ``element`` outside headings and outside children holding file links.

        With ``line_of`` (a child), only the ``<br>``-separated line holding that child counts.
        """
        pieces: list[str] = []
        children = [c for c in element if isinstance(c.tag, str) or c.tail]
        if line_of is not None:
            index = children.index(line_of)
            breaks = [i for i, c in enumerate(children) if c.tag == "br"]
            first = max([i for i in breaks if i < index], default=-1)
            last = min([i for i in breaks if i > index], default=len(children))
            if first == -1 and element.text:
                pieces.append(element.text)
            for child in children[first + 1 : last]:
                self._child_text(child, files_under, pieces, include_tail=True)
            if first >= 0 and children[first].tail:
                pieces.insert(0, children[first].tail)
            return _words(" ".join(pieces))
        if element.text:
            pieces.append(element.text)
        for child in children:
            self._child_text(child, files_under, pieces, include_tail=True)
        return _words(" ".join(pieces))

    def _child_text(self, child: etree._Element, files_under: dict, pieces: list[str], include_tail: bool) -> None:
        if isinstance(child.tag, str) and child.tag not in _SKIP and child.tag not in HEADINGS:
            if not files_under.get(child):
                pieces.append(" ".join(child.itertext()))
        if include_tail and child.tail:
            pieces.append(child.tail)

    def _holds_other_heading(self, element: etree._Element, lineage: list[etree._Element]) -> bool:
        return any(h not in lineage for h in element.iter(*HEADINGS))

    def _column_heading(self, cell: etree._Element) -> str:
        row = self._parent.get(cell)
        table = next((a for a in self._ancestors(cell) if a.tag == "table"), None)
        if row is None or table is None:
            return ""
        index = 0
        for other in row:
            if other is cell:
                break
            if isinstance(other.tag, str) and other.tag in ("td", "th"):
                index += int(other.get("colspan") or 1) if str(other.get("colspan") or "1").isdigit() else 1
        header = next(
            (tr for tr in table.iter("tr") if tr is not row and tr.find("th") is not None and tr.find("td") is None),
            None,
        )
        if header is None:
            return ""
        position = 0
        for th in header:
            if not isinstance(th.tag, str) or th.tag not in ("td", "th"):
                continue
            span = int(th.get("colspan")) if str(th.get("colspan") or "").isdigit() else 1
            if position <= index < position + span:
                return _words(" ".join(th.itertext()))
            position += span
        return ""

    def _headings(self, start: etree._Element, files_under: dict) -> Iterator[str]:
        """The nearest heading before ``start`` in its section, then nearer higher-rank ones.

        A short plain line just before the link's block counts as its label ("April 2024" over a
        paragraph holding only "Download") when the first such block in the list has one too, so
        a list that puts its labels after the links never lends a link its neighbour's label.
        """
        rank = TERM_RANK + 1
        node = start
        labelled = False
        for parent in self._ancestors(start):
            siblings = [c for c in parent if isinstance(c.tag, str)]
            before = siblings[: siblings.index(node)]
            if not labelled and files_under.get(node) and len(siblings) > 1:
                labelled = True
                label = self._label_before(siblings, siblings.index(node), files_under)
                if label:
                    rank = TERM_RANK
                    yield label
            nearest = self._heading_rank(before[-1]) if before else None
            if nearest is not None and nearest >= rank:
                yield _words(" ".join(before[-1].itertext()))  # it labels this very container (an accordion's button)
                before = before[:-1]
            for sibling in reversed(before):
                for heading, heading_rank in self._headings_in(sibling, files_under, rank):
                    rank = heading_rank
                    yield heading
                    if rank == 1:
                        return
            node = parent

    def _label_before(self, siblings: list[etree._Element], index: int, files_under: dict) -> str:
        """The label of the block at ``index``: the short plain line before it, or after it when the
        list puts its labels after the links (as its first block shows), never a neighbour's."""
        blocks = [i for i, s in enumerate(siblings) if files_under.get(s)]
        first = blocks[0]
        labels_before = first > 0 and self._is_label(siblings[first - 1], files_under)
        labels_after = (
            not labels_before and first + 1 < len(siblings) and self._is_label(siblings[first + 1], files_under)
        )
        at = index - 1 if labels_before else index + 1 if labels_after else -1
        if at < 0 or at >= len(siblings) or not self._is_label(siblings[at], files_under):
            return ""
        return _words(" ".join(siblings[at].itertext()))

    def _is_label(self, element: etree._Element, files_under: dict) -> bool:
        if element.tag not in _LABELS or files_under.get(element) or element.find(".//a") is not None:
            return False
        return 0 < len(_words(" ".join(element.itertext())).split()) <= MAX_LABEL_WORDS

    def _headings_in(self, element: etree._Element, files_under: dict, below: int) -> Iterator[tuple[str, int]]:
        """Headings in ``element`` ranked above ``below``, last first; none inside other links' rows."""
        own_rank = self._heading_rank(element)
        if own_rank is not None:
            if own_rank < below:
                yield _words(" ".join(element.itertext())), own_rank
            return
        if files_under.get(element) or element.tag in _SKIP or element.tag in _CHROME:
            return
        for child in reversed([c for c in element if isinstance(c.tag, str)]):
            for heading, rank in self._headings_in(child, files_under, below):
                below = rank
                yield heading, rank

    def _heading_rank(self, element: etree._Element) -> int | None:
        if element not in self._ranks:
            self._ranks[element] = self._rank_of(element)
        return self._ranks[element]

    def _rank_of(self, element: etree._Element) -> int | None:
        if element.tag in HEADINGS:
            return HEADINGS[element.tag]
        if element.get("role") == "heading":
            level = str(element.get("aria-level") or "")
            return int(level) if level.isdigit() and 1 <= int(level) <= 6 else 2
        if element.tag == "dt":
            return TERM_RANK
        if element.tag == "button" and 0 < len(_words(" ".join(element.itertext()))) <= MAX_BOLD_HEADING:
            return BOLD_HEADING_RANK  # an accordion's header
        if element.tag in ("p", "div") and _is_bold_only(element):
            return BOLD_HEADING_RANK
        return None


def web_url(href: str, base_url: str) -> str | None:
    """``href`` made absolute, without its fragment, when it is an http(s) address; else None.

    ``javascript:``, ``mailto:``, ``tel:``, ``data:``, ``file:`` and ``ftp:`` links are never
    followed nor shown, and a malformed address is skipped, not an error.

    >>> web_url("../2015/December.csv#top", "https://x.gov.uk/spend/index.jsp")
    'https://x.gov.uk/2015/December.csv'
    >>> web_url("files/Spend £500 April.csv", "https://x.gov.uk/spend/")
    'https://x.gov.uk/spend/files/Spend%20%C2%A3500%20April.csv'
    >>> [web_url(h, "https://x.gov.uk/") for h in ("JavaScript:alert(1)", "java\\tscript:x", "ftp://x/a.csv", "http://[::1/x")]
    [None, None, None, None]
    """
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        url = urldefrag(urljoin(base_url, href)).url
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return safe_url_string(url)  # as Scrapy will request it ("Spend April.csv" -> "Spend%20April.csv")


def _is_bold_only(element: etree._Element) -> bool:
    """A short paragraph whose words are all bold and that links nowhere: a heading in all but name."""
    children = [c for c in element if isinstance(c.tag, str)]
    if element.find(".//a") is not None or not children or any(c.tag not in _BOLD | {"br"} for c in children):
        return False
    outside = (element.text or "") + "".join(c.tail or "" for c in element)
    inside = _words(" ".join(element.itertext()))
    return not outside.strip(" \t\r\n:|-") and 0 < len(inside) <= MAX_BOLD_HEADING


def _text_outside_links(element: etree._Element, links: set) -> str:
    """The words of ``element`` outside the given link elements."""
    pieces = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _SKIP and child not in links:
            pieces.append(_text_outside_links(child, links))
        pieces.append(child.tail or "")
    return " ".join(pieces)


def _has_br(element: etree._Element) -> bool:
    return any(isinstance(c.tag, str) and c.tag == "br" for c in element)


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
