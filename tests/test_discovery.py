"""Link discovery on real saved council pages (tests/fixtures/pages, OGL; see its SOURCES.md).

Expected counts were read from the HTML with grep (distinct hrefs), not from the code.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from crawler.discovery import decode_html, discover_links, follow_links, guess_dataset, guess_format, guess_period

PAGES = Path(__file__).parent / "fixtures" / "pages"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def urls(html, base, **options) -> list[str]:
    return [sub.url for sub in follow_links(html, base, **options)]


def by_url(links):
    return {link.url: link for link in links}


def test_harrogate_extensionless_links_take_their_format_from_the_slug():
    base = "https://www.harrogate.gov.uk/downloads/download/99/expenditure_documents"
    links = discover_links(page("harrogate__council-spending.html"), base)
    assert len(links) == 84
    assert Counter(link.format_guess for link in links) == {"pdf": 42, "csv": 41, "xls": 1}
    assert {link.dataset for link in links} == {"spend_over_500"}
    months = {link.period_start for link in links}
    assert len(months) == 42 and min(months) == date(2015, 4, 1) and max(months) == date(2018, 9, 1)
    september = by_url(links)[
        "https://www.harrogate.gov.uk/downloads/file/4301/2018_september_supplier_spend_-_csv_file"
    ]
    assert (september.format_guess, september.period_start, september.period_end) == (
        "csv",
        date(2018, 9, 1),
        date(2018, 9, 30),
    )
    # breadcrumbs and "2018-q1" badges on other sites are not sub-pages
    assert urls(page("harrogate__council-spending.html"), base) == []


def test_manchester_pound_entity_and_two_hop_archive():
    current = "http://www.manchester.gov.uk/open/downloads/download/90/expenditure_exceeding_500_current_year"
    links = discover_links(page("manchester__council-spending-0.html"), current)
    assert len(links) == 6  # each file is linked twice (text and icon): once here
    assert all(link.text.startswith("Expenditure exceeding £500") for link in links)
    assert {link.format_guess for link in links} == {"unknown"}
    assert sorted(link.period_start for link in links) == [date(2018, m, 1) for m in range(4, 10)]
    # hop 1: the current-year page leads to the archive
    assert urls(page("manchester__council-spending-0.html"), current) == [
        "http://www.manchester.gov.uk/open/downloads/73/archive"
    ]
    # hop 2: a year collection lists the files of 2017/18
    year = "http://www.manchester.gov.uk/open/downloads/108/expenditure_exceeding_500_2017_2018"
    year_links = discover_links(page("manchester__council-spending-8.html"), year)
    assert len(year_links) == 12
    assert min(link.period_start for link in year_links) == date(2017, 4, 1)
    assert max(link.period_end for link in year_links) == date(2018, 3, 31)
    # a council override follows the category page the built-in rules skip
    followed = urls(page("manchester__council-spending-8.html"), year, follow_pattern=r"/downloads/\d+/expenditure")
    assert followed == ["http://www.manchester.gov.uk/open/downloads/74/expenditure_exceeding_500"]


def test_north_tyneside_cp1252_page_and_oracle_portal_links():
    raw = page("northtyneside__council-spending-0.html")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # it declares utf-8 but is cp1252
    assert "Spend data over £250" in decode_html(raw, "text/html; charset=utf-8")
    base = "https://my.northtyneside.gov.uk/category/1178/browse-display.shtml?p_ID=558030&p_subjectCategory=1178"
    links = discover_links(raw, base)
    assert len(links) == 48
    assert all("/pls/portal/NTC_PSCM.PSCM_Web.download?p_ID=" in link.url for link in links)
    assert Counter(link.format_guess for link in links) == {"csv": 25, "pdf": 23}
    assert Counter(link.dataset for link in links) == {"purchase_card": 24, "spend_over_500": 24}
    first = by_url(links)["https://my.northtyneside.gov.uk/pls/portal/NTC_PSCM.PSCM_Web.download?p_ID=558156"]
    assert first.text == "April 2014 spend over £250 - invoices & credit notes [csv]"
    assert (first.period_start, first.dataset) == (date(2014, 4, 1), "spend_over_500")
    # the other years' pages, not "Contracts" and not this page again
    followed = urls(raw, base)
    assert len(followed) == 5
    assert all("browse-display.shtml?p_ID=" in url for url in followed)
    assert not any("557855" in url or "558030" in url for url in followed)


def test_darlington_media_links_with_council_typos():
    base = "https://www.darlington.gov.uk/your-council/council-information/financial-information/spending-data/"
    links = discover_links(page("darlington__council-spending-0.html"), base, dataset_hint="spend_over_500")
    assert len(links) == 190
    assert Counter(link.format_guess for link in links) == {"pdf": 96, "csv": 94}
    assert all(link.period_start is not None for link in links)
    found = by_url(links)
    quarter = found["https://www.darlington.gov.uk/media/4133/dbc_over_500_oct_-_dec_2010.csv"]
    assert (quarter.period_start, quarter.period_end) == (date(2010, 10, 1), date(2010, 12, 31))
    # "July to September PDF": the year is only in the file name "julysep2010"
    no_year = found["https://www.darlington.gov.uk/media/4136/dbc-over-500_julysep2010.pdf"]
    assert (no_year.period_start, no_year.period_end) == (date(2010, 7, 1), date(2010, 9, 30))
    # the same file linked twice under two labels is one link, with the first label
    assert found["https://www.darlington.gov.uk/media/4070/payments_over_500_-_dec_13.csv"].text == "December 2014 CSV"
    assert found[
        "https://www.darlington.gov.uk/media/7811/transactions_over_500_october__2018.csv"
    ].period_start == date(2018, 10, 1)
    # a link pattern narrows to CSVs only
    csv_only = discover_links(page("darlington__council-spending-0.html"), base, link_pattern=r"\.csv$")
    assert len(csv_only) == 94


def test_calderdale_relative_links_and_year_pages():
    base = "https://www.calderdale.gov.uk/council/finances/income-spending/index.jsp?year=2015"
    links = discover_links(page("calderdale__council-spending-2015.html"), base)
    assert len(links) == 48
    assert all(
        link.url.startswith("https://www.calderdale.gov.uk/council/finances/income-spending/2015/") for link in links
    )
    assert Counter(link.format_guess for link in links) == {"csv": 24, "xls": 24}
    assert Counter(link.dataset for link in links) == {"purchase_card": 24, "spend_over_500": 24}
    december = by_url(links)["https://www.calderdale.gov.uk/council/finances/income-spending/2015/December.csv"]
    assert december.text == "December [CSV file 1671KB]"  # the year is only in the URL
    assert (december.period_start, december.period_end) == (date(2015, 12, 1), date(2015, 12, 31))
    followed = urls(page("calderdale__council-spending-2015.html"), base)
    assert followed == [
        f"https://www.calderdale.gov.uk/council/finances/income-spending/index.jsp?year={year}"
        for year in (2018, 2017, 2016, 2014, 2013, 2012, 2011, 2010)
    ]


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        ("Spending over £500 – March 2025 (CSV, 245KB)", "", (date(2025, 3, 1), date(2025, 3, 31))),
        ("Mar-25", "", (date(2025, 3, 1), date(2025, 3, 31))),
        ("", "https://x.gov.uk/files/spend-2025-03.csv", (date(2025, 3, 1), date(2025, 3, 31))),
        ("Q3 2024/25", "", (date(2024, 10, 1), date(2024, 12, 31))),
        ("Q1 2025", "", (date(2025, 1, 1), date(2025, 3, 31))),
        ("October to December 2010 CSV", "", (date(2010, 10, 1), date(2010, 12, 31))),
        ("Spending 2024-25", "", (date(2024, 4, 1), date(2025, 3, 31))),
        ("2025-Q2 payments", "", (date(2025, 4, 1), date(2025, 6, 30))),
        ("April 2014 - March 2015", "", (date(2014, 4, 1), date(2015, 3, 31))),
        ("2024-25", "", (date(2024, 4, 1), date(2025, 3, 31))),
        ("Expenditure exceeding £500 (2017 / 2018)", "", (date(2017, 4, 1), date(2018, 3, 31))),
        ("January 2025 to March 2025", "", (date(2025, 1, 1), date(2025, 3, 31))),
        ("Grants paid - 1 Jan 2014 - 31 Dec 2014", "", (date(2014, 1, 1), date(2014, 12, 31))),
        ("", "https://x.gov.uk/data/procurement-card-spending-jan-mar-2017.csv", (date(2017, 1, 1), date(2017, 3, 31))),
        ("Spending 2023", "", (None, None)),
        ("Download", "https://x.gov.uk/files/1234.csv", (None, None)),
    ],
)
def test_guess_period(text, url, expected):
    assert guess_period(text, url) == expected


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        ("GPC transactions March 2025", "", "purchase_card"),
        ("Procurement card spend Q3", "", "purchase_card"),
        ("Grants to voluntary organisations", "", "grants"),
        ("Spending over £250", "", "spend_over_500"),
        ("Payments to suppliers", "", "spend_over_500"),
        ("March 2025", "https://x.gov.uk/spend/over-500/march-2025.csv", "spend_over_500"),
        ("March 2025", "https://x.gov.uk/files/march-2025.csv", None),
    ],
)
def test_guess_dataset(text, url, expected):
    assert guess_dataset(text, url) == expected


@pytest.mark.parametrize(
    ("url", "text", "expected"),
    [
        ("https://x.gov.uk/f/spend.XLSX", "", "xlsx"),
        ("https://x.gov.uk/download/spend-feb-2025", "Spending February 2025 [csv]", "csv"),
        ("https://x.gov.uk/download/1", "Spending over £500 – March 2025 (CSV, 245KB)", "csv"),
        ("https://x.gov.uk/download/2", "March 2025 (Excel, 1MB)", "xlsx"),
        ("https://x.gov.uk/dl?wpdmdl=44201&filename=April-2023.csv", "", "csv"),
        ("https://x.gov.uk/file/7/march_2025_ods", "", "ods"),
    ],
)
def test_guess_format(url, text, expected):
    assert guess_format(url, text) == expected


def test_pagination_same_site_and_pages_are_not_files():
    html = """
      <a href="?page=2">2</a> <a href="?page=3">Next »</a> <a href="/spend/2023">Spending 2023</a>
      <a href="https://elsewhere.org/spend/2023">Spending 2023</a> <a href="/spend/help-csv.html">How to open a CSV</a>
      <a href="/spend/march-2025.csv">March 2025</a> <a href="/news/2024">Christmas lights 2024</a>
    """
    base = "http://127.0.0.1:8000/spend/"
    assert urls(html, base) == [
        "http://127.0.0.1:8000/spend/?page=2",
        "http://127.0.0.1:8000/spend/?page=3",
        "http://127.0.0.1:8000/spend/2023",
    ]
    assert [sub.pagination for sub in follow_links(html, base)] == [True, True, False]
    assert [link.url for link in discover_links(html, base)] == ["http://127.0.0.1:8000/spend/march-2025.csv"]


def test_a_malformed_link_skips_that_link_not_the_page():
    html = (
        '<base href="http://[::1/"><a href="http://[::1/x.csv">broken</a>'
        '<a href="/spend-2025-03.csv">Spending March 2025 (CSV)</a>'
    )
    links = discover_links(html, "http://127.0.0.1/council/")
    assert [link.url for link in links] == ["http://127.0.0.1/spend-2025-03.csv"]
