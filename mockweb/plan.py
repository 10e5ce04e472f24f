"""Each mock council's habits (its profile) and what it publishes when (its file plan)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from mockweb.answers import quarter_deadline
from mockweb.economy import REDACTIONS, Economy, NameStyle, Payee, draw_style, written_name
from mockweb.files import Style
from mockweb.names import same_as_key
from normalise.councils import Council, councils

AS_OF = date(2026, 10, 15)
FIRST_MONTH = (2024, 4)
LAST_MONTH = (2026, 9)

#: The role decides a council's compliance story; roles are dealt in this order.
ROLES = (
    "compliant",
    "ckan",
    "late",
    "skip_quarter",
    "pdf_only",
    "missing_field",
    "outside_england",
    "compliant",
    "skip_month",
    "ckan",
    "compliant",
    "late",
)
SHAPES = ("table", "list", "accordion", "years", "paged")
CONTRACT_KINDS = (
    "Grounds maintenance",
    "Cleaning services",
    "Home to school transport",
    "IT support and licences",
    "Building repairs",
    "Agency staff",
    "Consultancy",
    "Waste collection vehicles",
)
DEPARTMENTS = (
    "Adults and Health",
    "Children and Families",
    "Place",
    "Resources",
    "Neighbourhoods",
    "Corporate Services",
    "Public Health",
)
SERVICES = (
    "Highways",
    "Waste Collection",
    "Libraries",
    "Housing Needs",
    "Adult Social Care",
    "Schools",
    "Parks and Open Spaces",
    "Leisure",
    "ICT",
    "Finance",
    "Planning",
    "Regeneration",
)
EXPENSE_TYPES = (
    "Third Party Payments",
    "Supplies and Services",
    "Premises Related",
    "Transport Related",
    "Professional Fees",
    "Equipment",
    "Consultancy",
    "Grants and Subscriptions",
    "Agency Staff",
    "Software Licences",
    "Repairs and Maintenance",
)
MERCHANT_CATEGORIES = (
    "Restaurants",
    "Book Stores",
    "Computer Software",
    "Travel Agencies",
    "Office Supplies",
    "Hardware Stores",
    "Professional Services",
    "Charitable Organisations",
    "Postage",
)
WEB_MERCHANTS = ("AMAZON MKTPLACE PMTS", "PAYPAL *EBAY", "TRAINLINE.COM", "ZOOM.US", "EVENTBRITE")


def quarter_of(d: date) -> str:
    """The calendar quarter label of a date.

    >>> quarter_of(date(2025, 8, 1))
    '2025-Q3'
    """
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def years_after(d: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 1 March in a common year.

    >>> years_after(date(2024, 2, 29), 1), years_after(date(2024, 2, 29), 4)
    (datetime.date(2025, 3, 1), datetime.date(2028, 2, 29))
    """
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return date(d.year + years, 3, 1)


def month_end(year: int, month: int) -> date:
    """The last day of a month.

    >>> month_end(2024, 2)
    datetime.date(2024, 2, 29)
    """
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return nxt - timedelta(days=1)


