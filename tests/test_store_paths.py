"""One owner of the output folder: no production module outside ``normalise/store`` spells a path in it.

The store's layout (``normalise/store/layout.py``) names every table file, working folder and
partition; everything else asks it. This scans the source of every module of ``normalise``,
``crawler``, ``pipelines`` and ``flows`` for paths built from those names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("normalise", "crawler", "pipelines", "flows")
STORE = ROOT / "normalise" / "store"

#: Names that only the layout may spell: published files, working folders, top-level folders.
RESERVED = {
    "files.parquet",
    "runs.parquet",
    "rejects.parquet",
    "suppliers.parquet",
    "compliance.parquet",
    "councilspend.duckdb",
    "datapackage.json",
    "DATA_DICTIONARY.md",
    "items.jsonl",
    "stats.json",
    "crawl.log",
    "_work",
    "_crawl",
    "_mockweb",
    "spend",
    "raw",
    "registers",
    "report",
    "contracts",
    "releases",
}
#: Partition keys, which start a path component.
KEYS = ("council=", "year=")
#: Calls whose arguments are paths.
PATH_CALLS = {"Path", "joinpath", "with_name", "glob", "rglob", "open", "mkdir", "write_text", "write_bytes"}


def _components(text: str) -> list[str]:
    """The reserved names among the path components of ``text``.

    >>> _components("spend/council=BIR/year=2025")
    ['spend', 'council=', 'year=']
    >>> _components(".rejects.parquet")
    []
    """
    found = []
    for part in text.split("/"):
        if part in RESERVED:
            found.append(part)
        found += [key for key in KEYS if part.startswith(key)]
    return found


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def path_spellings(source: str) -> list[str]:
    """Where ``source`` builds a path under the output folder from a name only the layout may spell.

    A path is built by ``/`` or by a call that takes a path (``Path(...)``, ``.glob(...)``, ...);
    prose that merely mentions a file (help texts, docstrings, messages) is fine.

    >>> path_spellings('partition = out / "spend" / f"council={code}"')
    ["1: 'council='", "1: 'spend'"]
    >>> path_spellings('print("see files.parquet"); table = read_table(path, "files")')
    []
    """
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            parts = [node.right]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            parts = [*node.args, *(k.value for k in node.keywords)] if name in PATH_CALLS else []
        else:
            continue
        for part in parts:
            found |= {(node.lineno, name) for text in _strings(part) for name in _components(text)}
    return [f"{line}: {name!r}" for line, name in sorted(found)]


def _modules() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if STORE not in path.parents and path.parent != STORE
    ]


@pytest.mark.parametrize("path", _modules(), ids=[str(p.relative_to(ROOT)) for p in _modules()])
def test_only_the_store_spells_output_paths(path: Path) -> None:
    assert path_spellings(path.read_text(encoding="utf-8")) == [], f"{path.relative_to(ROOT)}: ask the Layout"


def test_the_scan_sees_paths_and_covers_the_code() -> None:
    """The scan flags what the store's own layout spells (a broken scan would pass every module)."""
    assert path_spellings((STORE / "layout.py").read_text(encoding="utf-8"))
    assert len(_modules()) > 40
