"""The deep-learning environment's pip section against live PyPI, with a fixed --exclude-newer.

Conda comes from the shared offline snapshot (``../shared/channels``), names from the shared
parselmouth mapping. Marked ``network``: ``make test`` runs them; LOCKGEN_OFFLINE_TESTS=1 skips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from lockgen.lockfiles import parse_explicit
from lockgen.lockfiles.requirements import logical_lines
from lockgen.pypi.mapping import PypiMapping
from tests.support.cli import run_lockgen

pytestmark = [
    pytest.mark.network,
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("LOCKGEN_OFFLINE_TESTS") == "1", reason="LOCKGEN_OFFLINE_TESTS=1: no PyPI"),
]

PLATFORMS = ("linux-64", "osx-64", "win-64")
EXCLUDE_NEWER = "2026-09-01"
LINUX = {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": "3.11"}


def _lock(shared: Path, out: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    args: list[str | Path] = ["lock", "-f", shared / "environments" / "dl-conda-forge.yml", "-o", out]
    for platform in PLATFORMS:
        args += ["-p", platform]
    args += [
        "--mirror",
        f"https://conda.anaconda.org={shared / 'channels'}",
        "--exclude-newer",
        EXCLUDE_NEWER,
        "--pypi-mapping",
        shared / "pypi-mapping" / "conda-forge.json",
        "--cache-dir",
        cache,
    ]
    return run_lockgen(*args, timeout=900)


@pytest.fixture(scope="module")
def dl_locks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from tests.conftest import SHARED, SHARED_CHANNELS

    if not (SHARED_CHANNELS / "conda-forge" / "linux-64" / "repodata.json").is_file():
        pytest.skip(f"{SHARED_CHANNELS} is absent")
    root = tmp_path_factory.mktemp("dl")
    result = _lock(SHARED, root / "locks", root / "cache")
    assert result.returncode == 0, result.stderr
    return root, SHARED


def _requirements(path: Path) -> list[tuple[Requirement, list[str]]]:
    found = []
    for _, line in logical_lines(path.read_text()):
        if line.startswith("-"):
            continue
        hashes = [t for t in line.split() if t.startswith("--hash=")]
        found.append((Requirement(" ".join(t for t in line.split() if not t.startswith("--hash="))), hashes))
    return found


def test_no_conda_package_in_the_pip_lock(dl_locks: tuple[Path, Path]) -> None:
    root, shared = dl_locks
    table = json.loads((shared / "pypi-mapping" / "conda-forge.json").read_text())
    mapping = PypiMapping((table,), "test")
    pip_names = {r.name for r, _ in _requirements(root / "locks" / "requirements.txt")}
    assert pip_names >= {"wandb", "transformers", "accelerate"}
    for platform in PLATFORMS:
        conda = parse_explicit((root / "locks" / f"{platform}.txt").read_text())
        provided = {n for e in conda.entries for n in mapping.pypi_names(e.name)}
        assert {"torch", "numpy"} <= provided
        assert not pip_names & provided, f"{platform}: conda packages in the pip lock: {pip_names & provided}"
    assert not [n for n in pip_names if n.startswith("nvidia-") or n in ("triton", "torch", "numpy")]


def test_every_line_is_pinned_with_hashes(dl_locks: tuple[Path, Path]) -> None:
    root, _ = dl_locks
    text = (root / "locks" / "requirements.txt").read_text()
    assert f"# platforms: {', '.join(PLATFORMS)}" in text
    for platform in PLATFORMS:
        assert f"# {platform}: against {platform}.txt" in text
    for requirement, hashes in _requirements(root / "locks" / "requirements.txt"):
        assert [s.operator for s in requirement.specifier] == ["=="], requirement
        assert hashes and all(len(h) == len("--hash=sha256:") + 64 for h in hashes), requirement


def test_linux_lines_download_with_require_hashes(dl_locks: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = dl_locks
    lines = []
    for requirement, hashes in _requirements(root / "locks" / "requirements.txt"):
        if requirement.marker is None or Marker(str(requirement.marker)).evaluate(LINUX):
            requirement.marker = None
            lines.append(f"{requirement} {' '.join(hashes)}")
    linux = tmp_path / "linux.txt"
    linux.write_text("\n".join(lines) + "\n")
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"]
    command = [sys.executable, "-m", "pip", "--isolated", "download", "--no-deps", "--require-hashes"]
    for platform in platforms:
        command += ["--platform", platform]
    command += ["--python-version", "3.11", "--only-binary=:all:", "-d", str(tmp_path / "wheels"), "-r", str(linux)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((tmp_path / "wheels").iterdir())) == len(lines)


def test_a_second_run_is_byte_identical(dl_locks: tuple[Path, Path], tmp_path: Path) -> None:
    root, shared = dl_locks
    again = _lock(shared, tmp_path / "locks", root / "cache")
    assert again.returncode == 0, again.stderr
    first = (root / "locks" / "requirements.txt").read_bytes()
    assert (tmp_path / "locks" / "requirements.txt").read_bytes() == first
