"""A cap on how large a channel's compressed repodata may expand: a tiny ``repodata.json.zst`` can
decompress to gigabytes (a "zip bomb"), and rattler writes the whole expansion to its cache and maps
it into memory before anything could look at it.

So before the Gateway first fetches a subdir's flat repodata over http(s) (no cache entry yet),
lockgen streams the served ``repodata.json.zst`` once and adds up what its zstd frames can expand
to, from the frame and block headers alone (no decompression): a raw or RLE block gives its size, a
compressed block at most 128 KiB (the format's block maximum). Past ``LOCKGEN_REPODATA_MAX_MB`` it
stops reading and the lock fails (exit 5) naming the channel; a bomb costs its few compressed
kilobytes. A subdir that serves CEP-16 shards (what rattler takes first) or no ``.zst`` is not
checked here. A subdir rattler has cached, as flat repodata or as a shard index
(:func:`subdirs_to_check`), is not checked again: a warm lock sends no request for it. What rattler
fetches later for a cached subdir (a newer flat file, or a flat file where shards were) is checked
after the fetch by :func:`refuse_oversized_cache`, which removes it from the cache and fails the lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.config import DEFAULT_REPODATA_MAX_MB, REPODATA_MAX_ENV
from lockgen.errors import ChannelError
from lockgen.scheduling import SHARD_INDEX, flat_repodata_sizes, sharded_in_cache
from lockgen.secrets import strip_credentials

if TYPE_CHECKING:  # httpx is loaded only when a subdir is checked, never for a warm cache
    import httpx

    from lockgen.httpclient import HttpSettings

__all__ = [
    "RepodataTooLarge",
    "check_served_repodata",
    "refuse_oversized_cache",
    "subdirs_to_check",
    "zstd_size_bound",
]

_DEFAULT_LIMIT = DEFAULT_REPODATA_MAX_MB * 2**20
_MAGIC = b"\x28\xb5\x2f\xfd"
_BLOCK_MAX = 128 * 1024


class RepodataTooLarge(ValueError):
    """The stream would expand past the limit (``bound`` bytes counted so far)."""

    def __init__(self, bound: int) -> None:
        super().__init__(f"expands to more than {bound} bytes")
        self.bound = bound


class _EndOfStream(Exception):
    pass


class _Reader:
    """Reads exact byte counts from an iterator of chunks (a streamed HTTP body); raises
    _EndOfStream when it runs out (a truncated tail counts as the end)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = bytearray()

    def _fill(self) -> None:
        chunk = next(self._chunks, None)
        if chunk is None:
            raise _EndOfStream
        self._buffer += chunk

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._fill()
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    def skip(self, n: int) -> None:
        while n > 0:
            if not self._buffer:
                self._fill()
            step = min(n, len(self._buffer))
            del self._buffer[:step]
            n -= step


def zstd_size_bound(chunks: Iterable[bytes], limit: int) -> int:
    """An upper bound of what the zstd stream in ``chunks`` decompresses to, from its headers only.

    Raises :class:`RepodataTooLarge` as soon as the bound passes ``limit``, without reading further.
    Not zstd at all (or malformed): returns what was counted; the decompressor will reject it."""
    reader = _Reader(chunks)
    counted = [0]
    try:
        while _frame(reader, counted, limit):
            pass
    except _EndOfStream:
        pass
    return counted[0]


def _frame(reader: _Reader, counted: list[int], limit: int) -> bool:
    """Count one frame into ``counted[0]``; False when the stream is not (or no longer) zstd."""
    magic = reader.read(4)
    if magic[1:] == b"\x2a\x4d\x18" and magic[0] & 0xF0 == 0x50:  # a skippable frame
        reader.skip(int.from_bytes(reader.read(4), "little"))
        return True
    if magic != _MAGIC:
        return False
    flags = reader.read(1)[0]
    single_segment = bool(flags & 0x20)
    header = (0 if single_segment else 1) + (0, 1, 2, 4)[flags & 0x03]
    header += ((1 if single_segment else 0), 2, 4, 8)[flags >> 6]
    reader.skip(header)
    last = 0
    while not last:
        block = int.from_bytes(reader.read(3), "little")
        last, kind, size = block & 1, (block >> 1) & 3, block >> 3
        if kind == 3:  # reserved: malformed, the decompressor refuses it
            return False
        # raw: `size` bytes; RLE: one byte repeated `size` times; compressed: at most the block maximum
        counted[0] += _BLOCK_MAX if kind == 2 else size
        if counted[0] > limit:
            raise RepodataTooLarge(counted[0])
        reader.skip(1 if kind == 1 else size)
    if flags & 0x04:  # content checksum
        reader.skip(4)
    return True


