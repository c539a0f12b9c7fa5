"""``lock --from`` / ``--conda-lock-file`` with ``[tool.lockgen.environments]``: they are for one
environment's lock, named with ``-e``; anything else is refused with the way to do it, never is
one environment locked silently in place of all.

The channel (tests/support/twoenvs.py) has ``liba`` 1.0 and 2.0; the adopted lock pins 1.0, so a kept pin shows.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.support.channel import CANONICAL
from tests.support.twoenvs import APART, ENV, liba, make, run


@pytest.fixture
def root(tmp_path: Path) -> Path:
    make(tmp_path, {"pyproject.toml": APART, "old.yml": ENV, "new.yml": ENV})
    archive = next(p for p in (tmp_path / "mirror" / "testchan" / "noarch").iterdir() if p.name.startswith("liba-1.0"))
    digest = hashlib.md5(archive.read_bytes()).hexdigest()
    (tmp_path / "adopted.txt").write_text(
        f"# platform: linux-64\n@EXPLICIT\n{CANONICAL}/testchan/noarch/{archive.name}#{digest}\n"
    )
    return tmp_path


def test_from_without_naming_the_environment_is_refused_and_locks_nothing(root: Path) -> None:
    for extra in ((), ("-e", "old", "-e", "new")):
        done = run(root, "lock", *extra, "--from", root / "adopted.txt")
        assert done.returncode == 2, done.stderr
        assert "--from is for one environment's lock" in done.stderr
        assert "name the one it is for with -e NAME (one of old, new)" in done.stderr
        assert not (root / "project" / "locks").exists()
    done = run(root, "lock", "--conda-lock-file", "conda-lock.yml")
    assert done.returncode == 2 and "--conda-lock-file is for one environment's lock" in done.stderr


def test_from_and_conda_lock_file_lock_the_environment_named(root: Path) -> None:
    done = run(root, "lock", "-e", "old", "--from", root / "adopted.txt", "--conda-lock-file", "old-lock.yml")
    assert done.returncode == 0, done.stderr
    assert "[old]" in done.stdout and "kept 1 of 1 pins" in done.stdout
    assert liba(root, "old") == "1.0"  # the adopted pin, where alone 2.0 would be taken
    assert not (root / "project" / "locks" / "new").exists()
    assert "liba" in (root / "project" / "old-lock.yml").read_text()
    done = run(root, "lock")  # the rest are locked; old keeps what it adopted
    assert done.returncode == 0, done.stderr
    assert (liba(root, "old"), liba(root, "new")) == ("1.0", "2.0")
    assert run(root, "check").returncode == 0


def test_a_group_member_and_a_shared_conda_lock_file_are_refused_with_the_fix(root: Path) -> None:
    project = root / "project"
    grouped = APART.replace('"old.yml" }', '"old.yml", group = "g" }').replace(
        '"new.yml" }', '"new.yml", group = "g" }'
    )
    (project / "pyproject.toml").write_text(grouped)
    done = run(root, "lock", "-e", "old", "--from", root / "adopted.txt")
    assert done.returncode == 2, done.stderr
    assert "old is locked together with its group g (old, new)" in done.stderr
    assert "remove `group` from old's entry" in done.stderr and "pyproject.toml:2)" in done.stderr
    assert not (project / "locks").exists()
    # the fix it gives: old out of the group for that one lock, then back; the group keeps old's pin
    (project / "pyproject.toml").write_text(grouped.replace('"old.yml", group = "g" }', '"old.yml" }'))
    done = run(root, "lock", "-e", "old", "--from", root / "adopted.txt")
    assert done.returncode == 0 and liba(root, "old") == "1.0", done.stderr
    (project / "pyproject.toml").write_text(grouped)
    done = run(root, "lock")
    assert done.returncode == 0, done.stderr
    assert liba(root, "old") == liba(root, "new") == "1.0"  # new alone would take 2.0
    assert run(root, "check").returncode == 0
    shutil.rmtree(project / "locks")

    (project / "pyproject.toml").write_text('[tool.lockgen]\nconda-lock-file = "conda-lock.yml"\n\n' + APART)
    done = run(root, "lock")
    assert done.returncode == 2, done.stderr
    assert "pyproject.toml:2: conda-lock-file names one file" in done.stderr
    assert "`lockgen lock -e NAME --conda-lock-file PATH`" in done.stderr
    assert not (project / "locks").exists()
