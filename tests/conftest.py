"""Shared fixtures. Tests marked ``data`` read ``../shared`` (or ``$TRACKER_SHARED``) in place and are
skipped when it is absent (a user's machine); in CI it is present, so they always run there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRACKER_SHARED", REPO.parent / "shared"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED.is_dir():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI run but shared data folder {SHARED} is missing")
    skip = pytest.mark.skip(reason=f"shared data not found at {SHARED} (set TRACKER_SHARED)")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared() -> Path:
    """Root of the shared data/models folder."""
    return SHARED


@pytest.fixture(scope="session")
def models(shared: Path) -> Path:
    return shared / "models"


@pytest.fixture(scope="session")
def data_root(shared: Path) -> Path:
    return shared / "data"
