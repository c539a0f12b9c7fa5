"""Several environments reuse the options their own locks record, as one environment does.

The channel (built here) has ``liba`` 1.0 (2024-01-01) and 2.0 (2025-01-01). ``old`` is locked with
``--exclude-newer 2024-06-01`` (liba 1.0), ``new`` with ``--hash sha256`` (liba 2.0). A later plain
``lock``, ``lock --update-all``, ``check`` and ``lock --check`` must take each environment's own
options from its own locks, never the other's and never the defaults.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lockgen.lockfiles import parse_explicit
from tests.support.channel import ChannelBuilder
from tests.support.cli import run_lockgen

CANONICAL = "https://conda.anaconda.org"
ENV = "channels:\n  - testchan\nplatforms:\n  - linux-64\ndependencies:\n  - liba\n"
CUT = "2024-06-01T00:00:00+00:00"
APART = '[tool.lockgen.environments]\nold = { file = "old.yml" }\nnew = { file = "new.yml" }\n'
TOGETHER = (
    '[tool.lockgen.environments]\nold = { file = "old.yml", group = "g" }\nnew = { file = "new.yml", group = "g" }\n'
)


def _run(root: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    mirror = ("--mirror", f"{CANONICAL}={root / 'mirror'}", "--cache-dir", root / "cache")
    return run_lockgen(*args, *(mirror if args[0] == "lock" and "--check" not in args else ()), cwd=root / "project")


def _liba(root: Path, env: str) -> str:
    text = (root / "project" / "locks" / env / "linux-64.txt").read_text()
    return next(e.version for e in parse_explicit(text).entries if e.name == "liba")


def _options(root: Path, env: str) -> str:
    text = (root / "project" / "locks" / env / "linux-64.txt").read_text()
    return next(line for line in text.splitlines() if line.startswith("# options:"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    builder = ChannelBuilder(tmp_path / "mirror" / "testchan", subdirs=("noarch", "linux-64"))
    builder.add("liba", "1.0", timestamp_ms=1_704_067_200_000)
    builder.add("liba", "2.0", timestamp_ms=1_735_689_600_000)
    builder.write()
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(APART)
    (project / "old.yml").write_text(ENV)
    (project / "new.yml").write_text(ENV)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    done = _run(tmp_path, "lock", "-e", "old", "--exclude-newer", "2024-06-01")
    assert done.returncode == 0, done.stderr
    done = _run(tmp_path, "lock", "-e", "new", "--hash", "sha256")
    assert done.returncode == 0, done.stderr
    assert (_liba(tmp_path, "old"), _liba(tmp_path, "new")) == ("1.0", "2.0")
    return tmp_path


def test_check_and_lock_take_each_environments_own_recorded_options(root: Path) -> None:
    for args in (("check",), ("lock", "--check")):
        done = _run(root, *args)
        assert done.returncode == 0, done.stderr
        assert f"old: --exclude-newer {CUT}" in done.stderr and "new: --hash sha256" in done.stderr
    data = json.loads(_run(root, "check", "--format", "json").stdout)
    assert data["ok"] is True
    assert data["reused_options"] == [f"old: --exclude-newer {CUT}", "new: --hash sha256"]

    before = {env: (root / "project" / "locks" / env / "linux-64.txt").read_bytes() for env in ("old", "new")}
    done = _run(root, "lock")
    assert done.returncode == 0, done.stderr
    assert f"old: as the locks were made: --exclude-newer {CUT}" in done.stderr
    assert "new: as the locks were made: --hash sha256" in done.stderr
    after = {env: (root / "project" / "locks" / env / "linux-64.txt").read_bytes() for env in ("old", "new")}
    assert after == before

    # solving afresh keeps old's cut-off (else liba 2.0) and new's hash kind, each its own
    done = _run(root, "lock", "--update-all")
    assert done.returncode == 0, done.stderr
    assert _liba(root, "old") == "1.0" and f"exclude-newer={CUT} hash=md5" in _options(root, "old")
    assert _liba(root, "new") == "2.0" and "exclude-newer=none hash=sha256" in _options(root, "new")
    # a value on the command line still wins, for every environment
    done = _run(root, "lock", "--update-all", "--exclude-newer", "none", "-e", "old")
    assert done.returncode == 0, done.stderr
    assert _liba(root, "old") == "2.0" and "exclude-newer=none" in _options(root, "old")


def test_a_group_whose_locks_record_different_cutoffs_is_refused_until_one_is_given(root: Path) -> None:
    (root / "project" / "pyproject.toml").write_text(TOGETHER)
    for args in (("lock",), ("check",), ("lock", "--check")):
        done = _run(root, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "pyproject.toml:2: group g is solved as one" in done.stderr
        assert f"different --exclude-newer (old {CUT}; new none)" in done.stderr
        assert f"`--exclude-newer {CUT}` or `--exclude-newer none`" in done.stderr
    done = _run(root, "lock", "--exclude-newer", "2024-06-01")
    assert done.returncode == 0, done.stderr
    assert _liba(root, "old") == _liba(root, "new") == "1.0"
    assert _run(root, "check").returncode == 0

    # a member without locks of its own takes its group's cut-off (not new's hash: old's differs)
    (root / "project" / "pyproject.toml").write_text(TOGETHER + 'third = { file = "new.yml", group = "g" }\n')
    done = _run(root, "lock")
    assert done.returncode == 0, done.stderr
    assert f"third: as the locks were made: --exclude-newer {CUT}" in done.stderr
    assert _liba(root, "third") == "1.0" and f"exclude-newer={CUT} hash=md5" in _options(root, "third")
    assert _run(root, "check").returncode == 0


def test_locks_of_one_environment_before_the_table_still_shape_a_first_lock(tmp_path: Path) -> None:
    builder = ChannelBuilder(tmp_path / "mirror" / "testchan", subdirs=("noarch", "linux-64"))
    builder.add("liba", "1.0", timestamp_ms=1_704_067_200_000)
    builder.add("liba", "2.0", timestamp_ms=1_735_689_600_000)
    builder.write()
    project = tmp_path / "project"
    project.mkdir()
    (project / "environment.yml").write_text(ENV)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    done = _run(tmp_path, "lock", "--exclude-newer", "2024-06-01")
    assert done.returncode == 0, done.stderr
    (project / "pyproject.toml").write_text('[tool.lockgen.environments]\nmain = { file = "environment.yml" }\n')
    done = _run(tmp_path, "lock")
    assert done.returncode == 0, done.stderr
    assert _liba(tmp_path, "main") == "1.0" and f"exclude-newer={CUT}" in _options(tmp_path, "main")
