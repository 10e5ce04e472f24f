"""The store's commit: a stage's results appear whole or not at all, whatever kills the run and when.

Crash points are real: a child process runs a commit and is killed with SIGKILL right after a
chosen filesystem step; this process then recovers the folder as the next run would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from normalise.store import commit
from normalise.store.commit import Transaction, exchange, recover
from normalise.store.layout import Layout
from normalise.store.parquet_io import write_table

REPO = Path(__file__).resolve().parents[1]
COUNCILS = ("AAA", "BBB", "CCC")


def publish_version(layout: Layout, version: str, councils: tuple[str, ...] = COUNCILS) -> None:
    """Outputs as a stage would commit them: one partition per council, a manifest, a report."""
    with Transaction(layout, "test") as tx:
        for code in councils:
            part = tx.directory(layout.council_partition("spend", code))
            table = pa.table({"v": [version] * 3, "n": [1, 2, 3]})
            write_table(table, Layout.partition_file(part, 2025))
        (tx.directory(layout.report) / "index.html").write_text(version)
        write_table(pa.table({"v": [version]}), tx.file(layout.manifest))


def versions(layout: Layout) -> dict[str, str | None]:
    """Which version each output shows (None: missing)."""
    found: dict[str, str | None] = {}
    for code in COUNCILS:
        files = layout.spend_files(code)
        found[code] = pa.concat_tables([_read(f) for f in files])["v"][0].as_py() if files else None
    found["report"] = layout.report_index.read_text() if layout.report_index.exists() else None
    found["manifest"] = _read(layout.manifest)["v"][0].as_py() if layout.manifest.exists() else None
    return found


def _read(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(path)


def leftovers(layout: Layout) -> list[str]:
    return sorted(
        str(p.relative_to(layout.work))
        for root in (layout.staging_root, layout.journal_dir, layout.trash_root)
        if root.is_dir()
        for p in root.iterdir()
    )


def test_a_commit_replaces_everything_and_leaves_nothing_behind(tmp_path):
    layout = Layout(tmp_path)
    publish_version(layout, "old")
    publish_version(layout, "new")
    assert set(versions(layout).values()) == {"new"}
    assert leftovers(layout) == []
    assert [p.name for p in layout.spend_council("AAA").rglob("*")] == ["year=2025", "part-0.parquet"]


def test_a_failed_stage_leaves_the_previous_outputs(tmp_path):
    layout = Layout(tmp_path)
    publish_version(layout, "old")
    with pytest.raises(RuntimeError), Transaction(layout, "test") as tx:
        part = tx.directory(layout.council_partition("spend", "AAA"))
        write_table(pa.table({"v": ["new"], "n": [1]}), Layout.partition_file(part, 2025))
        raise RuntimeError("the stage failed half-way")
    assert set(versions(layout).values()) == {"old"}
    assert leftovers(layout) == []


def test_a_staged_empty_folder_removes_the_partition(tmp_path):
    layout = Layout(tmp_path)
    publish_version(layout, "old")
    with Transaction(layout, "test") as tx:
        tx.directory(layout.council_partition("spend", "BBB"))
    assert versions(layout)["BBB"] is None and versions(layout)["AAA"] == "old"


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x").write_text("from a")
    (b / "x").write_text("from b")
    if not exchange(a, b):
        pytest.skip("this kernel or filesystem cannot exchange paths (the commit falls back to two renames)")
    assert (a / "x").read_text() == "from b" and (b / "x").read_text() == "from a"


def test_readers_always_find_every_council_during_a_commit(tmp_path, monkeypatch):
    """Every folder replacement is one step: between any two steps of a commit each council is there."""
    layout = Layout(tmp_path)
    publish_version(layout, "old")
    if not exchange(tmp_path / "spend", tmp_path / "spend"):
        pytest.skip("no atomic exchange here")
    missing = []

    def watched(step):
        def run(*args):
            result = step(*args)
            missing.extend(code for code in COUNCILS if not layout.spend_council(code).is_dir())
            return result

        return run

    monkeypatch.setattr(commit, "exchange", watched(commit.exchange))
    monkeypatch.setattr(commit, "rename", watched(commit.rename))
    publish_version(layout, "new")
    assert set(versions(layout).values()) == {"new"}
    assert missing == []


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from normalise.store import commit
    from normalise.store.layout import Layout
    from test_store_commit import publish_version

    kill_after, steps = int(sys.argv[2]), [0]
    if sys.argv[3] == "no-exchange":
        commit.exchange = lambda a, b: False

    def counted(step):
        def run(*args):
            result = step(*args)
            steps[0] += 1
            if steps[0] == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return run

    commit.write_json = counted(commit.write_json)  # step 1: the journal
    commit.exchange = counted(commit.exchange)
    commit.rename = counted(commit.rename)
    publish_version(Layout(Path(sys.argv[1])), "new")
    print("finished")
    """
)


