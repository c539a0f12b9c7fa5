"""Minimal updates: two snapshots of a channel built here, newer versions appearing between them.

Snapshot 1 has only old versions. Snapshot 2 adds newer ones: some published before the
``--exclude-newer`` cut-off, one after it. Re-locking after an edit must keep every pin that
still satisfies the specs; ``--update NAME`` frees NAME and what it forces; ``--update-all``
re-solves from scratch; a re-lock with nothing to do rewrites nothing.
"""

from __future__ import annotations

from pathlib import Path

from lockgen.lockfiles import parse_explicit
from tests.support.channel import ChannelBuilder
from tests.support.cli import invoke_lockgen, mirror_options

OLD = 1_700_000_000_000  # 2023-11-14
NEWER = 1_705_276_800_000  # 2024-01-15, before the cut-off
TOO_NEW = 1_725_148_800_000  # 2024-09-01, after it
CUTOFF = "2024-06-01"
ENV = """\
channels:
  - testchan
platforms: [linux-64]
dependencies:
  - numpy
  - tool
"""


def _channel(root: Path, snapshot: int) -> None:
    builder = ChannelBuilder(root / "mirror" / "testchan", subdirs=("noarch", "linux-64"))
    add = builder.add
    add("libcore", "2.0", build="h0_0", subdir="linux-64", timestamp_ms=OLD)
    add("numpy", "1.0", build="h0_0", subdir="linux-64", depends=["libcore >=2.0"], timestamp_ms=OLD)
    add("tool", "1.0", build="h0_0", subdir="linux-64", depends=["libcore"], timestamp_ms=OLD)
    add("requests", "2.0", build="pyh_0", depends=["urllib3"], timestamp_ms=OLD)
    add("urllib3", "2.1", build="pyh_0", timestamp_ms=OLD)
    if snapshot == 2:
        add("libcore", "2.1", build="h0_0", subdir="linux-64", timestamp_ms=NEWER)
        add("numpy", "1.1", build="h0_0", subdir="linux-64", depends=["libcore >=2.1"], timestamp_ms=NEWER)
        add("numpy", "1.2", build="h0_0", subdir="linux-64", depends=["libcore >=2.1"], timestamp_ms=TOO_NEW)
        add("tool", "1.1", build="h0_0", subdir="linux-64", depends=["libcore"], timestamp_ms=NEWER)
        add("requests", "2.1", build="pyh_0", depends=["urllib3"], timestamp_ms=NEWER)
        add("urllib3", "2.2", build="pyh_0", timestamp_ms=NEWER)
    builder.write()


def _lock(root: Path, *extra: str) -> str:
    mirror = mirror_options(root / "mirror", root / "cache")
    result = invoke_lockgen("lock", *mirror, "--exclude-newer", CUTOFF, *extra, cwd=root)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _versions(root: Path) -> dict[str, str]:
    lock = parse_explicit((root / "locks" / "linux-64.txt").read_text())
    return {e.name: e.version for e in lock.entries}


def test_adding_a_spec_keeps_unrelated_pins(tmp_path: Path) -> None:
    _channel(tmp_path, 1)
    (tmp_path / "environment.yml").write_text(ENV)
    _lock(tmp_path)
    assert _versions(tmp_path) == {"libcore": "2.0", "numpy": "1.0", "tool": "1.0"}

    _channel(tmp_path, 2)
    (tmp_path / "environment.yml").write_text(ENV + "  - requests\n")
    _lock(tmp_path)
    # numpy, tool and libcore stay pinned; the new spec and what it brings get the newest allowed
    assert _versions(tmp_path) == {"libcore": "2.0", "numpy": "1.0", "tool": "1.0", "requests": "2.1", "urllib3": "2.2"}


def test_update_frees_a_package_and_what_it_forces(tmp_path: Path) -> None:
    _channel(tmp_path, 1)
    (tmp_path / "environment.yml").write_text(ENV)
    _lock(tmp_path)
    _channel(tmp_path, 2)

    _lock(tmp_path, "--update", "numpy")
    # numpy 1.1 needs libcore >=2.1, so libcore moves too; tool does not; 1.2 is past the cut-off
    assert _versions(tmp_path) == {"libcore": "2.1", "numpy": "1.1", "tool": "1.0"}

    _lock(tmp_path, "--update-all")
    assert _versions(tmp_path) == {"libcore": "2.1", "numpy": "1.1", "tool": "1.1"}


def test_nothing_changed_rewrites_nothing(tmp_path: Path) -> None:
    _channel(tmp_path, 1)
    (tmp_path / "environment.yml").write_text(ENV)
    _lock(tmp_path)
    _channel(tmp_path, 2)  # newer versions exist, but the inputs did not change
    lock_file = tmp_path / "locks" / "linux-64.txt"
    before = (lock_file.read_bytes(), lock_file.stat().st_mtime_ns)
    out = _lock(tmp_path)
    assert "linux-64: 3 packages, up to date" in out
    assert "nothing changed in locks" in out
    assert (lock_file.read_bytes(), lock_file.stat().st_mtime_ns) == before


def test_hand_edited_lock_is_solved_again(tmp_path: Path) -> None:
    _channel(tmp_path, 1)
    (tmp_path / "environment.yml").write_text(ENV)
    _lock(tmp_path)
    lock_file = tmp_path / "locks" / "linux-64.txt"
    good = lock_file.read_text()
    lock_file.write_text("".join(line for line in good.splitlines(True) if "/tool-" not in line))
    out = _lock(tmp_path)
    assert "wrote linux-64.txt" in out
    assert lock_file.read_text() == good
