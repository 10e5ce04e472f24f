"""Supplier matching: evidence order, classification, and precision/recall on answer keys."""

from __future__ import annotations

import json
import random
from datetime import date
from itertools import islice
from pathlib import Path

import pandas as pd
import pytest

from mockweb.orgs import Organisation
from mockweb.registers import iter_filler, published_variant, write_registers
from normalise.matching.evaluation import evaluate
from normalise.matching.matcher import Matcher, MatcherError
from normalise.matching.overrides import OverridesError, load_overrides
from normalise.registers import load_registers

SHARED = Path(__file__).resolve().parents[2] / "shared"
CCNI = SHARED / "realdata" / "registers" / "ccni__ni-roc-2020-06-30.csv"
AS_OF = date(2026, 11, 1)

KNOWN = [
    Organisation(
        "GB-COH-01234567",
        "Acme Widgets Limited",
        "company",
        "companies",
        company_number="01234567",
        previous_names=("Acme Sprockets Limited",),
    ),
    Organisation(
        "GB-COH-08888888",
        "Hillside Youth CIC",
        "cic",
        "companies",
        company_number="08888888",
        category="Community Interest Company",
    ),
    Organisation(
        "GB-CHC-1012345",
        "Leeds Food Aid Network",
        "charitable_company",
        "ccew",
        company_number="07654321",
        charity_number="1012345",
    ),
    Organisation("GB-CHC-1190001", "Riverside Community Cafe", "cio", "ccew", charity_number="1190001", category="CIO"),
    Organisation("GB-SC-SC001234", "Glasgow Tenants Together", "charity", "oscr", charity_number="SC001234"),
    Organisation(
        "GB-MPR-30777R",
        "Bristol Bike Co-operative Limited",
        "mutual",
        "mutuals",
        mutual_number="30777R",
        company_number="IP30777R",
        category="Co-operative Society",
    ),
    Organisation("GB-COH-02222222", "Northern Roofing Limited", "company", "companies", company_number="02222222"),
    Organisation(
        "GB-COH-03333333", "Northern Roofing Services Limited", "company", "companies", company_number="03333333"
    ),
    # The same name, registers a region apart: two bodies.
    Organisation(
        "GB-COH-04444444", "Summit Care Limited", "company", "companies", company_number="04444444", postcode="LS6 2QT"
    ),
    Organisation("GB-CHC-1144444", "Summit Care", "charity", "ccew", charity_number="1144444", postcode="EX4 4QJ"),
    # A charitable company whose charity entry gives no company number: one body by its name.
    Organisation(
        "GB-COH-05151515",
        "Hartley Hospice Trust Limited",
        "company",
        "companies",
        company_number="05151515",
        category="PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)",
        postcode="HX1 2AB",
    ),
    Organisation(
        "GB-CHC-1151515", "Hartley Hospice Trust", "charity", "ccew", charity_number="1151515", postcode="HX3 9ZZ"
    ),
]


def _sample_organisations(count: int, seed: int) -> list[Organisation]:
    """Register organisations for an answer key, drawn like the filler (kept apart by seed)."""
    shares = {"companies": 0.75, "ccew": 0.15, "oscr": 0.05, "ccni": 0.03, "mutuals": 0.02}
    return [
        org
        for register, share in shares.items()
        for org in islice(iter_filler(register, int(count * share), seed=seed, as_of=AS_OF), None)
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, list[Organisation]]:
    orgs = KNOWN + _sample_organisations(600, seed=99)
    files = write_registers(tmp_path_factory.mktemp("files"), orgs, filler=20_000, seed=3, as_of=AS_OF)
    out = tmp_path_factory.mktemp("registers")
    load_registers(
        out,
        companies=[str(files["companies"])],
        charities=[str(files["ccew_charity"]), str(files["ccew_other_names"])],
        oscr=[str(files["oscr"]), str(files["oscr_removed"])],
        ccni=[str(files["ccni"])],
        mutuals=[str(files["mutuals"])],
    )
    return out, orgs


@pytest.fixture(scope="module")
def matcher(world) -> Matcher:
    return Matcher.from_dir(world[0])


def _one(matcher: Matcher, name: str, **published: str) -> dict:
    return matcher.match(pd.DataFrame([{"supplier_name": name, **published}])).iloc[0].to_dict()


def test_precision_and_recall_on_name_variants(matcher, world):
    rng = random.Random(1)
    rows = {}
    for org in world[1][len(KNOWN) :]:
        if org.status == "active":
            rows.setdefault(published_variant(org.name, rng), org.org_id)
            rows.setdefault(org.name.upper(), org.org_id)
    truth = pd.DataFrame({"name": list(rows), "org_id": list(rows.values())})
    got = matcher.match(truth.rename(columns={"name": "supplier_name"})[["supplier_name"]])
    metrics = evaluate(pd.DataFrame({"name": truth.name, "org_id": got.org_id}), truth)
    assert metrics["names"] > 900
    assert metrics["precision"] >= 0.98, metrics
    assert metrics["recall"] >= 0.95, metrics


