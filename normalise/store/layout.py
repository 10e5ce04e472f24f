"""Every path under the output folder (``--out``), named once.

Published tables sit at the top of the folder, where researchers read them; the pipeline's own
working state sits under ``_work/`` and ``_crawl/``, which no published reader looks at.

    raw/ab/abcdef….csv                 originals, content-addressed, never modified
    files.parquet, pages.parquet, runs.parquet, rejects.parquet, suppliers.parquet,
    supplier_shares.parquet, compliance.parquet
    spend/council=BIR/year=2025/…      the spend dataset (hive partitions)
    contracts/council=BIR/year=2025/…  contracts over £5,000 (hive partitions, by start year)
    registers/*.parquet                loaded registers
    report/index.html                  the compliance report
    datapackage.json, DATA_DICTIONARY.md, councilspend.duckdb
    schemas/spend.json                 the Table Schema the spend partitions' resources share
    releases/<NAME>/                   immutable releases: the published tables as above, plus
        release.json, CHANGELOG.md, SHA256SUMS, views.sql
        csv/<COUNCIL>/<COUNCIL>-spend-<YEAR>.csv, csv/<COUNCIL>/<COUNCIL>-suppliers.csv,
        csv/<table>.csv, csv/datapackage.json, csv/schemas/spend.json
    releases/.<NAME>.<unique>.tmp/     a release being written (renamed into place when complete)
    _work/lock                         the run lock (who holds the folder; see lock.py)
    _work/parsed/<COUNCIL>/<sha256>*   each file's parse: ``.json`` summary and its rows (``-<token>.parquet``
                                       spend, ``.contracts.parquet``, ``.rejects.parquet``), before the council is rebuilt
    _work/builds/<COUNCIL>.json        what a council's published partitions were built from
    _work/rejects/<COUNCIL>.parquet    each council's rejects, gathered into rejects.parquet
    _work/incoming/                    bodies being downloaded (renamed into raw/ once whole)
    _work/staging/<txn>/…              a stage's results before they are committed (commit.py)
    _work/journal/<txn>.json           a commit under way: finished by the next run if interrupted
    _work/trash/<txn>/…                what a commit replaced, deleted once it is done
    _work/remote/                      a cache folder's link to its object store (``remote.json``) and
                                       what was last sent there (``index.json``; see sync.py)
    _crawl/<run_id>/                   a crawl run's items (as they are stored), stats and log
    _mockweb/                          the demo's generated mock web and its answer key

No other module joins a name onto the output folder: ask the layout (tests/test_store_paths.py
checks the sources for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from normalise.store.atomic import temporary_name

#: Published table name -> file name at the top of the folder (spend is a folder of partitions).
TABLE_FILES = {
    "files": "files.parquet",
    "pages": "pages.parquet",
    "runs": "runs.parquet",
    "rejects": "rejects.parquet",
    "suppliers": "suppliers.parquet",
    "supplier_shares": "supplier_shares.parquet",
    "compliance": "compliance.parquet",
}
#: Tables published as hive partitions (``<folder>/council=<C>/year=<Y>/part-0.parquet``): table -> folder.
PARTITIONED = {"spend": "spend", "contracts": "contracts"}
SPEND_DIR = PARTITIONED["spend"]


def partition_glob(table: str) -> str:
    """A partitioned table's files as a glob relative to the folder (what its DuckDB view reads).

    >>> partition_glob("contracts")
    'contracts/**/*.parquet'
    """
    return f"{PARTITIONED[table]}/**/*.parquet"


SPEND_GLOB = partition_glob("spend")


@dataclass(frozen=True)
class Layout:
    """The output folder's paths.

    >>> out = Layout(Path("data"))
    >>> out.table("files").as_posix(), out.spend_council("BIR").as_posix()
    ('data/files.parquet', 'data/spend/council=BIR')
    >>> out.raw_file("ab" + "0" * 62, "csv").relative_to(out.root).parts[:2]
    ('raw', 'ab')
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    # --- published -------------------------------------------------------------------------

    def table(self, name: str) -> Path:
        """A published single-file table (``files``, ``pages``, ``runs``, ``rejects``, ``suppliers``,
        ``supplier_shares``, ``compliance``)."""
        return self.root / TABLE_FILES[name]

    @property
    def manifest(self) -> Path:
        return self.table("files")

    def partitioned(self, table: str) -> Path:
        """The folder of a table published as hive partitions (``spend``, ``contracts``)."""
        return self.root / PARTITIONED[table]

    def council_partition(self, table: str, council_code: str) -> Path:
        return self.partitioned(table) / f"council={council_code}"

    def partition_files(self, table: str, council_code: str | None = None) -> list[Path]:
        """A partitioned table's files, of one council or all, sorted."""
        base = self.council_partition(table, council_code) if council_code else self.partitioned(table)
        pattern = "year=*/*.parquet" if council_code else "council=*/year=*/*.parquet"
        return sorted(base.glob(pattern))

    @property
    def spend(self) -> Path:
        return self.partitioned("spend")

    def spend_council(self, council_code: str) -> Path:
        return self.council_partition("spend", council_code)

    @staticmethod
    def partition_file(partition: Path, year: int | None) -> Path:
        """The file of one year (``year=unknown`` for undated rows) inside a council's partition folder."""
        return partition / f"year={'unknown' if year is None else year}" / "part-0.parquet"

    def spend_files(self, council_code: str | None = None) -> list[Path]:
        """The published spend partition files, of one council or all, sorted."""
        return self.partition_files("spend", council_code)

    @property
    def registers(self) -> Path:
        return self.root / "registers"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def report_index(self) -> Path:
        return self.report / "index.html"

    @property
    def datapackage(self) -> Path:
        return self.root / "datapackage.json"

    @property
    def dictionary(self) -> Path:
        return self.root / "DATA_DICTIONARY.md"

    @property
    def duckdb(self) -> Path:
        return self.root / "councilspend.duckdb"

    @property
    def views_sql(self) -> Path:
        """``views.sql`` (in a release): the DuckDB views as SQL."""
        return self.root / "views.sql"

    def schema_file(self, table: str) -> Path:
        """A Table Schema shared by the resources of a partitioned table (``schemas/spend.json``)."""
        return self.root / "schemas" / f"{table}.json"

    # --- releases (each release folder is itself laid out like the published part of this one) ---

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    def release(self, name: str) -> Path:
        return self.releases / name

    def release_staging(self, name: str) -> Path:
        """A unique hidden folder to write a release in before it is renamed into place."""
        return temporary_name(self.release(name))

    @property
    def release_manifest(self) -> Path:
        """``release.json`` (in a release folder): name, sequence, previous release, tables, changes."""
        return self.root / "release.json"

    @property
    def changelog(self) -> Path:
        return self.root / "CHANGELOG.md"

    @property
    def checksums(self) -> Path:
        """``SHA256SUMS``: every other file of a release with its sha256 (``sha256sum -c`` reads it)."""
        return self.root / "SHA256SUMS"

    @property
    def csv(self) -> Path:
        """CSV exports for spreadsheet users (and their own ``datapackage.json``)."""
        return self.root / "csv"

    def csv_spend(self, council_code: str, year: str) -> Path:
        return self.csv / council_code / f"{council_code}-spend-{year}.csv"

    def csv_suppliers(self, council_code: str) -> Path:
        return self.csv / council_code / f"{council_code}-suppliers.csv"

    def csv_table(self, name: str) -> Path:
        return self.csv / f"{name}.csv"

    @property
    def csv_datapackage(self) -> Path:
        """The descriptor of the CSV exports."""
        return self.csv / "datapackage.json"

    def csv_schema(self, table: str) -> Path:
        """The Table Schema a CSV export's resources share."""
        return self.csv / "schemas" / f"{table}.json"

    # --- originals -------------------------------------------------------------------------

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    def raw_file(self, sha256: str, fmt: str) -> Path:
        """Where the original with this sha256 and (sniffed) format lives."""
        extension = "bin" if fmt in ("unknown", "") else fmt
        return self.raw / sha256[:2] / f"{sha256}.{extension}"

    @property
    def incoming(self) -> Path:
        """Bodies being received; each is renamed into ``raw/`` once whole and hashed."""
        return self.work / "incoming"

    # --- working state ---------------------------------------------------------------------

    @property
    def work(self) -> Path:
        return self.root / "_work"

    @property
    def lock(self) -> Path:
        return self.work / "lock"

    def parsed(self, council_code: str, stem: str, suffix: str) -> Path:
        """A file's parse: ``<sha256>.json`` summary, ``<sha256>-<token>.arrow`` rows and ``.rejects.arrow``."""
        return self.parsed_dir(council_code) / f"{stem}{suffix}"

    def parsed_dir(self, council_code: str) -> Path:
        """The folder of a council's parses."""
        return self.work / "parsed" / council_code

    def build_record(self, council_code: str) -> Path:
        """What the council's published partitions were built from (files, digests, row counts)."""
        return self.work / "builds" / f"{council_code}.json"

    @property
    def builds_dir(self) -> Path:
        return self.work / "builds"

    @property
    def council_rejects_dir(self) -> Path:
        return self.work / "rejects"

    def council_rejects(self, council_code: str) -> Path:
        return self.council_rejects_dir / f"{council_code}.parquet"

    @property
    def staging_root(self) -> Path:
        return self.work / "staging"

    @property
    def journal_dir(self) -> Path:
        return self.work / "journal"

    @property
    def trash_root(self) -> Path:
        return self.work / "trash"

    @property
    def crawl_runs(self) -> Path:
        return self.root / "_crawl"

    def crawl_run(self, run_id: str) -> Path:
        """A crawl run's folder: ``items.jsonl`` (files), ``pages.jsonl``, ``stats.json``, ``crawl.log``."""
        return self.crawl_runs / run_id

    def crawl_items(self, run_id: str) -> Path:
        """The run's file items, one JSON line each, appended as each file is recorded."""
        return self.crawl_run(run_id) / "items.jsonl"

    def crawl_pages(self, run_id: str) -> Path:
        """The run's page items (every page read or not), one JSON line each."""
        return self.crawl_run(run_id) / "pages.jsonl"

    def crawl_stats(self, run_id: str) -> Path:
        """The run's totals; present once the run's items are merged into ``files.parquet``."""
        return self.crawl_run(run_id) / "stats.json"

    def crawl_log(self, run_id: str) -> Path:
        return self.crawl_run(run_id) / "crawl.log"

    @property
    def demo_web(self) -> Path:
        """The mock council web the demo generated here, with its answer key."""
        return self.root / "_mockweb"

    @property
    def demo_sources(self) -> Path:
        """The sources config the demo writes for its mock web."""
        return self.demo_web / "sources.yaml"

    @property
    def remote_binding(self) -> Path:
        """Present when this folder is the local working copy of an object-store URL (``s3://…``)."""
        return self.work / "remote" / "remote.json"

    @property
    def remote_index(self) -> Path:
        """What the object store holds of this folder, as last sent or received (hashes, snapshot)."""
        return self.work / "remote" / "index.json"

    def relative(self, path: Path) -> str:
        """``path`` relative to the folder, with forward slashes (how published readers name files); either may be
        given relative to the working directory and the other absolute (``--out data`` and a resolved path in it).

        >>> Layout(Path("data")).relative(Path.cwd() / "data" / "spend"), Layout(Path("data")).relative(Path("data/x"))
        ('spend', 'x')
        """
        path = Path(path)
        if path.is_absolute() == self.root.is_absolute():
            return path.relative_to(self.root).as_posix()
        return path.resolve().relative_to(self.root.resolve()).as_posix()


