"""Shared fixtures. Tests that read ../shared skip with a reason when it is absent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_CHANNELS = SHARED / "channels"
SHARED_ENVS = SHARED / "environments"
SHARED_MAPPING = SHARED / "pypi-mapping"


SLOW_DIRS = ("integration", "faults", "security", "scenarios")
"""Tests that drive the CLI end to end, in-process or in subprocesses (channel servers, uv, kills, hostile
inputs, golden scenarios): all `slow`."""


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under exactly ``-m "not slow"`` (`make test-fast`), the slow folders are not even collected: every
    test in them would be deselected, and importing them is most of the collection time."""
    if config.option.markexpr.strip() == "not slow" and collection_path.parent == ROOT / "tests":
        return collection_path.name in SLOW_DIRS or None
    return None


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


@pytest.fixture(scope="session", autouse=True)
def state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """lockgen's state folder (its journal key) for this test session, never the user's own. Library calls
    take it as a parameter (the ``state_dirs`` fixture); the lockgen processes the tests start read it, as
    users' do, from ``XDG_STATE_HOME`` (lockgen.config.read_state_dirs), set for the session and restored."""
    folder = tmp_path_factory.mktemp("lockgen-state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(folder))
        yield folder


@pytest.fixture(scope="session", autouse=True)
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The platform's user cache folder for this test session (``XDG_CACHE_HOME``, which platformdirs reads
    on Linux), never the user's own: a test that chooses no cache folder still has lockgen write its memos
    (the environment file's, the mapping's) and repodata somewhere, and the default is looked up then.
    A ``LOCKGEN_CACHE_DIR`` of the user's shell, which comes before it, is unset for the session."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        patch.delenv("LOCKGEN_CACHE_DIR", raising=False)
        yield folder


@pytest.fixture
def state_dirs(state_home: Path) -> tuple[Path, ...]:
    """What ``LockOptions.state_dirs`` holds in this session: pass it to the commit functions."""
    return (state_home,)


@pytest.fixture
def shared_dir() -> Path:
    """../shared, or skip: it holds the offline channel snapshot and example environments."""
    if not (SHARED_CHANNELS / "conda-forge" / "linux-64" / "repodata.json").is_file():
        pytest.skip(f"{SHARED_CHANNELS} is absent (the offline channel snapshot lives beside the project)")
    return SHARED


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture(autouse=True)
def _leaves_no_trace() -> Iterator[None]:
    """Every test leaves the working folder and the environment as it found them: many run the CLI in this
    process (tests/support/cli.py's invoke_lockgen), and what one leaves the next would inherit."""
    cwd, environ = os.getcwd(), dict(os.environ)
    yield
    assert os.getcwd() == cwd, f"the test left the working folder at {os.getcwd()}"
    keys = {*environ, *os.environ} - {"PYTEST_CURRENT_TEST"}  # pytest's own, set for each phase of a test
    changed = sorted(k for k in keys if environ.get(k) != os.environ.get(k))
    assert not changed, f"the test changed the environment: {changed}"
