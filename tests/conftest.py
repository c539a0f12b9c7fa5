"""Shared fixtures. Tests that read ../shared skip with a reason when it is absent."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# lockgen keeps its journal key in $XDG_STATE_HOME/lockgen (lockgen.lockfiles): one per test session,
# shared with the lockgen subprocesses the tests start, never the user's own.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="lockgen-test-state-")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_CHANNELS = SHARED / "channels"
SHARED_ENVS = SHARED / "environments"
SHARED_MAPPING = SHARED / "pypi-mapping"


SLOW_DIRS = ("integration", "faults", "security", "scenarios")
"""Tests that drive the CLI end to end in subprocesses (channel servers, uv, kills, hostile inputs, golden
scenarios): all `slow`."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration, tests/faults and tests/security `slow`, so `make test-fast`
    (``-m "not slow"``) runs the unit and in-process tests only; `make test` runs everything."""
    tests = ROOT / "tests"
    for item in items:
        try:
            top = item.path.relative_to(tests).parts[0]
        except ValueError:
            continue
        if top in SLOW_DIRS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def shared_dir() -> Path:
    """../shared, or skip: it holds the offline channel snapshot and example environments."""
    if not (SHARED_CHANNELS / "conda-forge" / "linux-64" / "repodata.json").is_file():
        pytest.skip(f"{SHARED_CHANNELS} is absent (the offline channel snapshot lives beside the project)")
    return SHARED


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"
