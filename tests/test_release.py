"""The data package validated with frictionless, releases (checksums, changelog, byte-for-byte
rebuilds, immutability) and the CSV exports, on a small real output folder."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_compliance import AS_OF, Outputs, months, scenario

from normalise.compliance.rules import compute_compliance
from normalise.matching.shares import supplier_shares
from normalise.publish.package import write_datapackage
from normalise.publish.release import ReleaseError, write_release
from normalise.store.layout import Layout
from normalise.store.parquet_io import write_table

frictionless = pytest.importorskip("frictionless")

HOSTILE = ['=HYPERLINK("http://example.invalid","x")', "+44 113 000", "-5 credit", "@SUM(A1)", "\tTabbed Ltd"]


def build(out: Path, *, extra: bool = False) -> Path:
    """The compliance scenario's folder, with hostile supplier names, suppliers and shares."""
    o: Outputs = scenario(out)
    sha = o.file("BIR", "cards.csv", (date(2025, 7, 1), date(2025, 9, 30)), dataset="purchase_card")
    o.rows("BIR", sha, [date(2025, 8, 1)] * len(HOSTILE), amount="-12.50", dataset="purchase_card")
    for row, name in zip(o.spend[-len(HOSTILE) :], HOSTILE):
        row["supplier_name"], row["supplier_key"] = name, name.strip().lower()
        row["also_published_in"] = ["a" * 64, "b" * 64]
    if extra:  # a later crawl: a new council, new months, and a revised file
        for month in months(2025, 10, 2):
            o.month_file("KEN", month, first_seen=datetime(2025, 12, 20, tzinfo=UTC))
        for month in months(2025, 1, 3):
            o.month_file("YOR", month, first_seen=datetime(2025, 12, 20, tzinfo=UTC))
        revised = next(
            f for f in o.files if f["council_code"] == "BIR" and f["sha256"] and f["dataset"] == "spend_over_500"
        )
        revised["sha256"] = "f" * 64  # one of BIR's links now serves new content
    o.write()
    layout = Layout(out)
    write_table(compute_compliance(out, as_of=AS_OF), layout.table("compliance"), schema_of="compliance")
    spend = pq.ParquetDataset(layout.spend).read().to_pandas()
    suppliers = spend.groupby(["council_code", "supplier_key"], as_index=False).agg(
        supplier_name=("supplier_name", "first"), transactions=("row_id", "count")
    )
    suppliers["org_type"], suppliers["sector"], suppliers["size_band"] = "company", "private", "small"
    write_table(pa.Table.from_pandas(suppliers, preserve_index=False), layout.table("suppliers"), schema_of="suppliers")
    write_table(supplier_shares(out), layout.table("supplier_shares"))
    return out


def validate(descriptor: Path) -> None:
    """Validate a data package with frictionless: every resource read, every row checked."""
    report = frictionless.validate(str(descriptor))
    errors = [(task.name, e.type, e.note) for task in report.tasks for e in task.errors]
    assert report.valid, errors[:10]
    resources = json.loads(descriptor.read_text(encoding="utf-8"))["resources"]
    assert len(report.tasks) == len(resources)
    for task, resource in zip(report.tasks, resources):
        path = descriptor.parent / resource["path"]
        expected = pq.read_metadata(path).num_rows if resource["format"] == "parquet" else len(pd.read_csv(path))
        assert task.stats.get("rows", 0) == expected, (resource["name"], task.stats)


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def release(out: Path) -> Path:
    return write_release(out, "2025-12")


def test_the_data_package_validates_with_frictionless(out: Path) -> None:
    package = json.loads(write_datapackage(out).read_text(encoding="utf-8"))
    validate(out / "datapackage.json")
    names = {r["name"] for r in package["resources"]}
    assert {"files", "runs", "suppliers", "supplier_shares", "compliance"} <= names
    spend = [r for r in package["resources"] if r["name"].startswith("spend_")]
    assert len(spend) == len(Layout(out).spend_files()) and {r["schema"] for r in spend} == {"schemas/spend.json"}
    schemas = [r["schema"] for r in package["resources"] if isinstance(r["schema"], dict)]
    schemas.append(json.loads((out / "schemas" / "spend.json").read_text(encoding="utf-8")))
    for schema in schemas:  # every field of every resource is described
        assert all(f["description"].strip() for f in schema["fields"])


def test_registers_are_described_and_validate(out: Path, tmp_path: Path) -> None:
    from mockweb.orgs import Organisation
    from mockweb.registers import write_registers
    from normalise.registers import load_registers

    folder = tmp_path / "data"
    shutil.copytree(out, folder)
    org = Organisation("GB-COH-01234567", "Acme Widgets Limited", "company", "companies", company_number="01234567")
    files = write_registers(tmp_path / "files", [org], filler=200, seed=1)
    load_registers(Layout(folder).registers, companies=[str(files["companies"])], ccni=[str(files["ccni"])])
    package = json.loads(write_datapackage(folder).read_text(encoding="utf-8"))
    registers = [r for r in package["resources"] if r["name"].startswith("registers_")]
    assert {"registers_companies", "registers_companies_names", "registers_same_name_links"} <= {
        r["name"] for r in registers
    }
    assert all(f["description"].strip() for r in registers for f in r["schema"]["fields"])
    validate(folder / "datapackage.json")


