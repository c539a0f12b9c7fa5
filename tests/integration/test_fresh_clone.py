"""A fresh clone with current locks: plain `make lock` (no MIRROR, channel and mapping unreachable,
nothing cached) changes no file. The mapping then comes from lockgen's snapshot, which must give the
same requirements.txt as the copy in ../shared the locks were made with."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.shared, pytest.mark.network]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _make(clone: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    venv = Path(sys.executable).parent.parent  # this checkout's venv: no install from the network
    return subprocess.run(
        ["make", "-C", str(clone), "lock", f"VENV={venv}", "-o", f"{venv}/.installed", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _git(clone: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(clone), *args], capture_output=True, text=True, check=True).stdout


def test_plain_make_lock_on_a_fresh_clone_changes_nothing(tmp_path: Path, shared_dir: Path) -> None:
    if shutil.which("make") is None or shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs make, git and a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    closed = f"http://127.0.0.1:{_closed_port()}"
    env = dict(os.environ, LOCKGEN_PYPI_MAPPING_URL=closed + "/{channel}.json")
    # Make the clone's locks current for this code, as `make lock MIRROR=../shared/channels` does (a
    # no-op when the committed locks are current; otherwise the pip part asks PyPI).
    made = _make(
        clone,
        dict(env, LOCKGEN_CACHE_DIR=str(tmp_path / "cache-mirror")),
        f"MIRROR={shared_dir / 'channels'}",
        f"PYPI_MAPPING={shared_dir / 'pypi-mapping' / 'conda-forge.json'}",  # what ../shared gives the Makefile
    )
    assert made.returncode == 0, made.stderr
    if _git(clone, "status", "--porcelain"):
        _git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-am", "current locks")
    before = {p.name: p.stat().st_mtime_ns for p in (clone / "locks").iterdir()}

    # A newcomer's machine: nothing cached, no conda channel, no mapping download.
    fresh = dict(env, LOCKGEN_CACHE_DIR=str(tmp_path / "cache-empty"), HTTPS_PROXY=closed, HTTP_PROXY=closed)
    fresh.pop("NO_PROXY", None)
    fresh.pop("no_proxy", None)
    made = _make(clone, fresh)
    assert made.returncode == 0, made.stderr
    assert _git(clone, "status", "--porcelain") == ""
    assert {p.name: p.stat().st_mtime_ns for p in (clone / "locks").iterdir()} == before  # nothing rewritten
    # the mapping could not be downloaded and the snapshot was used: it answered as the download did, so
    # nothing changed, and the note is not repeated on a run that changes nothing; -v still says it
    assert "snapshot" not in made.stderr
    verbose = _make(clone, fresh, "LOCK_ARGS=-v")
    assert verbose.returncode == 0, verbose.stderr
    assert "snapshot" in verbose.stderr
