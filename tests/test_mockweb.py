"""The mock council web: deterministic generation, a self-consistent answer key, a real HTTP server."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from python_calamine import CalamineError

from mockweb.answers import load_answer_key
from mockweb.generate import generate, route_key
from mockweb.server import MockWeb, MockWebError
from normalise.councils import council
from normalise.parsing.sniff import sniff_format
from normalise.sources import parse_sources

COUNCILS = 7  # enough for every compliance story (late, skipped, PDF-only, missing field, outside England)
#: The hostile links (mockweb/hostile.py) a crawl must record as failed.
FAILING_LINKS = {
    "dropped",
    "drip",
    "redirect_loop",
    "oversized",
    "endless",
    "rate_limited_always",
    "retry_after_too_long",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("mock") / "web", councils=COUNCILS, seed=7, faults=True)


@pytest.fixture(scope="module")
def key(site):
    return load_answer_key(site.root)


@pytest.fixture(scope="module")
def web(site):
    with MockWeb(site.root) as server:
        yield server


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _get(web: MockWeb, path: str, method: str = "GET", headers: dict | None = None):
    conn = http.client.HTTPConnection(web.host, web.port, timeout=10)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


@pytest.mark.slow
def test_generation_is_byte_identical_and_reused(tmp_path):
    first = generate(tmp_path / "a", councils=3, seed=11)
    second = generate(tmp_path / "b", councils=3, seed=11)
    digest = _tree_digest(first.root)
    assert len(digest) > 50
    assert digest == _tree_digest(second.root)
    marker = first.root / "site" / "robots.txt"
    before = marker.stat().st_mtime_ns
    again = generate(tmp_path / "a", councils=3, seed=11)  # same arguments: reused, not rewritten
    assert again.council_codes == first.council_codes and marker.stat().st_mtime_ns == before
    other = generate(tmp_path / "c", councils=3, seed=12)
    assert _tree_digest(other.root) != digest


def test_refuses_to_overwrite_a_foreign_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate(tmp_path, councils=1)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_councils_are_real_and_one_is_outside_england(site):
    assert len(site.council_codes) == COUNCILS == len(set(site.council_codes))
    nations = [council(code).nation for code in site.council_codes]
    assert sum(n != "England" for n in nations) == 1
    assert site.as_of.isoformat() == "2026-10-15"


@pytest.mark.parametrize("n", [1, 6])
def test_small_webs_have_every_council_they_ask_for(tmp_path, n):
    site = generate(tmp_path, councils=n)
    assert len(set(site.council_codes)) == n
    assert all(council(code).nation == "England" for code in site.council_codes)  # too few for the outsider role


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    raw = path.read_bytes()
    text = raw.decode(encoding)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.count(",") >= 3)  # skip a title row
    return pd.read_csv(io.StringIO("\n".join(lines[start:])), dtype=str, keep_default_na=False)


def _amount(text: str) -> Decimal:
    return Decimal(text.replace("£", "").replace(",", ""))


def test_answer_key_rows_and_totals_match_the_files(site, key):
    routes = json.loads((site.root / "routes.json").read_text())
    checked = 0
    for f in key.files.itertuples():
        if f.format != "csv" or f.http_status != 200:
            continue
        route = routes[route_key(f.redirect_to or f.url_path)]
        path = site.root / route["file"]
        encoding = "cp1252" if "windows-1252" in route["type"] else "utf-8-sig"
        try:
            frame = _read_csv(path, encoding)
        except UnicodeDecodeError:
            frame = _read_csv(path, "cp1252")
        amount_col = next(
            c
            for c in frame.columns
            if c.strip()
            in ("Amount", "Net Amount", "Net Amount (£)", "Amount Paid", "Amount Awarded", "Contract Value")
        )
        assert len(frame) == f.rows_total, f.url_path
        parsed = []
        for value in frame[amount_col]:
            try:
                parsed.append(_amount(value))
            except ArithmeticError:
                parsed.append(None)  # the junk row with '#VALUE!'
        supplier_col = next(
            c for c in frame.columns if "Name" in c and c not in ("Body Name", "Organisation Name", "Funding Org:Name")
        )
        real = [a for a, s in zip(parsed, frame[supplier_col]) if a is not None and s.strip()]
        assert len(real) == f.transactions, f.url_path
        assert f"{sum(real, Decimal('0.00')):.2f}" == f.total_amount, f.url_path
        checked += 1
    assert checked > 50


def test_spreadsheets_match_the_answer_key(site, key):
    routes = json.loads((site.root / "routes.json").read_text())
    sheets = key.files[key.files["format"].isin(["xlsx", "ods"]) & (key.files["expected_status"] == "ok")]
    assert len(sheets) > 5
    for f in sheets.itertuples():
        data = (site.root / routes[route_key(f.url_path)]["file"]).read_bytes()
        assert sniff_format(data[:4096]) == f.format
        frame = pd.read_excel(io.BytesIO(data), engine="calamine", header=None, dtype=object)
        header_at = next(i for i, row in frame.iterrows() if row.notna().sum() >= 3)
        body = frame.iloc[header_at + 1 :]
        body = body[body.notna().any(axis=1)]
        assert len(body) == f.rows_total, f.url_path
    copies = key.files[key.files["republishes"] != ""]
    assert len(copies) > 0
    originals = key.files.set_index("url_path")
    for f in copies.itertuples():
        assert originals.loc[f.republishes, "total_amount"] == f.total_amount
        assert originals.loc[f.republishes, "transactions"] == f.transactions


def test_every_file_has_a_day_above_12(site, key):
    sample = key.files[(key.files["format"] == "csv") & (key.files["transactions"] > 0)].head(30)
    routes = json.loads((site.root / "routes.json").read_text())
    for f in sample.itertuples():
        text = (
            (site.root / routes[route_key(f.redirect_to or f.url_path)]["file"])
            .read_bytes()
            .decode("cp1252", "replace")
        )
        days = {int(tok[:2]) for tok in text.replace("\n", ",").split(",") if len(tok) == 10 and tok[2] == "/"}
        days |= {int(tok[8:10]) for tok in text.replace("\n", ",").split(",") if len(tok) == 10 and tok[4] == "-"}
        days |= {int(tok[:2]) for tok in text.replace("\n", ",").split(",") if len(tok) == 11 and tok[2] == "-"}
        assert max(days) > 12, f.url_path


def test_compliance_truth_tells_every_story(site, key):
    statuses = set(key.compliance["status"])
    assert {"compliant", "late", "missing", "not_machine_readable", "incomplete", "not_applicable"} <= statuses
    outside = [c for c in site.council_codes if council(c).nation != "England"]
    assert set(key.compliance[key.compliance["council_code"].isin(outside)]["status"]) == {"not_applicable"}
    incomplete = key.compliance[key.compliance["status"] == "incomplete"]
    assert (incomplete["required_fields_missing"].str.contains("department") | (incomplete["months_covered"] < 3)).all()
    late = key.compliance[key.compliance["status"] == "late"]
    assert (late["on_time"] == "false").all()
    assert key.compliance["period"].min() == "2024-Q2" and key.compliance["period"].max() == "2026-Q2"
    published = key.files["published_at"].dropna()
    assert published.max().date() < site.as_of


def test_suppliers_cover_every_kind(key):
    kinds = set(key.suppliers["org_type"])
    assert {"company", "charity", "charitable_company", "public_body", "individual_or_redacted"} <= kinds
    redacted = key.suppliers[key.suppliers["supplier_name"].str.contains("redacted", case=False)]
    assert len(redacted) and (redacted["org_id"] == "").all()
    assert key.suppliers["org_id"].str.match(r"^$|^GB-(COH|CHC|SC|NIC|MPR|LAE)-").all()
    assert key.suppliers["supplier_name"].str.contains(" T/A ").any()


def test_registers_hold_the_paid_organisations(site, key):
    if not any(site.registers_dir.glob("*.zip")):
        pytest.skip("mockweb.registers is not available")
    import zipfile

    companies = next(site.registers_dir.glob("BasicCompanyData*.zip"))
    with zipfile.ZipFile(companies) as z:
        text = z.read(z.namelist()[0]).decode("utf-8")
    numbers = key.suppliers[key.suppliers["org_id"].str.startswith("GB-COH-")]["org_id"].str[7:]
    assert len(numbers) > 10
    assert all(f'"{n}"' in text for n in numbers)


def test_sources_yaml_points_at_the_server(site, web):
    sources = parse_sources(yaml.safe_load(site.sources_yaml(web.base_url)))
    assert set(sources) == set(site.council_codes) | set(site.down_councils) and len(site.down_councils) == 1
    for source in sources.values():
        if source.council_code in site.down_councils:
            continue  # its site is down
        for landing in source.landing_pages:
            response, body = _get(web, landing.url.removeprefix(web.base_url))
            assert response.status == 200 and b"<a " in body
    portal_pages = [lp for s in sources.values() for lp in s.landing_pages if "/ckan/dataset/" in lp.url]
    assert portal_pages and not any(s.ckan for s in sources.values())  # the first portal council: its web pages


def test_server_validators_head_and_errors(web, key):
    f = key.files[(key.files["format"] == "csv") & (key.files["fault"] == "")].iloc[0]
    response, body = _get(web, f.url_path)
    assert response.status == 200 and len(body) > 100
    etag, modified = response.getheader("ETag"), response.getheader("Last-Modified")
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(modified) == f.published_at.to_pydatetime().replace(microsecond=0)
    assert _get(web, f.url_path, headers={"If-None-Match": etag})[0].status == 304
    assert _get(web, f.url_path, headers={"If-Modified-Since": modified})[0].status == 304
    assert _get(web, f.url_path, headers={"If-None-Match": '"stale"'})[0].status == 200
    head, head_body = _get(web, f.url_path, method="HEAD")
    assert head.status == 200 and head_body == b"" and int(head.getheader("Content-Length")) == len(body)
    assert _get(web, "/no/such/page")[0].status == 404
    assert _get(web, "/robots.txt")[1].startswith(b"User-agent: *\nDisallow: /private/")
    assert _get(web, "/", method="POST")[0].status == 405


def test_keep_alive_serves_many_requests_on_one_connection(web, key):
    before = web.requests_served
    conn = http.client.HTTPConnection(web.host, web.port, timeout=10)
    paths = list(key.files[key.files["fault"] == ""]["url_path"][:40])
    for path in paths:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    conn.close()
    assert web.requests_served >= before + len(paths)


def test_ckan_action_api(web, site):
    dataset = json.loads(_get(web, "/ckan/api/3/action/package_list")[1])["result"][0]
    response, body = _get(web, f"/ckan/api/3/action/package_show?id={dataset}")
    assert response.status == 200 and response.getheader("Content-Type") == "application/json"
    result = json.loads(body)
    assert result["success"] is True and result["result"]["name"] == dataset
    resource = result["result"]["resources"][0]
    assert resource["url"].startswith(web.base_url + "/ckan/") and resource["format"] in ("CSV", "XLSX", "ODS", "PDF")
    file_response, _ = _get(web, resource["url"].removeprefix(web.base_url))
    assert file_response.status == 200
    missing, body = _get(web, "/ckan/api/3/action/package_show?id=nope")
    assert missing.status == 404 and json.loads(body)["success"] is False
    search = json.loads(_get(web, "/ckan/api/3/action/package_search?q=spend")[1])
    assert dataset in [p["name"] for p in search["result"]["results"]]


def test_fault_cases(web, key):
    faults = key.files[key.files["fault"] != ""].set_index("fault")
    assert set(faults.index) == {
        "html_as_csv",
        "corrupt_xlsx",
        "empty",
        "not_found",
        "server_error",
        "summary",
        "redirect",
        "slow",
        "rate_limited",
        "offsite_redirect",
        *FAILING_LINKS,
    }
    response, body = _get(web, faults.loc["html_as_csv", "url_path"])
    assert (
        response.status == 200
        and sniff_format(body) == "html"
        and faults.loc["html_as_csv", "expected_status"] == "not_machine_readable"
    )
    assert _get(web, faults.loc["empty", "url_path"])[1] == b""
    assert _get(web, faults.loc["not_found", "url_path"])[0].status == 404
    assert _get(web, faults.loc["server_error", "url_path"])[0].status == 500
    moved, _ = _get(web, faults.loc["redirect", "url_path"])
    assert moved.status == 301 and moved.getheader("Location") == faults.loc["redirect", "redirect_to"]
    assert faults.loc["summary", "expected_status"] == "not_spend"
    with pytest.raises(CalamineError):
        pd.read_excel(io.BytesIO(_get(web, faults.loc["corrupt_xlsx", "url_path"])[1]), engine="calamine")


def test_faults_do_not_change_compliance(tmp_path, site, key):
    plain = load_answer_key(generate(tmp_path / "plain", councils=COUNCILS, seed=7).root)
    mine = key.compliance[~key.compliance["council_code"].isin(site.down_councils)].reset_index(drop=True)
    assert plain.compliance.equals(mine)
    assert (plain.files["fault"] == "").all() and plain.pages.empty and plain.ignored.empty
    down = key.compliance[key.compliance["council_code"].isin(site.down_councils)]
    assert len(down) and set(down["status"]) == {"site_unreachable"}


def test_hostile_network_cases(web, key):
    """Each misbehaviour of mockweb/hostile.py, as a client sees it."""
    faults = key.files[key.files["fault"] != ""].set_index("fault")
    once = faults.loc["rate_limited", "url_path"]
    refused, _ = _get(web, once)
    assert refused.status == 429 and refused.getheader("Retry-After") == "1"
    assert _get(web, once)[0].status == 200  # then the file
    storm = _get(web, faults.loc["rate_limited_always", "url_path"])[0]
    assert storm.status == 429 and storm.getheader("Retry-After") == "1"
    busy = _get(web, faults.loc["retry_after_too_long", "url_path"])[0]
    assert busy.status == 503 and busy.getheader("Retry-After") == "86400"
    loop = faults.loc["redirect_loop", "url_path"]
    first = _get(web, loop)[0]
    second = _get(web, first.getheader("Location"))[0]
    assert first.status == second.status == 302 and second.getheader("Location") == loop
    away = _get(web, faults.loc["offsite_redirect", "url_path"])[0].getheader("Location")
    assert away.startswith(f"http://127.0.0.254:{web.port}/")
    with pytest.raises(http.client.IncompleteRead):
        _get(web, faults.loc["dropped", "url_path"])
    conn = http.client.HTTPConnection(web.host, web.port, timeout=10)
    conn.request("GET", faults.loc["oversized", "url_path"])
    response = conn.getresponse()
    assert int(response.getheader("Content-Length")) > 2**31 and len(response.read(100_000)) == 100_000
    conn.close()
    assert set(key.files.loc[key.files["expected_error"] != "", "fault"]) == FAILING_LINKS


def test_missing_site_is_a_clear_error(tmp_path):
    with pytest.raises(MockWebError, match="no generated mock web"):
        MockWeb(tmp_path)


def test_written_names_never_stand_for_two_organisations(key):
    from normalise.names import supplier_key

    keyed = key.suppliers.assign(key=key.suppliers["supplier_name"].map(supplier_key))
    registered = keyed[keyed["org_id"] != ""]
    owners = registered.groupby(["council_code", "key"])["org_id"].nunique()
    assert (owners == 1).all()
    variants = registered.groupby(["council_code", "org_id"])["supplier_name"].nunique()
    assert (variants > 1).any()  # the same organisation written more than one way by one council


def test_landing_pages_come_in_every_shape(site, web):
    sources = parse_sources(yaml.safe_load(site.sources_yaml(web.base_url)))
    pages = b"".join(
        _get(web, lp.url.removeprefix(web.base_url))[1]
        for s in sources.values()
        for lp in s.landing_pages
        if lp.dataset == "spend_over_500" and s.council_code not in site.down_councils
    )
    for marker in (
        b'<table class="downloads">',
        b'<ul class="list">',
        b"<details>",
        b'class="years"',
        b'href="?page=2"',
    ):
        assert marker in pages, marker
    assert b"supplier_spend_-_csv_file" in pages or b"_-_xlsx_file" in pages or b"_-_ods_file" in pages
    assert b"(CSV, " in pages and b"KB)" in pages
    assert b'href="/private/' in pages or b'href="../private/' in pages or b"private/drafts" in pages


def test_bare_links_leave_the_period_to_their_row_or_heading(site, web, key):
    from crawler.periods import read_clue

    bare = key.files[key.files["link_text"].isin(["CSV", "Excel", "ODS", "PDF", "Download"])]
    assert len(bare) > 20
    assert all(read_clue(text) is None for text in bare["link_text"])  # the link names no period at all
    sources = parse_sources(yaml.safe_load(site.sources_yaml(web.base_url)))
    pages = b"".join(
        _get(web, lp.url.removeprefix(web.base_url))[1]
        for s in sources.values()
        for lp in s.landing_pages
        if s.council_code not in site.down_councils  # its site is down
    )
    assert b'<table class="files">' in pages and b"<td>April 2024</td>" in pages  # a row per period


def test_asset_ids_and_encoded_names_are_served(web, key):
    assets = key.files[key.files["url_path"].str.contains(r"asset\.ashx\?id=\d+$")]
    encoded = key.files[key.files["url_path"].str.contains("%20over%20%C2%A3500%20-%20")]
    assert len(assets) > 5 and len(encoded) > 5
    for path in [*assets["url_path"][:5], *encoded["url_path"][:5]]:
        head, _ = _get(web, path, method="HEAD")
        assert head.status == 200 and head.getheader("Content-Type")


def test_ckan_pages_lead_from_resource_pages_to_the_files(web, key):
    dataset = json.loads(_get(web, "/ckan/api/3/action/package_list")[1])["result"][0]
    html = _get(web, f"/ckan/dataset/{dataset}")[1].decode()
    resource_pages = sorted(set(re.findall(rf'href="(/ckan/dataset/{dataset}/resource/\w+)"', html)))
    assert resource_pages and "/download/" not in html  # the listing links resource pages, not files
    downloads = set()
    for resource_page in resource_pages:
        downloads.update(
            re.findall(
                r'class="btn btn-primary resource-url-analytics" href="([^"]+)"', _get(web, resource_page)[1].decode()
            )
        )
    not_web = set(key.ignored["href"])  # a hostile resource (--faults) offers file:///etc/passwd
    assert downloads - not_web == set(
        key.files.loc[key.files["url_path"].str.startswith(f"/ckan/dataset/{dataset}/"), "url_path"]
    )


def test_documents_beside_the_data_are_served_and_in_the_key(site, web, key):
    documents = key.documents
    assert set(documents["kind"]) == {"policy", "guide", "definitions", "budget", "contracts"}
    spend = key.files[key.files["dataset"] == "spend_over_500"]
    own_site = set(spend.loc[~spend["url_path"].str.startswith("/ckan/"), "council_code"])
    assert set(documents["council_code"]) == own_site  # every council publishing on its own site
    assert not set(documents["url_path"]) & set(key.files["url_path"])
    for path in documents["url_path"]:
        assert _get(web, path, method="HEAD")[0].status == 200


def test_discovery_finds_every_data_link_and_no_document(site, key):
    from mockweb.offline import OfflineWeb, discover_council

    web = OfflineWeb(site.root)
    returned: dict = {}
    for entry in web.sources().values():
        returned.update(discover_council(web, entry))
    assert set(returned) == set(key.files["url_path"]) | set(key.disallowed["url_path"])
    for f in key.files.itertuples():
        link = returned[f.url_path]
        assert (link.dataset, link.period_start, link.period_end) == (f.dataset, f.period_start, f.period_end), f
        if not f.fault:
            assert link.format_guess in (f.format, "unknown"), f  # unknown: the crawl's HEAD decides
    unknown = [f for f in key.files.itertuples() if returned[f.url_path].format_guess == "unknown" and not f.fault]
    assert unknown and all("asset.ashx" in f.url_path for f in unknown)
