"""The crawler against the generated mock council web (with its faults), checked with its answer key.

Three councils: landing pages in several shapes, pagination, extension-less links,
a CKAN portal, a redirect, a slow file, a 404, a 500 and a robots.txt-disallowed
draft. ``answers/files.csv`` says what every file is; the crawl must find them
all and record the same dataset, period and (sniffed) format.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow  # crawls the whole mock web

generate = pytest.importorskip("mockweb.generate")
server = pytest.importorskip("mockweb.server")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mock_web(tmp_path_factory):
    root = tmp_path_factory.mktemp("mockweb")
    site = generate.generate(root, councils=3, faults=True)
    with server.MockWeb(root) as web:
        sources = root / "sources.yaml"
        sources.write_text(site.sources_yaml(web.base_url), encoding="utf-8")
        yield root, sources


def crawl(sources: Path, out: Path, run_id: str) -> dict:
    env = dict(
        os.environ,
        COUNCILSPEND_DOWNLOAD_DELAY="0",
        COUNCILSPEND_AUTOTHROTTLE="0",
        COUNCILSPEND_CONCURRENCY="16",
        COUNCILSPEND_TIMEOUT="4",  # the dripping file fails in seconds, the slow one (2 s) still arrives
        COUNCILSPEND_MAX_FILE_BYTES=str(2 * 1024 * 1024),
    )
    command = [
        sys.executable,
        "-m",
        "crawler.run",
        "--sources",
        str(sources),
        "--out",
        str(out),
        "--run-id",
        run_id,
        "--log-file",
        str(out.parent / f"{run_id}.log"),
    ]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def route(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_crawl_finds_every_generated_file_and_revalidates_them(mock_web, tmp_path):
    root, sources = mock_web
    answers = {row["url_path"]: row for row in csv.DictReader((root / "answers/files.csv").open(encoding="utf-8"))}
    disallowed = [row["url_path"] for row in csv.DictReader((root / "answers/disallowed.csv").open(encoding="utf-8"))]
    out = tmp_path / "out"
    first = crawl(sources, out, "first")
    files = {route(row["url"]): row for row in pq.read_table(out / "files.parquet").to_pylist()}

    documents = [row["url_path"] for row in csv.DictReader((root / "answers/documents.csv").open(encoding="utf-8"))]
    assert documents and not set(files) & set(documents)  # papers beside the data are never fetched
    assert set(files) == set(answers) | set(disallowed)
    for path, answer in answers.items():
        row = files[path]
        assert row["council_code"] == answer["council_code"], path
        assert row["dataset"] == answer["dataset"], path
        assert str(row["period_start"]) == answer["period_start"] and str(row["period_end"]) == answer["period_end"], (
            path
        )
        if answer["http_status"] == "200":
            assert row["sha256"] and row["error"] is None and row["format"] == answer["format"], (path, row)
        else:
            assert row["sha256"] is None and row["http_status"] == (int(answer["http_status"]) or None), (path, row)
    for path in disallowed:
        assert files[path]["error"] == "forbidden by robots.txt"

    fetched = sum(answer["http_status"] == "200" for answer in answers.values())
    assert first["manifest"]["new"] == fetched
    assert first["manifest"]["failed"] == len(answers) - fetched + len(disallowed)

    second = crawl(sources, out, "second")
    assert second["manifest"] == second["manifest"] | {"new": 0, "changed": 0, "unchanged": fetched}
    assert second["responses_by_status"]["304"] == fetched
    assert second["bytes"] < first["bytes"] / 10
