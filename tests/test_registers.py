"""Register writers and loaders: synthetic files in the real formats round-trip to org-ids."""

from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from mockweb.orgs import Organisation
from mockweb.registers import COMPANIES_HOUSE_HEADER, write_registers
from normalise.registers import RegisterFileError, load_registers

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL_REGISTERS = SHARED / "realdata" / "registers"
AS_OF = date(2026, 11, 1)

ORGS = [
    Organisation(
        "GB-COH-01234567",
        "Acme Widgets Limited",
        "company",
        "companies",
        company_number="01234567",
        category="Private Limited Company",
        previous_names=("Acme Sprockets Limited",),
    ),
    Organisation(
        "GB-COH-SC123456",
        "Glen Bright CIC",
        "cic",
        "companies",
        company_number="SC123456",
        category="Community Interest Company",
    ),
    Organisation(
        "GB-CHC-1012345",
        "Leeds Food Aid Network",
        "charitable_company",
        "ccew",
        company_number="07654321",
        charity_number="1012345",
        other_names=("LFAN",),
        previous_names=("Leeds Food Bank",),
    ),
    Organisation("GB-CHC-1190001", "Riverside Community Café", "cio", "ccew", charity_number="1190001", category="CIO"),
    Organisation("GB-CHC-1012345-1", "Leeds Food Aid Network Endowment", "charity", "ccew", charity_number="1012345-1"),
    Organisation(
        "GB-SC-SC001234", "Glasgow Tenants Together", "charity", "oscr", charity_number="SC001234", other_names=("GTT",)
    ),
    Organisation(
        "GB-SC-SC009999", "Dundee Old Mill Trust", "charity", "oscr", charity_number="SC009999", status="removed"
    ),
    Organisation(
        "GB-NIC-100777",
        "Fírinne Belfast",
        "charitable_company",
        "ccni",
        charity_number="NIC100777",
        company_number="NI055555",
    ),
    Organisation(
        "GB-MPR-30777R",
        "Bristol Bike Co-operative Limited",
        "mutual",
        "mutuals",
        mutual_number="30777R",
        company_number="IP30777R",
        category="Co-operative Society",
    ),
]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    return write_registers(tmp_path_factory.mktemp("files"), ORGS, filler=3000, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def loaded(written, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parquet")
    counts = load_registers(
        out,
        companies=[str(written["companies"])],
        charities=[str(written["ccew_charity"]), str(written["ccew_other_names"])],
        oscr=[str(written["oscr"]), str(written["oscr_removed"])],
        ccni=[str(written["ccni"])],
        mutuals=[str(written["mutuals"])],
    )
    assert counts["companies"] > 2500 and counts["public_bodies"] > 300
    return out


def _orgs(out: Path) -> pd.DataFrame:
    return pd.concat(
        [pd.read_parquet(p) for p in out.glob("*.parquet") if "_" not in p.stem or p.stem == "public_bodies"]
    )


def _companies_lines(written) -> tuple[str, str]:
    with zipfile.ZipFile(written["companies"]) as archive:
        (member,) = archive.namelist()
        first, second = archive.read(member).decode().splitlines()[:2]
    return first, second


def test_companies_house_file_has_the_real_header(written):
    if not REAL_REGISTERS.exists():
        pytest.skip("../shared/realdata/registers is not beside this clone")
    real = (REAL_REGISTERS / "companieshouse__basic-sample.csv").read_text().splitlines()[0]
    assert _companies_lines(written)[0] == real


def test_companies_house_rows_have_55_quoted_fields(written):
    first, second = _companies_lines(written)
    assert first.split(",") == COMPANIES_HOUSE_HEADER and len(COMPANIES_HOUSE_HEADER) == 55
    assert second.startswith('"') and second.count('","') == 54


def test_every_organisation_comes_back_with_its_org_id_and_type(loaded):
    orgs = _orgs(loaded).set_index("org_id")
    assert orgs.index.is_unique
    expected = {o.org_id: o.org_type for o in ORGS}
    assert orgs.loc[list(expected), "org_type"].to_dict() == expected
    assert orgs.loc["GB-SC-SC009999", "active"] == False  # noqa: E712 (numpy bool)
    assert orgs.loc["GB-NIC-100777", "name"] == "Fírinne Belfast"  # cp1252 file decoded
    assert str(orgs.loc["GB-CHC-1190001", "registered_on"]) != "None"
    assert orgs.loc["GB-COH-SC123456", "category"] == "Community Interest Company"


def test_names_and_links_are_kept(loaded):
    names = pd.concat(pd.read_parquet(p) for p in loaded.glob("*_names.parquet"))
    by_org = names.groupby("org_id")["name"].apply(set)
    assert {"ACME WIDGETS LIMITED", "ACME SPROCKETS LIMITED"} <= by_org["GB-COH-01234567"]
    assert {"Leeds Food Aid Network", "LFAN", "Leeds Food Bank"} <= by_org["GB-CHC-1012345"]
    assert "GTT" in by_org["GB-SC-SC001234"]
    assert names.loc[names.name == "ACME WIDGETS LIMITED", "key"].tolist() == ["acme widgets"]
    links = pd.concat(pd.read_parquet(p) for p in loaded.glob("*_links.parquet"))
    pairs = set(zip(links.org_id, links.linked_org_id, links.relation))
    assert ("GB-CHC-1012345", "GB-COH-07654321", "company") in pairs
    assert ("GB-NIC-100777", "GB-COH-NI055555", "company") in pairs
    assert ("GB-COH-IP30777R", "GB-MPR-30777R", "same_as_mutual") in pairs
    assert ("GB-CHC-1012345-1", "GB-CHC-1012345", "linked_to") in pairs


def test_filler_is_deterministic_and_avoids_the_given_names(tmp_path, written):
    again = write_registers(tmp_path, ORGS, filler=3000, seed=7, as_of=AS_OF)
    assert again["companies"].read_bytes() == written["companies"].read_bytes()
    with zipfile.ZipFile(written["companies"]) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    assert text.count("ACME WIDGETS") == 1


def test_loads_over_http(written, tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(written["mutuals"].parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{written['mutuals'].name}"
        counts = load_registers(tmp_path, mutuals=[url])
    finally:
        server.shutdown()
    assert counts["mutuals"] >= 1
    assert "GB-MPR-30777R" in set(pd.read_parquet(tmp_path / "mutuals.parquet").org_id)


def test_a_wrong_file_is_named_and_nothing_is_replaced(written, tmp_path):
    with pytest.raises(RegisterFileError, match="mutuals-2026-11-01.csv.*not a companies register"):
        load_registers(tmp_path, companies=[str(written["mutuals"])])
    assert not (tmp_path / "companies.parquet").exists()
    with pytest.raises(RegisterFileError, match="no such file"):
        load_registers(tmp_path, oscr=[str(tmp_path / "missing.zip")])


def test_real_companies_house_sample_loads(tmp_path):
    if not REAL_REGISTERS.exists():
        pytest.skip("../shared/realdata is absent")
    counts = load_registers(tmp_path, companies=[str(REAL_REGISTERS / "companieshouse__basic-sample.csv")])
    assert counts["companies"] == 31
    orgs = pd.read_parquet(tmp_path / "companies.parquet")
    assert "GB-COH-08209948" in set(orgs.org_id)
    assert orgs.registered_on.notna().all()
    assert set(orgs.org_id.str.len()) == {15}


def test_real_ccni_register_loads(tmp_path):
    if not REAL_REGISTERS.exists():
        pytest.skip("../shared/realdata is absent")
    counts = load_registers(tmp_path, ccni=[str(REAL_REGISTERS / "ccni__ni-roc-2020-06-30.csv")])
    assert counts["ccni"] == 6565
    orgs = pd.read_parquet(tmp_path / "ccni.parquet").set_index("org_id")
    assert orgs.loc["GB-NIC-100002", "name"] == "Cancer Lifeline"
    assert orgs.loc["GB-NIC-100002", "postcode"] == "BT14 7PJ"
    assert orgs.name.str.contains("Fírinne").any()


def test_ccew_directory_and_broken_files(written, tmp_path):
    extract = tmp_path / "ccew"
    extract.mkdir()
    for kind in ("ccew_charity", "ccew_other_names"):
        (extract / written[kind].name).write_bytes(written[kind].read_bytes())
    (extract / "README.md").write_text("not a register table")
    counts = load_registers(tmp_path / "out", charities=[str(extract)])
    assert counts["ccew"] > 100
    names = pd.read_parquet(tmp_path / "out" / "ccew_names.parquet")
    assert "LFAN" in set(names.name)
    broken = tmp_path / "BasicCompanyData-part1.zip"
    broken.write_bytes(written["companies"].read_bytes()[:5000])
    with pytest.raises(RegisterFileError, match="BasicCompanyData-part1.zip: not a readable zip"):
        load_registers(tmp_path / "out", companies=[str(broken)])


def test_sources_without_a_register_table_keep_the_loaded_register(written, tmp_path):
    out = tmp_path / "out"
    good = load_registers(out, charities=[str(written["ccew_charity"]), str(written["ccew_other_names"])])["ccew"]
    before = (out / "ccew.parquet").read_bytes()
    junk = tmp_path / "junk.zip"
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("readme.txt", "About this extract\nSee the data definitions.\n")
    with pytest.raises(RegisterFileError, match=r"junk\.zip: no ccew register file found.*readme\.txt"):
        load_registers(out, charities=[str(junk)])
    names_only = tmp_path / "names_only"
    names_only.mkdir()
    (names_only / written["ccew_other_names"].name).write_bytes(written["ccew_other_names"].read_bytes())
    with pytest.raises(RegisterFileError, match="no ccew organisations found"):
        load_registers(out, charities=[str(names_only)])
    assert (out / "ccew.parquet").read_bytes() == before
    assert len(pd.read_parquet(out / "ccew.parquet")) == good > 100
    assert not list(out.glob("*.partial"))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (bytes(range(256)) * 20, "binary data, not a CSV"),
        (b"CompanyName,CompanyNumber\rAcme Ltd,01234567\rBeta Ltd,07654321\r", "not a readable CSV header"),
    ],
    ids=["binary", "bare-carriage-returns"],
)
def test_a_non_csv_file_is_a_register_file_error(content, reason, tmp_path):
    bad = tmp_path / "BasicCompanyData.csv"
    bad.write_bytes(content)
    with pytest.raises(RegisterFileError, match=f"BasicCompanyData.csv: {reason}"):
        load_registers(tmp_path / "out", companies=[str(bad)])
    assert not (tmp_path / "out" / "companies.parquet").exists()
