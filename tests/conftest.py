"""Shared fixtures. Tests that read ../shared skip with a reason when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_CHANNELS = SHARED / "channels"
SHARED_ENVS = SHARED / "environments"
SHARED_MAPPING = SHARED / "pypi-mapping"


@pytest.fixture
def shared_dir() -> Path:
    """../shared, or skip: it holds the offline channel snapshot and example environments."""
    if not (SHARED_CHANNELS / "conda-forge" / "linux-64" / "repodata.json").is_file():
        pytest.skip(f"{SHARED_CHANNELS} is absent (the offline channel snapshot lives beside the project)")
    return SHARED


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"