@pytest.mark.slow
def test_answer_key_of_the_mock_web(tmp_path):
    generate = pytest.importorskip("mockweb.generate").generate
    answers = pytest.importorskip("mockweb.answers")
    generate(tmp_path / "web", councils=12)
    registers = tmp_path / "web" / "registers"
    load_registers(
        tmp_path / "parquet",
        companies=[str(p) for p in registers.glob("BasicCompanyData*")],
        charities=[str(p) for p in registers.glob("publicextract.*.zip")],
        oscr=[str(p) for p in registers.glob("CharityExport*")],
        ccni=[str(p) for p in registers.glob("ccni*")],
        mutuals=[str(p) for p in registers.glob("mutuals*")],
        links=[str(p) for p in registers.glob("*links*")],
    )
    key = answers.load_answer_key(tmp_path / "web").suppliers
    key = key[key.org_type != "individual_or_redacted"]
    got = Matcher.from_dir(tmp_path / "parquet").match(key[["supplier_name"]])
    metrics = evaluate(
        pd.DataFrame({"name": key.supplier_name, "org_id": got.org_id}), key.rename(columns={"supplier_name": "name"})
    )
    assert metrics["with_organisation"] > 500
    assert metrics["precision"] >= 0.98, metrics
    assert metrics["recall"] >= 0.95, metrics
    assert (got.org_type.to_numpy() == key.org_type.to_numpy()).mean() >= 0.95
    # Bodies on two registers (the charity and its company, English and Scottish entries) are one.
    dual = (key.org_type == "charitable_company").to_numpy()
    assert dual.sum() > 50 and (got.org_id.to_numpy()[dual] == key.org_id.to_numpy()[dual]).mean() >= 0.97
    right = got.org_id.to_numpy() == key.org_id.to_numpy()
    assert (got.sector.to_numpy()[right] == key.sector.to_numpy()[right]).mean() >= 0.98
    # Size: exact where the accounts can tell. A medium company filing full accounts reads as large,
    # a micro company filing small-company accounts as small; no other confusion.
    bands = pd.DataFrame({"truth": key.size_band.to_numpy()[right], "got": got.size_band.fillna("").to_numpy()[right]})
    known = bands[(bands.truth != "") & (bands.got != "unknown")]
    assert (known.truth == known.got).mean() >= 0.85, pd.crosstab(bands.truth, bands.got)
    confused = set(zip(known.truth[known.truth != known.got], known.got[known.truth != known.got]))
    assert confused <= {("medium", "large"), ("micro", "small")}, confused


def test_evidence_order_and_classification(matcher):
    assert _one(matcher, "ACME WIDGETS LTD")["org_id"] == "GB-COH-01234567"
    assert _one(matcher, "Acme Sprockets Ltd")["org_id"] == "GB-COH-01234567"  # a previous name
    cic = _one(matcher, "Hillside Youth C.I.C.")
    assert (cic["org_type"], cic["match_method"], cic["match_score"]) == ("cic", "exact", 100.0)
    typo = _one(matcher, "Acme Widegts Limited")
    assert (typo["org_id"], typo["match_method"]) == ("GB-COH-01234567", "fuzzy") and 90 <= typo["match_score"] < 100
    truncated = _one(matcher, "LEEDS FOOD AID NETWOR")
    assert truncated["org_id"] == "GB-CHC-1012345" and truncated["org_type"] == "charitable_company"
    assert _one(matcher, "Riverside Community Cafe")["org_type"] == "cio"
    assert _one(matcher, "Glasgow Tenants Together")["org_id"] == "GB-SC-SC001234"
    assert _one(matcher, "Birmingham City Council")["org_id"] == "GB-LAE-BIR"
    assert _one(matcher, "Birmingham City Council")["org_type"] == "public_body"


def test_published_numbers_beat_names_and_links_collapse(matcher):
    by_company = _one(matcher, "LFAN", company_number_published="7654321")
    assert (by_company["org_id"], by_company["match_method"]) == ("GB-CHC-1012345", "published_id")
    assert _one(matcher, "Leeds Food Aid", charity_number_published="Charity No. 1012345")["org_id"] == "GB-CHC-1012345"
    society = _one(matcher, "Bristol Bike Coop", company_number_published="IP30777R")
    assert (society["org_id"], society["org_type"]) == ("GB-MPR-30777R", "mutual")
    # A number naming a body with a wholly different name is not trusted.
    assert _one(matcher, "Acme Widgets Ltd", charity_number_published="1190001")["org_id"] == "GB-COH-01234567"


