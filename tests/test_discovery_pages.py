"""Link discovery on every saved real council page in ../shared/realdata/pages (OGL; see SOURCES.md there).

The expected links, with how each was established, are in tests/discovery_expectations.py:
written by reading each page, never from discovery's output. Every data link must be found with
the expected URL, format, kind and period, and nothing else returned. Sub-pages were read the
same way (the year menus, archive links and "other years" lists of each page).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from discovery_expectations import PAGES

from crawler.discovery import decode_html, discover_links, follow_links

SAVED = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "pages"

pytestmark = pytest.mark.skipif(not SAVED.is_dir(), reason="../shared/realdata/pages is not beside this clone")


def saved(name: str) -> bytes:
    return (SAVED / name).read_bytes()


def test_every_saved_page_has_expectations():
    assert sorted(p.name for p in PAGES) == sorted(p.name for p in SAVED.glob("*.html"))


@pytest.mark.parametrize("expected", PAGES, ids=[p.name for p in PAGES])
def test_discovery_finds_every_data_link_and_nothing_else(expected):
    links = discover_links(saved(expected.name), expected.base_url)
    got = {link.url: (link.format_guess, link.dataset, link.period_start, link.period_end) for link in links}
    want = {link.url: (link.format, link.kind, link.period_start, link.period_end) for link in expected.links()}
    assert len(got) == len(links)  # each URL once
    assert sorted(set(got) - set(want)) == []  # nothing that is not data
    assert sorted(set(want) - set(got)) == []  # every data link
    wrong = {url: (got[url], want[url]) for url in want if got[url] != want[url]}
    assert wrong == {}


def test_darlington_link_texts_that_contradict_heading_and_file_name_lose():
    page = next(p for p in PAGES if p.name.startswith("darlington"))
    links = {link.url: link for link in discover_links(saved(page.name), page.base_url)}
    december = links["https://www.darlington.gov.uk/media/4184/december_2015.csv"]
    assert december.text == "December 2016 CSV"  # the council's typo
    assert str(december.period_start) == "2015-12-01"
    assert december.evidence.period == 'heading "December 2015"+file name'


def test_north_tyneside_page_is_cp1252_though_it_declares_utf8():
    raw = saved("northtyneside__council-spending-0.html")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "Spend data over £250" in decode_html(raw, "text/html; charset=utf-8")


def _follow(name: str, base: str, **options) -> list[str]:
    return [sub.url for sub in follow_links(saved(name), base, **options)]


def test_calderdale_year_menu_is_followed():
    base = "http://www.calderdale.gov.uk/council/finances/income-spending/index.jsp?year=2015"
    assert _follow("calderdale__council-spending-2015.html", base) == [
        f"http://www.calderdale.gov.uk/council/finances/income-spending/index.jsp?year={year}"
        for year in (2018, 2017, 2016, 2014, 2013, 2012, 2011, 2010)
    ]


def test_manchester_two_hop_archive_and_a_council_override():
    current = "http://www.manchester.gov.uk/open/downloads/download/90/expenditure_exceeding_500_current_year"
    assert _follow("manchester__council-spending-0.html", current) == [
        "http://www.manchester.gov.uk/open/downloads/73/archive"
    ]
    year = "https://www.manchester.gov.uk/open/downloads/108/expenditure_exceeding_500_2017_2018"
    followed = _follow("manchester__council-spending-8.html", year, follow_pattern=r"/downloads/\d+/expenditure")
    assert followed == ["http://www.manchester.gov.uk/open/downloads/74/expenditure_exceeding_500"]


def test_north_tyneside_other_years_are_followed_but_not_contracts():
    base = "http://www.northtyneside.gov.uk/browse-display.shtml?p_ID=558030&p_subjectCategory=1178"
    followed = _follow("northtyneside__council-spending-0.html", base)
    assert [url.split("p_ID=")[1].split("&")[0] for url in followed] == [
        "560507",
        "565404",
        "538404",
        "521073",
        "525967",
    ]


def test_harrogate_breadcrumbs_and_badges_are_not_sub_pages():
    base = "https://www.harrogate.gov.uk/downloads/download/99/expenditure_documents"
    assert _follow("harrogate__council-spending.html", base) == []
