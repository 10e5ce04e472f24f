"""Writers of synthetic register bulk files in the real formats.

``write_registers`` writes the mock economy's organisations, plus any number of synthetic
"filler" organisations, into the files the registers publish:

* Companies House ``BasicCompanyDataAsOneFile-<YYYY-MM-DD>.zip``: the real 55-column header
  (leading spaces included), every field quoted, dd/mm/yyyy dates, previous names.  Live
  companies only in the real product; organisations whose status is not active are written
  with their status (e.g. ``Liquidation``) so the answer key stays matchable.
* Charity Commission for England and Wales ``publicextract.charity.zip`` and
  ``publicextract.charity_other_names.zip``: tab-separated UTF-8 text with a BOM, no quoting,
  CRLF, dates as ``2026-09-20 00:00:00.0000000``, booleans ``True``/``False``, linked charities
  (``linked_charity_number`` 1, 2, ... sharing the main charity's number).
* OSCR ``CharityExport-<DD-Mon-YYYY>.zip`` (current charities, UTF-8 CSV) and
  ``CharityExport-Removed-<DD-Mon-YYYY>.zip`` (adds ``Ceased Date``).  ASSUMPTION: the removed
  file's name and OSCR's exact column order; loaders read OSCR columns by name.
* CCNI ``ccni-register-<YYYY-MM-DD>.csv`` with the columns of the real 2020 export (cp1252,
  every line ending in a comma, ``Company number`` 0 when absent).
* FCA Mutuals Public Register ``mutuals-<YYYY-MM-DD>.csv``.  ASSUMPTION: there is no sample of a
  bulk export; this UTF-8 CSV is modelled on the register's search-result fields:
  ``Society Name, Registration Number, Registered As, Status, Registration Date,
  Deregistration Date, Postcode``; dates dd/mm/yyyy; numbers like ``30027R`` (old Industrial and
  Provident Societies Act numbers) or ``8123``.  A society also on Companies House appears
  there as a "Registered Society" numbered ``IP`` + five digits + ``R`` (e.g. ``IP30027R``).

Filler organisations come from a deterministic generator (``iter_filler``) and are streamed row
by row, so 5.7 million companies never sit in memory.  Their names share a Zipf-weighted
vocabulary of common words and a large stock of surnames, places and coined words, so
near-duplicates are common (blocking and precision are exercised).
"""

from __future__ import annotations

import csv
import io
import itertools
import random
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from mockweb.names import same_as_key
from mockweb.orgs import Organisation

_COMPANIES_HOUSE_HEADER_LINE = (
    "CompanyName, CompanyNumber,RegAddress.CareOf,RegAddress.POBox,RegAddress.AddressLine1, RegAddre"
    "ss.AddressLine2,RegAddress.PostTown,RegAddress.County,RegAddress.Country,RegAddress.PostCode,Co"
    "mpanyCategory,CompanyStatus,CountryOfOrigin,DissolutionDate,IncorporationDate,Accounts.AccountR"
    "efDay,Accounts.AccountRefMonth,Accounts.NextDueDate,Accounts.LastMadeUpDate,Accounts.AccountCat"
    "egory,Returns.NextDueDate,Returns.LastMadeUpDate,Mortgages.NumMortCharges,Mortgages.NumMortOuts"
    "tanding,Mortgages.NumMortPartSatisfied,Mortgages.NumMortSatisfied,SICCode.SicText_1,SICCode.Sic"
    "Text_2,SICCode.SicText_3,SICCode.SicText_4,LimitedPartnerships.NumGenPartners,LimitedPartnershi"
    "ps.NumLimPartners,URI,PreviousName_1.CONDATE, PreviousName_1.CompanyName, PreviousName_2.CONDAT"
    "E, PreviousName_2.CompanyName,PreviousName_3.CONDATE, PreviousName_3.CompanyName,PreviousName_4"
    ".CONDATE, PreviousName_4.CompanyName,PreviousName_5.CONDATE, PreviousName_5.CompanyName,Previou"
    "sName_6.CONDATE, PreviousName_6.CompanyName,PreviousName_7.CONDATE, PreviousName_7.CompanyName,"
    "PreviousName_8.CONDATE, PreviousName_8.CompanyName,PreviousName_9.CONDATE, PreviousName_9.Compa"
    "nyName,PreviousName_10.CONDATE, PreviousName_10.CompanyName,ConfStmtNextDueDate, ConfStmtLastMa"
    "deUpDate"
)
COMPANIES_HOUSE_HEADER: list[str] = _COMPANIES_HOUSE_HEADER_LINE.split(",")

