"""Link discovery on pages in the publishing styles councils use, written here (no real pages needed).

Each page is small and built for one style; the expected links are those the page was written to
hold. The saved real pages are checked in tests/test_discovery_pages.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from crawler.discovery import (
    decode_html,
    discover_links,
    follow_links,
    format_from_headers,
    guess_dataset,
    guess_format,
    guess_period,
    is_web_url,
    read_links,
)

BASE = "https://council.example/finance/spending/"


def page(body: str, title: str = "Spending over £500") -> str:
    return (
        f"<html><head><title>{title}</title></head><body><nav><h2>Popular tasks</h2>"
        '<a href="/bins">Bins</a> <a href="/news/2024">News 2024</a></nav>'
        f"<main>{body}</main><footer><a href='/privacy'>Privacy</a></footer></body></html>"
    )


def found(html: str, **options) -> dict[str, tuple]:
    """url (relative to BASE's site) -> (format, kind, period start, period end)."""
    return {
        link.url.removeprefix("https://council.example"): (
            link.format_guess,
            link.dataset,
            link.period_start,
            link.period_end,
        )
        for link in discover_links(html, BASE, **options)
    }


def month(year: int, m: int) -> tuple[date, date]:
    import calendar

    return date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1])


def test_table_rows_say_the_month_and_links_say_only_the_format():
    html = page(
        "<h1>Payments to suppliers over £500</h1><table><thead><tr><th>Month</th><th>Data</th><th>Printable</th>"
        "</tr></thead><tbody>"
        '<tr><td>April 2024</td><td><a href="/download/101">CSV</a></td><td><a href="/download/102">PDF</a></td></tr>'
        '<tr><td>May 2024</td><td><a href="/download/103">CSV</a></td><td><a href="/download/104">PDF</a></td></tr>'
        '<tr><td>June 2024</td><td><a href="/download/105">CSV</a></td><td></td></tr>'
        "</tbody></table>"
    )
    assert found(html) == {
        "/download/101": ("csv", "spend_over_500", *month(2024, 4)),
        "/download/102": ("pdf", "spend_over_500", *month(2024, 4)),
        "/download/103": ("csv", "spend_over_500", *month(2024, 5)),
        "/download/104": ("pdf", "spend_over_500", *month(2024, 5)),
        "/download/105": ("csv", "spend_over_500", *month(2024, 6)),
    }


def test_a_row_without_a_month_never_takes_its_neighbours():
    html = page(
        "<h2>Spending over £500</h2><table>"
        '<tr><td>April 2024</td><td><a href="files/a.csv">CSV</a></td></tr>'
        '<tr><td>Late payments</td><td><a href="files/b.csv">CSV</a></td></tr>'
        '<tr><td>June 2024</td><td><a href="files/c.csv">CSV</a></td></tr></table>'
    )
    links = found(html)
    assert links["/finance/spending/files/a.csv"][2:] == month(2024, 4)
    assert links["/finance/spending/files/b.csv"][2:] == (None, None)  # its row names no month
    assert links["/finance/spending/files/c.csv"][2:] == month(2024, 6)


def test_headings_say_the_month_and_links_say_download_or_here():
    html = page(
        "<h1>Expenditure over £500</h1>"
        '<h3>March 2025</h3><p>Download the data <a href="/GetAsset.ashx?assetId=4521">here</a> (CSV, 24KB).</p>'
        '<h3>February 2025</h3><p><a href="/GetAsset.ashx?assetId=4388">Download</a> (Excel, 31KB)</p>'
        '<h3>January 2025</h3><p><a href="/documents/4102">Download</a></p>'
    )
    assert found(html) == {
        "/GetAsset.ashx?assetId=4521": ("csv", "spend_over_500", *month(2025, 3)),
        "/GetAsset.ashx?assetId=4388": ("xlsx", "spend_over_500", *month(2025, 2)),
        "/documents/4102": ("unknown", "spend_over_500", *month(2025, 1)),  # the crawl's HEAD decides
    }


