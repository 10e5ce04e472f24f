"""The Python examples of the README's "Using the data" run, as a reader would run them, against a
small output folder (with a release) in ``data/``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_release import build

from normalise.publish import write_data_dictionary, write_datapackage, write_duckdb
from normalise.publish.release import write_release

README = Path(__file__).resolve().parents[1] / "README.md"


def using_the_data_examples() -> list[str]:
    """The ```python blocks of the README section "Using the data" (up to the next ## heading)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Using the data\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reader")
    data = build(root / "data")
    write_datapackage(data)
    write_data_dictionary(data)
    write_duckdb(data)
    write_release(data, "2025-12")
    return root


def test_the_section_has_python_examples() -> None:
    assert len(using_the_data_examples()) >= 4


@pytest.mark.parametrize("number", range(len(using_the_data_examples())))
def test_each_python_example_runs(workdir: Path, number: int) -> None:
    code = using_the_data_examples()[number]
    done = subprocess.run([sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "an example should print what it found"
