"""The synthetic economy: who councils pay, and the many ways councils write their names.

Everything is drawn from a seeded :class:`random.Random`, so the same seed gives the same economy.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import date

from mockweb.names import same_as_key
from mockweb.orgs import Organisation
from normalise.councils import Council

PLACES = (
    "Abbey",
    "Ashford",
    "Beacon",
    "Bramley",
    "Brook",
    "Castle",
    "Cedar",
    "Chapel",
    "Clifton",
    "Dale",
    "Derwent",
    "Eden",
    "Elmwood",
    "Fairfield",
    "Fern",
    "Glen",
    "Hartley",
    "Hazel",
    "Heath",
    "Highfield",
    "Holme",
    "Kestrel",
    "Kings",
    "Lakeside",
    "Linden",
    "Marsh",
    "Meadow",
    "Mill",
    "Moor",
    "Northgate",
    "Oak",
    "Orchard",
    "Pennine",
    "Priory",
    "Quarry",
    "Riverside",
    "Rowan",
    "Saxon",
    "Severn",
    "Sherwood",
    "Stone",
    "Summit",
    "Thames",
    "Tyne",
    "Valley",
    "Wessex",
    "Westfield",
    "Willow",
    "Windmill",
    "Wolds",
)
SURNAMES = (
    "Ainsworth",
    "Barker",
    "Bennett",
    "Carter",
    "Dawson",
    "Ellis",
    "Fletcher",
    "Garner",
    "Hughes",
    "Ingram",
    "Jackson",
    "Kirby",
    "Lawson",
    "Marshall",
    "Newton",
    "Owen",
    "Parker",
    "Quinn",
    "Riley",
    "Shaw",
    "Turner",
    "Underwood",
    "Vickers",
    "Walsh",
    "Yates",
    "Holt",
    "Pickering",
    "Crossley",
    "Moss",
    "Atkinson",
)
TRADES = (
    "Facilities",
    "Plumbing",
    "Electrical",
    "Roofing",
    "Cleaning Services",
    "Consulting",
    "Construction",
    "Highways",
    "Landscapes",
    "Catering",
    "Care Services",
    "Home Care",
    "Transport",
    "Taxis",
    "Security",
    "IT Solutions",
    "Software",
    "Print",
    "Office Supplies",
    "Waste Management",
    "Recycling",
    "Legal Services",
    "Training",
    "Engineering",
    "Surveying",
    "Fencing",
    "Glazing",
    "Fostering",
    "Supported Living",
    "Fuels",
)
CAUSES = (
    "Community Trust",
    "Foundation",
    "Youth Project",
    "Carers Centre",
    "Food Bank",
    "Citizens Advice",
    "Mind",
    "Hospice",
    "Women's Aid",
    "Play Association",
    "Heritage Trust",
    "Arts Centre",
    "Sports Club",
    "Disability Forum",
    "Wildlife Trust",
    "Homeless Project",
    "Befriending Service",
    "Credit Union",
)
MUTUAL_KINDS = ("Housing Co-operative", "Community Energy", "Community Shop", "Credit Union", "Allotment Society")
NHS_KINDS = (
    "{p} Teaching Hospitals NHS Foundation Trust",
    "NHS {p} Integrated Care Board",
    "{p} Community Healthcare NHS Trust",
    "{p} and {q} Partnership NHS Foundation Trust",
)
REDACTIONS = (
    "REDACTED PERSONAL DATA",
    "Redacted - Personal Data",
    "REDACTED - PERSONAL DATA",
    "Redacted personal data",
    "REDACTED UNDER DP ACT",
)
INDIVIDUAL_TYPE = "individual_or_redacted"


@dataclass(frozen=True)
class Payee:
    """Someone a council pays: a registered organisation, an NHS body, or a withheld individual."""

    name: str
    org_type: str
    organisation: Organisation | None = None  # None for NHS bodies and individuals
    trading_as: str | None = None  # a sole trader's or company's trading name

    @property
    def org_id(self) -> str:
        """The org-id the matcher should find ('' where no register holds it)."""
        return self.organisation.org_id if self.organisation else ""

    @property
    def sector(self) -> str:
        """The true sector: the organisation's, else what its kind implies."""
        if self.organisation and self.organisation.sector:
            return self.organisation.sector
        return {"public_body": "public", INDIVIDUAL_TYPE: INDIVIDUAL_TYPE}.get(self.org_type, "unmatched")

    @property
    def size_band(self) -> str:
        """The true size band of a registered organisation ('' for public bodies, people and merchants)."""
        return (self.organisation.size_band or "") if self.organisation else ""


