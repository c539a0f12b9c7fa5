"""Git's output read for a review (`diff REV`, `check --against`): a work tree whose path, or a lock
folder whose file names, are not UTF-8 (a POSIX file name is bytes) are read, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lockgen.review.sources import ReviewSourceError, read_revision, read_revision_file
from tests.support.cli import invoke_lockgen
from tests.support.projects import git

URL = "https://conda.anaconda.org/conda-forge/linux-64/a-{v}-h0.conda#" + "0" * 32
ENV = "channels: [conda-forge]\ndependencies:\n  - a\n"


def _named(parent: Path, raw: bytes) -> Path:
    """``parent / raw`` (a name that is not UTF-8) created; skip where the file system refuses it (macOS)."""
    path = parent / os.fsdecode(raw)
    try:
        path.mkdir()
    except (OSError, UnicodeError) as exc:
        pytest.skip(f"the file system refuses a name that is not UTF-8: {exc}")
    return path


def _project(folder: Path) -> Path:
    (folder / "environment.yml").write_text(ENV)
    (folder / "locks").mkdir()
    (folder / "locks" / "linux-64.txt").write_text("# platform: linux-64\n@EXPLICIT\n" + URL.format(v="1.0") + "\n")
    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "locks")
    (folder / "locks" / "linux-64.txt").write_text("# platform: linux-64\n@EXPLICIT\n" + URL.format(v="2.0") + "\n")
    return folder


def test_a_work_tree_whose_path_is_not_utf8_is_read(tmp_path: Path) -> None:
    project = _project(_named(tmp_path, b"caf\xe9"))
    found = read_revision("HEAD", project / "locks", [project / "environment.yml"])
    assert found.conda["linux-64"]["a"].version == "1.0"
    assert read_revision_file("HEAD", project / "environment.yml") == ENV
    result = invoke_lockgen("diff", cwd=project)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr.lower()
    assert result.returncode == 6, result.stdout + result.stderr  # a lock changed
    assert "1 upgraded" in result.stdout and "1.0" in result.stdout and "2.0" in result.stdout


def test_a_decoy_lock_whose_name_is_not_utf8_is_read_and_refused(tmp_path: Path) -> None:
    """The listing's names go back to `git show` as git gave them (os.fsdecode): decoded with replacement,
    a file claiming a platform under a name outside the template named no file, and went unread."""
    project = _named(tmp_path, b"project")
    _project(project)
    decoy = "# platform: linux-64\n@EXPLICIT\n" + URL.format(v="9.0") + "\n"
    try:
        (project / "locks" / os.fsdecode(b"linux-64\xe9.txt")).write_text(decoy)
    except (OSError, UnicodeError) as exc:
        pytest.skip(f"the file system refuses a name that is not UTF-8: {exc}")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "a decoy")
    with pytest.raises(ReviewSourceError, match=r"linux-64.*\.txt has .* but is not a lock"):
        read_revision("HEAD", project / "locks", [project / "environment.yml"])
    result = invoke_lockgen("diff", cwd=project)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is not a lock" in result.stderr
