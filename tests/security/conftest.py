"""A small locked project for the review-integrity tests: a two-platform channel built in a tmp
dir, locked in-process through ``--mirror`` (canonical URLs in the locks, no network)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lockgen.config import LockOptions, build_options
from lockgen.lock import lock
from tests.faults.conftest import CHANNEL, build_channel
from tests.faults.figures import write_summary
from tests.support.options import flags

ENV = f"""\
name: review
channels:
  - {CHANNEL}
platforms: [linux-64, osx-64]
dependencies:
  - app >=1.0
  - pip
"""


def options(root: Path, channel_root: Path, **cli: Any) -> LockOptions:
    values = {
        "output_dir": root / "locks",
        "cache_dir": root / "cache",
        "mirrors": (f"https://conda.anaconda.org={channel_root.as_uri()}",),
        **cli,
    }
    return build_options([root / "environment.yml"], flags(**values))


@pytest.fixture(scope="session")
def channel_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review-channel")
    build_channel(root, pip=True)
    return root


@pytest.fixture(scope="session")
def locked_template(tmp_path_factory: pytest.TempPathFactory, channel_root: Path) -> Path:
    root = tmp_path_factory.mktemp("review-project")
    (root / "environment.yml").write_text(ENV)
    lock(options(root, channel_root))
    return root


@pytest.fixture
def project(tmp_path: Path, locked_template: Path) -> Path:
    """A fresh copy of a project whose locks/ is up to date (linux-64.txt, osx-64.txt)."""
    shutil.copy(locked_template / "environment.yml", tmp_path / "environment.yml")
    shutil.copytree(locked_template / "locks", tmp_path / "locks")
    shutil.copytree(locked_template / "cache", tmp_path / "cache", symlinks=True)
    return tmp_path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The security tests add to the fault suite's figures: print them when only this directory runs."""
    write_summary(terminalreporter)
