"""The compliance report: ``report/index.html`` (national overview) and one page per council.

Static, self-contained HTML rendered with Jinja2: inline CSS, inline SVG charts with text
alternatives, no JavaScript and nothing fetched from the internet. Status is always written as
text as well as shown by colour. Spend and supplier figures are aggregated by DuckDB from the
Parquet files, so the report scales with the national dataset.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from normalise.compliance import periods
from normalise.compliance.rules import DATASET, MonthTotal, monthly_spend, parse_http_date
from normalise.councils import councils as council_registry
from normalise.coverage import latest_pages
from normalise.schema import SHARE_GROUPS
from normalise.store.atomic import write_text
from normalise.store.layout import Layout
from normalise.store.parquet_io import read_table

RECENT_QUARTERS = 8  # quarters shown in the national grid; council pages show every quarter
TOP_SUPPLIERS = 10


@dataclass(frozen=True)
class Status:
    """How the report shows one compliance status."""

    key: str
    label: str
    short: str
    meaning: str


#: In the order of the rules (after the exemption), each with a short grid label and a plain-English meaning.
STATUSES = [
    Status("compliant", "Compliant", "Compliant", "Published in full, in a machine-readable format, by the deadline."),
    Status("late", "Late", "Late", "Published in full, but after the deadline (one month after the quarter ends)."),
    Status(
        "unknown",
        "Unknown timing",
        "Unknown",
        "Published in full; first found on our first visit, after the "
        "deadline, so we cannot tell whether it was on time.",
    ),
    Status(
        "incomplete",
        "Incomplete",
        "Incomplete",
        "Published, but a required field or at least one month of the quarter is missing.",
    ),
    Status(
        "not_machine_readable",
        "Not machine-readable",
        "Not data",
        "Published only as PDF or another format that cannot be read as data.",
    ),
    Status("missing", "Missing", "Missing", "No spending file covering the quarter was found."),
    Status(
        "site_unreachable",
        "Site unreachable",
        "Unreachable",
        "No spending file found, and on our last visit none of the council's spending pages could be "
        "read (site down, page gone, or access refused), so we cannot say it was not published.",
    ),
    Status("not_applicable", "Not applicable", "n/a", "Outside England: the Transparency Code does not apply."),
]
STATUS_BY_KEY = {s.key: s for s in STATUSES}

#: Supplier org_type -> the group the report shows.
SUPPLIER_GROUPS = {
    "charity": "Charities",
    "charitable_company": "Charities",
    "cio": "Charities",
    "cic": "Community interest companies",
    "mutual": "Mutuals and co-operatives",
    "company": "Companies",
    "public_body": "Public bodies",
    "individual_or_redacted": "Individuals and redacted",
    "unmatched": "Not matched",
}
SUPPLIER_GROUP_ORDER = list(dict.fromkeys(SUPPLIER_GROUPS.values()))


def write_report(
    out_dir: Path,
    compliance: pa.Table,
    *,
    as_of: date,
    monthly: Sequence[MonthTotal] | None = None,
    report_dir: Path | None = None,
) -> Path:
    """Render ``<out>/report/index.html`` and ``<out>/report/<COUNCIL>.html``; returns the index path.

    ``monthly`` is :func:`~normalise.compliance.rules.monthly_spend` of the report's councils when the
    caller already has it (as it does after ``compute_compliance``); otherwise spend is scanned here.
    ``report_dir`` renders the pages elsewhere (the compliance flow stages a whole new report there).
    """
    out_dir = Path(out_dir)
    layout = Layout(out_dir)
    report_dir = report_dir or layout.report
    report_dir.mkdir(parents=True, exist_ok=True)
    everything = compliance.to_pylist()
    rows = [r for r in everything if r["dataset"] == DATASET]  # the overview and charts are about spending
    codes = sorted({r["council_code"] for r in everything}, key=_council_name)
    by_council: dict[str, list[dict]] = defaultdict(list)
    contracts: dict[str, list[dict]] = defaultdict(list)
    for row in everything:
        (by_council if row["dataset"] == DATASET else contracts)[row["council_code"]].append(row)
    env = _environment()
    by_month = _spend_by_month(monthly_spend(out_dir, codes) if monthly is None else monthly)
    suppliers = _supplier_summaries(layout.table("suppliers"), codes)
    shares = _shares_views(layout.table("supplier_shares"), codes)
    files = _files_by_council(out_dir, codes)
    unreadable = _unreadable_pages(out_dir)
    context = {
        "as_of": as_of,
        "statuses": STATUSES,
        "status_by_key": STATUS_BY_KEY,
        "money": money,
        "money_short": money_short,
    }
    index = report_dir / "index.html"
    write_text(
        index,
        env.get_template("index.html").render(
            **context, overview=_overview(rows, codes, by_council), shares=shares.get(None)
        ),
    )
    for stale in set(report_dir.glob("???.html")) - {report_dir / f"{code}.html" for code in codes}:
        stale.unlink()  # a council no longer in the run
    for code in codes:
        page = _council_page(
            code,
            by_council[code],
            by_month.get(code, []),
            suppliers.get(code),
            files.get(code, []),
            contracts[code],
            unreadable.get(code, []),
        )
        council_page = env.get_template("council.html").render(**context, page=page, shares=shares.get(code))
        write_text(report_dir / f"{code}.html", council_page)
    return index


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("normalise.compliance", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def money(value: Decimal | int | None, pence: bool = False) -> str:
    """Pounds for people: thousands separators, a real minus sign.

    >>> money(Decimal("-1234567.891"))
    '−£1,234,568'
    >>> money(Decimal("600.5"), pence=True)
    '£600.50'
    """
    if value is None:
        return "–"
    sign = "−" if value < 0 else ""
    return f"{sign}£{abs(value):,.{2 if pence else 0}f}"


def money_short(value: Decimal | None) -> str:
    """Pounds in a few characters, for dense tables.

    >>> [money_short(Decimal(v)) for v in ("20380955.12", "950400", "-612", "0")]
    ['£20.4m', '£950k', '−£612', '£0']
    """
    if value is None:
        return "–"
    sign, size = ("−" if value < 0 else ""), abs(value)
    for unit, scale in (("bn", 10**9), ("m", 10**6), ("k", 10**3)):
        if size >= scale:
            digits = 1 if size < 100 * scale and unit != "k" else 0
            return f"{sign}£{size / scale:,.{digits}f}{unit}"
    return f"{sign}£{size:,.0f}"


def _council_name(code: str) -> str:
    found = council_registry().get(code)
    return found.nice_name if found else code


# --- national overview -------------------------------------------------------------------------


@dataclass
class Overview:
    """What the index page shows."""

    councils: int
    quarters: list[str]
    grid_quarters: list[str]
    counts: list[tuple[Status, int]]
    grid: list[dict]
    chart: Chart | None
    total: Decimal
    rows: int
    first_quarter: str | None
    last_quarter: str | None


def _overview(rows: list[dict], codes: Sequence[str], by_council: dict[str, list[dict]]) -> Overview:
    quarters = sorted({r["period"] for r in rows})
    grid_quarters = quarters[-RECENT_QUARTERS:]
    counts = Counter(r["status"] for r in rows)
    grid = []
    for code in codes:
        cells = {r["period"]: r for r in by_council[code]}
        council_counts = Counter(r["status"] for r in by_council[code])
        grid.append(
            {
                "code": code,
                "name": _council_name(code),
                "cells": [cells.get(q) for q in grid_quarters],
                "counts": council_counts,
                "on_time": council_counts["compliant"],
                "assessed": sum(n for s, n in council_counts.items() if s != "not_applicable"),
                "total": sum((r["total_amount"] or Decimal(0) for r in by_council[code]), Decimal(0)),
            }
        )
    return Overview(
        councils=len(codes),
        quarters=quarters,
        grid_quarters=grid_quarters,
        counts=[(s, counts[s.key]) for s in STATUSES if counts[s.key]],
        grid=grid,
        chart=_status_chart(rows, quarters) if rows else None,
        total=sum((r["total_amount"] or Decimal(0) for r in rows), Decimal(0)),
        rows=sum(r["rows"] or 0 for r in rows),
        first_quarter=quarters[0] if quarters else None,
        last_quarter=quarters[-1] if quarters else None,
    )


# --- charts (geometry here, SVG markup in templates/charts.html) -------------------------------


@dataclass
class Bar:
    x: float
    width: float
    y: float
    height: float
    css: str
    title: str


def _slot(left: float, i: int, step: float, widest: float = 48) -> tuple[float, float]:
    """``(x, width)`` of the i-th bar: 80 % of its slot, at most ``widest``, centred.

    >>> _slot(50, 2, 10)
    (71.0, 8.0)
    """
    width = min(step * 0.8, widest)
    return left + i * step + (step - width) / 2, width


@dataclass
class Tick:
    x: float
    y: float
    label: str


@dataclass
class Chart:
    """An SVG chart: rectangles, axis labels and a text alternative."""

    width: int
    height: int
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    title: str
    description: str
    plot_left: float = 70
    plot_right: float = 0
    baseline: float = 0
    gridlines: list[float] = field(default_factory=list)


def _framed(
    size: tuple[int, int],
    left: float,
    baseline: float,
    bars: list[Bar],
    ticks: tuple[list[Tick], list[Tick]],
    title: str,
    description: str,
) -> Chart:
    """A chart whose plot runs from ``left`` to 10 px short of the right edge, with a grid line at each y tick."""
    width, height = size
    x_ticks, y_ticks = ticks
    return Chart(
        width,
        height,
        bars,
        x_ticks,
        y_ticks,
        title=title,
        description=description,
        plot_left=left,
        plot_right=width - 10,
        baseline=baseline,
        gridlines=[t.y - 4 for t in y_ticks],
    )


def _status_chart(rows: list[dict], quarters: list[str], width: int = 1100, height: int = 260) -> Chart:
    """Stacked bars: how many councils had each status in each quarter."""
    left, top, bottom = 50, 10, 40
    per_quarter: dict[str, Counter[str]] = {q: Counter() for q in quarters}
    for r in rows:
        per_quarter[r["period"]][r["status"]] += 1
    most = max(sum(c.values()) for c in per_quarter.values())
    plot_h, step = height - top - bottom, (width - left - 10) / len(quarters)
    bars, x_ticks = [], []
    for i, q in enumerate(quarters):
        y: float = top + plot_h
        for s in STATUSES:
            n = per_quarter[q][s.key]
            if n:
                h = plot_h * n / most
                y -= h
                bars.append(Bar(*_slot(left, i, step), y, h, f"s-{s.key}", f"{q}: {n} {s.label.lower()}"))
        if len(quarters) <= 16 or q.endswith("Q1"):
            x_ticks.append(Tick(left + (i + 0.5) * step, height - bottom + 16, q))
    y_ticks = [Tick(left - 6, top + plot_h - plot_h * v / most + 4, str(v)) for v in _nice_steps(most)]
    latest = "; ".join(
        f"{q}: " + ", ".join(f"{per_quarter[q][s.key]} {s.label.lower()}" for s in STATUSES if per_quarter[q][s.key])
        for q in quarters[-4:]
    )
    return _framed(
        (width, height),
        left,
        top + plot_h,
        bars,
        (x_ticks, y_ticks),
        title="Councils by compliance status, each quarter",
        description=f"Stacked bars, one per quarter from {quarters[0]} to {quarters[-1]}. Latest: {latest}.",
    )


def _spend_chart(months: list[tuple[date, Decimal]], width: int = 900, height: int = 240) -> Chart | None:
    """Bars of spending over £500 per month, with gaps for months without data."""
    if not months:
        return None
    left, top, bottom = 80, 10, 40
    first, last = months[0][0], months[-1][0]
    span = periods.month_index(last) - periods.month_index(first) + 1
    values = dict(months)
    high = max(max(v for _, v in months), Decimal(0))
    low = min(min(v for _, v in months), Decimal(0))
    scale_range = (high - low) or Decimal(1)
    plot_h, step = height - top - bottom, (width - left - 10) / span
    zero = top + float(high / scale_range) * plot_h
    bars, x_ticks = [], []
    for i in range(span):
        month = periods.month_start(periods.month_index(first) + i)
        if month in values:
            v = values[month]
            h = float(abs(v) / scale_range) * plot_h
            bars.append(
                Bar(
                    *_slot(left, i, step),
                    zero - h if v >= 0 else zero,
                    h,
                    "spend" if v >= 0 else "credit",
                    f"{month:%B %Y}: {money(v)}",
                )
            )
        if span <= 18 or month.month == 1:
            label = f"{month:%b %y}" if span <= 18 else f"{month:%Y}"
            x_ticks.append(Tick(left + (i + 0.5) * step, height - bottom + 16, label))
    y_ticks = [
        Tick(left - 6, zero - float(Decimal(v) / scale_range) * plot_h + 4, money(v)) for v in _nice_steps(int(high))
    ]
    missing = span - len(values)
    peak_month, peak = max(months, key=lambda m: m[1])
    return _framed(
        (width, height),
        left,
        zero,
        bars,
        (x_ticks, y_ticks),
        title="Spending over £500 by month",
        description=f"{len(values)} months from {first:%B %Y} to {last:%B %Y}"
        f"{f', {missing} months with no data' if missing else ''}; "
        f"highest {money(peak)} in {peak_month:%B %Y}.",
    )


def _nice_steps(high: int, count: int = 5) -> list[int]:
    """Round axis values from 0 up to about ``high``.

    >>> _nice_steps(7)
    [0, 2, 4, 6]
    >>> _nice_steps(993_992)
    [0, 200000, 400000, 600000, 800000]
    """
    if high <= 0:
        return [0]
    raw = high / count
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return list(range(0, high + 1, step))


# --- per council -------------------------------------------------------------------------------


@dataclass
class SupplierSummary:
    top: list[dict]
    groups: list[dict]  # {group, total, share, suppliers}
    total: Decimal


@dataclass
class CouncilPage:
    code: str
    name: str
    official_name: str
    nation: str
    type_name: str
    quarters: list[dict]
    counts: list[tuple[Status, int]]
    files: list[dict]
    unreadable: list[dict]  # pages the last crawl could not read
    spend_chart: Chart | None
    spend_months: list[tuple[date, Decimal]]
    suppliers: SupplierSummary | None
    total: Decimal
    rows: int
    contracts: list[dict]


def _council_page(
    code: str,
    rows: list[dict],
    months: list[tuple[date, Decimal]],
    suppliers: SupplierSummary | None,
    files: list[dict],
    contracts: list[dict],
    unreadable: list[dict],
) -> CouncilPage:
    council = council_registry().get(code)
    counts = Counter(r["status"] for r in rows)
    return CouncilPage(
        code=code,
        name=_council_name(code),
        official_name=council.official_name if council else code,
        nation=council.nation if council else "",
        type_name=council.type_name if council else "",
        quarters=sorted(rows, key=lambda r: r["period"], reverse=True),
        counts=[(s, counts[s.key]) for s in STATUSES if counts[s.key]],
        files=files,
        unreadable=unreadable,
        spend_chart=_spend_chart(months),
        spend_months=months,
        suppliers=suppliers,
        total=sum((r["total_amount"] or Decimal(0) for r in rows), Decimal(0)),
        rows=sum(r["rows"] or 0 for r in rows),
        contracts=sorted(contracts, key=lambda r: r["period"], reverse=True),
    )


def _spend_by_month(monthly: Sequence[MonthTotal]) -> dict[str, list[tuple[date, Decimal]]]:
    """Per council, its spend total per month (whatever the rows' date precision), months in order."""
    totals: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for m in monthly:
        totals[m.council_code][m.month] = totals[m.council_code].get(m.month, Decimal(0)) + m.total
    return {code: sorted(months.items()) for code, months in totals.items()}


def _supplier_summaries(path: Path, codes: Sequence[str]) -> dict[str, SupplierSummary]:
    if not path.is_file() or not codes:
        return {}
    source = path.as_posix().replace("'", "''")
    top_query = f"""
        SELECT council_code, supplier_name, org_name, org_id, coalesce(org_type, 'unmatched') AS org_type,
               transactions, total_amount
        FROM read_parquet('{source}')
        WHERE list_contains($codes, council_code)
        QUALIFY row_number() OVER (PARTITION BY council_code ORDER BY total_amount DESC NULLS LAST, supplier_key) <= {TOP_SUPPLIERS}
        ORDER BY council_code, total_amount DESC NULLS LAST, supplier_key
    """
    type_query = f"""
        SELECT council_code, coalesce(org_type, 'unmatched') AS org_type, count(*) AS suppliers,
               coalesce(sum(total_amount), 0) AS total
        FROM read_parquet('{source}') WHERE list_contains($codes, council_code) GROUP BY ALL
    """
    params = {"codes": list(codes)}
    with duckdb.connect() as con:
        cursor = con.execute(top_query, params)
        names = [d[0] for d in cursor.description]
        top = [dict(zip(names, values)) for values in cursor.fetchall()]
        by_type = con.execute(type_query, params).fetchall()
    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [0, Decimal(0)]))
    for code, org_type, n, total in by_type:
        group = groups[code][SUPPLIER_GROUPS.get(org_type, "Not matched")]
        group[0] += n
        group[1] += total
    summaries = {}
    for code, council_groups in groups.items():
        total = sum((t for _, t in council_groups.values()), Decimal(0))
        summaries[code] = SupplierSummary(
            top=[
                {**t, "group": SUPPLIER_GROUPS.get(t["org_type"], "Not matched")}
                for t in top
                if t["council_code"] == code
            ],
            groups=[
                {
                    "group": g,
                    "suppliers": council_groups[g][0],
                    "total": council_groups[g][1],
                    "share": float(council_groups[g][1] / total * 100) if total > 0 else 0.0,
                }
                for g in SUPPLIER_GROUP_ORDER
                if g in council_groups
            ],
            total=total,
        )
    return summaries


