"""How many platforms to solve at once: all of them, unless their repodata would not fit in memory.

rattler reads a channel's *flat* ``repodata.json`` by memory-mapping it and touching every page, so
each platform being solved holds its whole file resident (~230 MB for a conda-forge-sized
linux-64). Sharded repodata (CEP-16, what conda.anaconda.org serves for conda-forge) costs only the
shards a solve needs. So with ``jobs="auto"`` lockgen estimates, before solving, the flat repodata
each platform will map, and runs platforms together only while the total stays within
``REPODATA_BUDGET``; a platform that does not fit waits, and each finished platform's repodata is
released before the next one starts. ``jobs=N`` simply caps the number of platforms at once.

The estimate reads what rattler left in its cache: ``<key>.info.json`` (the URL fetched) beside
``<key>.json`` (the decompressed repodata). That layout is rattler's, not ours: if it changes, the
estimate finds nothing and the platforms run concurrently, as before this module existed. Local
``file://`` channels are measured on disk. For a channel never fetched before, lockgen first fetches
its noarch alone (a solve needs it anyway): flat, it lands in the cache and sizes the guess for the
platforms (``NOARCH_FACTOR``); sharded, its shard index does (``<key>.shards-cache-v1``, see
:func:`sharded_in_cache`), and the platforms run concurrently.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar, cast
from urllib.parse import unquote, urlsplit

from lockgen.config import DEFAULT_REPODATA_MEMORY_MB
from lockgen.records import dataclass
from lockgen.secrets import strip_credentials

__all__ = [
    "REPODATA_BUDGET",
    "SHARD_INDEX",
    "Schedule",
    "flat_repodata_sizes",
    "plan_schedule",
    "run_scheduled",
    "sharded_in_cache",
    "unknown_channels",
]

REPODATA_BUDGET = DEFAULT_REPODATA_MEMORY_MB * 2**20
"""Bytes of flat repodata that ``auto`` lets platforms map at the same time (noarch included): one
conda-forge-sized platform plus noarch fits, two do not, so a solve stays under ~500 MB resident."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Schedule:
    """``weights[i]`` of ``capacity`` is what platform ``i`` takes while it runs. A platform starts when
    it fits beside the running ones, or when nothing else runs."""

    weights: tuple[int, ...]
    capacity: int
    reason: str = ""
    most: int | None = None
    """At most this many at once, whatever their weights (several environments: one environment's width)."""

    @property
    def concurrent(self) -> bool:
        """Everything runs at once: nothing waits, nothing needs releasing."""
        return sum(self.weights) <= self.capacity and (self.most is None or self.most >= len(self.weights))


def flat_repodata_sizes(cache_dir: Path) -> dict[str, int]:
    """``<channel URL>/<subdir>`` → bytes of the flat repodata rattler has cached for it."""
    sizes: dict[str, int] = {}
    try:
        infos = list(cache_dir.glob("*.info.json"))
    except OSError:
        return sizes
    for info in infos:
        try:
            url = json.loads(info.read_bytes())["url"]
            size = info.with_name(info.name.removesuffix(".info.json") + ".json").stat().st_size
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not isinstance(url, str):
            continue
        base, found, _ = url.rpartition("/repodata.json")
        if found:
            sizes[base] = max(size, sizes.get(base, 0))
    return sizes


_SHARD_CACHE_MAGIC = b"SHARD-CACHE-V1"
SHARD_INDEX = "repodata_shards.msgpack.zst"
"""A CEP-16 subdir's shard index, under ``<channel>/<subdir>/``."""
def sharded_in_cache(cache_dir: Path, subdir_urls: Iterable[str]) -> set[str]:
    """Those of ``subdir_urls`` (``<channel>/<subdir>`` fetch URLs) whose shard index rattler has
    cached. Rattler's ``<key>.shards-cache-v1`` file starts with its magic, a little-endian u32
    length and that many bytes of HTTP cache policy, which name the URL fetched; only that header
    is read (a few hundred bytes per file)."""
    wanted = {f"{u}/{SHARD_INDEX}".encode(): u for u in subdir_urls}
    wanted.update({f"{strip_credentials(u)}/{SHARD_INDEX}".encode(): u for u in subdir_urls})
    found: set[str] = set()
    try:
        files = list(cache_dir.glob("*.shards-cache-v1"))
    except OSError:
        return found
    for path in files:
        try:
            with path.open("rb") as handle:
                start = handle.read(len(_SHARD_CACHE_MAGIC) + 4)
                if not start.startswith(_SHARD_CACHE_MAGIC):
                    continue
                header = handle.read(min(int.from_bytes(start[-4:], "little"), 1 << 16))
        except OSError:
            continue
        found.update(url for key, url in wanted.items() if key in header)
    return found