# --- the same folder on object storage (s3://bucket/prefix) --------------------------------------

#: Where a relative path lives on object storage. Published tables and the state that must agree
#: with them go into each commit's immutable snapshot; content-addressed or write-once files are
#: shared by every snapshot at their own key; the rest (locks, staging, logs, the demo's web) stays
#: in the local working copy.
SHARED_AREAS = ("raw/", "_work/parsed/", "releases/")
LOCAL_AREAS = ("_work/", "_crawl/", "_mockweb/")
SNAPSHOT_STATE = ("_work/builds/", "_work/rejects/")


def sync_area(relative: str) -> str:
    """``snapshot``, ``shared`` or ``local``: how a file of the folder is kept on object storage.

    >>> [sync_area(p) for p in ("spend/council=BIR/year=2025/part-0.parquet", "raw/ab/ab12.csv", "_work/lock")]
    ['snapshot', 'shared', 'local']
    >>> sync_area("_work/builds/BIR.json"), sync_area("releases/.2025-q3.77-ab.tmp/files.parquet")
    ('snapshot', 'local')
    """
    if any(part.startswith(".") for part in relative.split("/")):
        return "local"  # temporary files and folders being written
    if relative.startswith(SHARED_AREAS):
        return "shared"
    if relative.startswith(SNAPSHOT_STATE) or not relative.startswith(LOCAL_AREAS):
        return "snapshot"
    return "local"