def test_financial_year_sections_with_month_only_links():
    html = page(
        "<h1>Purchase card transactions</h1>"
        "<details><summary>2024/25</summary><ul>"
        '<li><a href="gpc/apr.csv">April</a></li><li><a href="gpc/jan.csv">January</a></li></ul></details>'
        '<details><summary>2023/24</summary><p><a href="gpc/old-mar.csv">March</a><br>'
        '<a href="gpc/old-oct.csv">October</a></p></details>'
    )
    assert found(html) == {
        "/finance/spending/gpc/apr.csv": ("csv", "purchase_card", *month(2024, 4)),
        "/finance/spending/gpc/jan.csv": ("csv", "purchase_card", *month(2025, 1)),
        "/finance/spending/gpc/old-mar.csv": ("csv", "purchase_card", *month(2024, 3)),
        "/finance/spending/gpc/old-oct.csv": ("csv", "purchase_card", *month(2023, 10)),
    }


def test_months_down_and_financial_years_across():
    html = page(
        "<h2>Payments over £250</h2><table><caption>Monthly files</caption>"
        "<tr><th>Month</th><th>2023/24</th><th>2024/25</th></tr>"
        '<tr><th>April</th><td><a href="f/2023-a">CSV</a></td><td><a href="f/2024-a">CSV</a></td></tr>'
        '<tr><th>February</th><td><a href="f/2023-f">CSV</a></td><td><a href="f/2024-f">CSV</a></td></tr>'
        "</table>"
    )
    assert {url: value[2] for url, value in found(html).items()} == {
        "/finance/spending/f/2023-a": date(2023, 4, 1),
        "/finance/spending/f/2024-a": date(2024, 4, 1),
        "/finance/spending/f/2023-f": date(2024, 2, 1),
        "/finance/spending/f/2024-f": date(2025, 2, 1),
    }


def test_quarters_numbered_within_financial_years_and_as_month_ranges():
    html = page(
        "<h1>Spending over £500</h1><h2>2024/25</h2><ul>"
        '<li>Quarter 1 <a href="q/1.xlsx">XLSX</a></li>'
        '<li>Q3 <a href="q/3.xlsx">XLSX</a></li>'
        '<li><a href="q/4.xlsx">January to March</a></li></ul>'
        '<h2>Earlier</h2><ul><li><a href="q/old.csv">Oct-Dec 23</a></li>'
        '<li><a href="q/older.csv">Q2 2022/23</a></li></ul>'
    )
    assert {url: value[2:] for url, value in found(html).items()} == {
        "/finance/spending/q/1.xlsx": (date(2024, 4, 1), date(2024, 6, 30)),
        "/finance/spending/q/3.xlsx": (date(2024, 10, 1), date(2024, 12, 31)),
        "/finance/spending/q/4.xlsx": (date(2025, 1, 1), date(2025, 3, 31)),
        "/finance/spending/q/old.csv": (date(2023, 10, 1), date(2023, 12, 31)),
        "/finance/spending/q/older.csv": (date(2022, 7, 1), date(2022, 9, 30)),
    }


def test_bold_paragraphs_and_definition_lists_work_as_headings():
    html = page(
        "<h1>Grants to voluntary organisations</h1>"
        '<p><strong>2023/24</strong></p><p><a href="g/23.ods">Download (ODS)</a></p>'
        '<p><strong>2024/25</strong></p><p><a href="g/24.ods">Download (ODS)</a></p>'
        '<h2>Spending over £500</h2><dl><dt>Mar-25</dt><dd><a href="s/1">CSV</a></dd>'
        '<dt>Apr-25</dt><dd><a href="s/2">CSV</a></dd></dl>'
    )
    assert found(html) == {
        "/finance/spending/g/23.ods": ("ods", "grants", date(2023, 4, 1), date(2024, 3, 31)),
        "/finance/spending/g/24.ods": ("ods", "grants", date(2024, 4, 1), date(2025, 3, 31)),
        "/finance/spending/s/1": ("csv", "spend_over_500", *month(2025, 3)),
        "/finance/spending/s/2": ("csv", "spend_over_500", *month(2025, 4)),
    }


