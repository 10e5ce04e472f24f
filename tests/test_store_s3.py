"""``--out s3://bucket/prefix`` against a real S3-compatible server (moto's, on loopback).

* the national flow published to the bucket equals the same flow into a local folder, with the
  crawl on one machine and the rest on a second one that starts from an empty cache (and
  downloads no file the first stored); DuckDB reads the published Parquet back from the bucket;
* a reader polling the bucket while commits are published sees one whole snapshot each time,
  never a mix and never a file being sent;
* a publication killed half-way leaves readers on the previous snapshot, and the next run
  publishes what the killed one had committed;
* a second run on the same bucket is refused while the first renews its lock, and takes it over
  once the first stops renewing it;
* a missing bucket, refused credentials and an unreachable endpoint are one line each.

DuckDB's ``httpfs`` extension is not installable offline, so DuckDB reads the bucket through
pyarrow's S3 filesystem (an Arrow dataset registered as a view).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import test_kill
from typer.testing import CliRunner

from flows.cli import app
from normalise.publish.package import connect
from normalise.store import s3lock
from normalise.store.commit import Transaction
from normalise.store.folder import open_folder
from normalise.store.layout import Layout, ObjectLayout
from normalise.store.remote import local_folder

pytestmark = pytest.mark.distributed

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "councilspend",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
#: Columns of files.parquet that record when something happened, or how (a 304 revalidates a 200).
TIMES = ("first_seen_at", "last_seen_at", "fetched_at", "http_status")
PARTITION_FILE = re.compile(r"spend/council=[A-Z0-9]{3}/year=\d{4}/part-0\.parquet$")
runner = CliRunner()
#: A fixture: the small mock web the kill tests crawl (two councils, registers), served here.
mock_web = test_kill.web


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> Iterator[str]:
    """A moto S3 server on a free loopback port, the environment pointing at it; yields its endpoint."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    settings = CREDENTIALS | {
        "COUNCILSPEND_S3_ENDPOINT": endpoint,
        "COUNCILSPEND_CACHE": str(tmp_path_factory.mktemp("cache")),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(name, value)
        yield endpoint
    server.stop()


_buckets = iter(range(10**6))


@pytest.fixture
def bucket(s3) -> str:
    """A new empty bucket."""
    import boto3

    name = f"spend-{os.getpid()}-{next(_buckets)}"
    boto3.client("s3", endpoint_url=s3).create_bucket(Bucket=name)
    return name


def _client(endpoint: str):  # noqa: ANN202
    import boto3

    return boto3.client("s3", endpoint_url=endpoint)


