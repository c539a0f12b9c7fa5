"""`check`, `lock --check`, `diff` against git revisions and `explain`, through the real CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.channel import ChannelBuilder, serve_directory
from tests.support.cli import invoke_lockgen, mirror_options, run_lockgen

ENV = """\
channels:
  - testchan
platforms: [linux-64, osx-64]
dependencies:
  - app >=1.0
"""
DEAD_PROXY = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
}


def _build_channel(root: Path, *, with_extra: bool = False) -> None:
    builder = ChannelBuilder(root / "mirror" / "testchan", subdirs=("noarch", "linux-64", "osx-64"))
    for subdir in ("linux-64", "osx-64"):
        builder.add("libcore", "2.0", build="h1_0", subdir=subdir)
        builder.add("app", "1.1", build="h2_0", subdir=subdir, depends=["libcore >=2", "pydata >=3"])
    builder.add("pydata", "3.0", build="pyh_0", constrains=["libcore <3"])
    if with_extra:
        builder.add("extra", "0.5", build="pyh_0")
    builder.write()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    _build_channel(tmp_path)
    (tmp_path / "environment.yml").write_text(ENV)
    return tmp_path


def _mirror(root: Path) -> tuple[str, ...]:
    return mirror_options(root / "mirror", root / "cache")


def _lock(root: Path, *extra: str) -> None:
    result = run_lockgen("lock", *_mirror(root), *extra, cwd=root)
    assert result.returncode == 0, result.stderr


def test_check_up_to_date_then_stale_offline(project: Path) -> None:
    _lock(project)
    shutil.rmtree(project / "mirror")  # nothing to fetch from: check must not try
    ok = run_lockgen("check", *_mirror(project), cwd=project, env=DEAD_PROXY)
    assert ok.returncode == 0, ok.stderr
    assert "up to date: linux-64.txt, osx-64.txt in locks" in ok.stdout
    (project / "environment.yml").write_text(ENV + "  - extra\n")
    stale = run_lockgen("check", *_mirror(project), cwd=project, env=DEAD_PROXY)
    assert stale.returncode == 6
    assert "2 locks are not up to date in locks:" in stale.stderr
    assert "\n  linux-64, osx-64: spec changed: `extra` added (environment.yml:6)\n" in stale.stderr  # said once
    alias = run_lockgen("lock", "--check", *_mirror(project), cwd=project, env=DEAD_PROXY)
    assert (alias.returncode, alias.stderr) == (6, stale.stderr)


def test_check_option_change_and_quiet(project: Path) -> None:
    _lock(project)
    result = invoke_lockgen("check", "-q", "--hash", "sha256", *_mirror(project), cwd=project)
    assert result.returncode == 6
    assert result.stdout == ""
    assert "linux-64, osx-64: option changed: --hash from md5 to sha256" in result.stderr
    assert invoke_lockgen("check", "-q", *_mirror(project), cwd=project).returncode == 0


def test_check_keeps_solver_and_http_client_unimported(project: Path) -> None:
    _lock(project)
    command = [sys.executable, "-X", "importtime", "-m", "lockgen", "check", *_mirror(project)]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time")}
    assert "lockgen.review.check" in imported
    assert not {"httpx", "lockgen.pypi", "lockgen.review.diff", "lockgen.review.explain"} & imported


def _git(root: Path, *args: str) -> None:
    base = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*base, *args], cwd=root, check=True, capture_output=True)


def test_diff_against_git_revisions(project: Path) -> None:
    _git(project, "init", "-q")
    _lock(project)
    _git(project, "add", "environment.yml", "locks")
    _git(project, "commit", "-qm", "locks")
    clean = run_lockgen("diff", cwd=project)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.startswith("lockgen diff HEAD → working tree: no changes")

    (project / "environment.yml").write_text(ENV + "  - extra\n")
    _build_channel(project, with_extra=True)
    _lock(project)
    changed = run_lockgen("diff", "--format", "markdown", cwd=project)
    assert changed.returncode == 6, changed.stderr
    assert "`HEAD` → `working tree`" in changed.stdout
    assert "| **`extra`** | added | - | 0.5 |" in changed.stdout  # bold: environment.yml names it

    _git(project, "commit", "-qam", "extra")
    between = run_lockgen("diff", "HEAD~1", "HEAD", cwd=project)
    assert between.returncode == 6
    assert "extra*   added   -    0.5" in between.stdout
    assert run_lockgen("diff", "HEAD", cwd=project).returncode == 0
    unknown = run_lockgen("diff", "no-such-rev", cwd=project)
    assert unknown.returncode == 2
    assert "unknown git revision 'no-such-rev'" in unknown.stderr


def test_diff_outside_git_names_the_problem(tmp_path: Path) -> None:
    result = invoke_lockgen("diff", cwd=tmp_path, env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert result.returncode == 2
    assert "is not in a git repository" in result.stderr


def test_explain_chains_and_constraints(project: Path) -> None:
    _lock(project)
    result = run_lockgen("explain", "libcore", "-p", "osx-64", *_mirror(project), cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "libcore 2.0 (h1_0) is in locks/osx-64.txt (osx-64)"
    assert "  1. `app >=1.0` (environment.yml:5) -> app 1.1 (h2_0)" in lines
    assert "       needs `libcore >=2` -> libcore 2.0 (h1_0)" in lines
    assert any("app 1.1 (h2_0)" in line and "`libcore >=2`" in line for line in lines)
    assert any("pydata 3.0 (pyh_0)" in line and "`libcore <3`  (run_constrained)" in line for line in lines)


def test_explain_errors(project: Path) -> None:
    _lock(project)
    missing = invoke_lockgen("explain", "numpy", "-p", "linux-64", *_mirror(project), cwd=project)
    assert missing.returncode == 2
    assert "numpy is not in locks/linux-64.txt" in missing.stderr
    unlocked = invoke_lockgen("explain", "app", "-p", "win-64", *_mirror(project), cwd=project)
    assert unlocked.returncode == 2
    assert "locks/win-64.txt does not exist; run `lockgen lock` first" in unlocked.stderr


def test_explain_a_platform_locked_with_p(project: Path) -> None:
    _lock(project, "-p", "osx-64")
    default = invoke_lockgen("explain", "pydata", *_mirror(project), cwd=project)
    assert default.returncode == 0, default.stderr
    assert default.stdout.startswith("pydata 3.0 (pyh_0) is in locks/osx-64.txt (osx-64)")


def test_explain_offline_needs_the_cache(project: Path) -> None:
    with serve_directory(project / "mirror") as server:
        served = ["--mirror", f"https://conda.anaconda.org={server.url}"]
        first = invoke_lockgen("lock", *served, "--cache-dir", project / "cache", cwd=project)
        assert first.returncode == 0, first.stderr
        cold = invoke_lockgen("explain", "pydata", "--offline", *served, "--cache-dir", project / "empty", cwd=project)
        warm = invoke_lockgen("explain", "pydata", "--offline", *served, "--cache-dir", project / "cache", cwd=project)
    assert cold.returncode == 5
    assert "offline: the cache" in cold.stderr and "has no repodata for" in cold.stderr
    assert warm.returncode == 0, warm.stderr
    assert "`app >=1.0` (environment.yml:5) -> app 1.1 (h2_0)" in warm.stdout


def test_a_conda_lock_file_edited_apart_from_the_locks_fails_check_and_diff_warns(project: Path) -> None:
    """conda-lock.yml is what `conda-lock install` and `micromamba create -f` read: a pull request that
    points a package at its own host there must not pass as "up to date" / "no changes"."""
    (project / "pyproject.toml").write_text('[tool.lockgen]\nconda-lock-file = "conda-lock.yml"\n')
    _git(project, "init", "-q")
    _lock(project)
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "locks")
    assert run_lockgen("check", cwd=project).returncode == 0
    path = project / "conda-lock.yml"
    good = "url: https://conda.anaconda.org/testchan/linux-64/app-1.1-h2_0.tar.bz2"
    assert good in path.read_text()
    path.write_text(path.read_text().replace(good, "url: http://127.0.0.1:9/testchan/linux-64/app-1.1-h2_0.tar.bz2"))
    check = run_lockgen("check", cwd=project)
    assert check.returncode == 6
    expected = "app 1.1 (conda-lock.yml, linux-64): url http://127.0.0.1:9/testchan/linux-64/app-1.1-h2_0.tar.bz2"
    assert f"  conda-lock: {expected} is not the lock's" in check.stderr
    diff = run_lockgen("diff", cwd=project)
    assert diff.returncode == 6, diff.stderr
    assert f"warning: conda-lock.yml disagrees with the locks (not what lockgen wrote): {expected}" in diff.stdout
    _lock(project)  # lock rewrites it
    assert good in path.read_text()
    assert run_lockgen("check", cwd=project).returncode == 0
    text = path.read_text()
    start = text.index(good)
    md5 = text[text.index("md5: ", start) + 5 :][:32]
    path.write_text(text[:start] + text[start:].replace(f"md5: {md5}", f"md5: {'e' * 32}", 1))  # the same URL
    assert "is not the lock's" in run_lockgen("check", cwd=project).stderr
    _lock(project)
    assert path.read_text() == text