@dataclass
class Economy:
    """The organisations councils pay, the decoys nobody pays, and the payees built on them.

    ``twins`` are second register entries of paid bodies (a charity's entry on the Scottish
    register under another name); ``links`` are the link-table rows that join them
    (``org_id_a, org_id_b, name_b, source``), as find-that-charity publishes them.
    """

    payees: list[Payee]
    decoys: list[Organisation]
    keys_taken: set[str] = field(default_factory=set)
    twins: list[Organisation] = field(default_factory=list)
    links: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def organisations(self) -> list[Organisation]:
        """Every organisation a register file must hold (paid ones, their twins and decoys)."""
        seen, out = set(), []
        for org in [p.organisation for p in self.payees if p.organisation] + self.twins + self.decoys:
            if org.org_id not in seen:
                seen.add(org.org_id)
                out.append(org)
        return out


def _company_number(rng: random.Random, scottish: bool = False) -> str:
    return f"SC{rng.randrange(100000, 999999)}" if scottish else f"{rng.randrange(1000000, 15999999):08d}"


def _registered_on(rng: random.Random) -> date:
    return date(rng.randrange(1975, 2022), rng.randrange(1, 13), rng.randrange(1, 29))


def _postcode(rng: random.Random, area: str = "") -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    area = area or rng.choice(("LS", "M", "B", "NE", "BS", "S", "L", "NG", "LE", "CV", "YO", "HU"))
    return f"{area}{rng.randrange(1, 30)} {rng.randrange(1, 10)}{rng.choice(letters)}{rng.choice(letters)}"


class _Namer:
    """Draws organisation names no other organisation in the economy shares (by the "same as" rule)."""

    def __init__(self, rng: random.Random, taken: set[str]):
        self.rng, self.taken = rng, taken

    def unique(self, make) -> str:
        for _ in range(200):
            name = make(self.rng)
            key = same_as_key(name)
            if key and key not in self.taken:
                self.taken.add(key)
                return name
        raise RuntimeError("could not draw a unique organisation name")


