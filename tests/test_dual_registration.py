"""Bodies on two registers: link tables, same-name pairs, and an evaluation on real register rows.

The real-rows evaluation uses the Charity Commission for Northern Ireland's register as it was
published (../shared/realdata/registers), and writes Companies House rows (in the real bulk format)
for the companies a real cross-walk (drkane's charity-company-numbers, from find-that-charity)
says those charities are; CCNI's own file gives the company number of almost none of them.
Councils' spellings of both names are drawn with ``published_variant``; a few thousand synthetic
companies are added around them.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from mockweb.orgs import Organisation
from mockweb.registers import published_variant, write_link_table, write_registers
from normalise.matching.evaluation import evaluate
from normalise.matching.matcher import Matcher
from normalise.registers import RegisterFileError, load_registers

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "registers"
CCNI = REAL / "ccni__ni-roc-2020-06-30.csv"
COMPANY_NUMBERS = REAL / "drkane__charity-company-numbers.csv"
DUAL_UK = REAL / "drkane__dual-registered-uk-charities.csv"
AS_OF = date(2026, 11, 1)
GUARANTEE = "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)"


def _org(org_id: str, name: str, register: str, **kw: object) -> Organisation:
    org_type = {"companies": "company", "ccew": "charity", "oscr": "charity"}[register]
    return Organisation(org_id, name, org_type, register, **kw)  # type: ignore[arg-type]


# --- link tables and the same-name rule on a small synthetic world ------------------------------

WORLD = [
    # 1. A charity and its company, no link anywhere but the name.
    _org(
        "GB-CHC-1100001",
        "Denton Burn Community Association",
        "ccew",
        charity_number="1100001",
        postcode="NE15 7HD",
        size_band="unknown",  # no annual return yet: the charity register gives no income
    ),
    _org(
        "GB-COH-08591698",
        "Denton Burn Community Association",
        "companies",
        company_number="08591698",
        category=GUARANTEE,
        postcode="NE4 5AB",
        account_category="MICRO ENTITY",
        sic_codes=("94990",),
    ),
    # 2. One name, two registers far apart: two bodies.
    _org("GB-CHC-1100002", "Riverside Arts", "ccew", charity_number="1100002", postcode="TR1 2AA"),
    _org("GB-COH-07000002", "Riverside Arts Limited", "companies", company_number="07000002", postcode="LS1 1AA"),
    # 3. One name, but the company is in liquidation: not paired with the live charity.
    _org("GB-CHC-1100003", "Heath Youth Project", "ccew", charity_number="1100003", postcode="B1 1AA"),
    _org(
        "GB-COH-07000003",
        "Heath Youth Project Limited",
        "companies",
        company_number="07000003",
        postcode="B2 2BB",
        status="liquidation",
    ),
    # 4. A Scottish company and an English charity of one name: other jurisdictions, not paired.
    _org("GB-CHC-1100004", "Kestrel Carers Centre", "ccew", charity_number="1100004", postcode="CA1 1AA"),
    _org(
        "GB-COH-SC400004", "Kestrel Carers Centre Limited", "companies", company_number="SC400004", postcode="CA2 2BB"
    ),
    # 5. Two charities and one company of one name: ambiguous, left alone.
    _org("GB-CHC-1100005", "Village Hall Trust", "ccew", charity_number="1100005", postcode="OX1 1AA"),
    _org("GB-CHC-1100006", "Village Hall Trust", "ccew", charity_number="1100006", postcode="OX9 9ZZ"),
    _org("GB-COH-07000005", "Village Hall Trust Limited", "companies", company_number="07000005", postcode="OX2 2BB"),
    # 6. Different names, joined only by a link table; and a Scottish twin under another name.
    _org("GB-CHC-263710", "Shelter", "ccew", charity_number="263710", postcode="EC1V 9HU", income=60_000_000),
    _org(
        "GB-COH-01038133",
        "Shelter, National Campaign for Homeless People Limited",
        "companies",
        company_number="01038133",
        postcode="EC1V 9HU",
        account_category="FULL",
    ),
    _org("GB-SC-SC002327", "Shelter Scotland", "oscr", charity_number="SC002327", postcode="EH1 1AA"),
]
TABLE = [
    (
        "GB-CHC-263710",
        "GB-COH-01038133",
        "SHELTER, NATIONAL CAMPAIGN FOR HOMELESS PEOPLE LIMITED",
        "Company Numbers for Charities",
    ),
    ("GB-SC-SC002327", "GB-CHC-263710", "Shelter", "Charity Registered in Scotland and England & Wales"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = write_registers(tmp_path_factory.mktemp("files"), WORLD, filler=2000, seed=21, as_of=AS_OF)
    table = write_link_table(files["companies"].parent / "links.csv", TABLE)
    out = tmp_path_factory.mktemp("registers")
    counts = load_registers(
        out,
        companies=[str(files["companies"])],
        charities=[str(files["ccew_charity"]), str(files["ccew_other_names"])],
        oscr=[str(files["oscr"]), str(files["oscr_removed"])],
        links=[str(table)],
    )
    assert counts["link_tables"] == 2
    return out


def _match(registers: Path, *names: str) -> pd.DataFrame:
    return Matcher.from_dir(registers).match(pd.DataFrame({"supplier_name": list(names)})).set_index(pd.Index(names))


def test_same_name_pairs_are_linked_only_without_evidence_against(world: Path) -> None:
    links = pd.read_parquet(world / "same_name_links.parquet")
    pairs = set(zip(links.org_id, links.linked_org_id))
    assert ("GB-CHC-1100001", "GB-COH-08591698") in pairs
    unrelated = {"GB-CHC-1100002", "GB-CHC-1100003", "GB-CHC-1100004", "GB-CHC-1100005", "GB-CHC-1100006"}
    assert not unrelated & set(links.org_id)
    assert set(links.method) == {"same_name"} and links.source.str.contains("England and Wales").all()


def test_a_same_name_pair_is_reported_as_the_charity_with_its_company(world: Path) -> None:
    got = _match(world, "DENTON BURN COMMUNITY ASSOCIATION LTD", "Denton Burn Community Assoc")
    assert set(got.org_id) == {"GB-CHC-1100001"}
    row = got.iloc[0]
    assert (row.org_type, row.company_number, row.linked_by) == ("charitable_company", "08591698", "same_name")
    assert (row.sector, row.size_band) == ("vcse", "micro")  # the company's accounts band: no income given


def test_evidence_against_keeps_bodies_apart(world: Path) -> None:
    got = _match(world, "Riverside Arts", "Heath Youth Project", "KESTREL CARERS CENTRE LTD", "Village Hall Trust")
    assert got.loc["Riverside Arts", "org_id"] is None  # two bodies: the name alone cannot choose
    assert got.loc["Heath Youth Project", "org_id"] == "GB-CHC-1100003"  # the active one of the two
    assert got.loc["Heath Youth Project", "linked_by"] is None
    assert got.loc["KESTREL CARERS CENTRE LTD", "org_id"] is None
    assert got.loc["Village Hall Trust", "org_id"] is None


def test_a_link_table_joins_other_names_and_registers(world: Path) -> None:
    got = _match(world, "SHELTER NATIONAL CAMPAIGN FOR HOMELESS PEOPLE LTD", "Shelter Scotland", "SHELTER")
    assert set(got.org_id) == {"GB-CHC-263710"}
    company = got.iloc[0]
    assert (company.org_type, company.company_number, company.linked_by) == (
        "charitable_company",
        "01038133",
        "link_table",
    )
    assert company.size_band == "large"  # the charity's income, before the company's accounts


def test_link_tables_are_checked(world: Path, tmp_path: Path) -> None:
    bad = tmp_path / "links.csv"
    bad.write_text("charity,company\n1,2\n")
    with pytest.raises(RegisterFileError, match="not a link table"):
        load_registers(world, links=[str(bad)])
    bad.write_text("org_id_a,org_id_b\n12345,nonsense\n")
    with pytest.raises(RegisterFileError, match="no rows with two org-ids"):
        load_registers(world, links=[str(bad)])
    assert len(pd.read_parquet(world / "link_tables_links.parquet")) == 2  # the loaded table is kept


def test_same_name_links_can_be_turned_off(world: Path, tmp_path: Path) -> None:
    copy = tmp_path / "registers"
    copy.mkdir()
    for path in world.glob("*.parquet"):
        (copy / path.name).write_bytes(path.read_bytes())
    counts = load_registers(copy, same_name_links=False)
    assert "same_name_links" not in counts and not (copy / "same_name_links.parquet").exists()
    assert _match(copy, "Denton Burn Community Association").org_id.iloc[0] is None  # ambiguous again


# --- real register rows -------------------------------------------------------------------------


def _real_world(tmp: Path, *, same_name: bool, table: bool) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Real CCNI rows, Companies House rows for their companies, and names as councils write them."""
    ccni = pd.read_csv(CCNI, encoding="cp1252", dtype=str, keep_default_na=False)
    ccni["org_id"] = "GB-NIC-" + ccni["Reg charity number"].str.strip()
    pairs = pd.read_csv(COMPANY_NUMBERS, dtype=str, keep_default_na=False)
    pairs = pairs[pairs.org_id_a.isin(ccni.org_id) & pairs.org_id_b.str.startswith("GB-COH-")]
    pairs = pairs.drop_duplicates("org_id_b")  # a few companies are listed for two charities
    companies = [
        Organisation(
            b, name, "company", "companies", company_number=b.removeprefix("GB-COH-"), category=GUARANTEE, postcode=""
        )
        for b, name in zip(pairs.org_id_b, pairs.org_name)
    ]
    files = tmp / "files"
    if not files.exists():
        write_registers(files, companies, filler={"companies": 5000}, seed=5, as_of=AS_OF)
    registers = tmp / f"registers-{same_name}-{table}"
    load_registers(
        registers,
        companies=[str(next(files.glob("BasicCompanyData*")))],
        ccni=[str(CCNI)],
        links=[str(COMPANY_NUMBERS)] if table else (),
        same_name_links=same_name,
    )
    rng = random.Random(10)
    live = ccni[ccni.Status != "Removed"]
    written = {published_variant(n, rng): o for n, o in zip(live["Charity name"], live.org_id)}
    written |= {n.upper(): o for n, o in zip(live["Charity name"], live.org_id)}
    written |= {published_variant(n, rng): a for n, a in zip(pairs.org_name, pairs.org_id_a) if a in set(live.org_id)}
    truth = pd.DataFrame({"name": list(written), "org_id": list(written.values())})
    return registers, truth, pairs


