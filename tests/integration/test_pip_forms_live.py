"""Every form of issue 11 in one environment, against live PyPI (fixed --exclude-newer) and the shared
conda-forge snapshot: the sdist-only `wget`, a `git+file://` repository with a dependency, `-e
./localproj` with a dependency, and `dask[complete]` in the conda section; three platforms."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lockgen.lockfiles.requirements import parse_compiled
from tests.support.cli import run_lockgen
from tests.support.projects import make_git_repo, make_project

pytestmark = [
    pytest.mark.network,
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("LOCKGEN_OFFLINE_TESTS") == "1", reason="LOCKGEN_OFFLINE_TESTS=1: no PyPI"),
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
]

PLATFORMS = ("linux-64", "osx-64", "win-64")
# wget 3.2 on PyPI is a single sdist (wget-3.2.zip); its sha256 as PyPI lists it
WGET_SDIST = "sha256:35e630eca2aa50ce998b9b1a127bb26b30dfee573702782aa982f875e3f16061"


def test_every_form_locks_on_three_platforms(tmp_path: Path, shared_dir: Path) -> None:
    commit = make_git_repo(tmp_path / "repo", "vcspkg", "1.0", ["emoji"])
    make_project(tmp_path / "localproj", "localproj", "0.1.0", ["humanize"])
    (tmp_path / "environment.yml").write_text(
        "channels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pip\n  - dask[complete]\n  - pip:\n"
        f"    - wget\n    - vcspkg @ git+{(tmp_path / 'repo').as_uri()}\n    - -e ./localproj\n"
    )
    args: list[str | Path] = ["lock", "--exclude-newer", "2025-06-01", "--cache-dir", tmp_path / "cache"]
    for platform in PLATFORMS:
        args += ["-p", platform]
    args += ["--mirror", f"https://conda.anaconda.org={shared_dir / 'channels'}"]
    args += ["--pypi-mapping", shared_dir / "pypi-mapping" / "conda-forge.json"]
    result = run_lockgen(*args, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "environment.yml:6: warning: `dask[complete]`: conda ignores `complete`" in result.stderr
    for platform in PLATFORMS:
        assert "/dask-" in (tmp_path / "locks" / f"{platform}.txt").read_text()
    pins = {p.name: p for p in parse_compiled((tmp_path / "locks" / "requirements.txt").read_text())}
    assert pins["wget"].version == "3.2" and pins["wget"].hashes == (WGET_SDIST,)
    assert pins["emoji"].via == ("vcspkg",) and pins["humanize"].via == ("localproj",)
    assert all(p.hashes and p.marker is None for p in pins.values())
    unhashed = (tmp_path / "locks" / "requirements-unhashed.txt").read_text()
    assert f"vcspkg @ git+{(tmp_path / 'repo').as_uri()}@{commit}\n" in unhashed
    assert "\n-e ./localproj\n" in unhashed


def test_wget_locks_where_conda_has_the_newest_setuptools(tmp_path: Path, shared_dir: Path) -> None:
    """wget 3.2 is a setup.py-only sdist that imports setuptools without declaring it. On
    2026-08-10 conda-forge's newest setuptools (84.0.0, pulled in by pip) was PyPI's newest too, so
    its stub `84.0.0+conda` outranked PyPI's 84.0.0: before build constraints, uv's build
    environment installed the stub and wget failed with "No module named 'setuptools'"."""
    (tmp_path / "environment.yml").write_text(
        "channels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - wget\n"
    )
    args: list[str | Path] = ["lock", "--exclude-newer", "2026-08-10", "--cache-dir", tmp_path / "cache"]
    args += ["-p", "linux-64", "--mirror", f"https://conda.anaconda.org={shared_dir / 'channels'}"]
    args += ["--pypi-mapping", shared_dir / "pypi-mapping" / "conda-forge.json"]
    result = run_lockgen(*args, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "/setuptools-84.0.0-" in (tmp_path / "locks" / "linux-64.txt").read_text()
    pins = {p.name: p for p in parse_compiled((tmp_path / "locks" / "requirements.txt").read_text())}
    assert pins["wget"].version == "3.2" and pins["wget"].hashes == (WGET_SDIST,)