def test_lines_split_by_br_each_keep_their_own_month():
    html = page(
        '<h2>Spend over £500</h2><p>April 2024 <a href="x/1.csv">CSV</a><br>'
        'May 2024 <a href="x/2.csv">CSV</a><br>June 2024 <a href="x/3.csv">CSV</a></p>'
    )
    assert [value[2] for value in found(html).values()] == [date(2024, 4, 1), date(2024, 5, 1), date(2024, 6, 1)]


def test_govuk_style_attachments_take_the_format_from_their_metadata():
    html = page(
        "<h1>Spending over £500: 2025</h1>"
        '<section class="attachment"><div class="attachment-thumb"><a href="/media/77/file"><img alt=""></a></div>'
        '<div class="attachment-details"><h3 class="title"><a href="/media/77/file">Spending over £500: March 2025</a>'
        '</h3><p class="metadata"><span class="type">CSV</span>, 25.4 KB</p></div></section>'
        '<section class="attachment"><div class="attachment-details"><h3 class="title">'
        '<a href="/media/78/file">Spending over £500: February 2025</a></h3>'
        '<p class="metadata"><span class="type">ODS</span>, 22 KB</p></div></section>'
    )
    assert found(html) == {
        "/media/77/file": ("csv", "spend_over_500", *month(2025, 3)),
        "/media/78/file": ("ods", "spend_over_500", *month(2025, 2)),
    }


def test_encoded_and_query_file_names_are_read_decoded():
    html = page(
        '<h2>Transparency</h2><ul><li><a href="/files/Spend%20over%20%C2%A3500%20-%20April%202024.csv">Download</a></li>'
        '<li><a href="/dl?file=Purchase%2520Card%2520May%25202024%252Exlsx">Download</a></li>'
        '<li><a href="/wp-content/uploads/2024/07/spend_june_2024.csv">June 2024 spend</a></li></ul>'
    )
    assert found(html) == {
        "/files/Spend%20over%20%C2%A3500%20-%20April%202024.csv": ("csv", "spend_over_500", *month(2024, 4)),
        "/dl?file=Purchase%2520Card%2520May%25202024%252Exlsx": ("xlsx", "purchase_card", *month(2024, 5)),
        "/wp-content/uploads/2024/07/spend_june_2024.csv": ("csv", "spend_over_500", *month(2024, 6)),
    }


def test_documents_about_the_data_beside_it_are_not_spend_links():
    html = page(
        "<h1>Spending over £500</h1><ul>"
        '<li><a href="d/march-2025.csv">March 2025 (CSV)</a></li>'
        '<li><a href="d/guide.pdf">Guide to our spending data (PDF)</a></li>'
        '<li><a href="d/fields.xlsx">Spending data: field definitions (XLSX)</a></li>'
        '<li><a href="d/redaction.pdf">Redaction policy, updated March 2024</a></li>'
        '<li><a href="d/budget-2025-26.pdf">Budget book 2025/26</a></li>'
        '<li><a href="d/contracts-2025-03.csv">Contracts register March 2025 (CSV)</a></li>'
        '<li><a href="https://www.gov.uk/transparency-code.pdf">Local Government Transparency Code 2015</a></li>'
        "</ul><h2>Related documents</h2><ul>"
        '<li><a href="d/notes.pdf">Notes (PDF)</a></li><li><a href="d/about.docx">About this page</a></li></ul>'
    )
    assert list(found(html)) == ["/finance/spending/d/march-2025.csv"]
    wanted = found(html, dataset_hint="contracts")
    assert wanted["/finance/spending/d/contracts-2025-03.csv"] == ("csv", "contracts", *month(2025, 3))