def test_people_redactions_and_ambiguity(matcher):
    assert _one(matcher, "REDACTED PERSONAL DATA")["org_type"] == "individual_or_redacted"
    assert _one(matcher, "J Smith T/A Acme Widgets")["org_type"] == "individual_or_redacted"
    nothing = _one(matcher, "Zzyzx Quantum Llamas")
    assert (nothing["org_id"], nothing["org_type"], nothing["match_method"]) == (None, "unmatched", "none")
    assert _one(matcher, "NORTHERN ROOFING SERV")["org_id"] == "GB-COH-03333333"  # cut short, one candidate
    ambiguous = _one(matcher, "SUMMIT CARE")  # a company and an unrelated charity share the name
    assert (ambiguous["org_id"], ambiguous["org_type"]) == (None, "unmatched")
    assert {a["org_id"] for a in json.loads(ambiguous["alternatives"])} == {"GB-COH-04444444", "GB-CHC-1144444"}


def test_a_charity_and_its_company_found_by_name_are_one_body(matcher):
    for name in ("HARTLEY HOSPICE TRUST LTD", "Hartley Hospice Trust"):
        body = _one(matcher, name)
        assert (body["org_id"], body["org_type"], body["match_method"]) == (
            "GB-CHC-1151515",
            "charitable_company",
            "exact",
        )
        assert (body["company_number"], body["linked_by"], body["sector"]) == ("05151515", "same_name", "vcse")
    by_number = _one(matcher, "Hartley Hospice", company_number_published="5151515")
    assert (by_number["org_id"], by_number["match_method"]) == ("GB-CHC-1151515", "published_id")
    published = _one(matcher, "Leeds Food Aid Network")  # the register gives this charity's company
    assert (published["company_number"], published["linked_by"]) == ("07654321", "register")
    single = _one(matcher, "Acme Widgets Ltd")
    assert (single["company_number"], single["linked_by"], single["sector"]) == ("01234567", None, "private")


def test_redaction_labels_are_whole_names_and_published_ids_come_first(tmp_path):
    from normalise.redaction import is_redacted

    firms = [
        Organisation(
            "GB-COH-05555555", "Confidential Shredding Limited", "company", "companies", company_number="05555555"
        ),
        Organisation(
            "GB-COH-06666666", "Personal Data Solutions Limited", "company", "companies", company_number="06666666"
        ),
    ]
    files = write_registers(tmp_path / "files", firms, filler=300, seed=5, as_of=AS_OF)
    load_registers(tmp_path / "registers", companies=[str(files["companies"])])
    names = pd.DataFrame(
        {
            "supplier_name": [
                "Confidential Shredding Ltd",
                "PERSONAL DATA SOLUTIONS LTD",
                "CONFIDENTIAL",
                "Redacted - Personal Data",
                "Confidential",
            ],
            "company_number_published": [None, None, None, None, "5555555"],
        }
    )
    got = Matcher.from_dir(tmp_path / "registers").match(names)
    assert got.org_id.tolist() == ["GB-COH-05555555", "GB-COH-06666666", None, None, "GB-COH-05555555"]
    assert got.org_type.tolist() == [
        "company",
        "company",
        "individual_or_redacted",
        "individual_or_redacted",
        "company",
    ]
    assert got.match_method.tolist()[-1] == "published_id"
    # The matcher and the spend table's redacted flag agree on names without published numbers.
    without_ids = names.company_number_published.isna()
    assert (got.org_type == "individual_or_redacted")[without_ids].tolist() == [
        is_redacted(n) for n in names.supplier_name[without_ids]
    ]


def test_overrides_win_and_row_order_is_kept(world, tmp_path):
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(
        "supplier_name,org_id\nAcme Widgets Ltd,GB-CHC-1190001\nGlasgow Tenants Together,\n"
        "Leeds Teaching Hospitals,GB-NHS-RR8\n"
    )
    matcher = Matcher.from_dir(world[0], overrides=overrides)
    names = pd.DataFrame(
        {
            "supplier_name": [
                "ACME WIDGETS LIMITED",
                "Glasgow Tenants Together",
                "Hillside Youth CIC",
                "ACME WIDGETS LIMITED",
                None,
            ]
        },
        index=[10, 11, 12, 13, 14],
    )
    got = matcher.match(names)
    assert list(got.index) == [10, 11, 12, 13, 14]
    assert got.org_id.tolist()[:3] == ["GB-CHC-1190001", None, "GB-COH-08888888"]
    assert got.match_method.tolist() == ["override", "override", "exact", "override", "none"]
    assert got.org_type[10] == "cio"
    nhs = _one(matcher, "LEEDS TEACHING HOSPITALS")
    assert (nhs["org_id"], nhs["org_type"], nhs["match_method"]) == ("GB-NHS-RR8", "public_body", "override")


