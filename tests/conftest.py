"""Fixtures shared across the test suite: real servers and real data, started here and stopped after."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The team's shared folder of real council files; absent in a user's clone."""
    if not (SHARED / "realdata").is_dir():
        pytest.skip("../shared/realdata is not beside this clone")
    return SHARED


@pytest.fixture(scope="session")
def prefect_harness():
    """One embedded Prefect server for the whole session, heartbeat off (NOTES.md)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    import flows  # noqa: F401  (sets the offline defaults before Prefect loads)

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


def _hypothesis_profiles() -> None:
    """In CI, property tests draw the same examples every run, so a red build is reproducible."""
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()