@dataclass(frozen=True)
class Span:
    """The months the mock councils publish data for: April 2024 to September 2026 unless asked for more."""

    first: tuple[int, int] = FIRST_MONTH
    last: tuple[int, int] = LAST_MONTH

    @classmethod
    def years(cls, n: int) -> Span:
        """The ``n`` years of months ending September 2026.

        >>> Span.years(10)
        Span(first=(2016, 10), last=(2026, 9))
        """
        if n < 1:
            raise ValueError("years must be at least 1")
        y, m = LAST_MONTH
        index = y * 12 + m - 1 - (12 * n - 1)
        return cls((index // 12, index % 12 + 1), LAST_MONTH)

    def months(self) -> list[tuple[int, int]]:
        """Every month in the span, in order.

        >>> len(Span().months()), len(Span.years(10).months())
        (30, 120)
        """
        out, (y, m) = [], self.first
        while (y, m) <= self.last:
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def quarter_starts(self) -> list[tuple[int, int]]:
        """The first month of every calendar quarter that starts within the span.

        >>> Span().quarter_starts()[:2], Span.years(10).quarter_starts()[0]
        ([(2024, 4), (2024, 7)], (2016, 10))
        """
        return [(y, m) for y, m in self.months() if m % 3 == 1]

    def financial_years(self) -> list[int]:
        """The first calendar year of every financial year (April to March) wholly within the span.

        >>> Span().financial_years(), Span.years(3).financial_years()
        ([2024, 2025], [2024, 2025])
        """
        inside = set(self.months())
        return [y for y, m in self.months() if m == 4 and (y + 1, 3) in inside]


@dataclass
class Profile:
    """One mock council's habits."""

    council: Council
    role: str
    shape: str
    cadence: str  # monthly | quarterly
    format: str  # csv | xlsx | ods
    family: str
    style: Style
    names: NameStyle
    rows_per_month: int
    pdf_pairs: bool = False
    xlsx_copies: bool = False  # also publishes some months as XLSX (same rows: republished)
    no_extension: bool = False  # links like downloads/file/4301/2025_march_supplier_spend_-_csv_file
    bare_links: bool = False  # links say only "CSV" or "Download"; the period is in their row or heading
    asset_ids: bool = False  # links like asset.ashx?id=4101: no file name at all
    encoded_names: bool = False  # file names with spaces and a £, percent-encoded in the links
    ckan_pages: bool = False  # its portal dataset is crawled from the portal's web pages, not its API
    footer_total: bool = False
    gpc: bool = False
    grants: bool = False
    contracts: bool = False  # publishes a quarterly list of contracts awarded over £5,000
    redaction: str = REDACTIONS[0]
    odd_quarters: frozenset[str] = frozenset()  # late / skipped / PDF-only quarters, by role
    skip_month: tuple[int, int] | None = None
    layout_change: tuple[int, int] | None = None  # from this month the file loses a required column
    payees: list[Payee] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.council.code

    @property
    def slug(self) -> str:
        """The council's GOV.UK slug; a few councils have none in the registry, so make one from the name."""
        return self.council.slug or re.sub(r"[^a-z0-9]+", "-", self.council.nice_name.lower()).strip("-")


def pick_councils(n: int, rng: random.Random) -> list[Council]:
    """``n`` real councils in role order: English ones, plus one from Wales or Scotland once n reaches its role.

    Asked for more councils than England has, it takes them all and then the rest of the register
    (Wales, Scotland, Northern Ireland, combined authorities): the whole nation is 397.
    """
    everyone = sorted(councils().values(), key=lambda c: c.code)
    english = [c for c in everyone if c.nation == "England" and c.type not in ("COMB", "SRA")]
    if n > len(english):
        if n > len(everyone):
            raise ValueError(f"the council register has {len(everyone)} councils; asked for {n}")
        rest = [c for c in everyone if c not in english]
        return rng.sample(english, k=len(english)) + rng.sample(rest, k=n - len(english))
    chosen = rng.sample(english, k=n)
    if n > ROLES.index("outside_england"):
        other = rng.choice([c for c in everyone if c.nation in ("Wales", "Scotland")])
        chosen[ROLES.index("outside_england")] = other
    return chosen


def _in_scope_quarters(span: Span) -> list[str]:
    quarters = sorted({quarter_of(date(y, m, 1)) for y, m in span.months()})
    return [q for q in quarters if quarter_deadline(q) <= AS_OF]


def build_profiles(chosen: list[Council], economy: Economy, rng: random.Random, span: Span = Span()) -> list[Profile]:
    """Deal roles, page shapes, file habits and payees to the chosen councils."""
    families = ("guidance", "lga", "calderdale", "directorate", "wakefield")
    quarters = _in_scope_quarters(span)
    profiles = []
    portals = 0
    for i, council in enumerate(chosen):
        role = ROLES[i % len(ROLES)] if i < len(ROLES) else rng.choice(("compliant", "compliant", "late", "ckan"))
        if role == "outside_england" and council.nation == "England":
            role = "compliant"
        encoding = rng.choice(("utf-8", "utf-8-sig", "cp1252"))
        family = families[i % len(families)]
        if family == "directorate":
            encoding = "cp1252"  # £ in the header, as Hyndburn writes it
        style = Style(
            date=rng.choice(("dmy", "dmy", "iso", "dmony")),
            amount="pound" if encoding == "cp1252" and rng.random() < 0.5 else rng.choice(("plain", "comma")),
            encoding=encoding,
            newline=rng.choice(("\r\n", "\n")),
            title=rng.random() < 0.3,
        )
        p = Profile(
            council=council,
            role=role,
            shape="ckan" if role == "ckan" else SHAPES[i % len(SHAPES)],
            cadence="quarterly" if role == "late" else "monthly",
            format={3: "xlsx", 7: "ods"}.get(i % 8, "csv"),
            family=family,
            style=style,
            names=draw_style(rng),
            rows_per_month=rng.randrange(100, 260),
            pdf_pairs=i % 3 == 0 or role == "pdf_only",
            xlsx_copies=i % 5 == 1,
            no_extension=i % 4 == 2,
            footer_total=i % 4 == 1,
            gpc=i % 3 != 2,
            grants=i % 2 == 0,
            contracts=i % 4 == 1,
            redaction=REDACTIONS[i % len(REDACTIONS)],
        )
        # link habits that move a link's period and format off the link (dealt without the rng,
        # so every other habit stays as it was)
        p.bare_links = i % 3 == 2 and p.shape != "paged"
        p.asset_ids = p.bare_links and i % 6 == 2
        p.encoded_names = p.bare_links and i % 6 == 5
        if p.role == "ckan":
            p.ckan_pages = portals % 2 == 0  # the first portal council is read from its web pages
            portals += 1
        if role == "late":
            p.odd_quarters = frozenset(rng.sample(quarters, k=3))
        elif role in ("skip_quarter", "pdf_only"):
            p.odd_quarters = frozenset([rng.choice(quarters[1:-1])])
        elif role == "skip_month":
            q = rng.choice(quarters[1:-1])
            p.skip_month = (int(q[:4]), (int(q[-1]) - 1) * 3 + 2)
        elif role == "missing_field":
            p.layout_change = (2025, 7)
        _deal_payees(p, economy, rng)
        profiles.append(p)
    return profiles


def _deal_payees(p: Profile, economy: Economy, rng: random.Random) -> None:
    registered = [x for x in economy.payees if x.organisation and x.organisation.register != "councils"]
    others = [
        x
        for x in economy.payees
        if x.organisation and x.organisation.register == "councils" and x.organisation.org_id != f"GB-LAE-{p.code}"
    ]
    unregistered = [x for x in economy.payees if not x.organisation]
    pool = rng.sample(registered, k=min(len(registered), 70 + p.rows_per_month // 3))
    pool += rng.sample(others, k=min(2, len(others))) + rng.sample(unregistered, k=min(5, len(unregistered)))
    rng.shuffle(pool)
    pool.insert(rng.randrange(3, 8), Payee(p.redaction, "individual_or_redacted"))
    p.payees = pool
    p.weights = [1 / (rank + 1) ** 0.8 for rank in range(len(pool))]


def _amount(rng: random.Random, low: float, scale: float) -> Decimal:
    return Decimal(str(round(low + rng.lognormvariate(0, 1.1) * scale, 2))).quantize(Decimal("0.01"))


class Ledger:
    """Draws one council's transactions, keeping its transaction numbers and supplier ids stable."""

    def __init__(self, profile: Profile, economy: Economy, rng: random.Random):
        self.p, self.economy, self.rng = profile, economy, rng
        self.counter = rng.randrange(100000, 900000)
        self.supplier_ids: dict[str, str] = {}
        self.names: dict[tuple[str, bool], str] = {}
        self.owners: dict[str, str] = {}  # supplier key of a written name -> the payee it stands for

    def _written(self, payee: Payee, new_layout: bool) -> str:
        key = (payee.name + (payee.trading_as or ""), new_layout)
        if key not in self.names:
            style = self.p.names
            if new_layout:  # the new finance system writes names in capitals
                style = NameStyle("upper", style.limited, style.ampersand, style.truncate, 0.0)
            name = payee.name
            if payee.org_type != "individual_or_redacted" or payee.trading_as:
                name = written_name(payee, style, self.rng, self.economy)
            owner = self.owners.setdefault(same_as_key(name), payee.org_id or payee.name)
            if owner != (payee.org_id or payee.name):  # two payees cut to the same name: write this one in full
                name = f"{payee.name} T/A {payee.trading_as}" if payee.trading_as else payee.name
            self.names[key] = name
        return self.names[key]

    def spend(self, start: date, end: date, n: int, new_layout: bool = False) -> list[dict]:
        """``n`` spend-over-£500 transactions dated within [start, end], sorted by date."""
        rng, p = self.rng, self.p
        days = (end - start).days
        rows = []
        for i in range(n):
            payee = rng.choices(p.payees, weights=p.weights)[0]
            day = start + timedelta(days=rng.randrange(days + 1))
            if i == 0:  # a day above 12 in every file, so day-first dates are decidable
                day = start.replace(day=rng.randrange(13, 28))
            amount = _amount(rng, 500, 1500)
            if rng.random() < 0.03:
                amount = -amount  # a credit note
            self.counter += rng.randrange(1, 40)
            expense = rng.choice(EXPENSE_TYPES)
            org = payee.organisation
            row = {
                "payment_date": day,
                "transaction_id": f"{self.counter}",
                "invoice_number": f"INV{self.counter * 7 % 1000003:07d}",
                "supplier_name": self._written(payee, new_layout),
                "supplier_id_published": self.supplier_ids.setdefault(payee.name, str(10000 + len(self.supplier_ids))),
                "amount": amount,
                "irrecoverable_vat": Decimal("0.00")
                if rng.random() < 0.9
                else (amount * Decimal("0.2")).quantize(Decimal("0.01")),
                "department": rng.choice(DEPARTMENTS),
                "service_area": rng.choice(SERVICES),
                "expense_type": expense,
                "expense_code": f"{EXPENSE_TYPES.index(expense) + 1:02d}{rng.randrange(10, 99)}",
                "purpose": f"{expense} - {rng.choice(SERVICES)}",
                "company_number_published": (
                    org.company_number.lstrip("0") if rng.random() < 0.2 else org.company_number
                )
                if org and org.company_number and rng.random() < 0.7
                else None,
                "charity_number_published": org.charity_number
                if org and org.charity_number and rng.random() < 0.7
                else None,
                "body": p.council.official_name,
                "body_uri": f"http://opendatacommunities.org/id/local-authority/{p.council.gss_code}",
                "_payee": payee,
            }
            rows.append(row)
        rows.sort(key=lambda r: (r["payment_date"], int(r["transaction_id"])))
        return rows

    def card(self, start: date, end: date, n: int) -> list[dict]:
        """Purchase-card transactions (no lower limit, merchant categories)."""
        rng = self.rng
        companies = [x for x in self.p.payees if x.org_type == "company" and not x.trading_as][:25]
        rows = []
        for i in range(n):
            web = rng.random() < 0.3
            payee = Payee(rng.choice(WEB_MERCHANTS), "unmatched") if web or not companies else rng.choice(companies)
            day = start + timedelta(days=rng.randrange((end - start).days + 1))
            if i == 0:
                day = start.replace(day=rng.randrange(13, 28))
            self.counter += 1
            rows.append(
                {
                    "payment_date": day,
                    "supplier_name": payee.name if web else payee.name.upper()[:40].rstrip(),
                    "merchant_category": rng.choice(MERCHANT_CATEGORIES),
                    "amount": _amount(rng, 5, 60),
                    "irrecoverable_vat": Decimal("0.00"),
                    "department": rng.choice(DEPARTMENTS),
                    "purpose": rng.choice(("Stationery", "Training course", "Rail fare", "Catering", "Equipment")),
                    "card_transaction": "GPC",
                    "body": self.p.council.official_name,
                    "_payee": payee,
                }
            )
        rows.sort(key=lambda r: r["payment_date"])
        return rows

    def contracts(self, start: date, end: date, n: int, rng: random.Random) -> list[dict]:
        """Contracts over £5,000 awarded within [start, end] (the quarter a register lists)."""
        companies = [x for x in self.p.payees if x.org_type == "company" and x.organisation is not None][:40]
        rows = []
        for i, payee in enumerate(rng.sample(companies, k=min(n, len(companies)))):
            begins = start + timedelta(days=rng.randrange((end - start).days + 1))
            if i == 0:  # a day above 12, so day-first dates are decidable
                begins = begins.replace(day=rng.randrange(13, 28))
            years = rng.randrange(1, 5)
            kind = rng.choice(CONTRACT_KINDS)
            org = payee.organisation
            rows.append(
                {
                    "reference": f"{self.p.code}-C{start.year}-{(start.month - 1) // 3 + 1}{i + 1:03d}",
                    "title": f"{kind} ({rng.choice(SERVICES)})",
                    "description": f"Provision of {kind.lower()} for {rng.choice(DEPARTMENTS).lower()}",
                    "department": rng.choice(DEPARTMENTS),
                    "supplier_name": payee.name,
                    "company_number_published": org.company_number if org and org.company_number else None,
                    "value": Decimal(rng.randrange(60, 5000) * 100),
                    "irrecoverable_vat": Decimal("0.00"),
                    "start_date": begins,
                    "end_date": years_after(begins, years) - timedelta(days=1),
                    "review_date": years_after(begins, years) - timedelta(days=90),
                    "procedure": rng.choice(("Open tender", "Invitation to quote", "Framework call-off")),
                    "sme": rng.random() < 0.4,
                    "vcse": False,
                    "_payee": payee,
                }
            )
        rows.sort(key=lambda r: (r["start_date"], r["reference"]))
        return rows

    def grants(self, start: date, end: date, n: int) -> list[dict]:
        """Grants to voluntary, community and social enterprise organisations (360Giving-like)."""
        rng = self.rng
        vcse = [
            x
            for x in self.economy.payees
            if x.org_type in ("charity", "cio", "charitable_company", "cic", "mutual")
            and x.organisation.register in ("ccew", "companies", "mutuals")
        ]
        rows = []
        for i, payee in enumerate(rng.sample(vcse, k=min(n, len(vcse)))):
            org = payee.organisation
            day = start + timedelta(days=rng.randrange((end - start).days + 1))
            if i == 0:
                day = day.replace(day=rng.randrange(13, 28))
            rows.append(
                {
                    "transaction_id": f"360G-{self.p.code}-{start.year}-{i + 1:04d}",
                    "purpose": rng.choice(
                        ("Community Chest", "Holiday Activities Fund", "Warm Spaces", "Cultural Grant")
                    ),
                    "currency": "GBP",
                    "amount": Decimal(rng.randrange(5, 250) * 100),
                    "payment_date": day,
                    "supplier_name": payee.name,
                    "charity_number_published": org.charity_number or "",
                    "company_number_published": org.company_number or "",
                    "body": self.p.council.official_name,
                    "department": rng.choice(DEPARTMENTS),
                    "_payee": payee,
                }
            )
        rows.sort(key=lambda r: (r["payment_date"], r["transaction_id"]))
        return rows


def publication_time(rng: random.Random, period_end: date, low: int, high: int) -> datetime:
    """When a file for a period ending ``period_end`` went up: ``low``..``high`` days later, office hours."""
    day = period_end + timedelta(days=rng.randrange(low, high + 1))
    return datetime.combine(day, time(rng.randrange(8, 17), rng.randrange(60), rng.randrange(60)))