@pytest.mark.slow  # a child process per crash point
@pytest.mark.parametrize("mode", ["exchange", "no-exchange"])
def test_a_commit_killed_at_any_step_is_finished_or_discarded_by_the_next_run(tmp_path, mode):
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(Path(__file__).parent)))
    kill_points = 0
    for kill_after in range(1, 20):
        out = tmp_path / f"out{kill_after}"
        layout = Layout(out)
        publish_version(layout, "old")
        child = subprocess.run(
            [sys.executable, str(script), str(out), str(kill_after), mode], cwd=REPO, capture_output=True, text=True
        )
        if child.returncode == 0:
            assert "finished" in child.stdout
            break
        assert child.returncode == -9, child.stderr
        kill_points += 1
        journalled = any(layout.journal_dir.glob("*.json"))
        with duckdb.connect() as con:  # what a reader globbing the published spend sees meanwhile
            seen = con.sql(f"SELECT v, count(*) FROM read_parquet('{out}/spend/**/*.parquet') GROUP BY v").fetchall()
        assert {v for v, _ in seen} <= {"old", "new"}, seen
        if mode == "exchange":  # each council is swapped in one step: never half there, never gone
            assert sum(n for _, n in seen) == 9, (kill_after, seen)
        assert all(".new" not in p.name and p.suffix != ".tmp" for p in (out / "spend").rglob("*"))
        recover(layout)
        expected = "new" if journalled else "old"
        assert set(versions(layout).values()) == {expected}, (kill_after, versions(layout))
        assert leftovers(layout) == []
    assert kill_points >= 5  # journal, three councils, report (and the manifest)


def test_a_truncated_journal_is_never_applied(tmp_path):
    layout = Layout(tmp_path)
    publish_version(layout, "old")
    layout.journal_dir.mkdir(parents=True, exist_ok=True)
    (layout.journal_dir / "cut.json").write_text('{"id": "cut", "replacements": [{"kind": "fi')
    (layout.staging_root / "cut" / "spend").mkdir(parents=True)
    recovered = recover(layout)
    assert recovered.finished == [] and recovered.discarded == ["cut"]
    assert set(versions(layout).values()) == {"old"} and leftovers(layout) == []


def test_staging_is_invisible_to_every_reader(tmp_path):
    """Readers of spend (a DuckDB glob, pyarrow, pandas) never see a stage's files before its commit."""
    import pandas as pd
    import pyarrow.dataset as ds

    layout = Layout(tmp_path)
    publish_version(layout, "old")
    tx = Transaction(layout, "test")
    part = tx.directory(layout.council_partition("spend", "AAA"))
    write_table(pa.table({"v": ["new"] * 5, "n": [1] * 5}), Layout.partition_file(part, 2025))
    with duckdb.connect() as con:
        rows = con.sql(f"SELECT count(*) FROM read_parquet('{tmp_path}/spend/**/*.parquet')").fetchall()[0][0]
    assert rows == 9
    assert ds.dataset(layout.spend, partitioning="hive").count_rows() == 9
    assert len(pd.read_parquet(layout.spend)) == 9
    tx.commit()
    with duckdb.connect() as con:
        rows = con.sql(f"SELECT count(*) FROM read_parquet('{tmp_path}/spend/**/*.parquet')").fetchall()[0][0]
    assert rows == 11


def test_journal_names_each_replacement_once(tmp_path):
    layout = Layout(tmp_path)
    tx = Transaction(layout, "test")
    tx.file(layout.manifest)
    with pytest.raises(ValueError, match="already staged"):
        tx.file(layout.manifest)
    with pytest.raises(ValueError, match="never written"):
        tx.commit()
    assert not layout.journal_dir.exists() or not any(layout.journal_dir.iterdir())
    assert json.dumps(leftovers(layout)) == "[]"
    assert os.listdir(tmp_path) in ([], ["_work"])


def test_a_journal_cut_short_while_written_is_swept_away(tmp_path):
    layout = Layout(tmp_path)
    publish_version(layout, "old")
    layout.journal_dir.mkdir(parents=True, exist_ok=True)
    (layout.journal_dir / ".20261205-test-1-ab.json.99-cd.tmp").write_text('{"id": "20261205-te')
    recover(layout)
    assert leftovers(layout) == [] and set(versions(layout).values()) == {"old"}