def _unreadable_pages(out_dir: Path) -> dict[str, list[dict]]:
    """Per council, the pages its last crawl could not read, entry pages first."""
    pages = read_table(Layout(out_dir).table("pages"), "pages").to_pylist()
    return {
        code: sorted((r for r in rows if r["error"] is not None), key=lambda r: (not r["entry"], r["url"]))
        for code, rows in latest_pages(pages).items()
    }


def _files_by_council(out_dir: Path, codes: Sequence[str]) -> dict[str, list[dict]]:
    wanted = set(codes)
    files: dict[str, list[dict]] = defaultdict(list)
    for f in read_table(Layout(out_dir).manifest, "files").to_pylist():
        if f["council_code"] in wanted:
            start, end = f["period_start"], f["period_end"]
            f["period"] = periods.period_label(start, end) if start and end else "–"
            f["modified"] = parse_http_date(f["last_modified"])
            files[f["council_code"]].append(f)
    for council_files in files.values():
        council_files.sort(key=lambda f: (f["period_start"] or date.min, f["url"]), reverse=True)
    return files


# --- who gets the money: VCSE and SME shares by financial year (templates/shares.html) ----------

#: Datasets the report's shares cover: payments and grants, not card purchases (whose merchants are
#: rarely on a register, so they would mostly count as unmatched).
SHARE_DATASETS = ("spend_over_500", "grants")


