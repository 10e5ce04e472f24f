"""Normalise and match on a real Dask cluster give the single-machine run's outputs.

A LocalCluster of two worker processes on 127.0.0.1 is started for the module and closed after.
A small mock council web is crawled once (real server on loopback) and its registers loaded; the
folder is copied twice, then normalised and matched once on local processes and once through
``COUNCILSPEND_DASK_ADDRESS`` on the cluster. The two folders must hold the same spend and
contracts rows (row ids, totals), rejects, ``files.parquet`` rows (times aside), suppliers and
supplier shares.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from flows.demo import LOOPBACK_CRAWL_SETTINGS, register_urls
from mockweb.generate import generate
from mockweb.server import MockWeb
from normalise.store.layout import Layout

pytestmark = pytest.mark.distributed

COUNCILS = 3
#: files.parquet columns that say when something happened rather than what was found
TIMES = {"first_seen_at", "last_seen_at", "fetched_at"}


@pytest.fixture(scope="module")
def dask_cluster():
    """A real Dask scheduler and two worker processes on loopback (and a client watching it), closed after the module."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(2, timeout=60)
        yield client


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, prefect_harness) -> Path:
    """A folder as a crawl of the mock web and a registers load leave it."""
    from flows.crawl import crawl_flow
    from flows.match import registers_flow

    tmp = tmp_path_factory.mktemp("dask")
    site = generate(tmp / "web", councils=COUNCILS, seed=11)
    out = tmp / "crawled"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in LOOPBACK_CRAWL_SETTINGS.items():
            patch.setenv(name, value)
        with MockWeb(site.root) as web:
            sources = tmp / "sources.yaml"
            sources.write_text(site.sources_yaml(web.base_url), encoding="utf-8")
            crawl_flow(out, sources, None, council_retries=0, retry_delay=0)
            registers = register_urls(site.registers_dir, web.base_url)
            registers_flow(
                out,
                registers.companies,
                registers.charities,
                registers.oscr,
                registers.ccni,
                registers.mutuals,
                registers.links,
            )
    return out


def _run(crawled: Path, out: Path, dask: str | None) -> Path:
    from flows.match import match_flow
    from flows.normalise_files import normalise_flow

    shutil.copytree(crawled, out)
    normalise_flow(out, workers=2, dask=dask)
    match_flow(out, dask=dask, workers=2)
    return out


def _tasks_finished(client) -> int:
    """How many task state transitions the cluster's scheduler has made."""
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)


def _rows(out: Path, table: str, amount: str) -> list[tuple]:
    """Per council: rows, total and every row id, from the published partitions."""
    files = [str(f) for f in Layout(out).partition_files(table)]
    query = f"""
        SELECT council_code, count(*), sum({amount})::VARCHAR, list(row_id ORDER BY row_id)
        FROM read_parquet(?, hive_partitioning = true) GROUP BY ALL ORDER BY council_code"""
    return duckdb.sql(query, params=[files]).fetchall() if files else []


def _sorted(path: Path, drop: set[str] = frozenset()) -> list[dict]:
    rows = [{k: v for k, v in row.items() if k not in drop} for row in pq.read_table(path).to_pylist()]
    return sorted(rows, key=repr)


def test_normalise_and_match_on_dask_equal_the_local_run(crawled, dask_cluster, tmp_path, monkeypatch):
    local = _run(crawled, tmp_path / "local", None)
    monkeypatch.setenv("COUNCILSPEND_DASK_ADDRESS", dask_cluster.scheduler.address)
    from flows.cluster import dask_address

    finished_before = _tasks_finished(dask_cluster)
    distributed = _run(crawled, tmp_path / "dask", dask_address())
    # parse batches, council rebuilds and supplier blocks ran as tasks on the cluster
    assert _tasks_finished(dask_cluster) - finished_before >= 3

    spend = _rows(local, "spend", "amount")
    assert len(spend) == COUNCILS and all(n > 0 for _, n, _, _ in spend)
    assert _rows(distributed, "spend", "amount") == spend
    assert _rows(distributed, "contracts", "value") == _rows(local, "contracts", "value")
    a, b = Layout(local), Layout(distributed)
    assert _sorted(b.table("rejects")) == _sorted(a.table("rejects"))
    assert _sorted(b.manifest, TIMES) == _sorted(a.manifest, TIMES)
    suppliers = _sorted(a.table("suppliers"))
    assert any(row["org_id"] for row in suppliers)  # the registers matched something
    assert _sorted(b.table("suppliers")) == suppliers
    assert _sorted(b.table("supplier_shares")) == _sorted(a.table("supplier_shares"))


def test_a_local_cluster_is_started_when_dask_is_asked_for_without_an_address(crawled, tmp_path, monkeypatch):
    """``--dask`` with no scheduler: a LocalCluster of --workers processes, stopped with the stage."""
    from flows.cluster import dask_address

    monkeypatch.delenv("COUNCILSPEND_DASK_ADDRESS", raising=False)
    assert dask_address(True) == "local"
    out = _run(crawled, tmp_path / "own-cluster", dask_address(True))
    assert {row["parse_status"] for row in pq.read_table(Layout(out).manifest).to_pylist()} >= {"ok"}
    assert len(_rows(out, "spend", "amount")) == COUNCILS