def test_ckan_dataset_page_follows_resource_pages_and_keeps_direct_downloads():
    dataset = "https://data.council.example/dataset/spend-over-500"
    html = (
        "<html><head><title>Payments over £500 - Dataset - Council Data</title></head><body>"
        '<h1>Payments over £500</h1><h3>Data and Resources</h3><ul class="resource-list">'
        '<li class="resource-item"><a class="heading" href="/dataset/spend-over-500/resource/6f1c">April 2024'
        '<span class="format-label">CSV</span></a><div class="dropdown"><a href="#">Explore</a><ul>'
        '<li><a href="/dataset/spend-over-500/resource/6f1c">More information</a></li>'
        '<li><a class="resource-url-analytics" href="https://council.example/f/spend-apr-2024.csv">Download</a></li>'
        "</ul></div></li>"
        '<li class="resource-item"><a class="heading" href="/dataset/spend-over-500/resource/7a2d">May 2024'
        '<span class="format-label">CSV</span></a></li></ul></body></html>'
    )
    links = read_links(html, dataset)
    assert [(link.url, link.period_start) for link in links.files] == [
        ("https://council.example/f/spend-apr-2024.csv", date(2024, 4, 1))
    ]
    resources = [(sub.url, sub.resource) for sub in links.follow]
    assert resources == [
        ("https://data.council.example/dataset/spend-over-500/resource/6f1c", True),
        ("https://data.council.example/dataset/spend-over-500/resource/7a2d", True),
    ]
    may = links.follow[1]
    resource_page = (
        "<html><head><title>May 2024 - Payments over £500 - Council Data</title></head><body>"
        '<ol class="breadcrumb"><li><a href="/dataset/spend-over-500">Payments over £500</a></li></ol>'
        '<h1>May 2024</h1><p class="text-muted ellipsis">URL: <a href="https://council.example/f/9">'
        'https://council.example/f/9</a></p><a class="btn resource-url-analytics" href="https://council.example/f/9">'
        "Download</a><h2>Resources</h2><ul><li><a href='/dataset/spend-over-500/resource/6f1c'>April 2024</a></li>"
        "</ul></body></html>"
    )
    [file] = discover_links(resource_page, may.url, context=may.context)
    assert (file.url, file.dataset, file.period_start, file.format_guess) == (
        "https://council.example/f/9",
        "spend_over_500",
        date(2024, 5, 1),
        "csv",  # the listing's format label, inherited with the link's context
    )


def test_drupal_file_fields_with_upload_folders():
    html = page(
        "<h1>Payments to suppliers</h1>"
        '<div class="file file--mime-text-csv"><span class="file-link"><a href="/sites/default/files/2024-05/'
        'spend%20april.csv" type="text/csv; length=24311">Download</a></span> <span>(23.74 KB)</span></div>'
        '<div class="file"><a href="/sites/default/files/2025-01/payments.csv" type="text/csv">December 2024</a></div>'
    )
    assert found(html) == {
        # the month is in the file name; the upload folder gives at most a year
        "/sites/default/files/2024-05/spend%20april.csv": ("csv", "spend_over_500", *month(2024, 4)),
        # uploaded in January: the link text, not the folder, says December 2024
        "/sites/default/files/2025-01/payments.csv": ("csv", "spend_over_500", *month(2024, 12)),
    }


def test_a_download_attribute_names_the_file():
    html = page('<h1>Spending over £500</h1><p><a href="/asset/9" download="Spend June 2024.xlsx">Download</a></p>')
    assert found(html) == {"/asset/9": ("xlsx", "spend_over_500", *month(2024, 6))}


def test_cards_and_accordion_buttons_label_their_links():
    html = page(
        "<h1>Procurement card spend</h1>"
        '<button class="accordion">2023/24</button><div class="panel"><div class="card-grid">'
        '<div class="card"><h3>Quarter 4 (January - March)</h3><p>XLSX, 40KB</p><a href="/asset/881">Download</a></div>'
        '<div class="card"><h3>Quarter 3</h3><a href="/asset/772">Download</a><p>ODS</p></div></div></div>'
    )
    assert found(html) == {
        "/asset/881": ("xlsx", "purchase_card", date(2024, 1, 1), date(2024, 3, 31)),
        "/asset/772": ("ods", "purchase_card", date(2023, 10, 1), date(2023, 12, 31)),
    }