@dataclass
class ShareYear:
    """One financial year's payments by group (``normalise.schema.SHARE_GROUPS``)."""

    year: str  # "2024-25", or "Undated"
    total: Decimal
    paid: dict[str, Decimal]

    def share(self, group: str) -> float | None:
        """The group's share of the total, as a percentage (None when nothing was paid)."""
        return float(self.paid[group] / self.total * 100) if self.total > 0 else None


@dataclass
class SharesView:
    """What the shares section shows for one council, or for all of them."""

    years: list[ShareYear]
    chart: Chart | None


def _shares_views(path: Path, codes: Sequence[str]) -> dict[str | None, SharesView]:
    """Per council (and under ``None`` nationally), payments by group per financial year."""
    if not path.is_file():
        return {}
    paid = ", ".join(f"sum(paid_{g})" for g in SHARE_GROUPS)
    query = f"""
        SELECT council_code, financial_year, sum(paid_total), {paid}
        FROM read_parquet($path)
        WHERE list_contains($datasets, dataset) AND (level = 'national' OR list_contains($codes, council_code))
        GROUP BY ALL ORDER BY council_code NULLS FIRST, financial_year NULLS LAST
    """
    with duckdb.connect() as con:
        rows = con.execute(
            query, {"path": str(path), "datasets": list(SHARE_DATASETS), "codes": list(codes)}
        ).fetchall()
    years: dict[str | None, list[ShareYear]] = defaultdict(list)
    for code, year, total, *amounts in rows:
        years[code].append(ShareYear(year or "Undated", total, dict(zip(SHARE_GROUPS, amounts))))
    return {code: SharesView(found, _shares_chart(found)) for code, found in years.items()}