CCEW_CHARITY_COLUMNS = [
    "date_of_extract",
    "organisation_number",
    "registered_charity_number",
    "linked_charity_number",
    "charity_name",
    "charity_type",
    "charity_registration_status",
    "date_of_registration",
    "date_of_removal",
    "charity_reporting_status",
    "latest_acc_fin_period_start_date",
    "latest_acc_fin_period_end_date",
    "latest_income",
    "latest_expenditure",
    "charity_contact_address1",
    "charity_contact_address2",
    "charity_contact_address3",
    "charity_contact_address4",
    "charity_contact_address5",
    "charity_contact_postcode",
    "charity_contact_phone",
    "charity_contact_email",
    "charity_contact_web",
    "charity_company_registration_number",
    "charity_insolvent",
    "charity_in_administration",
    "charity_previously_excepted",
    "charity_is_cdf_or_cif",
    "charity_is_cio",
    "cio_is_dissolved",
    "date_cio_dissolution_notice",
    "charity_activities",
    "charity_gift_aid",
    "charity_has_land",
]
CCEW_OTHER_NAMES_COLUMNS = [
    "organisation_number",
    "registered_charity_number",
    "linked_charity_number",
    "charity_name_id",
    "charity_name_type",
    "charity_name",
]
OSCR_COLUMNS = [
    "Charity Number",
    "Charity Name",
    "Registered Date",
    "Known As",
    "Charity Status",
    "Postcode",
    "Constitutional Form",
    "Previous Names",
    "Geographical Spread",
    "Main Operating Location",
    "Purposes",
    "Beneficiaries",
    "Activities",
    "Objectives",
    "Principal Office/Trustees Address",
    "Website",
    "Most recent year income",
    "Most recent year expenditure",
    "Mailing cycle",
    "Year End",
    "Parent charity name",
    "Parent charity number",
    "Parent charity country of registration",
    "Designated religious body",
    "Regulatory Type",
]
CCNI_COLUMNS = [
    "Reg charity number",
    "Sub charity number",
    "Charity name",
    "Date registered",
    "Status",
    "Date for financial year ending",
    "Total income",
    "Total spending",
    "Charitable spending",
    "Income generation and governance",
    "Retained for future use",
    "Public address",
    "Website",
    "Email",
    "Telephone",
    "Company number",
    "What the charity does",
    "Who the charity helps",
    "How the charity works",
]
MUTUALS_COLUMNS = [
    "Society Name",
    "Registration Number",
    "Registered As",
    "Status",
    "Registration Date",
    "Deregistration Date",
    "Postcode",
]

REGISTERS = ("companies", "ccew", "oscr", "ccni", "mutuals")
# How an integer ``filler`` is split over the registers (about 5.7 M companies : 0.4 M charities).
FILLER_SHARES = {"companies": 0.925, "ccew": 0.055, "oscr": 0.012, "ccni": 0.003, "mutuals": 0.005}

CATEGORY_PRIVATE = "Private Limited Company"
CATEGORY_CIC = "Community Interest Company"
CATEGORY_GUARANTEE = "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)"
CATEGORY_SOCIETY = "Registered Society"
CATEGORY_PLC = "Public Limited Company"
CATEGORY_LLP = "Limited Liability Partnership"

# --- vocabulary -------------------------------------------------------------------------------