def test_plain_labels_before_or_after_links_are_theirs_and_never_a_neighbours():
    before = page(
        '<h2>Spend over £500</h2><div class="entry"><p>April 2024</p><p><a href="b/1">Download</a></p>'
        '<p>May 2024</p><p><a href="b/2">Download</a></p></div>'
    )
    assert [v[2] for v in found(before).values()] == [date(2024, 4, 1), date(2024, 5, 1)]
    after = page(
        '<h2>Spend over £500</h2><div class="entry"><p><a href="a/1">Download</a></p><p>April 2024</p>'
        '<p><a href="a/2">Download</a></p><p>May 2024</p></div>'
    )
    assert [v[2] for v in found(after).values()] == [date(2024, 4, 1), date(2024, 5, 1)]
    dated = page(
        '<h2>Spend over £500</h2><div class="entry"><p><a href="d/1">Download</a></p><p>Published 3 May 2024</p>'
        '<p><a href="d/2">Download</a></p><p>June 2024 file</p></div>'
    )
    # d/1's own label names no period (a publication date): it takes none of its neighbours' and,
    # saying nothing of its own, is not taken for data
    assert {url: v[2] for url, v in found(dated).items()} == {"/finance/spending/d/2": date(2024, 6, 1)}


def test_publication_dates_are_not_periods():
    html = page(
        '<h2>Spending over £500</h2><h3>April 2024</h3><ul><li><a href="p/1">CSV</a> Published 20 May 2024</li>'
        '<li><a href="p/2">Spend 01/07/2024 - 30/09/2024 (CSV)</a> Updated 2024-10-28</li></ul>'
    )
    assert {url: v[2:] for url, v in found(html).items()} == {
        "/finance/spending/p/1": month(2024, 4),
        "/finance/spending/p/2": (date(2024, 7, 1), date(2024, 9, 30)),
    }


def test_column_headings_name_the_kind():
    html = page(
        "<h1>Transparency data</h1><table><tr><th>Month</th><th>Spend over £500</th><th>Purchase cards</th></tr>"
        '<tr><td>March 2025</td><td><a href="t/s.csv">CSV</a></td><td><a href="t/c.csv">CSV</a></td></tr></table>'
    )
    assert {url: v[1] for url, v in found(html).items()} == {
        "/finance/spending/t/s.csv": "spend_over_500",
        "/finance/spending/t/c.csv": "purchase_card",
    }


def test_finance_periods_need_their_financial_year():
    html = page(
        '<h1>Spending over £500 2024/25</h1><ul><li><a href="fp/7.csv">Period 7</a></li>'
        '<li><a href="fp/12.csv">Period 12</a></li></ul>'
    )
    assert [v[2] for v in found(html).values()] == [date(2024, 10, 1), date(2025, 3, 1)]


def test_links_in_the_site_furniture_must_say_they_are_data():
    html = page(
        '<h1>Spending over £500</h1><ul><li><a href="s/april-2024.csv">April 2024</a></li></ul>'
        '<aside><h2>Latest news</h2><a href="/news/april-2024.pdf">Council news April 2024 (PDF)</a>'
        '<a href="/spend/may-2024.csv">Spending over £500 May 2024 (CSV)</a></aside>'
    )
    assert list(found(html)) == ["/finance/spending/s/april-2024.csv", "/spend/may-2024.csv"]
    wrapped = page(  # a layout wrapper named after its sidebar holds the content: not furniture
        '<div class="page-with-sidebar"><h1>Spending over £500</h1><a href="s/june-2024.csv">June 2024</a></div>'
    )
    assert list(found(wrapped)) == ["/finance/spending/s/june-2024.csv"]


def test_month_named_links_to_addresses_without_a_file_name_are_left_to_the_crawl():
    html = page('<h1>Spending over £500</h1><ul><li><a href="/spending/2024/april">April 2024</a></li></ul>')
    assert found(html) == {"/spending/2024/april": ("unknown", "spend_over_500", *month(2024, 4))}


