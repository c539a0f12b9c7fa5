"""How many platforms run at once: estimates from rattler's cache, and the weighted runner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from lockgen.scheduling import (
    NOARCH_FACTOR,
    Schedule,
    flat_repodata_sizes,
    plan_schedule,
    run_scheduled,
    sharded_in_cache,
    unknown_channels,
)

MB = 2**20
CHANNEL = "https://mirror.example/conda-forge"
OTHER = "https://mirror.example/other"


def _cache_entry(cache: Path, key: str, url: str, size: int) -> None:
    """What rattler leaves for a flat subdir: <key>.info.json naming the URL, <key>.json the data."""
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"{key}.info.json").write_text(json.dumps({"url": url, "size": size}))
    with (cache / f"{key}.json").open("wb") as handle:
        handle.truncate(size)  # sparse: the size is what counts


def test_cache_sizes_come_from_the_data_file_keyed_by_subdir_url(tmp_path: Path) -> None:
    _cache_entry(tmp_path, "a1", f"{CHANNEL}/linux-64/repodata.json.zst", 5 * MB)
    _cache_entry(tmp_path, "b2", f"{CHANNEL}/noarch/repodata.json", 1 * MB)
    (tmp_path / "c3.info.json").write_text("{not json")  # damaged: ignored
    (tmp_path / "d4.info.json").write_text(json.dumps({"url": f"{OTHER}/win-64/repodata.json"}))  # no data file
    (tmp_path / "e5.shards-cache-v1").write_bytes(b"SHARD-CACHE-V1")
    assert flat_repodata_sizes(tmp_path) == {f"{CHANNEL}/linux-64": 5 * MB, f"{CHANNEL}/noarch": 1 * MB}


def test_missing_cache_dir_means_nothing_known(tmp_path: Path) -> None:
    assert flat_repodata_sizes(tmp_path / "absent") == {}
    assert unknown_channels([CHANNEL], tmp_path / "absent") == [CHANNEL]


def test_explicit_jobs_caps_the_count_whatever_the_sizes(tmp_path: Path) -> None:
    _cache_entry(tmp_path, "a1", f"{CHANNEL}/linux-64/repodata.json", 900 * MB)
    targets = [(p, [CHANNEL]) for p in ("linux-64", "osx-64", "win-64")]
    assert plan_schedule(targets, 3, tmp_path).concurrent
    two = plan_schedule(targets, 2, tmp_path)
    assert (two.weights, two.capacity, two.concurrent) == ((1, 1, 1), 2, False)


def test_auto_runs_small_flat_repodata_together(tmp_path: Path) -> None:
    for key, subdir in enumerate(("linux-64", "osx-64", "win-64", "noarch")):
        _cache_entry(tmp_path, f"k{key}", f"{CHANNEL}/{subdir}/repodata.json", 20 * MB)
    targets = [(p, [CHANNEL]) for p in ("linux-64", "osx-64", "win-64")]
    schedule = plan_schedule(targets, None, tmp_path, budget=320 * MB)
    assert schedule.weights == (20 * MB, 20 * MB, 20 * MB)
    assert schedule.capacity == 300 * MB
    assert schedule.concurrent


def test_auto_separates_platforms_whose_repodata_does_not_fit_together(tmp_path: Path) -> None:
    for key, subdir in enumerate(("linux-64", "osx-64", "win-64")):
        _cache_entry(tmp_path, f"k{key}", f"{CHANNEL}/{subdir}/repodata.json.zst", 230 * MB)
    _cache_entry(tmp_path, "n", f"{CHANNEL}/noarch/repodata.json.zst", 22 * MB)
    targets = [(p, [CHANNEL]) for p in ("linux-64", "osx-64", "win-64")]
    schedule = plan_schedule(targets, None, tmp_path, budget=320 * MB)
    assert not schedule.concurrent
    assert "712 MB of flat repodata, at most 320 MB at once" in schedule.reason
    assert "--jobs" in schedule.reason


def test_a_platform_not_fetched_yet_is_guessed_from_the_channel(tmp_path: Path) -> None:
    _cache_entry(tmp_path, "l", f"{CHANNEL}/linux-64/repodata.json", 200 * MB)
    _cache_entry(tmp_path, "n", f"{CHANNEL}/noarch/repodata.json", 10 * MB)
    _cache_entry(tmp_path, "o", f"{OTHER}/noarch/repodata.json", 1 * MB)
    targets = [("osx-64", [CHANNEL]), ("win-64", [OTHER])]
    schedule = plan_schedule(targets, None, tmp_path)
    # osx-64 as big as the channel's biggest platform; OTHER has only noarch: a multiple of it
    assert schedule.weights == (200 * MB, NOARCH_FACTOR * MB)


def test_a_channel_never_seen_is_unknown_and_weighs_nothing(tmp_path: Path) -> None:
    _cache_entry(tmp_path, "n", f"{CHANNEL}/noarch/repodata.json", 1 * MB)
    assert unknown_channels([CHANNEL, OTHER, OTHER], tmp_path) == [OTHER]
    schedule = plan_schedule([("linux-64", [OTHER])], None, tmp_path)
    assert schedule.weights == (0,)


def _shard_cache(cache: Path, key: str, url: str) -> None:
    """What rattler leaves for a sharded subdir: its magic, a u32 length, a cache policy naming the URL."""
    header = b"\x92\x99\x80" + url.encode() + b"\xa3GET"
    cache.mkdir(parents=True, exist_ok=True)
    start = b"SHARD-CACHE-V1" + len(header).to_bytes(4, "little")
    (cache / f"{key}.shards-cache-v1").write_bytes(start + header + b"index")


def test_a_channel_whose_noarch_shards_are_cached_is_known(tmp_path: Path) -> None:
    _shard_cache(tmp_path, "s1", f"{CHANNEL}/noarch/repodata_shards.msgpack.zst")
    _shard_cache(tmp_path, "s2", f"{OTHER}/linux-64/repodata_shards.msgpack.zst")
    (tmp_path / "s3.shards-cache-v1").write_bytes(b"not a shard cache " + f"{OTHER}/noarch".encode())
    with_login = "https://u:secret@mirror.example/other/linux-64"  # rattler's cache may hold it without
    wanted = [f"{CHANNEL}/noarch", f"{CHANNEL}/linux-64", f"{OTHER}/noarch", with_login]
    assert sharded_in_cache(tmp_path, wanted) == {f"{CHANNEL}/noarch", with_login}
    assert unknown_channels([CHANNEL, OTHER], tmp_path) == [OTHER]  # no need to fetch CHANNEL's noarch first
    assert plan_schedule([("linux-64", [CHANNEL])], None, tmp_path).weights == (0,)


def test_local_channels_are_measured_on_disk(tmp_path: Path) -> None:
    flat = tmp_path / "flat" / "linux-64"
    flat.mkdir(parents=True)
    (flat / "repodata.json").write_bytes(b"x" * 1000)
    sharded = tmp_path / "sharded" / "linux-64"
    sharded.mkdir(parents=True)
    (sharded / "repodata_shards.msgpack.zst").write_bytes(b"x" * 10)
    cache = tmp_path / "cache"
    targets = [("linux-64", [(tmp_path / "flat").as_uri(), (tmp_path / "sharded").as_uri()])]
    assert plan_schedule(targets, None, cache).weights == (1000,)
    assert unknown_channels([(tmp_path / "flat").as_uri()], cache) == []


def _tracked_jobs(
    names: list[str], log: list[str], live: list[int], peak: list[int]
) -> list[Callable[[], Awaitable[str]]]:
    def make(name: str) -> Callable[[], Awaitable[str]]:
        async def job() -> str:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
            log.append(f"start {name}")
            await asyncio.sleep(0.01)
            log.append(f"end {name}")
            live[0] -= 1
            if name == "boom":
                raise ValueError("solver said no")
            return name.upper()

        return job

    return [make(n) for n in names]


def test_runner_keeps_within_capacity_and_releases_before_the_next_starts() -> None:
    log: list[str] = []
    live, peak = [0], [0]
    released: list[int] = []

    def release(i: int) -> None:
        log.append(f"release {i}")
        released.append(i)

    jobs = _tracked_jobs(["a", "boom", "c"], log, live, peak)
    schedule = Schedule((200, 200, 200), capacity=300)
    results: list[object] = list(asyncio.run(run_scheduled(schedule, jobs, release)))
    assert results[0] == "A" and results[2] == "C"
    assert isinstance(results[1], ValueError)  # a failure is returned, the others still run
    assert peak[0] == 1
    assert log[:3] == ["start a", "end a", "release 0"]
    assert log.index("release 0") < log.index("start boom")
    assert released == [0, 1]  # nothing waits after the last one: no release needed


def test_runner_lets_fitting_jobs_overlap() -> None:
    log: list[str] = []
    live, peak = [0], [0]
    jobs = _tracked_jobs(["a", "b", "c", "d"], log, live, peak)
    schedule = Schedule((100, 100, 100, 100), capacity=250)
    results: list[object] = list(asyncio.run(run_scheduled(schedule, jobs, lambda i: None)))
    assert results == ["A", "B", "C", "D"]
    assert peak[0] == 2


def test_runner_runs_an_oversized_job_alone_rather_than_never() -> None:
    log: list[str] = []
    live, peak = [0], [0]
    jobs = _tracked_jobs(["a", "b"], log, live, peak)
    results: list[object] = list(asyncio.run(run_scheduled(Schedule((500, 10), capacity=100), jobs, lambda i: None)))
    assert results == ["A", "B"]
    assert peak[0] == 1


def test_concurrent_schedule_runs_everything_at_once() -> None:
    log: list[str] = []
    live, peak = [0], [0]
    jobs = _tracked_jobs(["a", "b", "c"], log, live, peak)
    released: list[int] = []
    results: list[object] = list(asyncio.run(run_scheduled(Schedule((0, 0, 0), capacity=0), jobs, released.append)))
    assert results == ["A", "B", "C"]
    assert peak[0] == 3
    assert released == []


@pytest.mark.parametrize(("raw", "expected"), [("auto", None), ("AUTO", None), ("1", 1), (" 4 ", 4), (2, 2)])
def test_jobs_setting_parses(raw: object, expected: int | None) -> None:
    from lockgen.toolconfig import parse_jobs

    assert parse_jobs(raw, "--jobs") == expected


@pytest.mark.parametrize("raw", ["0", "-1", "many", "", True, 1.5])
def test_jobs_setting_rejects_nonsense_naming_the_setting(raw: object) -> None:
    from lockgen.errors import ConfigError
    from lockgen.toolconfig import parse_jobs

    with pytest.raises(ConfigError, match=r"LOCKGEN_JOBS must be `auto` or a whole number >= 1"):
        parse_jobs(raw, "LOCKGEN_JOBS")


def test_most_caps_the_count_even_when_everything_fits() -> None:
    """Several environments: 6 solves of 3 platforms whose repodata fits run 3 at once (one
    environment's width), each solve holding its own solver pool."""
    log: list[str] = []
    live, peak = [0], [0]
    jobs = _tracked_jobs(["a", "b", "c", "d", "e", "f"], log, live, peak)
    schedule = Schedule((10,) * 6, capacity=1000, most=3)
    assert not schedule.concurrent
    results: list[object] = list(asyncio.run(run_scheduled(schedule, jobs, lambda i: None)))
    assert results == ["A", "B", "C", "D", "E", "F"]
    assert peak[0] == 3
    assert Schedule((10,) * 3, capacity=1000, most=3).concurrent