_COMMON = [
    "services",
    "solutions",
    "uk",
    "group",
    "consulting",
    "property",
    "holdings",
    "london",
    "management",
    "care",
    "construction",
    "developments",
    "trading",
    "investments",
    "enterprises",
    "associates",
    "partners",
    "design",
    "media",
    "digital",
    "technology",
    "systems",
    "logistics",
    "engineering",
    "homes",
    "estates",
    "cleaning",
    "building",
    "transport",
    "training",
    "health",
    "international",
    "global",
    "north",
    "south",
    "east",
    "west",
    "british",
    "scotland",
    "wales",
    "energy",
    "security",
    "recruitment",
    "marketing",
    "electrical",
    "plumbing",
    "maintenance",
    "supplies",
    "medical",
    "creative",
    "capital",
    "ventures",
    "projects",
    "contractors",
    "interiors",
    "motors",
    "foods",
    "events",
    "environmental",
    "software",
]
_TRADES = [
    "plumbing",
    "builders",
    "roofing",
    "joinery",
    "carpentry",
    "electrics",
    "scaffolding",
    "landscapes",
    "gardening",
    "catering",
    "bakery",
    "butchers",
    "printing",
    "signs",
    "cleaning",
    "removals",
    "haulage",
    "taxis",
    "coaches",
    "couriers",
    "accountancy",
    "surveyors",
    "architects",
    "solicitors",
    "dental",
    "pharmacy",
    "optical",
    "nursery",
    "tutoring",
    "fencing",
    "glazing",
    "paving",
    "decorating",
    "flooring",
    "tiling",
    "heating",
    "ventilation",
    "fabrication",
    "welding",
    "upholstery",
    "textiles",
    "furniture",
    "lighting",
    "kitchens",
    "bathrooms",
    "windows",
    "doors",
    "locksmiths",
]
_SURNAMES = [
    "smith",
    "jones",
    "taylor",
    "brown",
    "williams",
    "wilson",
    "johnson",
    "davies",
    "robinson",
    "wright",
    "thompson",
    "evans",
    "walker",
    "white",
    "roberts",
    "green",
    "hall",
    "wood",
    "jackson",
    "clarke",
    "patel",
    "khan",
    "lewis",
    "james",
    "phillips",
    "mason",
    "mitchell",
    "rose",
    "davis",
    "rodriguez",
    "cox",
    "alexander",
    "morgan",
    "moore",
    "martin",
    "price",
    "turner",
    "hughes",
    "edwards",
    "harris",
    "cooper",
    "king",
    "lee",
    "baker",
    "hill",
    "scott",
    "ward",
    "morris",
    "watson",
    "shaw",
    "young",
    "allen",
    "anderson",
    "bell",
    "carter",
    "collins",
    "cook",
    "dixon",
    "ellis",
    "fisher",
    "foster",
    "gray",
    "harrison",
    "hunt",
    "kelly",
    "knight",
    "lloyd",
    "marshall",
    "murphy",
    "owen",
    "palmer",
    "parker",
    "pearson",
    "reid",
    "richards",
    "russell",
    "shah",
    "singh",
    "stewart",
    "stevens",
    "stone",
    "sutton",
    "wallace",
    "webb",
    "wells",
    "west",
    "wheeler",
    "whitehead",
    "wilkinson",
    "woods",
    "yates",
    "ahmed",
    "ali",
    "begum",
    "hussain",
    "macdonald",
    "campbell",
    "fraser",
    "murray",
    "ross",
    "sinclair",
    "duncan",
    "hamilton",
    "kerr",
    "maclean",
    "o'neill",
    "o'brien",
    "mcconnell",
    "mccarthy",
    "quinn",
    "byrne",
    "doherty",
    "gallagher",
    "hegarty",
    "doyle",
    "brennan",
    "kennedy",
]
_FIRST_NAMES = [
    "john",
    "david",
    "james",
    "paul",
    "mark",
    "andrew",
    "peter",
    "michael",
    "richard",
    "stephen",
    "sarah",
    "emma",
    "claire",
    "helen",
    "karen",
    "susan",
    "rachel",
    "laura",
    "anna",
    "mohammed",
    "ahmed",
    "raj",
    "priya",
    "tom",
    "ben",
    "sam",
    "jack",
    "harry",
    "grace",
]
_PLACES = [
    "london",
    "birmingham",
    "manchester",
    "leeds",
    "sheffield",
    "bristol",
    "liverpool",
    "newcastle",
    "nottingham",
    "leicester",
    "coventry",
    "bradford",
    "hull",
    "plymouth",
    "stoke",
    "wolverhampton",
    "derby",
    "southampton",
    "portsmouth",
    "brighton",
    "reading",
    "oxford",
    "cambridge",
    "york",
    "norwich",
    "exeter",
    "bath",
    "chester",
    "durham",
    "lancaster",
    "preston",
    "blackpool",
    "bolton",
    "wigan",
    "oldham",
    "rochdale",
    "stockport",
    "salford",
    "warrington",
    "halifax",
    "huddersfield",
    "wakefield",
    "doncaster",
    "rotherham",
    "barnsley",
    "lincoln",
    "peterborough",
    "ipswich",
    "colchester",
    "luton",
    "watford",
    "slough",
    "swindon",
    "gloucester",
    "cheltenham",
    "worcester",
    "hereford",
    "shrewsbury",
    "telford",
    "carlisle",
    "kendal",
    "glasgow",
    "edinburgh",
    "aberdeen",
    "dundee",
    "inverness",
    "stirling",
    "perth",
    "paisley",
    "cardiff",
    "swansea",
    "newport",
    "wrexham",
    "bangor",
    "belfast",
    "derry",
    "lisburn",
    "newry",
    "armagh",
    "omagh",
    "enniskillen",
    "calderdale",
    "kirklees",
    "trafford",
    "wirral",
    "sefton",
    "tameside",
    "medway",
    "thanet",
    "wealden",
    "mendip",
    "cotswold",
    "pennine",
    "chiltern",
    "highland",
    "islington",
    "hackney",
    "camden",
    "lambeth",
    "southwark",
    "brent",
    "ealing",
    "croydon",
    "bromley",
]
_SYLLABLES = [
    "ab",
    "ac",
    "ad",
    "al",
    "am",
    "an",
    "ar",
    "as",
    "at",
    "ba",
    "be",
    "bi",
    "bo",
    "bra",
    "bri",
    "ca",
    "ce",
    "ci",
    "co",
    "cra",
    "cre",
    "da",
    "de",
    "di",
    "do",
    "dra",
    "du",
    "el",
    "em",
    "en",
    "er",
    "es",
    "ex",
    "fa",
    "fe",
    "fi",
    "fo",
    "fra",
    "ga",
    "ge",
    "gi",
    "go",
    "gra",
    "ha",
    "he",
    "hi",
    "ho",
    "ka",
    "ke",
    "ki",
    "ko",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "or",
    "pa",
    "pe",
    "pi",
    "po",
    "pra",
    "qua",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "sta",
    "ta",
    "te",
    "ti",
    "to",
    "tra",
    "tri",
    "va",
    "ve",
    "vi",
    "vo",
    "xa",
    "xo",
    "za",
    "ze",
    "zi",
    "zo",
]
_ENDINGS = ["x", "on", "ia", "us", "ix", "ex", "ly", "io", "ora", "ium", "tech", "ify", "ent", "ica"]
_CAUSES = [
    "mental health",
    "cancer support",
    "youth",
    "carers",
    "older people",
    "disability",
    "homeless",
    "food bank",
    "women's aid",
    "refugee",
    "autism",
    "dementia",
    "hospice",
    "family support",
    "citizens advice",
    "wildlife",
    "heritage",
    "arts",
    "music",
    "sports",
    "community",
    "scouts",
    "guides",
    "playgroup",
    "pre-school",
    "victim support",
    "domestic abuse",
    "recovery",
    "bereavement",
    "parkinson's",
    "stroke",
    "deaf",
    "blind",
    "learning disability",
]
_CHARITY_NOUNS = [
    "association",
    "trust",
    "foundation",
    "society",
    "centre",
    "project",
    "network",
    "group",
    "fund",
    "partnership",
    "alliance",
    "forum",
    "club",
    "council",
    "appeal",
    "charitable trust",
    "community trust",
]
_SAINTS = [
    "mary",
    "john",
    "peter",
    "paul",
    "andrew",
    "michael",
    "george",
    "james",
    "luke",
    "mark",
    "thomas",
    "anne",
    "margaret",
]
_FACILITIES = [
    "park",
    "library",
    "hospital",
    "school",
    "church",
    "museum",
    "railway",
    "theatre",
    "woods",
    "canal",
    "lido",
    "allotments",
]
_STREETS = [
    "high street",
    "church road",
    "station road",
    "main street",
    "park lane",
    "mill lane",
    "victoria road",
    "king street",
    "queen street",
    "new road",
]
_SIC = [
    "62020 - Information technology consultancy activities",
    "41202 - Construction of domestic buildings",
    "68209 - Other letting and operating of own or leased real estate",
    "70229 - Management consultancy activities other than financial management",
    "43999 - Other specialised construction activities n.e.c.",
    "88990 - Other social work activities without accommodation n.e.c.",
    "96090 - Other service activities n.e.c.",
    "56101 - Licensed restaurants",
    "49410 - Freight transport by road",
    "99999 - Dormant Company",
]

