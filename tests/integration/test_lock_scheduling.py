"""Platforms solved at once or one at a time (--jobs, the flat-repodata memory budget), end to end.

The channels are tiny, so the budget is set to 0 MB through LOCKGEN_REPODATA_MEMORY_MB: any flat
repodata then exceeds it, while sharded repodata (nothing mapped whole) never does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.channel import ChannelBuilder, serve_directory, sharded_copy
from tests.support.cli import invoke_lockgen

PLATFORMS = ("linux-64", "osx-64", "win-64")
ENV = """\
name: sched
channels:
  - testchan
dependencies:
  - app >=1.0
platforms: [linux-64, osx-64, win-64]
"""


@pytest.fixture
def flat_channel(tmp_path: Path) -> Path:
    builder = ChannelBuilder(tmp_path / "flat" / "testchan")
    for subdir in PLATFORMS:
        builder.add("libcore", "2.0", build="h1_0", subdir=subdir)
        builder.add("app", "1.1", build="h2_0", subdir=subdir, depends=["libcore >=2", "pydata"], fmt=".conda")
    builder.add("pydata", "3.0", build="pyhd8ed1ab_0")
    builder.write()
    (tmp_path / "environment.yml").write_text(ENV)
    return tmp_path / "flat"


def _order(stderr: str) -> list[str]:
    """``start P`` / ``end P`` in the order the -v progress lines came."""
    steps = []
    for line in stderr.splitlines():
        found = re.match(r"\[(\S+)\] (solving \d+ specs|\d+ packages)$", line)
        if found:
            steps.append(("start " if found.group(2).startswith("solving") else "end ") + found.group(1))
    return steps


def _one_at_a_time(steps: list[str]) -> bool:
    return len(steps) == 6 and all(
        steps[i].startswith("start ") and steps[i + 1] == "end " + steps[i][6:] for i in range(0, 6, 2)
    )


def _lock(tmp_path: Path, server_url: str, out: str, *extra: str, budget: str = "0") -> tuple[str, dict[str, str]]:
    result = invoke_lockgen(
        "lock",
        "-v",
        "--mirror",
        f"https://conda.anaconda.org={server_url}",
        "--cache-dir",
        tmp_path / f"cache-{out}",
        "-o",
        tmp_path / out,
        *extra,
        cwd=tmp_path,
        env={"LOCKGEN_REPODATA_MEMORY_MB": budget},
    )
    assert result.returncode == 0, result.stderr
    locks = {p: (tmp_path / out / f"{p}.txt").read_text() for p in PLATFORMS}
    return result.stderr, locks


def test_flat_repodata_over_budget_is_solved_one_platform_at_a_time(tmp_path: Path, flat_channel: Path) -> None:
    with serve_directory(flat_channel) as server:
        cold, bounded = _lock(tmp_path, server.url, "bounded")  # empty cache: noarch first tells flat
        assert "not every platform at once" in cold
        assert _one_at_a_time(_order(cold)), cold
        for platform in PLATFORMS:
            (tmp_path / "bounded" / f"{platform}.txt").unlink()
        warm, again = _lock(tmp_path, server.url, "bounded")  # warm: sizes straight from the cache
        assert "not every platform at once" in warm
        assert _one_at_a_time(_order(warm)), warm
        _, free = _lock(tmp_path, server.url, "free", budget="320")
    assert bounded == again == free  # the schedule changes memory and time, never the result
    assert all("@EXPLICIT" in text and "app-1.1-h2_0.conda" in text for text in free.values())


def test_within_budget_or_with_jobs_the_platforms_overlap(tmp_path: Path, flat_channel: Path) -> None:
    with serve_directory(flat_channel) as server:
        stderr, _ = _lock(tmp_path, server.url, "free", budget="320")
        assert "not every platform at once" not in stderr
        assert _order(stderr)[:3] == ["start linux-64", "start osx-64", "start win-64"]
        stderr, _ = _lock(tmp_path, server.url, "jobs", "--jobs", "3")  # budget 0, but a count was given
        assert _order(stderr)[:3] == ["start linux-64", "start osx-64", "start win-64"]
        stderr, _ = _lock(tmp_path, server.url, "one", "-j", "1", budget="320")
        assert _one_at_a_time(_order(stderr)), stderr


def test_sharded_repodata_never_holds_platforms_back(tmp_path: Path, flat_channel: Path) -> None:
    pytest.importorskip("msgpack", reason="bench/variants.py writes shards with msgpack (a dev dependency)")
    pytest.importorskip("zstandard", reason="bench/variants.py compresses shards with zstandard (a dev dependency)")
    sharded = sharded_copy(flat_channel, tmp_path / "sharded")
    assert not list(sharded.glob("*/*/repodata.json"))
    with serve_directory(sharded) as server:
        stderr, locks = _lock(tmp_path, server.url, "sharded")  # cold, budget 0
        assert any("repodata_shards.msgpack.zst" in path for path in server.requests)
    assert "not every platform at once" not in stderr
    assert _order(stderr)[:3] == ["start linux-64", "start osx-64", "start win-64"]
    with serve_directory(flat_channel) as server:
        _, flat = _lock(tmp_path, server.url, "flat-for-comparison", budget="320")
    assert locks == flat


@pytest.mark.parametrize(
    ("args", "env", "pyproject", "message"),
    [
        (["--jobs", "0"], {}, "", "--jobs must be `auto` or a whole number >= 1, got '0'"),
        ([], {"LOCKGEN_JOBS": "lots"}, "", "LOCKGEN_JOBS must be `auto` or a whole number >= 1, got 'lots'"),
        ([], {}, "[tool.lockgen]\njobs = 0\n", "[tool.lockgen] jobs must be `auto` or a whole number >= 1, got 0"),
        ([], {"LOCKGEN_REPODATA_MEMORY_MB": "-5"}, "", "LOCKGEN_REPODATA_MEMORY_MB must be a whole number >= 0"),
    ],
)
def test_bad_jobs_settings_are_config_errors(
    tmp_path: Path, flat_channel: Path, args: list[str], env: dict[str, str], pyproject: str, message: str
) -> None:
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    result = invoke_lockgen(
        "lock", "--mirror", f"https://conda.anaconda.org={flat_channel}", "--cache-dir", tmp_path / "c", *args,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "locks").exists()


def test_jobs_from_pyproject_and_environment(tmp_path: Path, flat_channel: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\njobs = "auto"\n')
    with serve_directory(flat_channel) as server:
        stderr, _ = _lock(tmp_path, server.url, "auto")
        assert _one_at_a_time(_order(stderr))  # auto, with the 0 MB budget
        (tmp_path / "pyproject.toml").write_text("[tool.lockgen]\njobs = 3\n")
        stderr, _ = _lock(tmp_path, server.url, "three")
        assert _order(stderr)[:3] == ["start linux-64", "start osx-64", "start win-64"]
        (tmp_path / "pyproject.toml").unlink()
        result = invoke_lockgen(
            "lock", "-v", "--mirror", f"https://conda.anaconda.org={server.url}", "--cache-dir", tmp_path / "c",
            "-o", tmp_path / "env", cwd=tmp_path, env={"LOCKGEN_JOBS": "1", "LOCKGEN_REPODATA_MEMORY_MB": "320"},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert _one_at_a_time(_order(result.stderr)), result.stderr
