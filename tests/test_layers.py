"""The layer rules of DESIGN.md, checked on the imports of every module.

- ``normalise/`` is a plain library: no Scrapy, Twisted, Prefect, and none of the other layers;
  its shared root modules (schema, councils, sources, names, ...) import no job sub-package.
- ``crawler/`` and ``pipelines/`` know nothing of Prefect or the flows.
- Only ``flows/`` imports Prefect.
- Production code never imports the mock web, except the commands that serve or score it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("normalise", "crawler", "pipelines", "flows")
#: Modules of flows/ that exist to drive the mock web (the demo, `mockweb`, `match-eval`).
MOCKWEB_USERS = {"flows.demo", "flows.cli"}
FORBIDDEN = {
    "normalise": {"scrapy", "twisted", "prefect", "prefect_dask", "flows", "crawler", "pipelines", "mockweb"},
    "crawler": {"prefect", "prefect_dask", "flows", "mockweb"},
    "pipelines": {"prefect", "prefect_dask", "flows", "mockweb"},
    "flows": set(),
}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found.append((name, path))
    return found


def imported(path: Path) -> set[str]:
    """Every module an import statement in ``path`` names (absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _job_packages() -> set[str]:
    return {p.name for p in (ROOT / "normalise").iterdir() if (p / "__init__.py").is_file()}


@pytest.mark.parametrize("module,path", _modules(), ids=[m for m, _ in _modules()])
def test_layer_rules(module: str, path: Path) -> None:
    layer = module.split(".")[0]
    tops = {name.split(".")[0] for name in imported(path)}
    forbidden = set(FORBIDDEN[layer])
    if layer != "flows" or module not in MOCKWEB_USERS:
        forbidden.add("mockweb")
    assert not tops & forbidden, f"{module} imports {sorted(tops & forbidden)}"
    shared_root = path.parent == ROOT / "normalise" and path.name != "__init__.py"
    if shared_root:
        jobs = {f"normalise.{job}" for job in _job_packages()} - {"normalise.store"}
        upward = {name for name in imported(path) if any(name == j or name.startswith(j + ".") for j in jobs)}
        assert not upward, f"{module} (shared root) imports job packages {sorted(upward)}"


def test_the_rules_see_imports() -> None:
    """The checker finds real imports (a broken walk would pass every module vacuously)."""
    assert "prefect" in {n.split(".")[0] for n in imported(ROOT / "flows" / "crawl.py")}
    assert len(_modules()) > 40