_COMMON_WEIGHTS = list(accumulate(1.0 / (rank + 1) for rank in range(len(_COMMON))))


class _NameMaker:
    """Draws realistic organisation names from one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def common(self) -> str:
        return self.rng.choices(_COMMON, cum_weights=_COMMON_WEIGHTS)[0]

    def coined(self) -> str:
        rng = self.rng
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
        return word + (rng.choice(_ENDINGS) if rng.random() < 0.4 else "")

    def company_stem(self) -> str:
        rng = self.rng
        pattern = rng.random()
        if pattern < 0.30:
            words = [self.coined(), self.common()] + ([self.common()] if rng.random() < 0.3 else [])
        elif pattern < 0.45:
            words = [rng.choice(_SURNAMES), rng.choice(_TRADES)] + ([self.common()] if rng.random() < 0.5 else [])
        elif pattern < 0.57:
            words = [rng.choice(_FIRST_NAMES), rng.choice(_SURNAMES), self.common()]
        elif pattern < 0.70:
            words = [rng.choice(_PLACES), rng.choice(_TRADES + _COMMON), self.common()]
        elif pattern < 0.78:
            words = [rng.choice(_SURNAMES), "&", rng.choice(_SURNAMES)] + (
                [self.common()] if rng.random() < 0.6 else []
            )
        elif pattern < 0.88:
            words = [self.coined()] + ([self.coined()] if rng.random() < 0.3 else [])
        elif pattern < 0.94:
            letters = "abcdefghjklmnprstw"
            words = [f"{rng.choice(letters)} & {rng.choice(letters)}", rng.choice(_TRADES + _COMMON)]
        else:
            words = [self.coined(), rng.choice(_PLACES), self.common()]
        return " ".join(words).upper()

    def charity_name(self) -> str:
        rng = self.rng
        pattern = rng.random()
        if pattern < 0.30:
            name = f"{rng.choice(_PLACES)} {rng.choice(_CAUSES)} {rng.choice(_CHARITY_NOUNS)}"
        elif pattern < 0.42:
            name = f"friends of {rng.choice(_PLACES)} {rng.choice(_FACILITIES)}"
        elif pattern < 0.60:
            name = f"the {rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)} {rng.choice(_CHARITY_NOUNS)}"
        elif pattern < 0.72:
            name = f"{rng.choice(_PLACES)} {self.coined()} community {rng.choice(_CHARITY_NOUNS)}"
        elif pattern < 0.82:
            name = f"st {rng.choice(_SAINTS)}'s church {rng.choice(_PLACES)}"
        else:
            name = f"{self.coined()} {rng.choice(_CAUSES)} {rng.choice(_CHARITY_NOUNS)}"
        return name.title().replace("'S ", "'s ")

    def postcode(self) -> str:
        rng = self.rng
        area = rng.choice(("B", "M", "LS", "S", "BS", "L", "NE", "NG", "G", "EH", "CF", "BT", "SW", "N", "E"))
        return f"{area}{rng.randint(1, 29)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"

    def day(self, start_year: int, end: date) -> date:
        start = date(start_year, 1, 1)
        return start + timedelta(days=self.rng.randrange(max(1, (end - start).days)))


def _company_suffix(rng: random.Random, category: str) -> str:
    if category == CATEGORY_CIC:
        return rng.choice(("CIC", "C.I.C.", "COMMUNITY INTEREST COMPANY"))
    if category == CATEGORY_PLC:
        return "PLC"
    if category == CATEGORY_LLP:
        return "LLP"
    if category == CATEGORY_SOCIETY:
        return rng.choice(("LIMITED", "CO-OPERATIVE LIMITED", "COMMUNITY BENEFIT SOCIETY LIMITED"))
    return "LIMITED" if rng.random() < 0.92 else "LTD"


def iter_filler(
    register: str,
    count: int,
    *,
    seed: int,
    as_of: date,
    avoid_keys: frozenset[str] = frozenset(),
    avoid_numbers: frozenset[str] = frozenset(),
) -> Iterator[Organisation]:
    """``count`` synthetic organisations for one register, the same ones for the same arguments.

    Names whose ``same_as_key`` is in ``avoid_keys`` or was drawn before, and numbers in
    ``avoid_numbers``, are skipped: filler never collides with the answer key's organisations,
    and (like Companies House's "same as" rule) one register holds one organisation per key.

    >>> orgs = list(iter_filler("companies", 3, seed=1, as_of=date(2026, 11, 1)))
    >>> [o.org_id[:7] for o in orgs] == ["GB-COH-"] * 3
    True
    >>> orgs == list(iter_filler("companies", 3, seed=1, as_of=date(2026, 11, 1)))
    True
    """
    if register not in REGISTERS:
        raise ValueError(f"unknown register {register!r}; expected one of {REGISTERS}")
    rng = random.Random(f"{seed}:{register}")
    maker = _NameMaker(rng)
    llp_numbers = itertools.count(1)
    seen: set[int] = set()  # hashes of the keys written so far: registers rarely hold two same-key names
    made = 0
    serial = 0
    while made < count:
        serial += 1
        org = _filler_org(register, serial, rng, maker, as_of, llp_numbers)
        numbers = {org.company_number, org.charity_number, org.mutual_number} - {None}
        key = same_as_key(org.name)
        if numbers & avoid_numbers or key in avoid_keys or hash(key) in seen:
            continue
        seen.add(hash(key))
        made += 1
        yield org
        if register == "ccew" and made < count and rng.random() < 0.03:
            made += 1
            yield _linked_charity(org, rng)


def _filler_org(
    register: str, serial: int, rng: random.Random, maker: _NameMaker, as_of: date, llp_numbers: Iterator[int]
) -> Organisation:
    registered_on = maker.day(1960, as_of)
    postcode = maker.postcode()
    if register == "companies":
        roll = rng.random()
        category = (
            CATEGORY_CIC
            if roll < 0.012
            else CATEGORY_GUARANTEE
            if roll < 0.045
            else CATEGORY_LLP
            if roll < 0.06
            else CATEGORY_PLC
            if roll < 0.063
            else CATEGORY_PRIVATE
        )
        name = f"{maker.company_stem()} {_company_suffix(rng, category)}"
        previous = (
            tuple(f"{maker.company_stem()} {_company_suffix(rng, category)}" for _ in range(rng.choice((1, 1, 2))))
            if rng.random() < 0.08
            else ()
        )
        # Unique for every serial below 13 M: SC and NI numbers from multiples of 13 and 29, LLPs
        # (OC) from a counter of their own, every other company from 10,000,001 up.
        number = (
            f"SC{serial // 13:06d}"
            if serial % 13 == 0
            else f"NI{serial // 29:06d}"
            if serial % 29 == 0
            else f"OC{next(llp_numbers):06d}"
            if category == CATEGORY_LLP
            else f"{10_000_000 + serial:08d}"
        )
        org_type = "cic" if category == CATEGORY_CIC else "company"
        return Organisation(
            f"GB-COH-{number}",
            name,
            org_type,
            "companies",
            company_number=number,
            category=category,
            registered_on=registered_on,
            postcode=postcode,
            previous_names=previous,
        )
    if register == "mutuals":
        number = f"{30_000 + serial}R"
        category = rng.choice(("Co-operative Society", "Community Benefit Society"))
        name = f"{maker.company_stem()} {rng.choice(('CO-OPERATIVE', 'COMMUNITY', 'HOUSING CO-OPERATIVE'))} LIMITED".title()
        company = f"IP{30_000 + serial:05d}R" if rng.random() < 0.5 else None
        return Organisation(
            f"GB-MPR-{number}",
            name,
            "mutual",
            "mutuals",
            company_number=company,
            mutual_number=number,
            category=category,
            registered_on=registered_on,
            postcode=postcode,
        )
    name = maker.charity_name()
    status = "removed" if register in ("ccew", "oscr") and rng.random() < 0.1 else "active"
    roll = rng.random()
    if register == "ccew":
        number = str(1_100_000 + serial)
        org_id = f"GB-CHC-{number}"
    elif register == "oscr":
        number = f"SC{40_000 + serial:06d}"
        org_id = f"GB-SC-{number}"
    else:
        number = f"NIC{110_000 + serial}"
        org_id = f"GB-NIC-{110_000 + serial}"
    if roll < 0.10 and register != "oscr":
        company = f"NI{900_000 + serial:06d}" if register == "ccni" else f"09{serial:06d}"
        return Organisation(
            org_id,
            name,
            "charitable_company",
            register,
            company_number=company,
            charity_number=number,
            category="Charitable company",
            status=status,
            registered_on=registered_on,
            postcode=postcode,
            company_link_published=roll < 0.075,  # a quarter of them: the register gives no company number
        )
    cio = roll < 0.25 and register != "ccni"
    other = (maker.charity_name(),) if rng.random() < 0.05 else ()
    return Organisation(
        org_id,
        name,
        "cio" if cio else "charity",
        register,
        charity_number=number,
        category="CIO" if cio else rng.choice(("Trust", "Other")),
        status=status,
        registered_on=registered_on,
        postcode=postcode,
        other_names=other,
    )


def _linked_charity(main: Organisation, rng: random.Random) -> Organisation:
    """A subsidiary charity linked to ``main`` (CCEW ``linked_charity_number`` 1)."""
    fund = rng.choice(("Endowment Fund", "Restricted Fund", "Building Fund"))
    return Organisation(
        f"{main.org_id}-1",
        f"{main.name} {fund}",
        "charity",
        "ccew",
        charity_number=f"{main.charity_number}-1",
        category="Other",
        status=main.status,
        registered_on=main.registered_on,
        postcode=main.postcode,
    )


# --- writing ----------------------------------------------------------------------------------


def _filler_counts(filler: int | Mapping[str, int]) -> dict[str, int]:
    if isinstance(filler, Mapping):
        unknown = set(filler) - set(REGISTERS)
        if unknown:
            raise ValueError(f"unknown registers in filler: {sorted(unknown)}")
        return {r: int(filler.get(r, 0)) for r in REGISTERS}
    return {r: round(filler * share) for r, share in FILLER_SHARES.items()}


@contextmanager
def _zip_text(zip_path: Path, member: str, encoding: str = "utf-8") -> Iterator[io.TextIOWrapper]:
    with (
        zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open(member, "w", force_zip64=True) as raw,
    ):
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        yield text
        text.flush()
        text.detach()


def _dmy(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _ccew_date(day: date | None) -> str:
    return f"{day.isoformat()} 00:00:00.0000000" if day else ""


def _is_oscr(number: str) -> bool:
    return number.upper().startswith("SC")


def _is_ccni(org: Organisation) -> bool:
    return org.register == "ccni" or (org.charity_number or "").upper().startswith("NI")


def _ccew_number(number: str) -> tuple[str, str]:
    main, _, linked = number.partition("-")
    return main, linked or "0"


def write_registers(
    out_dir: Path,
    organisations: Sequence[Organisation],
    *,
    filler: int | Mapping[str, int] = 0,
    seed: int = 0,
    as_of: date = date(2026, 11, 1),
) -> dict[str, Path]:
    """Write the register bulk files for ``organisations`` plus ``filler`` synthetic ones.

    ``filler`` is a total split by ``FILLER_SHARES`` or a count per register
    (``{"companies": 5_700_000, "ccew": 400_000}``).  Returns the written paths under the keys
    companies, ccew_charity, ccew_other_names, oscr, oscr_removed, ccni and mutuals.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = _filler_counts(filler)
    avoid_keys = frozenset(
        k for o in organisations for n in (o.name, *o.previous_names, *o.other_names) if (k := same_as_key(n))
    )
    avoid_numbers = frozenset(
        n for o in organisations for n in (o.company_number, o.charity_number, o.mutual_number) if n
    )

    # A charity name on two charity registers is one charity registered twice, so filler charities
    # take names no earlier charity register used.
    avoid = {register: avoid_keys for register in REGISTERS}
    taken: set[str] = set()
    for register in ("ccew", "oscr", "ccni"):
        avoid[register] = avoid_keys | taken
        taken |= {
            same_as_key(o.name)
            for o in iter_filler(
                register,
                counts[register],
                seed=seed,
                as_of=as_of,
                avoid_keys=avoid[register],
                avoid_numbers=avoid_numbers,
            )
        }

    def fill(register: str) -> Iterator[Organisation]:
        return iter_filler(
            register, counts[register], seed=seed, as_of=as_of, avoid_keys=avoid[register], avoid_numbers=avoid_numbers
        )

    def stream(*registers: str) -> Iterator[Organisation]:
        yield from organisations
        for register in registers:
            yield from fill(register)

    stamp = as_of.strftime("%d-%b-%Y")
    paths = {
        "companies": out_dir / f"BasicCompanyDataAsOneFile-{as_of.isoformat()}.zip",
        "ccew_charity": out_dir / "publicextract.charity.zip",
        "ccew_other_names": out_dir / "publicextract.charity_other_names.zip",
        "oscr": out_dir / f"CharityExport-{stamp}.zip",
        "oscr_removed": out_dir / f"CharityExport-Removed-{stamp}.zip",
        "ccni": out_dir / f"ccni-register-{as_of.isoformat()}.csv",
        "mutuals": out_dir / f"mutuals-{as_of.isoformat()}.csv",
    }
    rng = random.Random(f"{seed}:details")
    _write_companies(paths["companies"], stream(*REGISTERS), as_of, rng)
    _write_ccew(paths["ccew_charity"], paths["ccew_other_names"], stream("ccew"), as_of, rng)
    _write_oscr(paths["oscr"], paths["oscr_removed"], stream("oscr"), as_of, rng)
    _write_ccni(paths["ccni"], stream("ccni"), as_of, rng)
    _write_mutuals(paths["mutuals"], stream("mutuals"), rng)
    return paths


def _company_category(org: Organisation) -> str:
    if org.register == "companies" and org.category:
        return org.category
    if org.org_type == "cic":
        return CATEGORY_CIC
    if org.register == "mutuals" or org.org_type == "mutual":
        return CATEGORY_SOCIETY
    if org.org_type in ("charitable_company", "charity", "cio"):
        return CATEGORY_GUARANTEE
    return CATEGORY_PRIVATE


def _write_companies(path: Path, orgs: Iterator[Organisation], as_of: date, rng: random.Random) -> None:
    maker = _NameMaker(rng)
    with _zip_text(path, path.with_suffix(".csv").name) as text:
        text.write(_COMPANIES_HOUSE_HEADER_LINE + "\n")
        writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for org in orgs:
            if not org.company_number:
                continue
            number = org.company_number
            incorporated = org.registered_on or maker.day(1980, as_of)
            previous: list[str] = []
            if org.register == "companies":
                for i, old in enumerate(org.previous_names[:10]):
                    previous += [_dmy(incorporated + timedelta(days=200 * (i + 1))), old.upper()]
            previous += [""] * (20 - len(previous))
            status = "Active" if org.status == "active" else org.status.title()
            town = rng.choice(_PLACES).upper()
            sic = [_sic_text(code) for code in org.sic_codes[:4]] or [rng.choice(_SIC)]
            writer.writerow(
                [
                    (org.company_name or org.name).upper(),
                    number,
                    "",
                    "",
                    f"{rng.randint(1, 200)} {rng.choice(_STREETS).upper()}",
                    "",
                    town,
                    "",
                    "UNITED KINGDOM",
                    maker.postcode() if org.postcode is None else org.postcode,  # "": none given
                    _company_category(org),
                    status,
                    "United Kingdom",
                    "",
                    _dmy(incorporated),
                    "31",
                    "3",
                    _dmy(as_of + timedelta(days=120)),
                    _dmy(as_of - timedelta(days=240)),
                    org.account_category or _draw_account_category(rng),
                    "",
                    "",
                    "0",
                    "0",
                    "0",
                    "0",
                    *sic,
                    *[""] * (4 - len(sic)),
                    "0",
                    "0",
                    f"http://business.data.gov.uk/id/company/{number}",
                    *previous,
                    _dmy(as_of + timedelta(days=60)),
                    _dmy(as_of - timedelta(days=300)),
                ]
            )


#: Accounts.AccountCategory values as Companies House writes them, with rough shares of live companies.
ACCOUNT_CATEGORIES = {
    "MICRO ENTITY": 40,
    "TOTAL EXEMPTION FULL": 20,
    "UNAUDITED ABRIDGED": 12,
    "DORMANT": 10,
    "NO ACCOUNTS FILED": 8,
    "SMALL": 3,
    "AUDITED ABRIDGED": 1,
    "MEDIUM": 1,
    "FULL": 3,
    "GROUP": 1,
    "AUDIT EXEMPTION SUBSIDIARY": 1,
}


def _draw_account_category(rng: random.Random) -> str:
    return rng.choices(list(ACCOUNT_CATEGORIES), weights=list(ACCOUNT_CATEGORIES.values()))[0]


#: SIC 2007 descriptions of the codes the mock economy gives its organisations.
SIC_TEXTS = {
    "41202": "Construction of domestic buildings",
    "43210": "Electrical installation",
    "49320": "Taxi operation",
    "56290": "Other food services",
    "62020": "Information technology consultancy activities",
    "69102": "Solicitors",
    "70229": "Management consultancy activities other than financial management",
    "80100": "Private security activities",
    "81210": "General cleaning of buildings",
    "81300": "Landscape service activities",
    "84110": "General public administration activities",
    "85590": "Other education n.e.c.",
    "87300": "Residential care activities for the elderly and disabled",
    "88100": "Social work activities without accommodation for the elderly and disabled",
    "88990": "Other social work activities without accommodation n.e.c.",
    "93199": "Other sports activities",
    "94990": "Activities of other membership organisations n.e.c.",
    "96090": "Other service activities n.e.c.",
}


def _sic_text(code: str) -> str:
    return f"{code} - {SIC_TEXTS.get(code, 'Other service activities n.e.c.')}"


def _income(org: Organisation, rng: random.Random, most: int) -> int | str:
    """The charity's latest income: its own, drawn for filler, or '' (no return yet) when its size is unknown."""
    if org.income is not None:
        return org.income
    if org.size_band == "unknown":
        return ""
    return rng.randint(0, most)


def write_link_table(path: Path, links: Sequence[tuple[str, str, str, str]]) -> Path:
    """A link table as find-that-charity publishes one: ``org_id_a,org_id_b,org_name_b,relationship,source``."""
    with path.open("w", encoding="utf-8", newline="") as text:
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["org_id_a", "org_id_b", "org_name_b", "relationship", "source"])
        for a, b, name_b, source in links:
            writer.writerow([a, b, name_b, "sameas", source])
    return path


