"""Releases researchers can cite: ``councilspend publish --release NAME``.

A release is an immutable snapshot under ``releases/NAME/``, laid out like the output folder's
published part, so the same readers work on it:

* the published tables as they were (``spend/council=…/year=…``, ``suppliers.parquet``,
  ``supplier_shares.parquet``, ``compliance.parquet``, ``files.parquet``, ``rejects.parquet``),
  byte for byte; registers (republished by their own registrars) and run records stay out;
* ``datapackage.json`` (with the release name as ``version`` and, as ``created``, the time of the
  latest crawl the data comes from), ``DATA_DICTIONARY.md`` and ``views.sql`` (the DuckDB views
  as SQL: a DuckDB database file is not written the same byte for byte twice);
* CSV exports (``csv/``, see ``normalise.publish.exports``);
* ``CHANGELOG.md`` and ``release.json``: what changed since the previous release (councils and
  periods added or gone, source files revised, added or gone, row counts);
* ``SHA256SUMS``: the sha256 of every other file, in the format ``sha256sum -c`` checks.

Nothing in a release depends on the clock or on the machine, so the same inputs give the same
bytes. A release is written in a hidden folder beside its final place and renamed into place
when complete, so it is never seen half-written; its files are made read-only, and a name that
exists is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from normalise.publish.exports import write_csv_exports
from normalise.publish.package import write_data_dictionary, write_datapackage, write_views_sql
from normalise.store.atomic import fsync_dir, write_json, write_text
from normalise.store.layout import Layout

#: Published tables a release carries (spend is its partition files).
RELEASE_TABLES = ("files", "rejects", "suppliers", "supplier_shares", "compliance")
RELEASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ReleaseError(ValueError):
    """A release that cannot be made (bad or taken name, nothing to release)."""


@dataclass(frozen=True)
class Coverage:
    """What one folder's tables hold, for comparing two releases."""

    months: set[tuple[str, str, str]]  # (council, dataset, YYYY-MM) with spend rows
    files: dict[str, str]  # url -> sha256 of the file as last fetched
    rows: dict[str, int]  # table -> rows


def write_release(out: Path, name: str) -> Path:
    """Write the release ``name`` of the output folder ``out``; return its folder."""
    layout = Layout(out)
    if not RELEASE_NAME.match(name):
        raise ReleaseError(f"release name {name!r}: use letters, digits, '.', '_' or '-' (at most 64, no slashes)")
    target = layout.release(name)
    if target.exists():
        raise ReleaseError(f"release {name} already exists at {target}: releases are immutable; choose another name")
    if not layout.spend_files():
        raise ReleaseError(f"nothing to release in {out}: no spend data (run the crawl and normalise first)")
    previous = latest_release(layout)
    staging = layout.release_staging(name)
    try:
        _copy_tables(layout, Layout(staging))
        _describe(Layout(staging), name, previous, layout.releases)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fsync_dir(layout.releases)
    return target


def latest_release(layout: Layout) -> Path | None:
    """The complete release with the highest sequence number in ``releases/``, if any."""
    found = []
    for folder in layout.releases.glob("[!.]*"):  # not the hidden folders of releases being written
        manifest = Layout(folder).release_manifest
        if manifest.is_file():
            found.append((json.loads(manifest.read_text(encoding="utf-8"))["sequence"], folder))
    return max(found)[1] if found else None


def _copy_tables(source: Layout, target: Layout) -> None:
    for part in source.spend_files():
        destination = target.root / source.relative(part)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(part, destination)
    for name in RELEASE_TABLES:
        if source.table(name).is_file():
            target.root.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source.table(name), target.table(name))


def _describe(release: Layout, name: str, previous: Path | None, releases: Path) -> None:
    """Everything in a release beside the tables: descriptors, exports, changes, checksums."""
    now = coverage(release)
    before = coverage(Layout(previous)) if previous else None
    changes = compare(before, now)
    sequence = (
        json.loads(Layout(previous).release_manifest.read_text(encoding="utf-8"))["sequence"] + 1 if previous else 1
    )
    created = _data_as_of(release)
    write_datapackage(release.root, version=name, created=created)
    write_data_dictionary(release.root, release=True)
    write_views_sql(release.root)
    write_csv_exports(release.root)
    manifest = {
        "name": name,
        "sequence": sequence,
        "previous": previous.name if previous else None,
        "created": created,
        "councils": sorted({council for council, _, _ in now.months}),
        "rows": now.rows,
        "changes": changes,
    }
    write_json(release.release_manifest, manifest)
    write_text(release.changelog, changelog_text(manifest))
    write_text(release.checksums, checksum_lines(release.root))
    for path in release.root.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def coverage(layout: Layout) -> Coverage:
    """Months with spend per council and dataset, fetched files, and row counts of a release folder."""
    parts = [str(p) for p in layout.spend_files()]
    months: set[tuple[str, str, str]] = set()
    if parts:
        with duckdb.connect() as con:
            rows = con.sql(
                "SELECT DISTINCT council_code, dataset, strftime(payment_date, '%Y-%m') FROM "
                "read_parquet($parts, union_by_name = true) WHERE payment_date IS NOT NULL",
                params={"parts": parts},
            ).fetchall()
        months = {(c, d, m) for c, d, m in rows}
    files: dict[str, str] = {}
    if layout.table("files").is_file():
        table = pq.read_table(layout.table("files"), columns=["url", "sha256"]).to_pylist()
        files = {r["url"]: r["sha256"] for r in table if r["sha256"]}
    counts = {"spend": sum(pq.read_metadata(p).num_rows for p in parts)}
    for name in RELEASE_TABLES:
        if layout.table(name).is_file():
            counts[name] = pq.read_metadata(layout.table(name)).num_rows
    return Coverage(months, files, counts)


