"""The HTML report, rendered from a small real output folder and loaded in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest
from test_compliance import AS_OF, scenario

from normalise.compliance.report import STATUS_BY_KEY, write_report
from normalise.compliance.rules import compute_compliance, monthly_spend
from normalise.schema import SHARE_GROUPS
from normalise.store.parquet_io import write_table

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SUPPLIERS = [
    ("ACME LTD", "120000.00", "GB-COH-01234567", "ACME LIMITED", "company"),
    ("Age Concern Birmingham", "45000.50", "GB-CHC-1000001", "AGE CONCERN BIRMINGHAM", "charity"),
    ("Green Futures CIC", "20000.00", "GB-COH-09999999", "GREEN FUTURES C.I.C.", "cic"),
    ("Midcounties Co-op", "8000.00", "GB-MPR-12345R", "THE MIDCOUNTIES CO-OPERATIVE LIMITED", "mutual"),
    ("REDACTED", "15000.00", None, None, "individual_or_redacted"),
    ("Bob's Vans <b>", "700.00", None, None, "unmatched"),
]
# (level, council, financial year, dataset, paid by group): the shares section's input, by hand.
SHARES = [
    (
        "council",
        "BIR",
        "2024-25",
        "spend_over_500",
        {"vcse": "250.00", "sme": "400.00", "large": "300.00", "unmatched": "50.00"},
    ),
    ("council", "BIR", "2024-25", "grants", {"vcse": "1000.00"}),
    ("council", "BIR", "2024-25", "purchase_card", {"unmatched": "9000.00"}),  # left out of the report's shares
    ("council", "BIR", "2025-26", "spend_over_500", {"vcse": "100.00", "sme": "100.00", "public": "300.00"}),
    ("national", None, "2024-25", "spend_over_500", {"vcse": "500.00", "sme": "1500.00", "large": "2000.00"}),
]


def _share_rows() -> list[dict]:
    rows = []
    for level, council, year, dataset, paid in SHARES:
        amounts = {f"paid_{g}": Decimal(paid.get(g, "0")) for g in SHARE_GROUPS}
        total = sum(amounts.values(), Decimal(0))
        rows.append(
            dict(
                level=level,
                council_code=council,
                financial_year=year,
                dataset=dataset,
                transactions=1,
                paid_total=total,
                **amounts,
            )
        )
    return rows


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pa.Table]:
    out = scenario(tmp_path_factory.mktemp("out")).write()
    rows = [
        dict(
            council_code="BIR",
            supplier_key=f"key {i}",
            supplier_name=name,
            transactions=i + 1,
            total_amount=Decimal(total),
            org_id=org_id,
            org_name=org_name,
            org_type=org_type,
        )
        for i, (name, total, org_id, org_name, org_type) in enumerate(SUPPLIERS)
    ]
    write_table(pa.Table.from_pylist(rows), out / "suppliers.parquet", schema_of="suppliers")
    write_table(pa.Table.from_pylist(_share_rows()), out / "supplier_shares.parquet", schema_of="supplier_shares")
    table = compute_compliance(out, as_of=AS_OF)
    write_report(out, table, as_of=AS_OF)
    return out / "report", table


def browser() -> str:
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if not found:
        pytest.skip("no chromium binary (apt-get install chromium)")
    return found


def chromium(page: Path, tmp_path: Path, *flags: str) -> str:
    done = subprocess.run(
        [
            browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,2000",
            *flags,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_browser_renders_the_council_grid_with_every_status(report: tuple[Path, pa.Table], tmp_path: Path) -> None:
    folder, table = report
    dom = Elements(chromium(folder / "index.html", tmp_path, "--dump-dom"))
    assert dom.find("table", id="council-grid")
    spend = [row for row in table.to_pylist() if row["dataset"] == "spend_over_500"]  # the grid is about spending
    cells = {(row["council_code"], row["period"]): row["status"] for row in spend}
    rendered = {}
    for council in {c for c, _ in cells}:
        assert dom.find("a", href=f"{council}.html")
    for attrs in dom.find("td"):
        if attrs.get("data-status"):
            rendered[attrs["data-period"]] = rendered.get(attrs["data-period"], 0) + 1
    assert rendered == {q: 6 for q in ("2025-Q1", "2025-Q2", "2025-Q3")}
    shown = [a["data-status"] for a in dom.find("td") if a.get("data-status")]
    assert sorted(shown) == sorted(cells.values())
    for status in set(cells.values()):  # every status is written as text, not colour alone
        assert STATUS_BY_KEY[status].label in dom.plain
    counts = {a["data-status"] for a in dom.find("li") if a.get("data-status")}
    assert counts == set(cells.values())
    assert dom.find("svg", role="img") and "Councils by compliance status" in dom.plain


def test_screenshot_is_drawn(report: tuple[Path, pa.Table], tmp_path: Path) -> None:
    folder, _ = report
    for page in ("index.html", "BIR.html"):
        png = tmp_path / f"{page}.png"
        chromium(folder / page, tmp_path, f"--screenshot={png}")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_council_page_shows_quarters_files_missing_fields_and_suppliers(
    report: tuple[Path, pa.Table], tmp_path: Path
) -> None:
    folder, _ = report
    leeds = Elements(chromium(folder / "LDS.html", tmp_path, "--dump-dom"))
    assert leeds.find("tr", id="q-2025-Q3", data_status="incomplete")
    assert leeds.find("tr", id="q-2025-Q2", data_status="not_machine_readable")
    assert "department" in leeds.plain and "Not machine-readable" in leeds.plain
    assert leeds.find("a", href="https://lds.example.gov.uk/spend/q2.pdf")
    assert leeds.find("table", id="contracts-table")  # the contracts register duty, judged separately
    assert leeds.find("tr", id="c-2025-Q3", data_status="missing")
    birmingham = Elements(chromium(folder / "BIR.html", tmp_path, "--dump-dom"))
    assert len(birmingham.find("rect", **{"class": "spend"})) == 6  # April to September
    assert "Bob's Vans <b>" in birmingham.plain  # escaped, not markup
    top = birmingham.plain.split("Top 6 suppliers")[1]
    assert top.index("ACME LTD") < top.index("Age Concern Birmingham") < top.index("Bob's Vans")
    assert "Charities" in birmingham.plain and "21.6%" in birmingham.plain  # 45,000.50 of 208,700.50
    assert "Community interest companies" in birmingham.plain and "Mutuals and co-operatives" in birmingham.plain


def test_vcse_and_sme_shares_by_year_with_chart_and_table(report: tuple[Path, pa.Table], tmp_path: Path) -> None:
    folder, _ = report
    birmingham = Elements(chromium(folder / "BIR.html", tmp_path, "--dump-dom"))
    assert birmingham.find("table", id="shares-table")
    text = birmingham.plain
    years = text.split("Money paid by kind of supplier")[1]
    # 2024-25: £250 + £1,000 of £2,000 to VCSE bodies (payments and grants; purchase cards left out)
    assert "2024-25 £2,000 £1,250 62.5% £400 20.0% £300" in years
    assert "2025-26 £500 £100 20.0% £100 20.0%" in years
    assert (
        len(birmingham.find("rect", **{"class": "share-vcse"}))
        == 2
        == len(birmingham.find("rect", **{"class": "share-sme"}))
    )
    assert "2024-25 VCSE 62.5%, SME 20.0%" in text  # the chart's text alternative
    index = Elements(chromium(folder / "index.html", tmp_path, "--dump-dom"))
    assert "2024-25 £4,000 £500 12.5% £1,500 37.5% £2,000" in index.plain
    leeds = Elements(chromium(folder / "LDS.html", tmp_path, "--dump-dom"))
    assert "Supplier shares have not been computed yet" in leeds.plain


def test_pages_are_self_contained(report: tuple[Path, pa.Table]) -> None:
    folder, table = report
    pages = sorted(folder.glob("*.html"))
    assert [p.name for p in pages] == sorted(
        ["index.html", *(f"{c}.html" for c in set(table["council_code"].to_pylist()))]
    )
    for page in pages:
        html = page.read_text(encoding="utf-8")
        dom = Elements(html)
        assert not dom.find("script") and not dom.find("link") and not dom.find("img")
        assert "@import" not in html and "url(" not in html
        for attrs in dom.find("svg"):
            assert attrs.get("aria-labelledby")
        assert dom.find("html", lang="en-GB")


def test_empty_compliance_still_writes_an_index(tmp_path: Path) -> None:
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "OLD.html").write_text("a council from an earlier run")
    table = compute_compliance(tmp_path, as_of=AS_OF)
    index = write_report(tmp_path, table, as_of=AS_OF)
    assert "No council quarters were due" in index.read_text(encoding="utf-8")
    assert [p.name for p in index.parent.iterdir()] == ["index.html"]


def test_a_given_monthly_spend_draws_the_same_pages(tmp_path: Path) -> None:
    out = scenario(tmp_path).write()
    table = compute_compliance(out, as_of=AS_OF)
    write_report(out, table, as_of=AS_OF)
    scanned = {p.name: p.read_text(encoding="utf-8") for p in (out / "report").iterdir()}
    codes = sorted(set(table.column("council_code").to_pylist()))
    write_report(out, table, as_of=AS_OF, monthly=monthly_spend(out, codes))
    assert {p.name: p.read_text(encoding="utf-8") for p in (out / "report").iterdir()} == scanned
    assert scanned["BIR.html"].count('class="spend"') == 6  # April to September
    write_report(out, table, as_of=AS_OF, monthly=[])
    assert 'class="spend"' not in (out / "report" / "BIR.html").read_text(encoding="utf-8")
