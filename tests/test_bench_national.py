"""The national benchmark at a tiny scale: it runs every stage twice and reports figures that add up.

Two councils for one year through the real flow (its own local Prefect server, the mock web on
loopback addresses); the figures are checked against what the output folder and the mock web's
answer key say, not against numbers written here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # a Prefect server's start (database migrations) and two national runs

REPO = Path(__file__).resolve().parents[1]


def test_bench_national_reports_every_stage_of_a_first_and_an_incremental_run(tmp_path):
    report_path = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    command = [sys.executable, "benchmarks/bench_national.py", "--councils", "2", "--years", "1"]
    command += ["--web", str(tmp_path / "web"), "--out", str(tmp_path / "out"), "--json", str(report_path)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    answers = pd.read_csv(tmp_path / "web" / "answers" / "files.csv")
    forbidden = pd.read_csv(tmp_path / "web" / "answers" / "disallowed.csv")  # links robots.txt forbids
    links = len(answers) + len(forbidden)

    first, again = report["runs"]
    assert (first["run"], again["run"]) == ("first", "incremental")
    for run in (first, again):
        stages = {s["name"]: s for s in run["stages"]}
        assert {"crawl", "normalise", "match", "compliance", "publish"} <= set(stages)
        assert sum(s["seconds"] for s in run["stages"]) <= run["seconds"]
        assert all(0 < s["peak_rss_mib"] <= run["peak_rss_mib"] for s in stages.values() if s["seconds"] > 1)
        # every link of the web is recorded, each run: new the first time, 304s the second
        assert stages["crawl"]["files"] == links
        assert run["output"]["files"] == links
        assert run["output"]["spend_rows"] + run["output"]["reject_rows"] == stages["normalise"]["rows"] > 0
    assert "registers" in {s["name"] for s in first["stages"]}  # loaded once, then kept
    assert again["output"] == first["output"]  # nothing changed, nothing added
    assert report["web"]["files"] > len(answers)  # pages and registers beside the files