def _org(kind: str, name: str, rng: random.Random) -> Organisation:
    """An Organisation of ``kind`` with fresh register numbers."""
    common = dict(registered_on=_registered_on(rng), postcode=_postcode(rng))
    if kind in ("company", "social_enterprise", "council_company"):
        number = _company_number(rng, scottish=kind == "company" and rng.random() < 0.05)
        social = kind == "social_enterprise"
        return Organisation(
            f"GB-COH-{number}",
            name,
            "company",
            "companies",
            company_number=number,
            category="PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)"
            if social
            else "Private Limited Company",
            sic_codes=(rng.choice(("88990", "85590", "93199", "94990")),)
            if social
            else ("84110",)
            if kind == "council_company"
            else (),
            **common,
        )
    if kind == "cic":
        number = _company_number(rng)
        return Organisation(
            f"GB-COH-{number}",
            name,
            "cic",
            "companies",
            company_number=number,
            category="Community Interest Company",
            **common,
        )
    if kind == "charity":
        number = str(rng.randrange(200000, 1150000))
        return Organisation(
            f"GB-CHC-{number}", name, "charity", "ccew", charity_number=number, category="Other", **common
        )
    if kind == "cio":
        number = str(rng.randrange(1150000, 1210000))
        return Organisation(f"GB-CHC-{number}", name, "cio", "ccew", charity_number=number, category="CIO", **common)
    if kind in ("charitable_company", "charity_company_unlinked", "table_linked"):
        number, company = str(rng.randrange(500000, 1150000)), _company_number(rng)
        return Organisation(
            f"GB-CHC-{number}",
            name,
            "charitable_company",
            "ccew",
            charity_number=number,
            company_number=company,
            category="Charitable company",
            # Registers often omit the company number; then only the name (or a link table) joins them.
            company_link_published=kind == "charitable_company",
            company_name=f"{name} Limited" if kind == "charity_company_unlinked" else None,
            **common,
        )
    if kind == "oscr":
        number = f"SC{rng.randrange(0, 52000):06d}"
        return Organisation(
            f"GB-SC-{number}",
            name,
            "charity",
            "oscr",
            charity_number=number,
            category="Trust (founding deed)",
            registered_on=common["registered_on"],
            postcode=_postcode(rng, rng.choice(("EH", "G", "AB", "DD", "KY"))),
        )
    if kind in ("ccni", "ccni_company"):
        number = str(rng.randrange(100001, 108000))
        company = kind == "ccni_company"  # CCNI writes 0 for most of its charitable companies' numbers
        return Organisation(
            f"GB-NIC-{number}",
            name,
            "charitable_company" if company else "charity",
            "ccni",
            charity_number=f"NIC{number}",
            company_number=f"NI{rng.randrange(600000, 699999):06d}" if company else None,
            company_link_published=not company,
            company_name=f"{name} Limited" if company else None,
            category="Charitable company" if company else "Charitable Trust",
            registered_on=common["registered_on"],
            postcode=_postcode(rng, "BT"),
        )
    if kind == "mutual":
        number = f"{rng.randrange(10000, 32000)}R"
        return Organisation(
            f"GB-MPR-{number}", name, "mutual", "mutuals", mutual_number=number, category="Registered Society", **common
        )
    raise ValueError(kind)


_MAKERS = {
    "company": lambda r: (
        f"{r.choice(PLACES + SURNAMES)} {r.choice(TRADES)} {r.choice(('Ltd', 'Limited', 'Ltd', 'UK Ltd', 'Group Ltd', 'PLC'))}"
    ),
    "cic": lambda r: f"{r.choice(PLACES)} {r.choice(TRADES)} CIC",
    "charity": lambda r: f"{r.choice(PLACES)} {r.choice(CAUSES)}",
    "cio": lambda r: f"{r.choice(PLACES)} {r.choice(CAUSES)}",
    "charitable_company": lambda r: f"{r.choice(PLACES)} {r.choice(CAUSES)} Limited",
    "charity_company_unlinked": lambda r: f"{r.choice(PLACES)} {r.choice(CAUSES)}",
    "table_linked": lambda r: f"{r.choice(PLACES)} {r.choice(CAUSES)}",
    "ccni_company": lambda r: f"{r.choice(('Bally', 'Carrick', 'Derry', 'Lisburn', 'Newry'))} {r.choice(CAUSES)}",
    "social_enterprise": lambda r: (
        f"{r.choice(PLACES)} {r.choice(('Community', 'Learning', 'Sports', 'Family'))} {r.choice(('Partnership', 'Network', 'Works', 'Hub'))}"
    ),
    "council_company": lambda r: (
        f"{r.choice(PLACES)} {r.choice(('Public Services', 'Municipal Services', 'Civic Enterprises'))} Limited"
    ),
    "oscr": lambda r: (
        f"{r.choice(('Glen', 'Loch', 'Strath', 'Ben', 'Kirk'))}{r.choice(PLACES).lower()} {r.choice(CAUSES)}"
    ),
    "ccni": lambda r: f"{r.choice(('Bally', 'Carrick', 'Derry', 'Lisburn', 'Newry'))} {r.choice(CAUSES)}",
    "mutual": lambda r: f"{r.choice(PLACES)} {r.choice(MUTUAL_KINDS)} Limited",
}
_KIND_WEIGHTS = {
    "company": 60,
    "cic": 5,
    "charity": 8,
    "cio": 4,
    "charitable_company": 8,
    "charity_company_unlinked": 4,
    "table_linked": 2,
    "oscr": 2,
    "ccni": 1,
    "ccni_company": 1,
    "mutual": 3,
    "social_enterprise": 2,
    "council_company": 1,
}
#: The SIC code of a company named for its trade (others get management consultancy).
TRADE_SIC = {
    "Plumbing": "43220",
    "Electrical": "43210",
    "Roofing": "43910",
    "Cleaning Services": "81210",
    "Construction": "41202",
    "Landscapes": "81300",
    "Catering": "56290",
    "Care Services": "88100",
    "Home Care": "88100",
    "Supported Living": "87300",
    "Fostering": "88990",
    "Taxis": "49320",
    "Security": "80100",
    "IT Solutions": "62020",
    "Software": "62020",
    "Legal Services": "69102",
}
#: A company's true size, drawn with these weights, then the accounts it files given that size.
COMPANY_SIZES = {"micro": 30, "small": 40, "medium": 15, "large": 15}
ACCOUNTS_BY_SIZE = {
    "micro": {"MICRO ENTITY": 80, "TOTAL EXEMPTION FULL": 15, "UNAUDITED ABRIDGED": 5},
    "small": {"TOTAL EXEMPTION FULL": 45, "UNAUDITED ABRIDGED": 25, "SMALL": 20, "AUDITED ABRIDGED": 10},
    "medium": {"MEDIUM": 40, "FULL": 60},  # a medium company filing full accounts reads as large
    "large": {"FULL": 60, "GROUP": 40},
}
NO_ACCOUNTS_YET = 0.05  # new companies and charities with nothing filed: size unknown
#: NCVO income bands: (lowest, highest) pounds of a charity of each size.
INCOME_RANGES = {
    "micro": (500, 9_999),
    "small": (10_000, 99_999),
    "medium": (100_000, 999_999),
    "large": (1_000_000, 40_000_000),
}


