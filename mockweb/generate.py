"""Generate the mock council web: sites, files, portal, registers and the answer key.

>>> # site = generate(Path("/tmp/mock"), councils=12, seed=2026)
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, unquote

import pandas as pd
import yaml

from mockweb import files as fmt
from mockweb.answers import DOCUMENT_COLUMNS, FILE_COLUMNS, compute_compliance
from mockweb.economy import Economy, build_economy
from mockweb.hostile import NonWebLink, add_down_council, add_hostile_cases, landing_links
from mockweb.national import DIRECTORY, TEMPLATED, add_national_services
from mockweb.plan import (
    AS_OF,
    Ledger,
    Profile,
    Span,
    build_profiles,
    month_end,
    pick_councils,
    publication_time,
    quarter_of,
)
from mockweb.site import (
    Link,
    Resource,
    ckan_package,
    ckan_routes,
    landing_pages,
    page,
    portal_pointer_page,
    size_text,
)
from normalise.councils import councils as all_councils

#: 5: hostile network cases, council hosts, portal search, directory and hubs; 6: a followed off-site redirect
GENERATOR_VERSION = 6
META = "mockweb.json"
REGISTER_FILLER = 5000
ECONOMY_COUNCILS = 112  # the economy grows with the councils up to this many
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
CONTENT_TYPES = {
    "csv": "text/csv; charset={charset}",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "zip": "application/zip",
}
LINK_TEMPLATES = (
    "Spending over £500 – {label} ({fmt}, {size})",
    "{label} {fmt}",
    "Expenditure over £500 {label} ({fmt})",
    "{label} supplier spend - {fmt} file",
)
#: What a bare link says for each format ("the link says only CSV").
BARE_TEXT = {"csv": "CSV", "xlsx": "Excel", "ods": "ODS", "pdf": "PDF"}
#: Papers councils put beside their data, none of them spend data: (kind, link text, file name, format).
DOCUMENTS = (
    ("guide", "Guide to our spending data (PDF)", "spending-data-guide", "pdf"),
    ("definitions", "Spending data: field definitions (XLSX)", "field-definitions", "xlsx"),
    ("budget", "Budget book 2026/27 (PDF)", "budget-book-2026-27", "pdf"),
    ("contracts", "Contracts register September 2026 (CSV)", "contracts-register-2026-09", "csv"),
)
#: The paper listed among the data links themselves.
INLINE_DOCUMENT = ("policy", "Redaction policy (PDF)", "redaction-policy", "pdf")
FAULT_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Error</title></head><body><h1>Sorry, something went wrong"
    b"</h1><p>The document you requested is temporarily unavailable.</p></body></html>\n"
)


@dataclass
class FileSpec:
    """One published file (or broken link) and what a perfect parser must make of it."""

    council_code: str
    dataset: str
    format: str
    period_start: date
    period_end: date
    published_at: datetime
    url_path: str
    link_text: str = ""
    section: str = "spend"  # spend | gpc | grants: the page that links it
    label: str = ""  # the period as the council names it ("March 2025")
    link_after: str = ""  # words after the link in its row ("(CSV, 24KB)")
    body: bytes = b""
    records: list[dict] = field(default_factory=list)
    junk_rows: int = 0
    columns: frozenset[str] = frozenset()
    expected_status: str = "ok"
    republishes: str = ""
    fault: str = ""
    http_status: int = 200
    redirect_to: str = ""
    delay: float = 0.0
    content_type: str = ""
    route: dict = field(default_factory=dict)  # how the server misbehaves for it (mockweb.hostile)
    expected_error: str = ""  # part of the error a crawl records for it (mockweb.hostile)
    # once settled (_Builder.settle): the records folded into the answer key, the body moved to disk
    transactions: int = 0
    total: Decimal = Decimal("0.00")
    size: int = 0
    etag: str = ""
    body_file: Path | None = None

    def records_total(self) -> Decimal:
        money = "value" if self.dataset == "contracts" else "amount"
        return sum((r[money] for r in self.records), Decimal("0.00"))


@dataclass(frozen=True)
class MockSite:
    """A generated mock council web on disk."""

    root: Path
    as_of: date
    council_codes: list[str]
    seed: int
    faults: bool
    down_councils: tuple[str, ...] = ()  # configured councils whose site is down (--faults)

    @property
    def registers_dir(self) -> Path:
        """Register bulk files (served under /registers/)."""
        return self.root / "registers"

    def sources_yaml(
        self, base_url: str, council_urls: Mapping[str, str] | None = None, unconfigured: Collection[str] = ()
    ) -> str:
        """A sources config (normalise/sources.py format) pointing at the site served at ``base_url``.

        ``council_urls`` gives councils their own base URL (``MockWeb.council_base_urls``).
        Councils in ``unconfigured`` get no entry; the config's ``fallback:`` section then points
        the crawler at the mock portal search and council directory to find them.
        """
        meta = json.loads((self.root / META).read_text(encoding="utf-8"))
        base = base_url.rstrip("/")
        councils = {}
        for code, entry in meta["sources"].items():
            if code in unconfigured:
                continue
            own = (council_urls or {}).get(code, base).rstrip("/")
            councils[code] = json.loads(json.dumps(entry).replace("{base}", own))
        document: dict = {"councils": councils}
        if unconfigured:
            document["fallback"] = {
                "ckan": f"{base}/dgu",
                "directory": f"{base}{DIRECTORY}",
                "councils": sorted(unconfigured),
            }
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.replace(tzinfo=UTC), usegmt=True)


class _Builder:
    """Builds every council's files, pages and routes in memory, then writes them out."""

    def __init__(self, councils: int, seed: int, faults: bool, span: Span, spill: Path):
        self.rng = random.Random(f"mockweb:{seed}")
        self.seed, self.faults, self.span, self.spill = seed, faults, span, spill
        chosen = pick_councils(councils, self.rng)
        english = [c for c in sorted(all_councils().values(), key=lambda c: c.code) if c.nation == "England"]
        payable = chosen + self.rng.sample(english, k=8)
        # the name generator runs out of distinct names near 3,500 organisations: past 112 councils
        # they share one economy of 3,000 (a real supplier serves many councils)
        self.economy: Economy = build_economy(self.rng, payable, size=200 + 25 * min(councils, ECONOMY_COUNCILS))
        self.profiles: list[Profile] = build_profiles(chosen, self.economy, self.rng, span)
        self.profile_of = {p.code: p for p in self.profiles}
        self.specs: list[FileSpec] = []
        self.suppliers: dict[tuple[str, str], dict] = {}  # answer key: each council's written names
        self.row_months: dict[str, set[tuple[int, int]]] = {}  # answer key: months with spend rows
        self.spilled: list[Path] = []  # settled bodies waiting under ``spill`` to be moved into the site
        self.pages: dict[str, tuple[bytes, str, datetime]] = {}  # route -> (body, content type, modified)
        self.sources: dict[str, dict] = {}
        self.disallowed: list[dict] = []
        self.doc_ids = iter(range(4101, 10_000_000, 7))
        self.chosen = chosen
        self.extra_routes: dict[str, dict] = {}  # route -> route entry, for routes without a spec
        self.non_web_links: list[NonWebLink] = []
        self.unreadable_pages: list[dict] = []
        self.down: list[str] = []  # councils whose site is down

    # -------------------------------------------------------------- files

    def council_files(self, p: Profile) -> None:
        rng = random.Random(f"{self.seed}:{p.code}")
        ledger = Ledger(p, self.economy, rng)
        periods: list[tuple[date, date, str]] = []
        if p.cadence == "monthly":
            for y, m in self.span.months():
                periods.append((date(y, m, 1), month_end(y, m), f"{MONTH_NAMES[m - 1]} {y}"))
        else:
            for y, m in self.span.quarter_starts():
                label = f"{MONTH_NAMES[m - 1]} to {MONTH_NAMES[m + 1]} {y}"
                periods.append((date(y, m, 1), month_end(y, m + 2), label))
        template = LINK_TEMPLATES[rng.randrange(len(LINK_TEMPLATES))]
        for start, end, label in periods:
            quarter = quarter_of(start)
            if p.role == "skip_quarter" and quarter in p.odd_quarters:
                continue
            if p.skip_month == (start.year, start.month):
                continue
            late = p.role == "late" and quarter in p.odd_quarters
            published = publication_time(rng, end, 40, 75) if late else publication_time(rng, end, 14, 28)
            if published.date() >= AS_OF:
                continue
            new_layout = bool(p.layout_change and (start.year, start.month) >= p.layout_change)
            n = p.rows_per_month * (3 if p.cadence == "quarterly" else 1)
            records = ledger.spend(start, end, n + rng.randrange(-n // 5, n // 5 + 1), new_layout)
            family = "erp_no_department" if new_layout else p.family
            formats = [p.format]
            if p.role == "pdf_only" and quarter in p.odd_quarters:
                formats = ["pdf"]
            elif p.pdf_pairs:
                formats.append("pdf")
            if p.xlsx_copies and start.year == 2025 and start.month <= 6 and p.format == "csv":
                formats.append("xlsx")
            first = None
            for f in formats:
                spec = self.spend_file(p, rng, f, start, end, label, published, records, family, template)
                if first is None:
                    first = spec
                elif f == "xlsx":
                    spec.republishes = first.url_path
                self.specs.append(spec)
        if p.gpc:
            self.card_files(p, rng, ledger)
        if p.grants:
            self.grant_files(p, rng, ledger)
        if p.contracts:
            self.contract_files(p, ledger)

    def spend_file(
        self,
        p: Profile,
        rng: random.Random,
        f: str,
        start: date,
        end: date,
        label: str,
        published: datetime,
        records: list[dict],
        family: str,
        template: str,
    ) -> FileSpec:
        stem = f"spend-{start:%Y-%m}" if p.cadence == "monthly" else f"spend-{start.year}-q{(start.month - 1) // 3 + 1}"
        spec = FileSpec(
            p.code, "spend_over_500", f, start, end, published, self.file_path(p, stem, label, f), label=label
        )
        header_fields = fmt.FAMILIES[family]
        junk: list[tuple] = []
        data = [dict(r) for r in records]
        if f in ("csv", "xlsx") and p.footer_total:
            junk.append(self.footer_row(header_fields, data, typed=f == "xlsx"))
        if f == "csv" and p.footer_total and start.month % 4 == 0:
            bad = dict(rng.choice(data))
            bad["amount"] = "#VALUE!"
            bad["transaction_id"] = str(int(bad["transaction_id"]) * 10 + 1)
            junk.insert(0, ("middle", bad))
        self.render(spec, p, family, data, junk, title=f"{p.council.official_name} – Expenditure over £500 – {label}")
        spec.link_text = template.format(label=label, fmt=f.upper(), size=size_text(len(spec.body)))
        if p.bare_links:  # the period is left to the link's row or heading
            spec.link_text, spec.link_after = self.bare_text(p, f, len(spec.body), start.month)
        return spec

    @staticmethod
    def bare_text(p: Profile, f: str, size: int, month: int) -> tuple[str, str]:
        """What a bare link says, and the words after it: "CSV"; or "Download" (CSV, 24KB); or only "Download"."""
        if not p.asset_ids:
            return BARE_TEXT[f], f"({size_text(size)})"
        return "Download", f"({BARE_TEXT[f]}, {size_text(size)})" if month % 2 == 0 else ""

    def footer_row(self, header_fields, data: list[dict], typed: bool) -> tuple:
        """A footer total row: only 'Total' and the sum, as Craven's file ends."""
        fields = [f for _, f in header_fields]
        total = sum((r["amount"] for r in data), Decimal("0.00"))
        row: list = [""] * len(fields)
        i = fields.index("amount")
        row[i] = float(total) if typed else fmt.format_amount(total, "comma")
        row[0 if fields[0] not in ("payment_date", "supplier_name") else i - 1] = "Total"
        return ("end", row)

    def render(self, spec: FileSpec, p: Profile, family: str, data: list[dict], junk: list[tuple], title: str) -> None:
        """Fill in the file's bytes and its expected parse."""
        header_fields = fmt.FAMILIES[family]
        headers = [h for h, _ in header_fields]
        fields = [f for _, f in header_fields]
        if spec.format == "pdf":
            lines = [" | ".join(headers)] + [" | ".join(fmt.text_cells(r, fields, p.style)) for r in data]
            spec.body = fmt.pdf_bytes(title, lines)
            spec.expected_status = "not_machine_readable"
            return
        spec.records = data
        spec.columns = frozenset(fields) & (fmt.CONTRACT_COLUMNS if spec.dataset == "contracts" else fmt.SPEND_COLUMNS)
        typed = spec.format in ("xlsx", "ods")
        body_rows = [fmt.typed_cells(r, fields) if typed else fmt.text_cells(r, fields, p.style) for r in data]
        for where, row in junk:
            if where == "middle":
                cells = fmt.text_cells({**row, "amount": None}, fields, p.style)
                cells[fields.index("amount")] = row["amount"]
                body_rows.insert(len(body_rows) // 2, cells)
                spec.expected_status = "partial"
            else:
                body_rows.append(row)
        spec.junk_rows = len(junk)
        top = [[title], []] if p.style.title else []
        if spec.format == "csv":
            spec.body = fmt.csv_bytes(top + [headers] + body_rows, p.style)
        elif spec.format == "xlsx":
            spec.body = fmt.xlsx_bytes(top + [headers] + body_rows, sheet=title[-28:].strip(" –") or "Sheet1")
        elif spec.format == "ods":
            spec.body = fmt.ods_bytes([headers] + body_rows, sheet="Spend")
        else:
            raise ValueError(spec.format)

    def file_path(self, p: Profile, stem: str, label: str, f: str) -> str:
        if p.role == "ckan":
            return f"/ckan/dataset/{p.slug}-spend/resource/{hashlib.sha1(stem.encode()).hexdigest()[:12]}/download/{stem}.{f}"
        if p.asset_ids:
            return f"/{p.slug}/asset.ashx?id={next(self.doc_ids)}"
        if p.encoded_names:
            return f"/{p.slug}/files/" + quote(f"Spending over £500 - {label}.{f}")
        if p.no_extension:
            slug = label.lower().replace(" ", "_")
            return f"/{p.slug}/downloads/file/{next(self.doc_ids)}/{slug}_supplier_spend_-_{f}_file"
        return f"/{p.slug}/files/{stem}.{f}"

    def card_files(self, p: Profile, rng: random.Random, ledger: Ledger) -> None:
        family = "gpc_lga" if p.family == "lga" else "gpc"
        for y, m in self.span.quarter_starts():
            start, end = date(y, m, 1), month_end(y, m + 2)
            published = publication_time(rng, end, 20, 40)
            if published.date() >= AS_OF:
                continue
            label = f"{MONTH_NAMES[m - 1]} to {MONTH_NAMES[m + 1]} {y}"
            spec = FileSpec(
                p.code,
                "purchase_card",
                "csv",
                start,
                end,
                published,
                f"/{p.slug}/files/purchase-cards-{y}-q{(m - 1) // 3 + 1}.csv",
                section="gpc",
            )
            self.render(spec, p, family, ledger.card(start, end, rng.randrange(30, 80)), [], title="Purchase cards")
            spec.link_text = f"Purchase card transactions – {label} (CSV, {size_text(len(spec.body))})"
            self.specs.append(spec)

    def grant_files(self, p: Profile, rng: random.Random, ledger: Ledger) -> None:
        for year in self.span.financial_years():
            start, end = date(year, 4, 1), date(year + 1, 3, 31)
            published = publication_time(rng, end, 60, 90)
            fy = f"{year}/{(year + 1) % 100:02d}"
            spec = FileSpec(
                p.code,
                "grants",
                "csv",
                start,
                end,
                published,
                f"/{p.slug}/files/grants-{year}-{(year + 1) % 100:02d}.csv",
                section="grants",
            )
            style = fmt.Style("iso", "plain", "utf-8", "\r\n", False)
            self.render(
                spec,
                Profile(**{**p.__dict__, "style": style}),
                "grants",
                ledger.grants(start, end, rng.randrange(15, 40)),
                [],
                title="Grants",
            )
            spec.link_text = f"Grants to voluntary, community and social enterprise organisations {fy} (CSV)"
            self.specs.append(spec)

    def contract_files(self, p: Profile, ledger: Ledger) -> None:
        """A list of the contracts over £5,000 awarded each quarter, on a page of its own."""
        rng = random.Random(f"{self.seed}:{p.code}:contracts")  # its own stream: other files stay as they were
        for y, m in self.span.quarter_starts():
            start, end = date(y, m, 1), month_end(y, m + 2)
            published = publication_time(rng, end, 10, 25)
            if published.date() >= AS_OF:
                continue
            label = f"{MONTH_NAMES[m - 1]} to {MONTH_NAMES[m + 1]} {y}"
            spec = FileSpec(
                p.code,
                "contracts",
                "csv",
                start,
                end,
                published,
                f"/{p.slug}/files/contracts-{y}-q{(m - 1) // 3 + 1}.csv",
                section="contracts",
            )
            style = fmt.Style(p.style.date, "comma", "utf-8", "\r\n", False)
            self.render(
                spec,
                Profile(**{**p.__dict__, "style": style}),
                "contracts",
                ledger.contracts(start, end, rng.randrange(3, 9), rng),
                [],
                title="Contracts",
            )
            spec.link_text = f"Contracts awarded over £5,000 – {label} (CSV)"
            self.specs.append(spec)

    # -------------------------------------------------------------- faults

    def add_faults(self, p: Profile) -> None:
        """The hostile cases, all on one compliant council, none of them changing its compliance."""
        rng = random.Random(f"{self.seed}:faults")
        own = {
            (s.period_start.year, s.period_start.month): s
            for s in self.specs
            if s.council_code == p.code and s.dataset == "spend_over_500" and s.format == p.format
        }

        def extra(
            month: tuple[int, int],
            name: str,
            f: str,
            body: bytes,
            status: str,
            fault: str,
            content_type: str = "",
            http_status: int = 200,
        ) -> None:
            base = own[month]
            spec = FileSpec(
                p.code,
                "spend_over_500",
                f,
                base.period_start,
                base.period_end,
                base.published_at + timedelta(days=10),
                f"/{p.slug}/files/{name}",
                body=body,
                expected_status=status,
                fault=fault,
                content_type=content_type,
                http_status=http_status,
            )
            label = f"{MONTH_NAMES[base.period_start.month - 1]} {base.period_start.year}"
            spec.link_text = f"Spending over £500 – {label} (revised) ({name.rsplit('.', 1)[1].upper()})"
            self.specs.append(spec)

        extra(
            (2025, 2),
            "spend-2025-02-revised.csv",
            "html",
            FAULT_PAGE,
            "not_machine_readable",
            "html_as_csv",
            content_type="text/csv",
        )
        good = fmt.xlsx_bytes([["Date", "Supplier Name", "Amount"], [datetime(2025, 4, 14), "X", 1.0]], "Sheet1")
        extra((2025, 4), "spend-2025-04.xlsx", "xlsx", good[: len(good) // 2], "failed", "corrupt_xlsx")
        extra((2025, 5), "spend-2025-05-v2.csv", "unknown", b"", "failed", "empty")
        extra((2025, 6), "spend-2025-06-scan.pdf", "unknown", b"", "", "not_found", http_status=404)
        extra((2025, 7), "spend-2025-07.ods", "unknown", b"", "", "server_error", http_status=500)
        # A per-supplier summary: a spreadsheet, but not transactions.
        totals: dict[str, Decimal] = {}
        for s in self.specs:
            if (
                s.council_code == p.code
                and s.dataset == "spend_over_500"
                and date(2024, 4, 1) <= s.period_start < date(2025, 4, 1)
                and s.format == p.format
            ):
                for r in s.records:  # this council is settled after the faults are added
                    totals[r["supplier_name"]] = totals.get(r["supplier_name"], Decimal(0)) + r["amount"]
        rows = [["Supplier", "Total Spend 2024/25", "Number of Payments"]]
        rows += [[name, float(total), rng.randrange(1, 40)] for name, total in sorted(totals.items())]
        summary = FileSpec(
            p.code,
            "spend_over_500",
            "xlsx",
            date(2024, 4, 1),
            date(2025, 3, 31),
            datetime(2025, 6, 2, 10, 0),
            f"/{p.slug}/files/supplier-summary-2024-25.xlsx",
            link_text="Supplier spend summary 2024/25 (XLSX)",
            body=fmt.xlsx_bytes(rows, "Summary"),
            expected_status="not_spend",
            fault="summary",
        )
        self.specs.append(summary)
        # An old link that redirects to the file, and a slow file.
        moved = own[(2025, 8)]
        moved.redirect_to, moved.fault = moved.url_path, "redirect"
        moved.url_path = f"/{p.slug}/files/legacy/{moved.url_path.rsplit('/', 1)[1]}"
        slow = own[(2025, 9)]
        slow.delay, slow.fault = 2.0, "slow"

    # -------------------------------------------------------------- pages

    def council_pages(self, p: Profile, mine: list[FileSpec]) -> None:
        """The council's data pages linking its files (``mine``), and its entry in the sources config."""
        rng = random.Random(f"{self.seed}:{p.code}:pages")
        relative = rng.random() < 0.6
        base = f"/{p.slug}/spending"
        entry: dict = {}
        spend = [s for s in mine if s.section == "spend"]
        if p.role == "ckan":
            self.ckan_dataset(p, spend)
            dataset = f"/ckan/dataset/{p.slug}-spend"
            if p.ckan_pages:
                entry["landing_pages"] = [{"url": "{base}" + dataset, "dataset": "spend_over_500"}]
            else:
                entry["ckan"] = [{"base_url": "{base}/ckan", "dataset_ids": [f"{p.slug}-spend"]}]
            self.add_page(base, portal_pointer_page("Spending over £500", p.council.official_name, dataset), mine)
        else:
            links = [self.link(s) for s in sorted(spend, key=lambda s: (s.period_start, s.format))]
            links += [
                Link(d["url_path"], d["link_text"], _fy(AS_OF)) for d in self.disallowed if d["council_code"] == p.code
            ]
            links += landing_links(self, p.code, _fy(AS_OF))
            inline, beside = self.documents_of(p)
            links.append(inline)
            for key, html in landing_pages(
                p.shape, base, "Spending over £500", p.council.official_name, links, relative, p.bare_links, beside
            ).items():
                self.add_page(key, html, spend)
            entry["landing_pages"] = [{"url": "{base}" + base, "dataset": "spend_over_500"}]
            if p.shape in ("years", "paged"):
                entry["follow_pattern"] = r"spending-\d{4}-\d{2}$|\?page=\d+$"
        for section, path, title, dataset in (
            ("gpc", "purchase-cards", "Purchase card transactions", "purchase_card"),
            ("grants", "grants", "Grants to voluntary organisations", "grants"),
            ("contracts", "contracts", "Contracts over £5,000", "contracts"),
        ):
            found = [s for s in mine if s.section == section]
            if found:
                key = f"/{p.slug}/{path}"
                pages = landing_pages(
                    "list", key, title, p.council.official_name, [self.link(s) for s in found], relative
                )
                for k, html in pages.items():
                    self.add_page(k, html, found)
                entry.setdefault("landing_pages", []).append({"url": "{base}" + key, "dataset": dataset})
        self.sources[p.code] = entry

    def documents_of(self, p: Profile) -> tuple[Link, list[Link]]:
        """The papers beside a council's data (served, listed in the answer key): one among the data links
        (in a row or under a heading of its own when the links are bare), the rest after them."""
        found = []
        for kind, text, stem, f in (INLINE_DOCUMENT, *DOCUMENTS):
            url = self.file_path(p, stem, "", f) if p.asset_ids else f"/{p.slug}/files/{stem}.{f}"
            body = self.document_body(kind, text, f)
            self.documents.append(
                {"council_code": p.code, "url_path": url, "link_text": text, "kind": kind, "body": body, "format": f}
            )
            found.append(Link(url, text, _fy(AS_OF)))
        inline = found[0]
        if p.bare_links:
            inline = Link(inline.url_path, BARE_TEXT["pdf"], inline.group, label="Redaction policy")
        return inline, found[1:]

    @staticmethod
    def document_body(kind: str, title: str, f: str) -> bytes:
        if f == "pdf":
            return fmt.pdf_bytes(title, [f"{title}: how we publish and what each column means."])
        if f == "xlsx":
            return fmt.xlsx_bytes([["Field", "Meaning"], ["Date", "Date paid"], ["Amount", "Net amount"]], "Fields")
        return b"Reference,Title,Supplier,Value,Start date,End date\r\nC-001,Grounds maintenance,Acme Ltd,120000,01/04/2026,31/03/2029\r\n"

    def link(self, s: FileSpec) -> Link:
        title = unquote(s.url_path.rsplit("/", 1)[1]) if "/files/" in s.url_path else ""
        return Link(s.url_path, s.link_text, _fy(s.period_start), title=title, label=s.label, after=s.link_after)

    def add_page(self, key: str, html: str, specs: list[FileSpec]) -> None:
        modified = max((s.published_at for s in specs), default=datetime(2024, 1, 1))
        self.pages[key] = (html.encode("utf-8"), CONTENT_TYPES["html"], modified)

    def ckan_dataset(self, p: Profile, spend: list[FileSpec]) -> None:
        resources = [
            Resource(
                hashlib.sha1(s.url_path.encode()).hexdigest()[:16],
                f"Spend {s.label}",
                s.url_path,
                s.format.upper(),
                s.published_at,
                s.size,
                CONTENT_TYPES[s.format].split(";")[0],
            )
            for s in sorted(spend, key=lambda s: (s.period_start, s.format))
        ]
        resources += [
            Resource(f"nonweb{i}", n.text, n.href, "CSV", datetime(2025, 2, 20, 9), 0, "text/csv")
            for i, n in enumerate(self.non_web_links)
            if n.council_code == p.code and n.where == "ckan_resource"
        ]
        self.ckan_packages.append(
            ckan_package(
                f"{p.slug}-spend", f"{p.council.official_name}: payments over £500", p.council.official_name, resources
            )
        )

    # -------------------------------------------------------------- everything

    def settle(self, s: FileSpec) -> None:
        """Fold a file's records into the answer key and move its body to disk: a national web of ten
        years does not fit in memory."""
        s.transactions, s.total, s.size = len(s.records), s.records_total(), len(s.body)
        s.etag = '"' + hashlib.sha256(s.body).hexdigest()[:20] + '"'
        if s.dataset != "contracts":  # matching reads suppliers from spend
            for r in s.records:
                payee = r["_payee"]
                name = r["supplier_name"].strip()
                self.suppliers.setdefault(
                    (s.council_code, name),
                    {
                        "council_code": s.council_code,
                        "supplier_name": name,
                        "org_id": payee.org_id,
                        "org_type": payee.org_type,
                        "size_band": payee.size_band,
                        "sector": payee.sector,
                    },
                )
                if s.dataset == "spend_over_500":
                    months = self.row_months.setdefault(s.council_code, set())
                    months.add((r["payment_date"].year, r["payment_date"].month))
        if s.body:
            s.body_file = self.spill / str(len(self.spilled))
            s.body_file.write_bytes(s.body)
            self.spilled.append(s.body_file)
        s.body, s.records = b"", []

    def build(self) -> None:
        self.ckan_packages: list[dict] = []
        self.documents: list[dict] = []
        for p in self.profiles:
            first = len(self.specs)
            self.council_files(p)
            if not (self.faults and p is self.profiles[0]):  # the faults council is settled once they are added
                for s in self.specs[first:]:
                    self.settle(s)
        if self.faults:
            self.add_faults(self.profiles[0])
            add_hostile_cases(self, self.profiles[0])
        for s in self.specs:
            if not s.etag:
                self.settle(s)
        first = self.profiles[0]  # a draft file robots.txt forbids: a polite crawler never fetches it
        self.disallowed.append(
            {
                "council_code": first.code,
                "url_path": f"/private/drafts/{first.slug}-spend-2026-10.csv",
                "link_text": "Draft spending data – October 2026 (CSV)",
            }
        )
        by_council: dict[str, list[FileSpec]] = {}
        for s in self.specs:
            by_council.setdefault(s.council_code, []).append(s)
        for p in self.profiles:
            self.council_pages(p, by_council.get(p.code, []))
        if self.faults:
            self.down.append(add_down_council(self, self.chosen).code)
        add_national_services(self)
        portal_modified = max(
            (s.published_at for s in self.specs if s.url_path.startswith("/ckan/")), default=datetime(2024, 1, 1)
        )
        for key, body in ckan_routes(self.ckan_packages).items():
            self.pages[key] = (
                body,
                CONTENT_TYPES["json"] if "/api/" in key else CONTENT_TYPES["html"],
                portal_modified,
            )
        index = (
            "<ul>"
            + "".join(f'<li><a href="/{p.slug}/spending">{p.council.official_name}</a></li>' for p in self.profiles)
            + "</ul>"
        )
        self.pages["/"] = (page("Mock council web", index).encode(), CONTENT_TYPES["html"], datetime(2024, 1, 1))
        self.pages["/robots.txt"] = (
            b"User-agent: *\nDisallow: /private/\nCrawl-delay: 0\n",
            "text/plain; charset=utf-8",
            datetime(2024, 1, 1),
        )
        for d in self.disallowed:
            body = b"Date,Supplier Name,Amount\r\n14/10/2026,DRAFT - DO NOT USE,999.99\r\n"
            self.pages[d["url_path"]] = (body, "text/csv; charset=utf-8", datetime(2026, 10, 14, 9))

    def content_type(self, s: FileSpec) -> str:
        if s.content_type:
            return s.content_type
        if s.format == "csv":
            profile = self.profile_of.get(s.council_code)
            encoding = profile.style.encoding if profile and s.dataset != "grants" else "utf-8"
            if profile and profile.no_extension and s.period_start.month % 2:
                return "application/octet-stream"  # a CMS that does not know what it serves
            return CONTENT_TYPES["csv"].format(
                charset={"utf-8-sig": "utf-8", "cp1252": "windows-1252"}.get(encoding, encoding)
            )
        return CONTENT_TYPES.get(s.format, "application/octet-stream")


def _fy(d: date) -> str:
    """The financial year label a date falls in.

    >>> _fy(date(2025, 3, 31)), _fy(date(2025, 4, 1))
    ('2024/25', '2025/26')
    """
    start = d.year if d.month >= 4 else d.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def route_key(url_path: str) -> str:
    """The server's route key of a published path: its path percent-decoded, as the server looks it up.

    >>> route_key("/x/files/Spending%20over%20%C2%A3500.csv"), route_key("/x/asset.ashx?id=4101")
    ('/x/files/Spending over £500.csv', '/x/asset.ashx?id=4101')
    """
    path, _, query = url_path.partition("?")
    return unquote(path) + (f"?{query}" if query else "")


def _disk_name(route: str) -> str:
    """Where a route's body is stored under site/.

    A page (no file extension, or a path ending in /) is a .body file, so it never takes the name of
    a folder: St Helens' slug is ``st.-helens``.

    >>> _disk_name("/leeds/spending?page=2"), _disk_name("/leeds/files/a.csv"), _disk_name("/st.-helens/")
    ('leeds/spending@page=2.body', 'leeds/files/a.csv', 'st.-helens.body')
    >>> _disk_name("/ckan/dataset/st.-helens-spend")
    'ckan/dataset/st.-helens-spend.body'
    """
    path, _, query = route.partition("?")
    name = path.strip("/") or "index"
    if query:
        name += "@" + query
    extension = name.rsplit("/", 1)[-1].rpartition(".")[2] if "." in name.rsplit("/", 1)[-1] else ""
    if query or not extension.isalnum() or path.endswith("/"):
        name += ".body"
    return name


def _write(root: Path, b: _Builder) -> None:
    site = root / "site"
    routes: dict[str, dict] = {}

    def put(route: str, body: bytes | FileSpec, content_type: str, modified: datetime, **extra) -> None:
        """Serve ``body`` (bytes, or a settled file's body on disk) at ``route``."""
        rel = _disk_name(route)
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            target.write_bytes(body)
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        elif body.body_file:
            os.replace(body.body_file, target)
            etag = body.etag
        else:
            target.write_bytes(b"")
            etag = body.etag
        routes[route] = {
            "file": f"site/{rel}",
            "type": content_type,
            "last_modified": _http_date(modified),
            "etag": etag,
            "status": 200,
            **extra,
        }

    for route, (body, ctype, modified) in b.pages.items():
        put(route, body, ctype, modified, **({"template": True} if route.startswith(TEMPLATED) else {}))
    for s in b.specs:
        if s.http_status == 404:
            continue
        if s.http_status == 500:
            routes[route_key(s.url_path)] = {"status": 500}
            continue
        if s.route.get("status", 200) != 200:  # a redirect or a refusal: no body
            routes[route_key(s.url_path)] = dict(s.route)
            continue
        target = s.redirect_to or s.url_path
        delay = {"delay": s.delay} if s.delay else {}
        put(route_key(target), s, b.content_type(s), s.published_at, **delay, **s.route)
        if s.redirect_to:
            routes[route_key(s.url_path)] = {"status": 301, "location": s.redirect_to}
    for d in b.documents:
        put(
            route_key(d["url_path"]),
            d["body"],
            CONTENT_TYPES[d["format"]].format(charset="utf-8"),
            datetime(2026, 9, 1, 9),
        )
    routes.update(b.extra_routes)
    reg_dir = root / "registers"
    for path in sorted(reg_dir.glob("*")):
        routes[f"/registers/{path.name}"] = {
            "file": f"registers/{path.name}",
            "status": 200,
            "type": "application/zip" if path.suffix == ".zip" else "text/csv",
            "last_modified": _http_date(datetime.combine(AS_OF, datetime.min.time())),
            "etag": '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:20] + '"',
        }
    (root / "routes.json").write_text(json.dumps(routes, indent=1, sort_keys=True), encoding="utf-8")


def _answers(root: Path, b: _Builder) -> None:
    folder = root / "answers"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in b.specs:
        rows.append(
            {
                "url_path": s.url_path,
                "council_code": s.council_code,
                "dataset": s.dataset,
                "format": s.format,
                "period_start": s.period_start,
                "period_end": s.period_end,
                "published_at": s.published_at.replace(tzinfo=UTC) if s.http_status == 200 else None,
                "rows_total": s.transactions + s.junk_rows,
                "transactions": s.transactions,
                "total_amount": f"{s.total:.2f}",
                "expected_status": s.expected_status,
                "republishes": s.republishes,
                "columns": ";".join(sorted(s.columns)),
                "link_text": s.link_text,
                "http_status": s.http_status,
                "fault": s.fault,
                "redirect_to": s.redirect_to,
                "expected_error": s.expected_error,
            }
        )
    files = pd.DataFrame.from_records(rows, columns=FILE_COLUMNS)
    out = files.copy()
    out["published_at"] = ["" if pd.isna(t) else t.isoformat() for t in files["published_at"]]
    out.to_csv(folder / "files.csv", index=False)

    pd.DataFrame.from_records(
        sorted(b.suppliers.values(), key=lambda d: (d["council_code"], d["supplier_name"])),
        columns=["council_code", "supplier_name", "org_id", "org_type", "size_band", "sector"],
    ).to_csv(folder / "suppliers.csv", index=False)
    outside = {p.code for p in b.profiles if p.council.nation != "England"}
    compliance = compute_compliance(files, b.row_months, outside, AS_OF, unreachable=set(b.down))
    compliance.to_csv(folder / "compliance.csv", index=False)
    pd.DataFrame.from_records(b.disallowed, columns=["council_code", "url_path", "link_text"]).to_csv(
        folder / "disallowed.csv", index=False
    )
    pd.DataFrame.from_records(b.documents, columns=DOCUMENT_COLUMNS).to_csv(folder / "documents.csv", index=False)
    pd.DataFrame.from_records(
        b.unreadable_pages, columns=["council_code", "url_path", "kind", "expected_error"]
    ).to_csv(folder / "pages.csv", index=False)
    pd.DataFrame.from_records(
        [asdict(n) for n in b.non_web_links], columns=["council_code", "href", "text", "where"]
    ).to_csv(folder / "ignored.csv", index=False)


def _registers(root: Path, b: _Builder) -> bool:
    try:
        from mockweb.registers import write_link_table, write_registers
    except ImportError:  # written by another part of the project; the site works without it
        return False
    write_registers(root / "registers", b.economy.organisations, filler=REGISTER_FILLER, seed=b.seed, as_of=AS_OF)
    write_link_table(root / "registers" / "charity-links.csv", b.economy.links)
    return True


def generate(
    root: Path, *, councils: int = 12, seed: int = 2026, faults: bool = False, years: int | None = None
) -> MockSite:
    """Generate (or reuse, when already generated with the same arguments) a mock council web under ``root``.

    The councils publish from April 2024 to September 2026, or for the ``years`` up to September 2026.
    """
    root = Path(root)
    if councils < 1:
        raise ValueError("councils must be at least 1")
    span = Span.years(years) if years else Span()
    if faults and not {(2025, 2), (2025, 10)} <= set(span.months()):
        raise ValueError("the hostile cases need the months 2025-02 to 2025-10: ask for at least 2 years")
    args = {"version": GENERATOR_VERSION, "councils": councils, "seed": seed, "faults": faults}
    if years:
        args["years"] = years
    meta_path = root / META
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta["args"] == args:
            return _site(root, meta)
        shutil.rmtree(root)
    elif root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty and holds no mock web; choose an empty folder")
    work = root.with_name(f".{root.name}.partial")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    spill = work / ".bodies"
    spill.mkdir()
    builder = _Builder(councils, seed, faults, span, spill)
    builder.build()
    registers = _registers(work, builder)
    _write(work, builder)
    shutil.rmtree(spill)
    _answers(work, builder)
    meta = {
        "args": args,
        "as_of": AS_OF.isoformat(),
        "council_codes": [p.code for p in builder.profiles],
        "registers": registers,
        "sources": builder.sources,
        "down_councils": builder.down,
    }
    (work / META).write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
    if root.exists():
        root.rmdir()
    work.rename(root)
    return _site(root, meta)


def _site(root: Path, meta: dict) -> MockSite:
    return MockSite(
        root=root,
        as_of=date.fromisoformat(meta["as_of"]),
        council_codes=list(meta["council_codes"]),
        seed=meta["args"]["seed"],
        faults=meta["args"]["faults"],
        down_councils=tuple(meta.get("down_councils", ())),
    )