def subdirs_to_check(cache_dir: Path, subdirs: Mapping[str, str]) -> dict[str, str]:
    """The ``subdirs`` (fetch URL of ``<channel>/<subdir>`` → name shown) rattler has not cached,
    neither as flat repodata nor as a shard index: only those are checked before a solve."""
    flat = flat_repodata_sizes(cache_dir)
    todo = {url: shown for url, shown in subdirs.items() if url not in flat and strip_credentials(url) not in flat}
    if todo:
        sharded = sharded_in_cache(cache_dir, todo)
        todo = {url: shown for url, shown in todo.items() if url not in sharded}
    return todo


def check_served_repodata(
    subdirs: Sequence[tuple[str, str]], http: HttpSettings, limit: int = _DEFAULT_LIMIT
) -> None:
    """``subdirs``: (name shown in messages, fetch URL of ``<channel>/<subdir>``), http(s) only.

    Raises ChannelError for the first whose ``repodata.json.zst`` would expand past ``limit``. A
    subdir that cannot be reached is skipped: rattler's own fetch reports that failure. The requests
    go through :mod:`lockgen.httpclient` (proxies, ``.netrc``, the timeout)."""
    todo = [(shown, url) for shown, url in subdirs if url.startswith(("http://", "https://"))]
    if not todo:
        return
    from concurrent.futures import ThreadPoolExecutor  # here: a warm lock checks nothing and starts no thread

    from lockgen.httpclient import make_client

    with make_client(http) as client, ThreadPoolExecutor(max_workers=min(8, len(todo))) as pool:
        found = list(pool.map(lambda item: _check_one(client, item[1], limit), todo))
    for (shown, _), bound in zip(todo, found, strict=True):
        if bound is not None:
            raise ChannelError(
                f"{shown}: repodata.json.zst expands to more than {limit // 2**20} MiB (at least"
                f" {bound // 2**20} MiB counted); refusing it as a decompression bomb. If the channel is"
                f" genuinely this large, raise {REPODATA_MAX_ENV} (default {DEFAULT_REPODATA_MAX_MB})"
            )


def _check_one(client: httpx.Client, subdir_url: str, limit: int) -> int | None:
    """The bound that passed ``limit``, or None (within it, sharded, absent or unreachable)."""
    import httpx

    try:
        if client.head(f"{subdir_url}/{SHARD_INDEX}").status_code != 404:
            return None  # sharded: rattler reads the shards, not the flat file; or failing: rattler says why
        with client.stream("GET", f"{subdir_url}/repodata.json.zst") as response:
            if response.status_code != 200:
                return None
            zstd_size_bound(response.iter_raw(64 * 1024), limit)
    except RepodataTooLarge as exc:
        return exc.bound
    except (OSError, ValueError, httpx.HTTPError):
        return None
    return None


def refuse_oversized_cache(cache_dir: Path, subdirs: Mapping[str, str], limit: int = _DEFAULT_LIMIT) -> None:
    """After a fetch: a cached flat repodata of ``subdirs`` (fetch URL of ``<channel>/<subdir>`` →
    name shown) larger than the limit is deleted from the cache and fails the lock. The pre-check
    trusts the server to serve lockgen what it serves rattler; this catches one that does not."""
    sizes = flat_repodata_sizes(cache_dir)
    for url, shown in subdirs.items():
        size = max(sizes.get(url, 0), sizes.get(strip_credentials(url), 0))
        if size <= limit:
            continue
        for info in cache_dir.glob("*.info.json"):
            try:
                fetched = json.loads(info.read_bytes()).get("url", "")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(fetched, str) and strip_credentials(fetched).startswith(strip_credentials(url) + "/"):
                info.with_name(info.name.removesuffix(".info.json") + ".json").unlink(missing_ok=True)
                info.unlink(missing_ok=True)
        raise ChannelError(
            f"{shown}: its repodata expanded to {size // 2**20} MiB, more than {limit // 2**20} MiB; refused"
            f" and removed from the cache. If the channel is genuinely this large, raise {REPODATA_MAX_ENV}"
        )