def _get(endpoint: str, bucket: str, key: str) -> bytes:
    return _client(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()


def _keys(endpoint: str, bucket: str, prefix: str) -> list[str]:
    pages = _client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def _current(endpoint: str, bucket: str, prefix: str) -> str:
    return json.loads(_get(endpoint, bucket, ObjectLayout(prefix).current))["snapshot"]


# --- a reader's view ----------------------------------------------------------------------


def _duckdb_over_snapshot(endpoint: str, bucket: str, prefix: str) -> duckdb.DuckDBPyConnection:
    """DuckDB views over the bucket's current snapshot, read through pyarrow's S3 filesystem."""
    from pyarrow.fs import S3FileSystem

    fs = S3FileSystem(
        access_key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        endpoint_override=endpoint,
        scheme="http",
        region="us-east-1",
    )
    base = f"{bucket}/{ObjectLayout(prefix).snapshot(_current(endpoint, bucket, prefix))}"
    con = duckdb.connect()
    datasets = {}
    for table in ("spend", "contracts"):
        datasets[table] = ds.dataset(base + table, filesystem=fs, format="parquet", partitioning="hive")
    for table in ("files", "rejects", "suppliers", "compliance"):
        datasets[table] = ds.dataset(f"{base}{table}.parquet", filesystem=fs, format="parquet")
    for name, dataset in datasets.items():
        con.register(name, dataset)
    return con


def published(con: duckdb.DuckDBPyConnection) -> dict:
    """What a researcher sees of the national flow's tables."""
    files = {row["url"]: row for row in con.sql("SELECT * FROM files").to_arrow_table().to_pylist()}
    for row in files.values():
        for name in TIMES:
            row.pop(name)
        # which copy of a transaction published twice is kept follows first_seen_at, a time
        row["rows_read"] = (row.pop("rows") or 0) + (row.pop("rows_rejected") or 0)
    return {
        "row_ids": {r for (r,) in con.sql("SELECT row_id FROM spend").fetchall()},
        "contracts": sorted(con.sql("SELECT row_id FROM contracts").fetchall()),
        "totals": {
            k: Decimal(v) for k, v in con.sql("SELECT council_code, sum(amount) FROM spend GROUP BY 1").fetchall()
        },
        "files": files,
        "rejects": con.sql("SELECT count(*) FROM rejects").fetchall()[0][0],
        "compliance": sorted(con.sql("SELECT council_code, period, dataset, status FROM compliance").fetchall()),
        "suppliers": sorted(con.sql("SELECT council_code, supplier_key, org_id FROM suppliers").fetchall()),
    }


# --- the national flow ----------------------------------------------------------------------


def _cli(*args: str, cache: Path | None = None) -> str:
    env = {"COUNCILSPEND_DOWNLOAD_DELAY": "0", "COUNCILSPEND_AUTOTHROTTLE": "0"}
    if cache is not None:
        env["COUNCILSPEND_CACHE"] = str(cache)
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output[-3000:]
    return result.output


@pytest.mark.slow
def test_the_national_flow_on_s3_equals_a_local_run_and_a_second_machine_continues_it(
    s3,
    bucket,
    mock_web,
    prefect_harness,
    tmp_path,
):
    server, sources, register_args = mock_web.server, mock_web.sources, mock_web.register_args
    as_of = mock_web.site.as_of.isoformat()
    local = tmp_path / "local"
    _cli("registers", "load", "--out", str(local), *register_args)
    _cli("run", "--out", str(local), "--sources", str(sources), "--as-of", as_of)

    url = f"s3://{bucket}/national"
    first, second = tmp_path / "machine-1", tmp_path / "machine-2"
    _cli("registers", "load", "--out", url, *register_args, cache=first)
    _cli("crawl", "--out", url, "--sources", str(sources), cache=first)
    stored = {row["url"] for row in pq.read_table(Layout(first / "s3" / bucket / "national").manifest).to_pylist()}
    before = len(server.log)
    _cli("run", "--out", url, "--sources", str(sources), "--as-of", as_of, cache=second)

    base = server.base_url
    bodies = {base + h.target for h in server.log[before:] if h.status == 200 and h.method == "GET"}
    assert not bodies & stored, "the second machine downloaded files the first had stored"
    with connect(local) as con:
        expected = published(con)
    with _duckdb_over_snapshot(s3, bucket, "national") as con:
        assert published(con) == expected
    keys = _keys(s3, bucket, "national/")
    assert {k.split("/")[1] for k in keys} == {"CURRENT", "raw", "_work", "snapshots"}  # the lock was released
    assert not [k for k in keys if "/_work/" in k and "/_work/parsed/" not in k and "/snapshots/" not in k]


# --- readers during commits -----------------------------------------------------------------


COUNCILS = [f"C{i:02d}" for i in range(12)]


def write_version(out: Path, version: int, rows: int = 200, years: int = 2) -> None:
    """One commit replacing every council's spend partitions (``years`` each) and files.parquet, all marked ``version``."""
    with open_folder(out, "test") as layout, Transaction(layout, "test") as tx:
        for council in COUNCILS:
            partition = tx.directory(layout.spend_council(council))
            for year in range(2025 - years, 2025):
                table = pa.table(
                    {"row_id": [f"{council}-{year}-{i}" for i in range(rows)], "version": [version] * rows}
                )
                target = Layout.partition_file(partition, year)
                target.parent.mkdir(parents=True)
                pq.write_table(table, target)
        pq.write_table(
            pa.table({"council_code": COUNCILS, "version": [version] * len(COUNCILS)}), tx.file(layout.manifest)
        )


def read_snapshot(endpoint: str, bucket: str, prefix: str) -> set[int]:
    """Follow CURRENT as a reader would; check the snapshot's spend/** holds exactly its partitions; the versions seen."""
    keys = ObjectLayout(prefix)
    snapshot = _current(endpoint, bucket, prefix)
    listed = json.loads(_get(endpoint, bucket, keys.snapshot_listing(snapshot)))["files"]
    spend = _keys(endpoint, bucket, keys.snapshot_file(snapshot, "spend/"))
    assert all(PARTITION_FILE.search(k) for k in spend), f"a reader of spend/** sees {spend}"
    assert sorted(k[len(keys.snapshot(snapshot)) :] for k in spend) == sorted(
        r for r in listed if r.startswith("spend/")
    )
    versions = set()
    for key in [*spend, keys.snapshot_file(snapshot, "files.parquet")]:
        versions |= set(pq.read_table(io.BytesIO(_get(endpoint, bucket, key))).column("version").to_pylist())
    return versions


def test_a_reader_polling_during_commits_sees_one_whole_snapshot_each_time(s3, bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("COUNCILSPEND_CACHE", str(tmp_path))
    out = local_folder(f"s3://{bucket}/live")
    write_version(out, 1)
    seen: list[set[int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                seen.append(read_snapshot(s3, bucket, "live"))
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)
                return

    reader = threading.Thread(target=poll)
    reader.start()
    for version in range(2, 6):
        write_version(out, version)
    time.sleep(0.2)
    stop.set()
    reader.join()
    assert not errors, errors[0]
    assert all(len(versions) == 1 for versions in seen), [v for v in seen if len(v) != 1][:3]
    assert len({min(v) for v in seen}) >= 2, "the reader saw only one snapshot: no commit happened while it read"
    assert read_snapshot(s3, bucket, "live") == {5}
    snapshots = {k.split("/")[2] for k in _keys(s3, bucket, "live/snapshots/")}
    assert len(snapshots) == 3  # kept three deep


# --- a killed publication -------------------------------------------------------------------

WRITER = """
import sys
sys.path.insert(0, {tests!r})
from test_store_s3 import write_version
from pathlib import Path
write_version(Path({out!r}), 2, rows=5000, years=40)
"""


def test_a_publication_killed_half_way_leaves_readers_on_the_previous_snapshot(s3, bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("COUNCILSPEND_CACHE", str(tmp_path))
    monkeypatch.setattr(s3lock, "LEASE", 1.0)
    out = local_folder(f"s3://{bucket}/killed")
    write_version(out, 1)
    first = _current(s3, bucket, "killed")
    script = WRITER.format(tests=str(TESTS), out=str(out))
    child = subprocess.Popen(
        [sys.executable, "-c", script], env=os.environ | {"COUNCILSPEND_S3_LEASE": "1"}, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while not [k for k in _keys(s3, bucket, "killed/snapshots/") if f"/{first}/" not in k]:
            assert child.poll() is None and time.monotonic() < deadline, "the writer ended before sending a file"
            time.sleep(0.01)
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    half = {k.split("/")[2] for k in _keys(s3, bucket, "killed/snapshots/")} - {first}
    assert len(half) == 1, "no half-sent snapshot: the kill came too late to test anything"
    assert not _keys(s3, bucket, ObjectLayout("killed").snapshot_listing(half.pop()))
    assert _current(s3, bucket, "killed") == first
    assert read_snapshot(s3, bucket, "killed") == {1}

    time.sleep(1.5)  # the killed run's lease runs out
    with open_folder(out, "resume"):
        pass  # taking the folder over publishes what the killed run had committed
    assert read_snapshot(s3, bucket, "killed") == {2}


# --- the lock -------------------------------------------------------------------------------


def test_a_second_run_on_the_bucket_is_refused_then_takes_over_an_abandoned_lock(s3, bucket, tmp_path, monkeypatch):
    url = f"s3://{bucket}/locked"
    monkeypatch.setenv("COUNCILSPEND_CACHE", str(tmp_path / "one"))
    with open_folder(local_folder(url), "councilspend run --out " + url):
        monkeypatch.setenv("COUNCILSPEND_CACHE", str(tmp_path / "two"))
        result = runner.invoke(app, ["registers", "load", "--out", url])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "is in use by another run" in lines[0] and "councilspend run --out" in lines[0], lines

    monkeypatch.setattr(s3lock, "LEASE", 1.0)
    from normalise.store.remote import Bucket, ObjectLocation

    abandoned = s3lock.Lease(Bucket(ObjectLocation.parse(url)), "a run that was killed")
    abandoned.etag = abandoned.bucket.put(abandoned.key, abandoned._body(), IfNoneMatch="*")  # never renewed
    time.sleep(1.5)
    with s3lock.leased(Layout(tmp_path / "two"), Bucket(ObjectLocation.parse(url)), "the next run") as lease:
        assert lease.stale is not None and lease.stale.command == "a run that was killed"


# --- errors ---------------------------------------------------------------------------------


def _one_line_error(*args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_a_missing_bucket_an_unreachable_endpoint_and_refused_credentials_are_one_line(s3, tmp_path):
    assert "bucket 'no-such-bucket' does not exist" in _one_line_error("publish", "--out", "s3://no-such-bucket/x")
    closed = f"http://127.0.0.1:{_free_port()}"
    message = _one_line_error("publish", "--out", "s3://spend/x", env={"COUNCILSPEND_S3_ENDPOINT": closed})
    assert f"cannot reach the S3 endpoint {closed}" in message

    port = _free_port()  # a server that checks credentials: moto with authentication on from the first request
    strict = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=os.environ | {"INITIAL_NO_AUTH_ACTION_COUNT": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert strict.poll() is None and time.monotonic() < deadline, "moto did not start"
            time.sleep(0.1)
        message = _one_line_error(
            "publish", "--out", "s3://spend/x", env={"COUNCILSPEND_S3_ENDPOINT": f"http://127.0.0.1:{port}"}
        )
        assert "credentials were refused" in message
    finally:
        strict.terminate()
        strict.wait()
