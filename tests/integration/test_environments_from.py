"""``lock --from`` / ``--conda-lock-file`` with ``[tool.lockgen.environments]``: they are for one
environment's lock, named with ``-e``; anything else is refused with the way to do it, never is
one environment locked silently in place of all.

The channel (built here) has ``liba`` 1.0 and 2.0; the adopted lock pins 1.0, so a kept pin shows.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from lockgen.lockfiles import parse_explicit
from tests.support.channel import ChannelBuilder
from tests.support.cli import run_lockgen

CANONICAL = "https://conda.anaconda.org"
ENV = "channels:\n  - testchan\nplatforms:\n  - linux-64\ndependencies:\n  - liba\n"
APART = '[tool.lockgen.environments]\nold = { file = "old.yml" }\nnew = { file = "new.yml" }\n'


def _run(root: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    mirror = ("--mirror", f"{CANONICAL}={root / 'mirror'}", "--cache-dir", root / "cache")
    return run_lockgen(*args, *(mirror if args[0] == "lock" else ()), cwd=root / "project")


def _liba(root: Path, env: str) -> str:
    text = (root / "project" / "locks" / env / "linux-64.txt").read_text()
    return next(e.version for e in parse_explicit(text).entries if e.name == "liba")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    builder = ChannelBuilder(tmp_path / "mirror" / "testchan", subdirs=("noarch", "linux-64"))
    builder.add("liba", "1.0")
    builder.add("liba", "2.0")
    builder.write()
    archive = next(p for p in (tmp_path / "mirror" / "testchan" / "noarch").iterdir() if p.name.startswith("liba-1.0"))
    digest = hashlib.md5(archive.read_bytes()).hexdigest()
    (tmp_path / "adopted.txt").write_text(
        f"# platform: linux-64\n@EXPLICIT\n{CANONICAL}/testchan/noarch/{archive.name}#{digest}\n"
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(APART)
    (project / "old.yml").write_text(ENV)
    (project / "new.yml").write_text(ENV)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    return tmp_path


def test_from_without_naming_the_environment_is_refused_and_locks_nothing(root: Path) -> None:
    for extra in ((), ("-e", "old", "-e", "new")):
        done = _run(root, "lock", *extra, "--from", root / "adopted.txt")
        assert done.returncode == 2, done.stderr
        assert "--from is for one environment's lock" in done.stderr
        assert "name the one it is for with -e NAME (one of old, new)" in done.stderr
        assert not (root / "project" / "locks").exists()
    done = _run(root, "lock", "--conda-lock-file", "conda-lock.yml")
    assert done.returncode == 2 and "--conda-lock-file is for one environment's lock" in done.stderr


def test_from_and_conda_lock_file_lock_the_environment_named(root: Path) -> None:
    done = _run(root, "lock", "-e", "old", "--from", root / "adopted.txt", "--conda-lock-file", "old-lock.yml")
    assert done.returncode == 0, done.stderr
    assert "[old]" in done.stdout and "kept 1 of 1 pins" in done.stdout
    assert _liba(root, "old") == "1.0"  # the adopted pin, where alone 2.0 would be taken
    assert not (root / "project" / "locks" / "new").exists()
    assert "liba" in (root / "project" / "old-lock.yml").read_text()
    done = _run(root, "lock")  # the rest are locked; old keeps what it adopted
    assert done.returncode == 0, done.stderr
    assert (_liba(root, "old"), _liba(root, "new")) == ("1.0", "2.0")
    assert _run(root, "check").returncode == 0


def test_a_group_member_and_a_shared_conda_lock_file_are_refused_with_the_fix(root: Path) -> None:
    project = root / "project"
    (project / "pyproject.toml").write_text(
        APART.replace('"old.yml" }', '"old.yml", group = "g" }').replace('"new.yml" }', '"new.yml", group = "g" }')
    )
    done = _run(root, "lock", "-e", "old", "--from", root / "adopted.txt")
    assert done.returncode == 2, done.stderr
    assert "old is locked together with its group g (old, new)" in done.stderr
    assert "remove `group` from old's entry" in done.stderr and "pyproject.toml:2)" in done.stderr
    assert not (project / "locks").exists()

    (project / "pyproject.toml").write_text('[tool.lockgen]\nconda-lock-file = "conda-lock.yml"\n\n' + APART)
    done = _run(root, "lock")
    assert done.returncode == 2, done.stderr
    assert "pyproject.toml:2: conda-lock-file names one file" in done.stderr
    assert "`lockgen lock -e NAME --conda-lock-file PATH`" in done.stderr
    assert not (project / "locks").exists()