def _tsv(fields: list[object]) -> str:
    return "\t".join(str(f).replace("\t", " ").replace("\r", " ").replace("\n", " ") for f in fields) + "\r\n"


def _write_ccew(
    charity_path: Path, names_path: Path, orgs: Iterator[Organisation], as_of: date, rng: random.Random
) -> None:
    extract = _ccew_date(as_of)
    name_id = 0
    with (
        _zip_text(charity_path, "publicextract.charity.txt", "utf-8-sig") as charities,
        _zip_text(names_path, "publicextract.charity_other_names.txt", "utf-8-sig") as names,
    ):
        charities.write(_tsv(CCEW_CHARITY_COLUMNS))
        names.write(_tsv(CCEW_OTHER_NAMES_COLUMNS))
        for organisation_number, org in enumerate(orgs, start=1):
            number = org.charity_number
            if not number or _is_oscr(number) or _is_ccni(org) or org.register == "oscr":
                continue
            main, linked = _ccew_number(number)
            removed = org.status != "active"
            registered = org.registered_on or date(1995, 1, 1)
            is_cio = org.org_type == "cio" or org.category == "CIO"
            charity_type = (
                org.category
                if org.category in ("CIO", "Charitable company", "Trust", "Other")
                else ("CIO" if is_cio else "Charitable company" if org.company_number else "Other")
            )
            income = _income(org, rng, 5_000_000)
            charities.write(
                _tsv(
                    [
                        extract,
                        organisation_number,
                        main,
                        linked,
                        org.name,
                        charity_type,
                        "Removed" if removed else "Registered",
                        _ccew_date(registered),
                        _ccew_date(as_of - timedelta(days=400)) if removed else "",
                        "Submission Received" if not removed else "",
                        _ccew_date(date(as_of.year - 1, 4, 1)),
                        _ccew_date(date(as_of.year, 3, 31)),
                        income,
                        int(income * 0.95) if income != "" else "",
                        f"{rng.randint(1, 99)} {rng.choice(_STREETS).title()}",
                        rng.choice(_PLACES).title(),
                        "",
                        "",
                        "",
                        org.postcode or "",
                        "",
                        "",
                        "",
                        (org.company_number or "") if org.company_link_published else "",
                        "False",
                        "False",
                        "False",
                        "False",
                        str(is_cio),
                        "False" if is_cio else "",
                        "",
                        "Provides services and support.",
                        "True",
                        "False",
                    ]
                )
            )
            for kind, others in (("Working Name", org.other_names), ("Previous Name", org.previous_names)):
                for other in others:
                    name_id += 1
                    names.write(_tsv([organisation_number, main, linked, name_id, kind, other]))