def test_bad_overrides_and_registers_are_named(tmp_path):
    bad = tmp_path / "o.csv"
    bad.write_text("name,org\nx,y\n")
    with pytest.raises(OverridesError, match="supplier_name,org_id"):
        load_overrides(bad)
    bad.write_text("supplier_name,org_id\nAcme,12345\n")
    with pytest.raises(OverridesError, match="line 2"):
        load_overrides(bad)
    with pytest.raises(MatcherError, match="no register Parquet"):
        Matcher.from_dir(tmp_path)


def test_real_ccni_names_match_themselves(tmp_path):
    if not CCNI.exists():
        pytest.skip("../shared/realdata is absent")
    load_registers(tmp_path, ccni=[str(CCNI)])
    orgs = pd.read_parquet(tmp_path / "ccni.parquet")
    sample = orgs.sample(600, random_state=4)
    variants = pd.concat(
        [
            pd.DataFrame({"supplier_name": sample.name.str.upper(), "org_id": sample.org_id}),
            pd.DataFrame({"supplier_name": sample.name.str.slice(0, 30), "org_id": sample.org_id}),
            pd.DataFrame(
                {"supplier_name": sample.name.str.replace("Limited", "Ltd", case=False), "org_id": sample.org_id}
            ),
        ]
    )
    got = Matcher.from_dir(tmp_path).match(variants[["supplier_name"]])
    right = got.org_id.to_numpy() == variants.org_id.to_numpy()
    wrong = got.org_id.notna().to_numpy() & ~right
    assert right.mean() >= 0.95, variants[~right].head(20)
    assert wrong.sum() <= len(variants) * 0.01
    limited = sample[sample.name.str.contains("Limited")]
    assert len(limited) > 20
    ltd = Matcher.from_dir(tmp_path).match(pd.DataFrame({"supplier_name": limited.name.str.replace("Limited", "Ltd")}))
    assert (ltd.org_id.to_numpy() == limited.org_id.to_numpy()).mean() >= 0.97


def test_match_csv_reconciles_a_users_list(world, tmp_path):
    from normalise.matching.matcher import RECONCILED_COLUMNS, match_csv

    (tmp_path / "names.csv").write_text("name,charity_number\nACME WIDGETS LTD,\nLFAN,1012345\n")
    match_csv(tmp_path / "names.csv", world[0], tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv")
    assert out.columns.tolist() == RECONCILED_COLUMNS
    assert out.name.tolist() == ["ACME WIDGETS LTD", "LFAN"]
    assert out.org_id.tolist() == ["GB-COH-01234567", "GB-CHC-1012345"]
    assert out.match_method.tolist() == ["exact", "published_id"]
    (tmp_path / "first.csv").write_text("supplier\nACME WIDGETS LTD\n")
    assert match_csv(tmp_path / "first.csv", world[0]).org_id.tolist() == ["GB-COH-01234567"]
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(MatcherError, match="unreadable CSV"):
        match_csv(tmp_path / "empty.csv", world[0])


@pytest.mark.parametrize(
    ("header", "encoding"),
    [("Name,Charity_Number", "cp1252"), ("NAME,CHARITY_NUMBER", "utf-16"), ("Notes,Name,charity_number", "utf-8-sig")],
)
def test_match_csv_finds_the_name_column_in_any_case_and_encoding(world, tmp_path, header, encoding):
    from normalise.matching.matcher import match_csv

    extra = "x," if header.startswith("Notes") else ""
    lines = [header, f"{extra}Riverside Community Café,", f"{extra}Acme Widgets Ltd,", f"{extra}LFAN,1012345"]
    (tmp_path / "names.csv").write_bytes("\r\n".join(lines).encode(encoding))
    got = match_csv(tmp_path / "names.csv", world[0])
    assert got.name.tolist() == ["Riverside Community Café", "Acme Widgets Ltd", "LFAN"]
    assert got.org_id.tolist() == ["GB-CHC-1190001", "GB-COH-01234567", "GB-CHC-1012345"]
    assert got.match_method.tolist() == ["exact", "exact", "published_id"]  # the charity number column was found


def test_match_csv_refuses_a_zip_rather_than_unpacking_it(world, tmp_path):
    import zipfile

    from normalise.matching.matcher import match_csv

    zipped = tmp_path / "names.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("names.csv", "name\nACME WIDGETS LTD\n")
    with pytest.raises(MatcherError, match=r"names\.zip: unreadable CSV \(this is a zip file"):
        match_csv(zipped, world[0])
    (tmp_path / "names.csv").write_bytes(b"name\n" + bytes(range(256)))
    with pytest.raises(MatcherError, match="unreadable CSV .*binary"):
        match_csv(tmp_path / "names.csv", world[0])