def _choice(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _sized(org: Organisation, rng: random.Random) -> Organisation:
    """``org`` with its true size and sector, and the accounts and income its registers show."""
    charity = org.register in ("ccew", "oscr", "ccni")
    sector = "vcse" if org.org_type in ("charity", "cio", "charitable_company", "cic", "mutual") else "private"
    if org.sic_codes == ("84110",):
        sector = "public"
    elif "GUAR" in (org.category or "") and org.register == "companies":
        sector = "vcse"
    if org.org_type == "mutual":
        return dataclasses.replace(org, size_band="unknown", sector=sector)  # the mutuals register gives no size
    if rng.random() < NO_ACCOUNTS_YET:
        size, accounts, income = "unknown", "NO ACCOUNTS FILED", None
    else:
        size = _choice(rng, COMPANY_SIZES)
        accounts = _choice(rng, ACCOUNTS_BY_SIZE[size])
        income = rng.randint(*INCOME_RANGES[size])
    sic = org.sic_codes or (TRADE_SIC.get(next((t for t in TRADE_SIC if t in org.name), ""), "70229"),)
    return dataclasses.replace(
        org,
        size_band=size,
        sector=sector,
        account_category=accounts if org.company_number else None,
        sic_codes=sic if org.company_number else (),
        income=income if charity else None,
    )


def _near_name(name: str, rng: random.Random) -> str:
    """A different but confusingly close name (a decoy for precision)."""
    words = name.split()
    choice = rng.randrange(3)
    if choice == 0 and any(w.endswith("s") and len(w) > 4 for w in words):
        i = next(i for i, w in enumerate(words) if w.endswith("s") and len(w) > 4)
        words[i] = words[i][:-1]
    elif choice == 1:
        words.insert(1 if len(words) > 2 else len(words), rng.choice(("North", "South", "East", "West")))
    else:
        words[0] = rng.choice(PLACES + SURNAMES)
    return " ".join(words)


def build_economy(rng: random.Random, councils: list[Council], size: int) -> Economy:
    """``size`` paid registered organisations, NHS bodies, councils, individuals, sole traders and decoys."""
    taken: set[str] = set()
    namer = _Namer(rng, taken)
    payees: list[Payee] = []
    kinds = list(_KIND_WEIGHTS)
    for _ in range(size):
        kind = rng.choices(kinds, weights=[_KIND_WEIGHTS[k] for k in kinds])[0]
        org = _sized(_org(kind, namer.unique(_MAKERS[kind]), rng), rng)
        if kind == "table_linked":  # its company has another name, joined to it by a link table only
            company_name = namer.unique(
                lambda r, n=org.name: f"{n} {r.choice(('Association', 'Charitable Trust', 'Foundation'))} Limited"
            )
            org = dataclasses.replace(org, company_name=company_name)
            payees.append(Payee(company_name, org.org_type, org))
        payees.append(Payee(org.name, org.org_type, org))
    twins, links = _dual_registrations(rng, payees, namer)
    # Companies trading under another name.
    for payee in rng.sample([p for p in payees if p.org_type == "company"], k=max(2, size // 60)):
        trade = namer.unique(lambda r: f"{r.choice(SURNAMES)}s {r.choice(TRADES)}")
        payees.append(Payee(payee.name, "company", payee.organisation, trading_as=trade))
    # Sole traders: individuals, not in any register.
    for _ in range(max(3, size // 40)):
        surname = rng.choice(SURNAMES)
        trade = namer.unique(lambda r, s=surname: f"{s}s {r.choice(TRADES)}")
        payees.append(Payee(f"{rng.choice('ABCDJKMPRST')} {surname}", INDIVIDUAL_TYPE, trading_as=trade))
    for _ in range(max(3, size // 50)):
        name = namer.unique(lambda r: r.choice(NHS_KINDS).format(p=r.choice(PLACES), q=r.choice(PLACES)))
        payees.append(Payee(name, "public_body"))
    for c in councils:
        if c.nation == "England":
            org = Organisation(f"GB-LAE-{c.code}", c.official_name, "public_body", "councils")
            taken.add(same_as_key(c.official_name))
            payees.append(Payee(c.official_name, "public_body", org))
    decoys = _decoys(rng, payees, taken)
    return Economy(payees, decoys, taken, twins, links)


LINK_SOURCES = {
    "company": "Company Numbers for Charities",
    "scotland": "Charity Registered in Scotland and England & Wales",
}


def _dual_registrations(
    rng: random.Random, payees: list[Payee], namer: _Namer
) -> tuple[list[Organisation], list[tuple[str, str, str, str]]]:
    """Scottish entries of some English charities under other names, and the link table joining
    them and the charities whose company has another name (find-that-charity's layout)."""
    twins, links = [], []
    for payee in payees:
        org = payee.organisation
        if org and org.company_name and not org.company_link_published and payee.name == org.company_name:
            if org.register == "ccew" and same_as_key(org.company_name) != same_as_key(org.name):
                links.append(
                    (org.org_id, f"GB-COH-{org.company_number}", org.company_name.upper(), LINK_SOURCES["company"])
                )
    english = [p for p in payees if p.organisation and p.organisation.register == "ccew" and p.org_type == "charity"]
    for payee in rng.sample(english, k=min(len(english), 3)):
        name = namer.unique(lambda r, n=payee.name: f"{n} {r.choice(('Scotland', 'in Scotland', 'Scottish Branch'))}")
        number = f"SC{rng.randrange(52000, 53000):06d}"
        twin = Organisation(
            f"GB-SC-{number}", name, "charity", "oscr", charity_number=number, postcode=_postcode(rng, "EH")
        )
        twins.append(twin)
        links.append((twin.org_id, payee.organisation.org_id, payee.name, LINK_SOURCES["scotland"]))
        payees.append(Payee(name, payee.org_type, payee.organisation))  # Scottish councils write its Scottish name
    return twins, links


def _decoys(rng: random.Random, payees: list[Payee], taken: set[str]) -> list[Organisation]:
    """Organisations in the registers that nobody pays, named close to paid ones."""
    decoys = []
    registered = [p for p in payees if p.organisation and p.organisation.register != "councils" and not p.trading_as]
    for payee in rng.sample(registered, k=max(3, len(registered) // 8)):
        name = _near_name(payee.name, rng)
        key = same_as_key(name)
        if not key or key in taken:
            continue
        taken.add(key)
        kind = {"cio": "charity"}.get(payee.org_type, payee.org_type)
        decoys.append(_org(kind if kind in _MAKERS else "company", name, rng))
    # The same charity name in another jurisdiction (Scotland for an English charity, and back).
    charities = [p for p in registered if p.organisation.register == "ccew" and p.org_type == "charity"]
    for payee in rng.sample(charities, k=min(len(charities), 3)):
        decoys.append(_org("oscr", payee.name, rng))
    # A charity and a company of one name that are not one body: registered a region apart, or a
    # charity removed from the register that shares a paid company's name.
    for _ in range(3):
        name = _Namer(rng, taken).unique(_MAKERS["charity_company_unlinked"])
        company = _org("company", f"{name} Limited", rng)
        decoys.append(dataclasses.replace(company, postcode=_postcode(rng, "TR")))
        decoys.append(dataclasses.replace(_org("charity", name, rng), postcode=_postcode(rng, "NE")))
    companies = [p for p in registered if p.org_type == "company" and p.organisation.register == "companies"]
    for payee in rng.sample(companies, k=min(len(companies), 2)):
        removed = _org("charity", payee.name.removesuffix(" Ltd").removesuffix(" Limited"), rng)
        decoys.append(dataclasses.replace(removed, status="removed"))
    return decoys


# ---------------------------------------------------------------- how councils write names


@dataclass(frozen=True)
class NameStyle:
    """One council's house style for supplier names."""

    case: str  # asis | upper | title
    limited: str  # keep | ltd | limited
    ampersand: str  # keep | and | amp
    truncate: int | None  # cut names at this many characters
    typo_rate: float


def draw_style(rng: random.Random) -> NameStyle:
    """A council's house style for writing supplier names."""
    return NameStyle(
        case=rng.choice(("asis", "upper", "upper", "title")),
        limited=rng.choice(("keep", "keep", "ltd", "limited")),
        ampersand=rng.choice(("keep", "keep", "and", "amp")),
        truncate=rng.choice((None, None, 30, 35, 40)),
        typo_rate=rng.choice((0.0, 0.03, 0.06)),
    )


def _typo(name: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(name) if ch.isalpha() and 0 < i < len(name) - 1]
    i = rng.choice(letters)
    if rng.random() < 0.5:
        return name[:i] + name[i + 1 :]  # a dropped letter
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # two letters swapped


def written_name(payee: Payee, style: NameStyle, rng: random.Random, economy: Economy) -> str:
    """How a council with ``style`` writes ``payee``; never a form that belongs to another organisation."""
    if payee.org_type == INDIVIDUAL_TYPE and not payee.trading_as:
        return payee.name
    base = payee.name
    if payee.trading_as:
        base = f"{payee.name} T/A {payee.trading_as}"
    text = base
    if style.limited == "ltd":
        text = text.replace(" Limited", " Ltd")
    elif style.limited == "limited":
        text = text.replace(" Ltd", " Limited")
    if style.ampersand == "and":
        text = text.replace(" & ", " and ")
    elif style.ampersand == "amp":
        text = text.replace(" and ", " & ")
    if style.typo_rate and rng.random() < style.typo_rate and not payee.trading_as:
        text = _typo(text, rng)
    text = {"upper": text.upper(), "title": text.title()}.get(style.case, text)
    if style.truncate and len(text) > style.truncate:
        text = text[: style.truncate].rstrip(" &-,")
    own = same_as_key(payee.name)
    key = same_as_key(text)
    if key != own and (not key or key in economy.keys_taken or len(key) < 8):
        return base.upper() if style.case == "upper" else base  # the variant would be ambiguous: write it plainly
    return text