def _write_oscr(
    current_path: Path, removed_path: Path, orgs: Iterator[Organisation], as_of: date, rng: random.Random
) -> None:
    stamp = as_of.strftime("%d-%b-%Y")
    with (
        _zip_text(current_path, f"CharityExport-{stamp}.csv") as current,
        _zip_text(removed_path, f"CharityExport-Removed-{stamp}.csv") as removed,
    ):
        current_writer = csv.writer(current, lineterminator="\r\n")
        removed_writer = csv.writer(removed, lineterminator="\r\n")
        current_writer.writerow(OSCR_COLUMNS)
        removed_writer.writerow([*OSCR_COLUMNS, "Ceased Date"])
        for org in orgs:
            if not org.charity_number or not _is_oscr(org.charity_number):
                continue
            form = (
                "SCIO"
                if org.org_type == "cio"
                else "Company"
                if org.company_number
                else rng.choice(("Trust (founding deed)", "Unincorporated Association", "Other"))
            )
            income = _income(org, rng, 2_000_000)
            row = [
                org.charity_number.upper(),
                org.name,
                _dmy(org.registered_on or date(1990, 1, 1)),
                org.other_names[0] if org.other_names else "",
                "Active" if org.status == "active" else "Removed",
                org.postcode or "",
                form,
                "; ".join(org.previous_names),
                "Local",
                rng.choice(_PLACES).title(),
                "The advancement of education",
                "Children and young people",
                "Provides services",
                "To support the community.",
                f"{rng.randint(1, 99)} {rng.choice(_STREETS).title()}",
                "",
                income,
                int(income * 0.9) if income != "" else "",
                "March",
                "31/03",
                "",
                "",
                "",
                "No",
                "Standard",
            ]
            if org.status == "active":
                current_writer.writerow(row)
            else:
                removed_writer.writerow([*row, _dmy(as_of - timedelta(days=300))])