@pytest.mark.skipif(not CCNI.exists() or not COMPANY_NUMBERS.exists(), reason="../shared/realdata is absent")
def test_real_dual_registered_charities_are_resolved_and_precision_holds(tmp_path: Path) -> None:
    scores = {}
    for same_name, table in ((False, False), (True, False), (True, True)):
        registers, truth, pairs = _real_world(tmp_path, same_name=same_name, table=table)
        got = Matcher.from_dir(registers).match(truth.rename(columns={"name": "supplier_name"})[["supplier_name"]])
        predicted = pd.DataFrame({"name": truth.name, "org_id": got.org_id.to_numpy()})
        dual = truth.org_id.isin(pairs.org_id_a)
        scores[(same_name, table)] = (evaluate(predicted, truth), evaluate(predicted[dual], truth[dual]))
    print({k: {m: round(v[0][m], 4) for m in ("precision", "recall")} for k, v in scores.items()})
    before, _ = scores[(False, False)]
    after, dual_after = scores[(True, False)]
    with_table, dual_table = scores[(True, True)]
    assert after["names"] > 11_000
    assert after["precision"] >= before["precision"] - 0.001 and after["precision"] >= 0.995, (before, after)
    assert after["recall"] >= before["recall"] + 0.05, (before, after)
    assert dual_after["recall"] >= 0.9 and scores[(False, False)][1]["recall"] < 0.5, dual_after
    assert with_table["precision"] >= after["precision"] - 0.001 and dual_table["recall"] >= dual_after["recall"]
    inferred = pd.read_parquet(registers.parent / "registers-True-False" / "same_name_links.parquet")
    truth_pairs = set(zip(pairs.org_id_a, pairs.org_id_b))
    agree = sum((a, b) in truth_pairs for a, b in zip(inferred.org_id, inferred.linked_org_id))
    assert agree / len(inferred) >= 0.99 and agree >= 0.9 * len(pairs), (agree, len(inferred), len(pairs))


@pytest.mark.skipif(not DUAL_UK.exists(), reason="../shared/realdata is absent")
def test_a_real_link_table_loads_as_published(tmp_path: Path) -> None:
    counts = load_registers(tmp_path, links=[str(DUAL_UK), str(COMPANY_NUMBERS)])
    links = pd.read_parquet(tmp_path / "link_tables_links.parquet")
    assert counts["link_tables"] == len(links) == 1503 + 4399
    assert set(links.relation) == {"same_as"} and set(links.method) == {"link_table"}
    assert links.source.str.contains("Charity Registered in Scotland").sum() == 1503