@dataclass(frozen=True)
class ObjectLayout:
    """Keys under ``s3://bucket/prefix``.

        CURRENT                          the committed snapshot's id (JSON): the one pointer readers follow
        LOCK                             the run lock (a lease; see s3lock.py)
        snapshots/<id>/…                 one commit's published tables, report, descriptors and build state
        snapshots/<id>/_snapshot.json    that snapshot's files with their sizes and sha256
        raw/…, _work/parsed/…, releases/…  shared by all snapshots (content-addressed or write-once)

    >>> keys = ObjectLayout("data/2026")
    >>> keys.current, keys.snapshot_file("20261205T1700-ab", "files.parquet")
    ('data/2026/CURRENT', 'data/2026/snapshots/20261205T1700-ab/files.parquet')
    >>> ObjectLayout("").shared("raw/ab/ab12.csv")
    'raw/ab/ab12.csv'
    """

    prefix: str

    def _key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    @property
    def current(self) -> str:
        return self._key("CURRENT")

    @property
    def lock(self) -> str:
        return self._key("LOCK")

    @property
    def snapshots(self) -> str:
        return self._key("snapshots/")

    def snapshot(self, snapshot_id: str) -> str:
        return self._key(f"snapshots/{snapshot_id}/")

    def snapshot_file(self, snapshot_id: str, relative: str) -> str:
        return self.snapshot(snapshot_id) + relative

    def snapshot_listing(self, snapshot_id: str) -> str:
        return self.snapshot_file(snapshot_id, "_snapshot.json")

    def shared(self, relative: str) -> str:
        return self._key(relative)

    def relative(self, key: str) -> str:
        """A shared key's path relative to the folder."""
        return key[len(self.prefix) + 1 :] if self.prefix else key
