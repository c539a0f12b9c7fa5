"""`explain`'s "why not newer" names strict channel priority when that is what keeps a package at an
older version, checked by second solves: `--update tool` keeps it, asking for a newer one moves it."""

from __future__ import annotations

from pathlib import Path

from tests.support.channel import ChannelBuilder
from tests.support.cli import invoke_lockgen


def _channel(root: Path, version: str) -> ChannelBuilder:
    builder = ChannelBuilder(root)
    builder.add("tool", version, build="h0_0", subdir="linux-64")
    builder.add("other", "1.0", build="0")
    builder.write()
    return builder


def _locked(root: Path) -> str:
    return (root / "locks" / "linux-64.txt").read_text()


def test_strict_priority_is_named_and_asking_for_newer_moves_it(tmp_path: Path) -> None:
    first = _channel(tmp_path / "first", "1.0")
    second = _channel(tmp_path / "second", "2.0")
    env = f"channels:\n  - {first.url}\n  - {second.url}\ndependencies:\n  - tool\n  - other\n"
    (tmp_path / "environment.yml").write_text(env)
    cache = tmp_path / "cache"
    locked = invoke_lockgen("lock", "-p", "linux-64", "--cache-dir", cache, "--quiet", cwd=tmp_path)
    assert locked.returncode == 0, locked.stderr
    assert "tool-1.0-h0_0" in _locked(tmp_path)

    explained = invoke_lockgen("explain", "tool", "-p", "linux-64", "--cache-dir", cache, cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    why = explained.stdout.split("why not newer", 1)[1]
    assert "strict channel priority" in why
    assert "environment.yml:2" in why and "environment.yml:3" in why  # the two channels' lines
    assert "tool 2.0" in why and "`tool >1.0`" in why and "`--update tool` alone does not" in why

    # what it says is what happens: --update keeps 1.0, asking for a newer version takes 2.0
    update = invoke_lockgen("lock", "-p", "linux-64", "--update", "tool", "--cache-dir", cache, "--quiet", cwd=tmp_path)
    assert update.returncode == 0, update.stderr
    assert "tool-1.0-h0_0" in _locked(tmp_path)
    (tmp_path / "environment.yml").write_text(env.replace("  - tool\n", "  - tool >1.0\n"))
    asked = invoke_lockgen("lock", "-p", "linux-64", "--cache-dir", cache, "--quiet", cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert "tool-2.0-h0_0" in _locked(tmp_path)


def test_a_single_channel_says_nothing_holds_it_back(tmp_path: Path) -> None:
    """The control: the same versions in one channel are not a priority question."""
    both = ChannelBuilder(tmp_path / "only")
    for version in ("1.0", "2.0"):
        both.add("tool", version, build="h0_0", subdir="linux-64")
    both.add("other", "1.0", build="0")
    both.write()
    env = f"channels:\n  - {both.url}\ndependencies:\n  - tool <2\n  - other\n"
    (tmp_path / "environment.yml").write_text(env)
    cache = tmp_path / "cache"
    assert invoke_lockgen("lock", "-p", "linux-64", "--cache-dir", cache, "--quiet", cwd=tmp_path).returncode == 0
    (tmp_path / "environment.yml").write_text(env.replace("tool <2", "tool"))
    explained = invoke_lockgen("explain", "tool", "-p", "linux-64", "--cache-dir", cache, cwd=tmp_path)
    why = explained.stdout.split("why not newer", 1)[1]
    assert "strict channel priority" not in why
    assert "nothing in the environment holds it back" in why
