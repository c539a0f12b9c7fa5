"""Symbolic links a pull request commits under ``locks/`` (issue 18 follow-up, found by trying them).

lockgen writes regular files in a real folder. Before:

- ``locks/linux-64.txt`` committed as a link (to a file outside the project, or to a copy elsewhere
  in it): ``check`` and ``verify`` read the target and passed, ``install`` installed it, and
  ``diff A B`` between two revisions read the link's text as a lock;
- ``locks`` committed as a link to a folder in the project: ``diff REV`` followed the link in the
  working tree and compared that folder at both sides, so it said "no changes" while ``install``
  went from the old locks to the new ones.

Now a linked lock file is refused by every command, and ``diff`` reads a revision's lock folder by
its name, refusing one that is a link at that revision.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.faults.figures import count
from tests.support.channel import ChannelBuilder, serve_directory
from tests.support.cli import invoke_lockgen
from tests.support.projects import git

ENV = "name: a\nchannels: [testchan]\nplatforms: [linux-64]\ndependencies:\n  - app {version}\n"


def test_links_under_locks_are_refused_and_diff_reads_folders_by_name(tmp_path: Path) -> None:
    conda = ChannelBuilder(tmp_path / "channels" / "testchan", subdirs=("noarch", "linux-64"))
    conda.add("app", "1.0", build="h0_0", subdir="linux-64")
    conda.add("app", "2.0", build="h0_0", subdir="linux-64")
    conda.write()
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    env = project / "environment.yml"
    lock = project / "locks" / "linux-64.txt"
    with serve_directory(tmp_path / "channels") as channel:

        def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
            mirror = f"https://conda.anaconda.org={channel.url}"
            return invoke_lockgen(*args, "--mirror", mirror, "--cache-dir", tmp_path / "cache", cwd=project)

        env.write_text(ENV.format(version="2.0"))
        assert run("lock").returncode == 0
        shutil.copy(lock, outside / "linux-64.txt")
        shutil.copytree(project / "locks", project / "pristine")  # app 2.0, committed with the base
        env.write_text(ENV.format(version="1.0"))
        assert run("lock").returncode == 0
        git(project, "init", "-q", "-b", "main")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "base")

        # the pull request moves to app 2.0 and links the lock instead of re-locking
        env.write_text(ENV.format(version="2.0"))
        for target in (outside / "linux-64.txt", Path("../pristine/linux-64.txt")):
            lock.unlink()
            lock.symlink_to(target)
            for command, code in ((("check",), 6), (("verify",), 8), (("diff", "HEAD"), 2)):
                done = run(*command) if command[0] != "diff" else invoke_lockgen(*command, cwd=project)
                assert done.returncode == code, (command, done.stdout + done.stderr)
                assert "linux-64.txt" in done.stdout + done.stderr and "is a symbolic link" in done.stdout + done.stderr
                count("hostile review inputs refused")
            installed = run("install", "--prefix", tmp_path / "env")
            assert installed.returncode == 9, installed.stdout + installed.stderr
            assert "is a symbolic link" in installed.stderr
            assert not (tmp_path / "env").exists()
            count("hostile inputs refused")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "linked lock")
        between = invoke_lockgen("diff", "HEAD~1", "HEAD", cwd=project)
        assert between.returncode == 2, between.stdout + between.stderr
        assert "HEAD: locks/linux-64.txt is a symbolic link" in between.stderr, between.stderr
        count("hostile review inputs refused")

        # the whole folder as a link to the pristine copy inside the project
        git(project, "reset", "-q", "--hard", "HEAD~1")
        shutil.rmtree(project / "locks")
        (project / "locks").symlink_to(Path("pristine"), target_is_directory=True)
        working = invoke_lockgen("diff", "HEAD", cwd=project)
        assert working.returncode == 6, working.stdout + working.stderr
        assert "app" in working.stdout and "1.0" in working.stdout and "2.0" in working.stdout, working.stdout
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "linked folder")
        between = invoke_lockgen("diff", "HEAD~1", "HEAD", cwd=project)
        assert between.returncode == 2, between.stdout + between.stderr
        assert "HEAD: locks is a symbolic link" in between.stderr, between.stderr
        count("hostile review inputs refused", 2)


def test_a_linked_pip_lock_is_refused_by_check_and_install(tmp_path: Path) -> None:
    from lockgen.errors import InstallError
    from lockgen.install import InstallOptions, install_lock
    from lockgen.review.pipcheck import check_pip_lock

    locks = tmp_path / "locks"
    locks.mkdir()
    real = tmp_path / "elsewhere.txt"
    real.write_text("# Generated by lockgen\nhelper==1.0 --hash=sha256:" + "0" * 64 + "\n")
    (locks / "requirements.txt").symlink_to(real)
    [stale] = check_pip_lock(True, locks / "requirements.txt")
    assert "is a symbolic link" in stale.detail
    (locks / "linux-64.txt").write_text("# platform: linux-64\n@EXPLICIT\n")
    options = InstallOptions(prefix=tmp_path / "env", platform="linux-64", lock_dir=locks, cache_dir=tmp_path / "c")
    try:
        install_lock(options)
    except InstallError as exc:
        assert "requirements.txt is a symbolic link" in str(exc)
    else:
        raise AssertionError("a linked requirements.txt was installed")
    assert not (tmp_path / "env").exists()
    count("hostile review inputs refused")
    count("hostile inputs refused")