def _write_ccni(path: Path, orgs: Iterator[Organisation], as_of: date, rng: random.Random) -> None:
    with path.open("w", encoding="cp1252", errors="replace", newline="") as text:
        writer = csv.writer(text, lineterminator=",\n")
        writer.writerow(CCNI_COLUMNS)
        for org in orgs:
            if not org.charity_number or not _is_ccni(org):
                continue
            number = "".join(ch for ch in org.charity_number if ch.isdigit())
            income = _income(org, rng, 900_000)
            reported = income != ""
            writer.writerow(
                [
                    number,
                    "0",
                    org.name,
                    _dmy(org.registered_on or date(2014, 1, 1)),
                    ("Up-to-date" if reported else "Recently registered") if org.status == "active" else "Removed",
                    f"31 March {as_of.year}",
                    income if reported else 0,
                    int(income * 0.9) if reported else 0,
                    0,
                    0,
                    0,
                    f"{org.name}, {rng.randint(1, 99)} Main Street, Belfast, {org.postcode or 'BT1 1AA'}",
                    "",
                    "",
                    "",
                    (org.company_number or "0") if org.company_link_published else "0",
                    "The advancement of health or the saving of lives,The relief of those in need",
                    "General public,Older people",
                    "Advice/advocacy/information,Counselling/support",
                ]
            )


