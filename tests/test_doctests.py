"""Every doctest in the project's packages runs, so examples in docstrings stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("normalise", "crawler", "pipelines", "flows", "mockweb")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        path = importlib.import_module(package).__path__
        names += [m.name for m in pkgutil.walk_packages(path, prefix=f"{package}.")]
    return sorted(names)


@pytest.mark.parametrize("module", _modules())
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_doctests_exist() -> None:
    """The collector above really finds examples (a broken walk would pass vacuously)."""
    tried = sum(doctest.testmod(importlib.import_module(m)).attempted for m in _modules())
    assert tried > 50