def test_non_http_links_are_never_files_nor_sub_pages():
    html = page(
        "<h1>Spending over £500</h1>"
        "<a href=\"javascript:download('april-2024.csv')\">April 2024 CSV</a>"
        '<a href="mailto:data@council.example?subject=spend-2024.csv">May 2024 CSV</a>'
        '<a href="ftp://council.example/spend-2024-06.csv">June 2024 CSV</a>'
        '<a href="file:///C:/spend-2024-07.csv">July 2024 CSV</a>'
        '<a href="data:text/csv,a,b">August 2024 CSV</a>'
        '<a href=" JAVASCRIPT:void(0)">Spending 2024/25</a>'
        '<a href="/finance/spending/2023-24">Spending 2023/24</a>'
    )
    links = read_links(html, BASE)
    assert links.files == []
    assert [sub.url for sub in links.follow] == ["https://council.example/finance/spending/2023-24"]
    assert not is_web_url("javascript:x") and not is_web_url("file:///etc/passwd") and is_web_url(BASE)


def test_evidence_says_which_words_decided():
    html = page(
        '<h2>Payments to suppliers</h2><h3>2015 Data files</h3><ul><li><a href="2015/December.csv">December</a>'
        "</li></ul>"
    )
    [link] = discover_links(html, BASE)
    assert (link.evidence.format, link.evidence.kind, link.evidence.period) == (
        "extension",
        'heading "Payments to suppliers"',
        'link text+heading "2015 Data files"+file name+folders',  # every piece that agrees
    )


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        ("Spending over £500 – March 2025 (CSV, 245KB)", "", (date(2025, 3, 1), date(2025, 3, 31))),
        ("Mar-25", "", (date(2025, 3, 1), date(2025, 3, 31))),
        ("", "https://x.gov.uk/files/spend-2025-03.csv", (date(2025, 3, 1), date(2025, 3, 31))),
        ("", "https://x.gov.uk/DCCSpendingOver500_201008.xls", (date(2010, 8, 1), date(2010, 8, 31))),
        ("Q3 2024/25", "", (date(2024, 10, 1), date(2024, 12, 31))),
        ("Q1 2025", "", (date(2025, 1, 1), date(2025, 3, 31))),
        ("Qtr 2 FY24/25", "", (date(2024, 7, 1), date(2024, 9, 30))),
        ("October to December 2010 CSV", "", (date(2010, 10, 1), date(2010, 12, 31))),
        ("Spending 2024-25", "", (date(2024, 4, 1), date(2025, 3, 31))),
        ("2025-Q2 payments", "", (date(2025, 4, 1), date(2025, 6, 30))),
        ("April 2014 - March 2015", "", (date(2014, 4, 1), date(2015, 3, 31))),
        ("Expenditure exceeding £500 (2017 / 2018)", "", (date(2017, 4, 1), date(2018, 3, 31))),
        ("January 2025 to March 2025", "", (date(2025, 1, 1), date(2025, 3, 31))),
        ("Grants paid - 1 Jan 2014 - 31 Dec 2014", "", (date(2014, 1, 1), date(2014, 12, 31))),
        ("", "https://x.gov.uk/data/procurement-card-spending-jan-mar-2017.csv", (date(2017, 1, 1), date(2017, 3, 31))),
        (
            "December [CSV file 2001KB]",
            "https://x.gov.uk/payments/2015/December.csv",
            (date(2015, 12, 1), date(2015, 12, 31)),
        ),
        ("Expenditure P01 2024-25", "", (date(2024, 4, 1), date(2024, 4, 30))),
        ("Spending 2023", "", (None, None)),
        ("Spend data over £250: April 2015 onwards", "", (None, None)),
        ("Our decision 2015", "", (None, None)),
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
        ("Contracts register", "", "contracts"),
        ("Spending, contracts and grants", "", None),
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
        ("https://x.gov.uk/files/Spend%20April%202024%2Ecsv", "", "csv"),
    ],
)
def test_guess_format(url, text, expected):
    assert guess_format(url, text) == expected