def _write_mutuals(path: Path, orgs: Iterator[Organisation], rng: random.Random) -> None:
    with path.open("w", encoding="utf-8", newline="") as text:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(MUTUALS_COLUMNS)
        for org in orgs:
            if not org.mutual_number:
                continue
            registered_as = (
                org.category
                if org.category in ("Co-operative Society", "Community Benefit Society")
                else "Co-operative Society"
            )
            writer.writerow(
                [
                    org.name,
                    org.mutual_number,
                    registered_as,
                    "Registered" if org.status == "active" else "Deregistered",
                    _dmy(org.registered_on or date(1990, 1, 1)),
                    "" if org.status == "active" else "01/01/2024",
                    org.postcode or "",
                ]
            )


# --- published name variants -------------------------------------------------------------------


def published_variant(name: str, rng: random.Random) -> str:
    """A way a council's finance system might write ``name``: case, Ltd/Limited, '&'/'and',
    a trading name, truncation at 25-40 characters or a one-letter typo.

    >>> published_variant("ACME WIDGETS LIMITED", random.Random(3)) != ""
    True
    """
    roll = rng.random()
    if roll < 0.2:
        return name.title() if name.isupper() else name.upper()
    if roll < 0.35:
        for long, short in ((" LIMITED", " LTD"), (" Limited", " Ltd")):
            if long in name:
                return name.replace(long, short)
            if short in name:
                return name.replace(short, long)
        return f"{name} Ltd"
    if roll < 0.45:
        return name.replace("&", "and") if "&" in name else name.replace(" and ", " & ").replace(" And ", " & ")
    if roll < 0.55:
        return f"{name} T/A {rng.choice(_SURNAMES).title()} {rng.choice(_TRADES).title()}"
    if roll < 0.75 and len(name) > 26:
        return name[: rng.randint(25, min(40, len(name) - 1))]
    if roll < 0.9:
        letters = [i for i, ch in enumerate(name) if ch.isalpha()]
        i = rng.choice(letters[2:] or letters)
        return name[:i] + rng.choice("aeiourstn".upper() if name[i].isupper() else "aeiourstn") + name[i + 1 :]
    return f"The {name}" if not name.lower().startswith("the ") else name[4:]