def compare(before: Coverage | None, now: Coverage) -> dict:
    """What changed from ``before`` (None for a first release) to ``now``."""
    old = before or Coverage(set(), {}, {})
    councils_now, councils_before = {m[0] for m in now.months}, {m[0] for m in old.months}
    return {
        "councils_added": sorted(councils_now - councils_before),
        "councils_gone": sorted(councils_before - councils_now),
        "periods_added": month_ranges(now.months - old.months),
        "periods_gone": month_ranges(old.months - now.months),
        "files_added": sorted(set(now.files) - set(old.files)),
        "files_revised": sorted(u for u in set(now.files) & set(old.files) if now.files[u] != old.files[u]),
        "files_gone": sorted(set(old.files) - set(now.files)),
        "rows": {t: {"before": old.rows.get(t, 0), "now": n} for t, n in sorted(now.rows.items())},
    }


def month_ranges(months: set[tuple[str, str, str]]) -> list[dict]:
    """(council, dataset, month) triples as runs of consecutive months.

    >>> month_ranges({("BIR", "grants", "2025-01"), ("BIR", "grants", "2025-02"), ("BIR", "grants", "2025-05")})
    [{'council_code': 'BIR', 'dataset': 'grants', 'from': '2025-01', 'to': '2025-02'}, {'council_code': 'BIR', 'dataset': 'grants', 'from': '2025-05', 'to': '2025-05'}]
    """
    runs: list[dict] = []
    for council, dataset, month in sorted(months):
        last = runs[-1] if runs else None
        if last and (last["council_code"], last["dataset"]) == (council, dataset) and _next_month(last["to"]) == month:
            last["to"] = month
        else:
            runs.append({"council_code": council, "dataset": dataset, "from": month, "to": month})
    return runs


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def _data_as_of(release: Layout) -> str | None:
    """When the latest crawl behind the data saw its files (the release's ``created``), as ISO 8601 UTC."""
    if not release.table("files").is_file():
        return None
    with duckdb.connect() as con:
        [(moment,)] = con.sql(
            "SELECT max(last_seen_at) FROM read_parquet($path)", params={"path": str(release.table("files"))}
        ).fetchall()
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def changelog_text(manifest: dict) -> str:
    """``CHANGELOG.md`` of a release, from its ``release.json``."""
    changes = manifest["changes"]
    since = f"since release {manifest['previous']}" if manifest["previous"] else "(first release)"
    lines = [f"# Release {manifest['name']}", "", f"Release number {manifest['sequence']}, changes {since}."]
    if manifest["created"]:
        lines.append(f"Data as crawled up to {manifest['created']}.")
    lines += ["", "## Rows", "", "| table | before | now |", "|---|---|---|"]
    lines += [f"| {t} | {r['before']:,} | {r['now']:,} |" for t, r in changes["rows"].items()]
    for key, title in (("councils_added", "Councils added"), ("councils_gone", "Councils no longer present")):
        lines += ["", f"## {title}", "", ", ".join(changes[key]) or "None."]
    for key, title in (("periods_added", "Periods added"), ("periods_gone", "Periods no longer present")):
        lines += ["", f"## {title}", ""]
        lines += [
            f"- {r['council_code']} {r['dataset']}: {r['from']}" + (f" to {r['to']}" if r["to"] != r["from"] else "")
            for r in changes[key]
        ] or ["None."]
    for key, title in (
        ("files_revised", "Source files revised (same link, new content)"),
        ("files_added", "Source files added"),
        ("files_gone", "Source files no longer listed"),
    ):
        lines += ["", f"## {title}", ""]
        lines += [f"- {url}" for url in changes[key]] or ["None."]
    return "\n".join(lines) + "\n"


def checksum_lines(root: Path) -> str:
    """``sha256  path`` for every file under ``root`` (sorted; ``sha256sum -c`` reads it)."""
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        lines.append(f"{digest.hexdigest()}  {path.relative_to(root).as_posix()}")
    return "\n".join(lines) + "\n"