@pytest.mark.parametrize(
    ("content_type", "disposition", "expected"),
    [
        ("text/csv; charset=utf-8", None, "csv"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None, "xlsx"),
        ("application/octet-stream", 'attachment; filename="Spend April 2024.csv"', "csv"),
        ("application/octet-stream", "attachment; filename*=UTF-8''Card%20spend%20Q1.ods", "ods"),
        ("application/octet-stream", None, "unknown"),
        ("text/html; charset=utf-8", None, "html"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", None, "document"),
        ("application/pdf", 'inline; filename="guide.docx"', "document"),
    ],
)
def test_format_from_headers(content_type, disposition, expected):
    assert format_from_headers(content_type, disposition) == expected


def test_a_link_naming_its_own_period_is_kept_when_nothing_names_its_kind():
    html = page(
        '<h1>Open data</h1><ul><li><a href="/od/a.csv">April 2024 (CSV)</a></li><li><a href="/od/b.csv">Download</a></li></ul>',
        title="Open data",
    )
    assert found(html) == {"/od/a.csv": ("csv", None, *month(2024, 4))}


def test_a_transparency_page_leads_to_its_data_pages():
    html = page(
        '<h1>Transparency</h1><ul class="link-list"><li><a href="/transparency/payments">Payments to suppliers over £500'
        '</a></li><li><a href="/transparency/cards">Purchase card transactions</a></li>'
        '<li><a href="/transparency/contracts">Contracts register</a></li>'
        '<li><a href="/transparency/guidance">Spending data guidance</a></li>'
        '<li><a href="https://data.other.example/spend">Spending data on the county portal</a></li></ul>'
        '<div class="breadcrumb"><a href="/council-spending">Council spending and budgets</a></div>',
        title="Transparency",
    )
    assert [(sub.url, sub.pagination) for sub in follow_links(html, BASE)] == [
        ("https://council.example/transparency/payments", False),
        ("https://council.example/transparency/cards", False),
    ]


def test_pagination_same_site_and_pages_are_not_files():
    html = """
      <a href="?page=2">2</a> <a href="?page=3">Next »</a> <a href="/spend/2023">Spending 2023</a>
      <a href="https://elsewhere.org/spend/2023">Spending 2023</a> <a href="/spend/help-csv.html">How to open a CSV</a>
      <a href="/spend/march-2025.csv">Spending March 2025</a> <a href="/news/2024">Christmas lights 2024</a>
    """
    base = "http://127.0.0.1:8000/spend/"
    subs = follow_links(html, base)
    assert [(sub.url, sub.pagination) for sub in subs] == [
        ("http://127.0.0.1:8000/spend/?page=2", True),
        ("http://127.0.0.1:8000/spend/?page=3", True),
        ("http://127.0.0.1:8000/spend/2023", False),
    ]
    assert [link.url for link in discover_links(html, base)] == ["http://127.0.0.1:8000/spend/march-2025.csv"]


def test_a_malformed_link_skips_that_link_not_the_page():
    html = (
        '<base href="http://[::1/"><a href="http://[::1/x.csv">broken</a>'
        '<a href="/spend-2025-03.csv">Spending March 2025 (CSV)</a>'
    )
    links = discover_links(html, "http://127.0.0.1/council/")
    assert [link.url for link in links] == ["http://127.0.0.1/spend-2025-03.csv"]


def test_a_link_pattern_narrows_the_files():
    html = page('<h2>Spending</h2><a href="a-2025-03.csv">March 2025</a> <a href="a-2025-03.pdf">March 2025</a>')
    assert [link.format_guess for link in discover_links(html, BASE, link_pattern=r"\.csv$")] == ["csv"]


def test_cp1252_pages_declared_utf8_are_decoded():
    raw = "<p>Spend over £250</p>".encode("cp1252")
    assert decode_html(raw, "text/html; charset=utf-8") == "<p>Spend over £250</p>"