def _local_size(subdir_url: str) -> int:
    """For a ``file://`` channel: the size of its flat repodata; 0 when it has none (sharded)."""
    flat = Path(unquote(urlsplit(subdir_url).path)) / "repodata.json"
    return flat.stat().st_size if flat.is_file() else 0


NOARCH_FACTOR = 12
"""A flat channel's platform repodata, when only its noarch size is known, is guessed at this many
times noarch (conda-forge's linux-64 is ~7x its noarch): a guess errs towards less concurrency."""


def _size(channel: str, subdir: str, cached: Mapping[str, int]) -> int | None:
    """Bytes of flat repodata ``channel/subdir`` will map; None when nothing is known of ``channel``."""
    url = f"{channel.rstrip('/')}/{subdir}"
    if url.startswith("file://"):
        return _local_size(url)
    if url in cached:
        return cached[url]
    prefix = f"{channel.rstrip('/')}/"
    known = {key: size for key, size in cached.items() if key.startswith(prefix)}
    if not known:
        return None  # never fetched: sharded or flat, nobody knows yet
    # fetched flat before, but not this subdir: as big as its biggest platform, or a multiple of noarch
    platforms = [size for key, size in known.items() if not key.endswith("/noarch")]
    if platforms:
        return max(platforms)
    return NOARCH_FACTOR * known.get(f"{prefix}noarch", 0) if subdir != "noarch" else 0


def unknown_channels(channels: Iterable[str], cache_dir: Path) -> list[str]:
    """Channels whose repodata format is not known yet: the caller fetches their noarch first (a flat
    noarch lands in the cache, a sharded one leaves its shard index there) and plans after that."""
    cached = flat_repodata_sizes(cache_dir)
    unknown = {c for c in channels if _size(c, "noarch", cached) is None}
    if unknown:
        noarch = {f"{c.rstrip('/')}/noarch": c for c in unknown}
        unknown -= {noarch[url] for url in sharded_in_cache(cache_dir, noarch)}
    return sorted(unknown)


def plan_schedule(
    targets: Sequence[tuple[str, Iterable[str]]],
    jobs: int | None,
    cache_dir: Path,
    budget: int = REPODATA_BUDGET,
) -> Schedule:
    """One weight per ``(platform, channel fetch URLs)`` target. ``jobs``: a cap, or None for auto.

    A channel still unknown (see :func:`unknown_channels`) weighs nothing: it is most likely sharded.
    """
    if jobs is not None:
        return Schedule(tuple(1 for _ in targets), jobs, f"--jobs {jobs}")
    cached = flat_repodata_sizes(cache_dir)
    channels = {c for _, cs in targets for c in cs}
    noarch = sum(_size(c, "noarch", cached) or 0 for c in channels)
    weights = tuple(sum(_size(c, platform, cached) or 0 for c in chans) for platform, chans in targets)
    capacity = max(budget - noarch, 0)
    total = (sum(weights) + noarch) // 2**20
    reason = f"{total} MB of flat repodata, at most {budget // 2**20} MB at once (--jobs N changes this)"
    return Schedule(weights, capacity, reason)


async def run_scheduled(
    schedule: Schedule,
    jobs: Sequence[Callable[[], Awaitable[T]]],
    release: Callable[[int], None],
) -> list[T | BaseException]:
    """Run ``jobs[i]()`` as ``schedule`` allows; results (or exceptions) in order. ``release(i)`` runs
    after job ``i`` whenever another job is still waiting for room."""
    if schedule.concurrent:
        return list(await asyncio.gather(*(_capture(job) for job in jobs)))
    results: list[T | BaseException | None] = [None] * len(jobs)
    used = running = 0
    waiting = len(jobs)
    room = asyncio.Condition()

    async def one(i: int) -> None:
        nonlocal used, running, waiting
        weight = schedule.weights[i]
        async with room:
            await room.wait_for(
                lambda: running == 0
                or (used + weight <= schedule.capacity and (schedule.most is None or running < schedule.most))
            )
            used, running, waiting = used + weight, running + 1, waiting - 1
        try:
            results[i] = await _capture(jobs[i])
        finally:
            if waiting:
                release(i)
            async with room:
                used, running = used - weight, running - 1
                room.notify_all()

    await asyncio.gather(*(one(i) for i in range(len(jobs))))
    return cast("list[T | BaseException]", results)


async def _capture(job: Callable[[], Awaitable[T]]) -> T | BaseException:
    try:
        return await job()
    except Exception as exc:  # reported by the caller, with every other platform's outcome
        return exc