def _shares_chart(years: list[ShareYear], width: int = 900, height: int = 240) -> Chart | None:
    """Pairs of bars per financial year: the VCSE share and the SME share of the money paid."""
    dated = [y for y in years if y.year != "Undated" and y.total > 0]
    if not dated:
        return None
    left, top, bottom = 50, 10, 40
    series = (("vcse", "VCSE bodies"), ("sme", "SMEs"))
    highest = max(max(y.share(g) or 0.0 for g, _ in series) for y in dated)
    scale = max(10, -(-int(highest) // 10) * 10)  # round up to a multiple of 10 %
    plot_h, step = height - top - bottom, (width - left - 10) / len(dated)
    bars, x_ticks = [], []
    for i, year in enumerate(dated):
        x, slot = _slot(left, i, step, widest=64)
        for j, (group, label) in enumerate(series):
            value = year.share(group) or 0.0
            h = plot_h * max(value, 0.0) / scale
            bars.append(
                Bar(
                    x + j * slot / 2,
                    slot / 2,
                    top + plot_h - h,
                    h,
                    f"share-{group}",
                    f"{year.year}: {label} {value:.1f}%",
                )
            )
        x_ticks.append(Tick(left + (i + 0.5) * step, height - bottom + 16, year.year))
    y_ticks = [Tick(left - 6, top + plot_h - plot_h * v / scale + 4, f"{v}%") for v in _nice_steps(scale)]
    summary = "; ".join(f"{y.year} VCSE {y.share('vcse') or 0:.1f}%, SME {y.share('sme') or 0:.1f}%" for y in dated)
    return _framed(
        (width, height),
        left,
        top + plot_h,
        bars,
        (x_ticks, y_ticks),
        title="Share of the money paid to VCSE bodies and to SMEs, by financial year",
        description=f"Pairs of bars per financial year (VCSE left, SME right): {summary}.",
    )
