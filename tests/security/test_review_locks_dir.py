"""Items 8, 9, 14: what counts as a lock in ``locks/``, and what lockgen may overwrite there.

8: a decoy ``zz-notes.txt`` claiming ``# platform: linux-64`` must not stand in for linux-64.txt.
9: ``verify`` fails on a lock that is not UTF-8, and refuses ``-p ../../etc/passwd``.
14: ``lock`` never deletes or overwrites a file it did not write (exit 10 naming it).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lockgen.errors import ConfigError, OutputError
from lockgen.lock import lock
from lockgen.review.check import check
from lockgen.review.diff import diff_locks
from lockgen.review.sources import ReviewSourceError, read_directory, read_revision
from lockgen.verify import VerifyOptions, verify_locks
from tests.faults.figures import count
from tests.security.conftest import options


def _decoy(project: Path) -> str:
    real = (project / "locks" / "linux-64.txt").read_text()
    (project / "locks" / "zz-notes.txt").write_text(real)  # the old lock, kept under another name
    (project / "locks" / "linux-64.txt").write_text(real.replace("app-1.1-h2_0", "app-6.6-h2_0"))
    return real


def test_diff_refuses_a_decoy_that_claims_a_platform(project: Path, tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "linux-64.txt").write_text((project / "locks" / "linux-64.txt").read_text())
    _decoy(project)
    count("hostile review inputs refused")
    with pytest.raises(ReviewSourceError, match=r"zz-notes\.txt .* not a lock"):
        read_directory(project / "locks")
    (project / "locks" / "zz-notes.txt").unlink()
    result = diff_locks(read_directory(base), read_directory(project / "locks"))
    assert result.changed  # the real change shows once the decoy is gone


def test_diff_of_a_git_revision_refuses_a_decoy(project: Path) -> None:
    _decoy(project)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "locks"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "pr"], cwd=project, check=True)
    with pytest.raises(ReviewSourceError, match=r"zz-notes\.txt"):
        read_revision("HEAD", project / "locks")


def test_a_lock_whose_header_names_another_platform_is_refused(project: Path) -> None:
    text = (project / "locks" / "osx-64.txt").read_text()
    (project / "locks" / "linux-64.txt").write_text(text)
    with pytest.raises(ReviewSourceError, match="says `# platform: osx-64`"):
        read_directory(project / "locks")


def test_check_reports_a_decoy(project: Path, channel_root: Path) -> None:
    (project / "locks" / "zz-notes.txt").write_text((project / "locks" / "linux-64.txt").read_text())
    stale = check(options(project, channel_root)).stale
    assert [(s.target, s.file) for s in stale] == [("decoy", "zz-notes.txt")]


def _verify_options(project: Path, channel_root: Path, *platforms: str) -> VerifyOptions:
    mirrors = options(project, channel_root).mirrors
    return VerifyOptions(project / "locks", project / "cache", platforms=platforms, mirrors=mirrors, offline=True)


def test_verify_fails_on_a_lock_that_is_not_utf8(project: Path, channel_root: Path) -> None:
    assert verify_locks(_verify_options(project, channel_root)).ok
    path = project / "locks" / "linux-64.txt"
    path.write_bytes(path.read_bytes().replace(b"# platform: linux-64", b"# platform: linux-64 \xff"))
    report = verify_locks(_verify_options(project, channel_root))
    count("hostile review inputs refused")
    assert not report.ok
    where = path.read_bytes().index(b"\xff")
    assert [str(f) for f in report.findings] == [f"{path}: not valid UTF-8 (byte {where}): not a lock lockgen wrote"]


@pytest.mark.parametrize("platform", ["../../etc/passwd", "linux-64/../../x", "/etc/passwd"])
def test_verify_refuses_a_platform_that_is_a_path(project: Path, channel_root: Path, platform: str) -> None:
    with pytest.raises(ConfigError, match="unknown platform"):
        verify_locks(_verify_options(project, channel_root, platform))


def test_lock_into_a_directory_with_a_hand_written_requirements_txt(project: Path, channel_root: Path) -> None:
    """`lock -o .` with no pip: section used to delete the project's own requirements.txt."""
    mine = project / "locks" / "requirements.txt"
    mine.write_text("numpy\nrequests>=2\n")
    with pytest.raises(OutputError) as caught:
        lock(options(project, channel_root))
    count("hostile review inputs refused")
    assert caught.value.exit_code == 10
    assert str(mine) in caught.value.message and "will not delete" in caught.value.message
    assert mine.read_text() == "numpy\nrequests>=2\n"


def test_lock_never_overwrites_a_platform_file_it_did_not_write(project: Path, channel_root: Path) -> None:
    mine = project / "locks" / "osx-64.txt"
    mine.write_text("my notes about the mac build\n")
    before = (project / "locks" / "linux-64.txt").read_bytes()
    with pytest.raises(OutputError, match="will not overwrite"):
        lock(options(project, channel_root))
    assert mine.read_text() == "my notes about the mac build\n"
    assert (project / "locks" / "linux-64.txt").read_bytes() == before  # all or nothing
