"""The mock web's hostile network cases (``--faults``): what a careful crawler must survive and record.

File links of the fault council (none of them changing its compliance):

============================  ==============================================  ===========================
case (``fault``)              what the server does                            what the crawl records
============================  ==============================================  ===========================
``dropped``                   cuts the connection half way through the body   ``connection dropped``
``drip``                      sends 16 bytes a second                         ``timed out``
``redirect_loop``             two links redirecting to each other             ``redirect loop``
``offsite_redirect``          redirects to the file on another host           the file, with its ``final_url``
``oversized``                 announces a 3 GiB ``Content-Length``            ``too large``
``endless``                   a body without length or end                    ``too large``
``rate_limited``              429 ``Retry-After: 1`` once, then the file      the file, after waiting
``rate_limited_always``       429 ``Retry-After: 1`` every time               ``HTTP 429``
``retry_after_too_long``      503 ``Retry-After: 86400``                      ``asked to retry after``
============================  ==============================================  ===========================

Links that are not web addresses (``mailto:``, ``javascript:``, ``ftp:``, ``file:``, ``data:``) sit on
its landing page, and a ``file:`` resource in a portal dataset: never requested, never recorded.
And one more council's site is down (:func:`add_down_council`): its landing page hangs up without
answering and its other page is forbidden by robots.txt, so all its quarters are ``site_unreachable``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from mockweb.plan import Profile
from mockweb.site import PORT_PLACEHOLDER, Link
from normalise.councils import Council, councils

if TYPE_CHECKING:
    from mockweb.generate import _Builder

#: Where an off-site redirect leads: another loopback address serving the same web, as a council's
#: new domain or file storage would.
OFFSITE_HOST = "127.0.0.254"
NON_WEB_LINKS = (
    ("mailto:transparency@example.gov.uk?subject=spend-2025-01.csv", "Ask for spend-2025-01.csv by e-mail"),
    ("javascript:download('spend-2025-01.csv')", "Spending over £500 – January 2025 (CSV, script)"),
    ("ftp://127.0.0.1/pub/spend-2025-01.csv", "Spending over £500 – January 2025 (CSV, FTP)"),
    ("file:///etc/passwd", "Spending over £500 – January 2025 (CSV, local copy)"),
    ("data:text/csv,Date%2CSupplier%2CAmount", "Spending over £500 – January 2025 (CSV, inline)"),
)


@dataclass(frozen=True)
class NonWebLink:
    """A link that is not a web address, and where it was put."""

    council_code: str
    href: str
    text: str
    where: str  # landing_page | ckan_resource


def add_hostile_cases(b: _Builder, p: Profile) -> None:
    """Add the network faults to council ``p``'s files and pages (see the module's table)."""
    from mockweb.generate import FileSpec

    own = {
        (s.period_start.year, s.period_start.month): s
        for s in b.specs
        if s.council_code == p.code and s.dataset == "spend_over_500" and s.format == p.format and not s.fault
    }

    def copy(
        month: tuple[int, int],
        name: str,
        words: str,
        fault: str,
        error: str,
        status: int,
        route: dict,
        moved: bool = False,
    ) -> None:
        base = own[month]
        spec = FileSpec(
            p.code,
            "spend_over_500",
            base.format,
            base.period_start,
            base.period_end,
            base.published_at + timedelta(days=12),
            f"/{p.slug}/files/{name}",
            link_text=f"Spending over £500 – {base.label} ({words}) ({base.format.upper()})",
            body=base.body,
            expected_status=base.expected_status if status == 200 else "",
            fault=fault,
            http_status=status,
        )
        spec.route, spec.expected_error = route, error
        if moved:  # the same file, served by the other host: a parser must make of it what it makes of the base
            spec.redirect_to, spec.records, spec.junk_rows, spec.columns = (
                base.url_path,
                base.records,
                base.junk_rows,
                base.columns,
            )
        b.specs.append(spec)

    copy((2025, 3), "spend-2025-03-copy.csv", "copy", "dropped", "connection dropped", 0, {"fault": "drop"})
    copy(
        (2025, 10),
        "spend-2025-10-draft.csv",
        "draft",
        "drip",
        "timed out",
        0,
        {"fault": "drip", "chunk": 16, "every": 1.0},
    )
    loop_a, loop_b = f"/{p.slug}/files/spend-2025-11-latest.csv", f"/{p.slug}/files/latest/spend-2025-11.csv"
    copy(
        (2025, 11),
        loop_a.rsplit("/", 1)[1],
        "latest",
        "redirect_loop",
        "redirect loop",
        0,
        {"status": 302, "location": loop_b},
    )
    b.extra_routes[loop_b] = {"status": 302, "location": loop_a}
    mirror = f"http://{OFFSITE_HOST}:{PORT_PLACEHOLDER}/{p.slug}/files/spend-2025-12.csv"
    copy(
        (2025, 12),
        "spend-2025-12-mirror.csv",
        "mirror",
        "offsite_redirect",
        "",
        200,
        {"status": 302, "location": mirror},
        moved=True,
    )
    copy(
        (2026, 1),
        "spend-2026-01-provisional.csv",
        "provisional",
        "rate_limited_always",
        "HTTP 429",
        429,
        {"status": 429, "retry_after": 1},
    )
    copy(
        (2026, 2),
        "spend-2026-02-provisional.csv",
        "provisional",
        "retry_after_too_long",
        "asked to retry after",
        503,
        {"status": 503, "retry_after": 86400},
    )
    for name, label, start, end, route in (
        (
            "spend-2024-25-all.csv",
            "April 2024 to March 2025",
            date(2024, 4, 1),
            date(2025, 3, 31),
            {"fault": "endless", "claims": 3 * 1024**3},
        ),
        (
            "spend-2025-26-all.csv",
            "April 2025 to March 2026",
            date(2025, 4, 1),
            date(2026, 3, 31),
            {"fault": "endless"},
        ),
    ):
        spec = FileSpec(
            p.code,
            "spend_over_500",
            "csv",
            start,
            end,
            own[(end.year, end.month)].published_at + timedelta(days=3),
            f"/{p.slug}/files/{name}",
            link_text=f"Spending over £500 – {label}, every month in one file (CSV, 3GB)",
            body=b"01/04/2024,ENDLESS SUPPLIER LTD,600.00\r\n" * 64,
            fault="oversized" if "claims" in route else "endless",
            http_status=0,
        )
        spec.route, spec.expected_error = route, "too large"
        b.specs.append(spec)
    waited = own[(2025, 1)]  # a real month, refused once: a polite crawler waits and gets it
    waited.fault, waited.route = "rate_limited", {"fault": "rate_limited", "times": 1, "retry_after": 1}
    b.non_web_links += [NonWebLink(p.code, href, text, "landing_page") for href, text in NON_WEB_LINKS]
    portal = next((q for q in b.profiles if q.role == "ckan"), None)
    if portal is not None:
        b.non_web_links.append(
            NonWebLink(portal.code, "file:///etc/passwd", "Spend January 2025 (copy)", "ckan_resource")
        )


def landing_links(b: _Builder, code: str, group: str) -> list[Link]:
    """The non-web links a council's spend landing page carries."""
    return [
        Link(n.href, n.text, group) for n in b.non_web_links if n.council_code == code and n.where == "landing_page"
    ]


def add_down_council(b: _Builder, chosen: list[Council]) -> Council:
    """A council whose site is down: its landing page hangs up, its other page is robots-forbidden.

    Drawn from its own random stream, so the rest of the web is the same with or without faults.
    """
    rng = random.Random(f"{b.seed}:down")
    taken = {c.code for c in chosen}
    pool = sorted(
        (
            c
            for c in councils().values()
            if c.nation == "England" and c.type not in ("COMB", "SRA") and c.code not in taken
        ),
        key=lambda c: c.code,
    )
    down = rng.choice(pool)
    slug = down.slug or down.code.lower()
    spending, cards = f"/{slug}/spending", f"/private/{slug}/purchase-cards"
    b.extra_routes[spending] = {"status": 0, "fault": "hangup"}  # status 0: no answer at all
    b.sources[down.code] = {
        "landing_pages": [
            {"url": "{base}" + spending, "dataset": "spend_over_500"},
            {"url": "{base}" + cards, "dataset": "purchase_card"},
        ]
    }
    b.unreadable_pages += [
        {"council_code": down.code, "url_path": spending, "kind": "landing", "expected_error": "connection"},
        {"council_code": down.code, "url_path": cards, "kind": "landing", "expected_error": "robots.txt"},
    ]
    return down