def test_a_release_is_complete_checksummed_and_read_only(out: Path, release: Path) -> None:
    assert release == out / "releases" / "2025-12"
    manifest = json.loads((release / "release.json").read_text(encoding="utf-8"))
    assert (manifest["sequence"], manifest["previous"], manifest["created"]) == (
        1,
        None,
        "2025-11-27T09:30:00Z",
    )  # the latest file seen
    assert manifest["changes"]["councils_added"] == ["BIR", "CRF", "KEN", "LDS", "MAN", "SHF"]
    assert not any(p.name.startswith(".") for p in (out / "releases").iterdir())
    for name in ("suppliers.parquet", "supplier_shares.parquet", "compliance.parquet", "files.parquet"):
        assert (release / name).read_bytes() == (out / name).read_bytes()
    assert not (release / "runs.parquet").exists() and not (release / "registers").exists()
    checked = subprocess.run(
        ["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=release, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = {line.split("  ", 1)[1] for line in (release / "SHA256SUMS").read_text().splitlines()}
    assert listed == set(tree(release)) - {"SHA256SUMS"}
    assert all(not p.stat().st_mode & 0o222 for p in release.rglob("*") if p.is_file())
    validate(release / "datapackage.json")
    validate(release / "csv" / "datapackage.json")
    assert json.loads((release / "datapackage.json").read_text(encoding="utf-8"))["version"] == "2025-12"


def test_a_release_rebuilds_byte_for_byte_from_the_same_inputs(tmp_path: Path, release: Path) -> None:
    again = write_release(build(tmp_path / "data"), "2025-12")
    assert tree(again) == tree(release)


def test_release_names_are_never_reused(out: Path, release: Path) -> None:
    before = tree(release)
    with pytest.raises(ReleaseError, match="already exists.*immutable"):
        write_release(out, "2025-12")
    with pytest.raises(ReleaseError, match="release name"):
        write_release(out, "../elsewhere")
    assert tree(release) == before


def test_the_changelog_lists_councils_periods_and_revised_files(tmp_path: Path) -> None:
    out = build(tmp_path / "data")
    write_release(out, "v1")
    newer = build(tmp_path / "newer", extra=True)
    shutil.copytree(out / "releases", newer / "releases")
    second = write_release(newer, "v2")
    manifest = json.loads((second / "release.json").read_text(encoding="utf-8"))
    changes = manifest["changes"]
    assert (manifest["sequence"], manifest["previous"]) == (2, "v1")
    assert changes["councils_added"] == ["YOR"] and changes["councils_gone"] == []
    assert {"council_code": "KEN", "dataset": "spend_over_500", "from": "2025-10", "to": "2025-11"} in changes[
        "periods_added"
    ]
    assert {"council_code": "YOR", "dataset": "spend_over_500", "from": "2025-01", "to": "2025-03"} in changes[
        "periods_added"
    ]
    [revised] = changes["files_revised"]
    assert revised.startswith("https://bir.example.gov.uk/") and changes["files_gone"] == []
    assert len(changes["files_added"]) == 5  # KEN's two months, YOR's three
    text = (second / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "changes since release v1" in text and "- YOR spend_over_500: 2025-01 to 2025-03" in text
    assert changes["rows"]["spend"]["now"] > changes["rows"]["spend"]["before"]


def test_csv_exports_are_guarded_against_formulas(release: Path) -> None:
    cards = release / "csv" / "BIR" / "BIR-spend-2025.csv"
    raw = cards.read_bytes()
    assert raw.startswith("\ufeff".encode())
    frame = pd.read_csv(cards, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    hostile = frame[frame.dataset == "purchase_card"]
    assert sorted(hostile.supplier_name) == sorted("'" + name for name in HOSTILE)
    assert set(hostile.amount) == {"-12.50"}  # numbers are never prefixed
    assert set(hostile.also_published_in) == {json.dumps(["a" * 64, "b" * 64])}
    plain = frame[frame.dataset == "spend_over_500"]
    assert plain.supplier_name.str.startswith("Supplier").all()
    spend_rows = sum(pq.read_metadata(p).num_rows for p in Layout(release).spend_files())
    exported = sum(len(pd.read_csv(p, encoding="utf-8-sig")) for p in (release / "csv").glob("*/*-spend-*.csv"))
    assert exported == spend_rows
    suppliers = pd.read_csv(release / "csv" / "BIR" / "BIR-suppliers.csv", dtype=str, encoding="utf-8-sig")
    assert sorted(suppliers.supplier_name[suppliers.supplier_name.str.startswith("'")]) == sorted(
        "'" + n for n in HOSTILE
    )
    shares = pd.read_csv(release / "csv" / "supplier_shares.csv", encoding="utf-8-sig")
    assert Decimal(str(shares.loc[shares.level == "council", "paid_total"].sum())).quantize(Decimal("0.01")) == sum(
        (Decimal(str(v)) for v in pq.ParquetDataset(release / "spend").read().column("amount").to_pylist()),
        Decimal(0),
    )
