"""Several environments reuse the options their own locks record, as one environment does.

The channel (tests/support/twoenvs.py) has ``liba`` 1.0 (2024-01-01) and 2.0 (2025-01-01). ``old`` is locked with
``--exclude-newer 2024-06-01`` (liba 1.0), ``new`` with ``--hash sha256`` (liba 2.0). A later plain
``lock``, ``lock --update-all``, ``check`` and ``lock --check`` must take each environment's own
options from its own locks, never the other's and never the defaults.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.twoenvs import APART, ENV, liba, make, options_line, run

CUT = "2024-06-01T00:00:00+00:00"
TOGETHER = (
    '[tool.lockgen.environments]\nold = { file = "old.yml", group = "g" }\nnew = { file = "new.yml", group = "g" }\n'
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    make(tmp_path, {"pyproject.toml": APART, "old.yml": ENV, "new.yml": ENV})
    done = run(tmp_path, "lock", "-e", "old", "--exclude-newer", "2024-06-01")
    assert done.returncode == 0, done.stderr
    done = run(tmp_path, "lock", "-e", "new", "--hash", "sha256")
    assert done.returncode == 0, done.stderr
    assert (liba(tmp_path, "old"), liba(tmp_path, "new")) == ("1.0", "2.0")
    return tmp_path


def test_check_and_lock_take_each_environments_own_recorded_options(root: Path) -> None:
    for args in (("check",), ("lock", "--check")):
        done = run(root, *args)
        assert done.returncode == 0, done.stderr
        assert f"old: --exclude-newer {CUT}" in done.stderr and "new: --hash sha256" in done.stderr
    data = json.loads(run(root, "check", "--format", "json").stdout)
    assert data["ok"] is True
    assert data["reused_options"] == [f"old: --exclude-newer {CUT}", "new: --hash sha256"]

    before = {env: (root / "project" / "locks" / env / "linux-64.txt").read_bytes() for env in ("old", "new")}
    done = run(root, "lock")
    assert done.returncode == 0, done.stderr
    assert f"old: as the locks were made: --exclude-newer {CUT}" in done.stderr
    assert "new: as the locks were made: --hash sha256" in done.stderr
    after = {env: (root / "project" / "locks" / env / "linux-64.txt").read_bytes() for env in ("old", "new")}
    assert after == before

    # solving afresh keeps old's cut-off (else liba 2.0) and new's hash kind, each its own
    done = run(root, "lock", "--update-all")
    assert done.returncode == 0, done.stderr
    assert liba(root, "old") == "1.0" and f"exclude-newer={CUT} hash=md5" in options_line(root, "old")
    assert liba(root, "new") == "2.0" and "exclude-newer=none hash=sha256" in options_line(root, "new")
    # a value on the command line still wins, for every environment
    done = run(root, "lock", "--update-all", "--exclude-newer", "none", "-e", "old")
    assert done.returncode == 0, done.stderr
    assert liba(root, "old") == "2.0" and "exclude-newer=none" in options_line(root, "old")


def test_a_group_whose_locks_record_different_cutoffs_is_refused_until_one_is_given(root: Path) -> None:
    (root / "project" / "pyproject.toml").write_text(TOGETHER)
    for args in (("lock",), ("check",), ("lock", "--check")):
        done = run(root, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "pyproject.toml:2: group g is solved as one" in done.stderr
        assert f"different --exclude-newer (old {CUT}; new none)" in done.stderr
        assert f"`--exclude-newer {CUT}` or `--exclude-newer none`" in done.stderr
    done = run(root, "lock", "--exclude-newer", "2024-06-01")
    assert done.returncode == 0, done.stderr
    assert liba(root, "old") == liba(root, "new") == "1.0"
    assert run(root, "check").returncode == 0

    # a member without locks of its own takes its group's cut-off (not new's hash: old's differs)
    (root / "project" / "pyproject.toml").write_text(TOGETHER + 'third = { file = "new.yml", group = "g" }\n')
    done = run(root, "lock")
    assert done.returncode == 0, done.stderr
    assert f"third: as the locks were made: --exclude-newer {CUT}" in done.stderr
    assert liba(root, "third") == "1.0" and f"exclude-newer={CUT} hash=md5" in options_line(root, "third")
    assert run(root, "check").returncode == 0


def test_locks_of_one_environment_before_the_table_still_shape_a_first_lock(tmp_path: Path) -> None:
    make(tmp_path, {"environment.yml": ENV})
    done = run(tmp_path, "lock", "--exclude-newer", "2024-06-01")
    assert done.returncode == 0, done.stderr
    (tmp_path / "project" / "pyproject.toml").write_text(
        '[tool.lockgen.environments]\nmain = { file = "environment.yml" }\n'
    )
    done = run(tmp_path, "lock")
    assert done.returncode == 0, done.stderr
    assert liba(tmp_path, "main") == "1.0" and f"exclude-newer={CUT}" in options_line(tmp_path, "main")
