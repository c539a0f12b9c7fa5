"""Fixtures of the fault-injection suite: a small channel (with ``.zst`` repodata), a project with
existing locks, and helpers that run ``lockgen lock`` against a server whose faults the test picks.

At the end of the session the figures (faults injected, kill trials, fuzz cases, files lost) are
written through the terminal reporter, so they show without ``-s``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.figures import write_summary
from tests.faults.server import FaultServer, serve_faults
from tests.support.channel import ChannelBuilder
from tests.support.cli import run_lockgen
from tests.support.pypi_index import SimpleIndex

CHANNEL = "testchan"
ENV = """\
name: faults
channels:
  - testchan
dependencies:
  - app >=1.0
"""
FAST_NET = {"LOCKGEN_HTTP_TIMEOUT": "1", "LOCKGEN_HTTP_RETRIES": "1"}


def build_channel(
    root: Path, subdirs: tuple[str, ...] = ("noarch", "linux-64", "osx-64"), python: bool = False, pip: bool = False
) -> ChannelBuilder:
    """A three-package channel (plus python 3.11.9 and pip if asked, for pip sections: lockgen adds
    pip to the conda side of one; ``pip`` alone: a python-less pip); every subdir also gets
    ``repodata.json.zst`` (what rattler asks first)."""
    import zstandard

    builder = ChannelBuilder(root / CHANNEL, subdirs=subdirs)
    for subdir in subdirs:
        if subdir == "noarch":
            continue
        builder.add("libcore", "2.0", build="h1_0", subdir=subdir, files={"lib/core.txt": b"core"})
        builder.add("app", "1.1", build="h2_0", subdir=subdir, depends=["libcore >=2", "pydata"])
        if python:
            builder.add("python", "3.11.9", build="h0_cpython", subdir=subdir)
    builder.add("pydata", "3.0", build="pyhd8ed1ab_0", files={"share/pydata.txt": b"data"})
    if python or pip:
        builder.add("pip", "24.2", build="pyh0_0", noarch="python" if python else None,
                    depends=["python >=3.8"] if python else [])  # fmt: skip
    builder.write()
    for subdir in subdirs:
        plain = root / CHANNEL / subdir / "repodata.json"
        (plain.parent / "repodata.json.zst").write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    return builder


def build_pip_world(served: Path, mapping: dict[str, list[str] | None]) -> None:
    """Under ``served``: a channel with python (``channels/``), a PyPI-like index with ``pipdep``
    (``index/``) and a conda→PyPI mapping for the channel (``mapping/``), to serve with faults."""
    build_channel(served / "channels", python=True)
    index = SimpleIndex(served / "index")
    index.add("pipdep", "1.0")
    index.write()
    (served / "mapping").mkdir()
    (served / "mapping" / f"{CHANNEL}.json").write_text(json.dumps(mapping))


def snapshot(out_dir: Path) -> dict[str, bytes]:
    """Every file under the output directory except the writers' flock file, by relative path."""
    if not out_dir.is_dir():
        return {}
    return {
        str(p.relative_to(out_dir)): p.read_bytes()
        for p in sorted(out_dir.rglob("*"))
        if p.is_file() and p.name != ".lockgen.lock"
    }


@dataclass
class Project:
    """A directory with environment.yml, a repodata cache and (after :meth:`lock`) locks/."""

    root: Path

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def lock(
        self, mirror: str, *extra: str | Path, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run_lockgen(
            "lock",
            "-p",
            "linux-64",
            "--mirror",
            f"https://conda.anaconda.org={mirror}",
            "--cache-dir",
            self.cache,
            *extra,
            cwd=self.root,
            env=env,
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def channel_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fault-channel")
    build_channel(root)
    return root


@pytest.fixture
def server(channel_root: Path) -> Iterator[FaultServer]:
    with serve_faults(channel_root) as running:
        yield running


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "environment.yml").write_text(ENV)
    return Project(tmp_path)


@pytest.fixture
def locked_project(project: Project, channel_root: Path) -> Project:
    """A project whose locks/ already holds a good lock (made from the channel directory)."""
    result = project.lock(channel_root.as_uri(), "--cache-dir", project.root / "seed-cache")
    assert result.returncode == 0, result.stderr
    assert (project.locks / "linux-64.txt").is_file()
    return project


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    write_summary(terminalreporter)
