"""Download package archives in parallel into the shared cache, and check each against its lock hash.

An archive is first written to a temporary name, hashed while it streams, and renamed into
``<cache>/archives/`` only when its md5 or sha256 equals the lock's. A file already in the cache
is reused when its hash still matches (a corrupt cached copy is fetched again). ``file://`` URLs
(local mirrors) are copied. Nothing here touches an environment prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from lockgen.config import (
    DEADLINE_ENV,
    DEFAULT_DOWNLOAD_DEADLINE_S,
    DEFAULT_HTTP_TIMEOUT_S,
    DEFAULT_MIN_RATE,
    DEFAULT_MIN_RATE_WINDOW_S,
    MIN_RATE_ENV,
    MIN_RATE_WINDOW_ENV,
)
from lockgen.httpclient import HttpSettings
from lockgen.lockfiles import ExplicitEntry
from lockgen.records import dataclass
from lockgen.secrets import SecretRegistry

if TYPE_CHECKING:
    import httpx

__all__ = ["SMALL_ARCHIVE", "Archive", "DownloadFailure", "Downloader", "HostUnreachable"]

_CHUNK = 1 << 20
SMALL_ARCHIVE = 1 << 18
"""A file this small is copied, hashed, extracted and stored in the event loop's thread: that costs
less than handing it to other threads (Python's lock passed back and forth at each system call, a
wake-up of the loop for each result). Larger ones are extracted on rattler's threads, which hold no
Python lock while they create the files (1 MiB here made a channel of 0.1–1 MB archives slower:
the loop's thread held the lock the large files' copies waited for)."""


class HostUnreachable(Exception):
    """A host could not be resolved or connected to: no point in trying its other files."""

    def __init__(self, host: str, url: str, reason: str) -> None:
        super().__init__(f"{host} is unreachable ({reason})")
        self.host = host
        self.url = url
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Archive:
    """A package file in the cache whose hash equals the lock's."""

    entry: ExplicitEntry
    path: Path
    md5: str
    sha256: str
    size: int
    reused: bool


@dataclass(frozen=True, slots=True)
class DownloadFailure:
    """Why one lock entry could not be used: unreachable, missing, or a hash mismatch."""

    entry: ExplicitEntry
    url: str
    """The URL it was fetched from, credentials masked."""
    problem: str

    def __str__(self) -> str:
        return f"line {self.entry.line}: {self.entry.name} ({self.url}): {self.problem}"


class _Failed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Digest:
    md5: str
    sha256: str
    size: int


class _Hashing:
    """The md5, sha256 and size of the bytes given to :meth:`update`, in order."""

    def __init__(self) -> None:
        self.md5, self.sha256, self.size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0

    def update(self, chunk: bytes) -> None:
        self.md5.update(chunk)
        self.sha256.update(chunk)
        self.size += len(chunk)

    def digest(self) -> _Digest:
        return _Digest(self.md5.hexdigest(), self.sha256.hexdigest(), self.size)


def _hash_file(path: Path) -> _Digest:
    hashing = _Hashing()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hashing.update(chunk)
    return hashing.digest()


def _copy_hashed(source: Path, dest: Path) -> _Digest:
    """Copy ``source`` to ``dest``, hashing what was written."""
    hashing = _Hashing()
    with source.open("rb") as reading, dest.open("wb") as writing:
        while chunk := reading.read(_CHUNK):
            writing.write(chunk)
            hashing.update(chunk)
    return hashing.digest()


def _connect_reason(exc: BaseException) -> str:
    """The operating system's words for a failed connection (``Connection refused``, ``Name or
    service not known``), found down the exception chain; else the exception's own text."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and isinstance(seen.errno, int) and seen.errno > 0:
            return os.strerror(seen.errno)
        if isinstance(seen, OSError) and seen.strerror:
            return str(seen.strerror)
        seen = seen.__cause__ or seen.__context__
    return str(exc) or type(exc).__name__


def _matches(entry: ExplicitEntry, digest: _Digest) -> bool:
    if entry.sha256:
        return digest.sha256 == entry.sha256
    return digest.md5 == entry.md5


def _expected(entry: ExplicitEntry) -> str:
    return f"sha256 {entry.sha256}" if entry.sha256 else f"md5 {entry.md5}"


class Downloader:
    """Fetches lock entries concurrently (``jobs`` at a time) into ``archive_dir``."""

    def __init__(
        self,
        archive_dir: Path,
        secrets: SecretRegistry | None = None,
        *,
        jobs: int = 8,
        http: HttpSettings | None = None,
        retries: int = 3,
        deadline_s: float = DEFAULT_DOWNLOAD_DEADLINE_S,
        min_rate: int = DEFAULT_MIN_RATE,
        min_rate_window_s: float = DEFAULT_MIN_RATE_WINDOW_S,
    ) -> None:
        self.archive_dir = archive_dir
        self.secrets = secrets or SecretRegistry()
        self.jobs = jobs
        self.http = http or HttpSettings(DEFAULT_HTTP_TIMEOUT_S)
        """Timeout, proxies and credentials of the one client every download shares (:mod:`lockgen.httpclient`)."""
        self.retries = retries
        self.deadline_s = deadline_s
        self.min_rate = min_rate
        """Bytes per second a download must average over ``min_rate_window_s`` (0: no rule)."""
        self.min_rate_window_s = min_rate_window_s

    async def fetch_all(
        self, wanted: Sequence[tuple[ExplicitEntry, str]], on_verified: Callable[[Archive], None] | None = None
    ) -> tuple[list[Archive], list[DownloadFailure]]:
        """Fetch every (entry, fetch URL); returns the archives and every failure (never raises for one).
        ``on_verified`` is called with each archive as soon as its hash matched (in the event loop).

        Raises :class:`HostUnreachable` (the other downloads cancelled, their partial files removed)
        as soon as one host cannot be resolved or connected to; refuses a lock naming a URL twice.
        """
        self.archive_dir.mkdir(parents=True, exist_ok=True)
        seen: dict[str, ExplicitEntry] = {}
        for entry, url in wanted:
            self.secrets.add_url(url)
            earlier = seen.setdefault(entry.file_name, entry)
            if earlier is not entry:  # one cache name and one partial file for both: never fetch them together
                raise ValueError(f"line {entry.line}: {entry.file_name} is already on line {earlier.line}")
        limit = asyncio.Semaphore(self.jobs)
        async with contextlib.AsyncExitStack() as stack:
            client = None  # no HTTP client (nor its SSL context, ~40 ms) when every file is local
            if any(not url.startswith("file://") for _, url in wanted):
                from lockgen.httpclient import make_async_client

                client = await stack.enter_async_context(make_async_client(self.http))
            tasks = [asyncio.create_task(self._one(client, limit, entry, url, on_verified)) for entry, url in wanted]
            try:
                results = await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        archives = [r for r in results if isinstance(r, Archive)]
        failures = [r for r in results if isinstance(r, DownloadFailure)]
        return archives, failures

    async def _one(
        self,
        client: httpx.AsyncClient | None,
        limit: asyncio.Semaphore,
        entry: ExplicitEntry,
        url: str,
        on_verified: Callable[[Archive], None] | None,
    ) -> Archive | DownloadFailure:
        archive = await self._verified(client, limit, entry, url)
        if on_verified is not None and isinstance(archive, Archive):
            on_verified(archive)
        return archive

    async def _verified(
        self, client: httpx.AsyncClient | None, limit: asyncio.Semaphore, entry: ExplicitEntry, url: str
    ) -> Archive | DownloadFailure:
        target = self.archive_dir / entry.file_name
        if target.is_file():
            digest = await asyncio.to_thread(_hash_file, target)
            if _matches(entry, digest):
                return Archive(entry, target, digest.md5, digest.sha256, digest.size, reused=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}-{entry.line}.part")
        try:
            async with limit:
                try:  # the bytes are hashed as they are written: verified as soon as the last one is
                    digest = await asyncio.wait_for(self._fetch(client, url, partial), self.deadline_s)
                except TimeoutError as exc:
                    raise _Failed(
                        f"not complete after {self.deadline_s:g} s (the server sends too slowly; set"
                        f" {DEADLINE_ENV} to allow more time per file)"
                    ) from exc
            if not _matches(entry, digest):
                got = f"sha256 {digest.sha256}" if entry.sha256 else f"md5 {digest.md5}"
                raise _Failed(f"hash mismatch: the lock says {_expected(entry)}, the file has {got}")
            os.replace(partial, target)
        except _Failed as exc:
            return DownloadFailure(entry, self.secrets.redact(url), str(exc))
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        return Archive(entry, target, digest.md5, digest.sha256, digest.size, reused=False)

    async def _fetch(self, client: httpx.AsyncClient | None, url: str, dest: Path) -> _Digest:
        """Write ``url``'s bytes to ``dest``; their hashes."""
        if url.startswith("file://"):
            source = Path(unquote(urlsplit(url).path))
            try:
                if source.stat().st_size <= SMALL_ARCHIVE:
                    return _copy_hashed(source, dest)
                return await asyncio.to_thread(_copy_hashed, source, dest)
            except OSError as exc:
                raise _Failed(f"cannot read the file: {exc.strerror or exc}") from exc
        import httpx

        assert client is not None  # made whenever a URL is not file://
        last = "no attempt made"
        for attempt in range(self.retries + 1):
            try:
                return await self._http_get(client, url, dest)
            except _Failed:
                raise
            except httpx.ConnectError as exc:  # DNS failure, connection refused: retrying will not help
                parts = urlsplit(url)
                host = parts.hostname or "?"
                host = f"{host}:{parts.port}" if parts.port else host
                reason = self.secrets.redact(_connect_reason(exc))
                raise HostUnreachable(host, self.secrets.redact(url), reason) from exc
            except Exception as exc:
                last = self.secrets.redact(f"{type(exc).__name__}: {exc}")
            if attempt < self.retries:
                await asyncio.sleep(0.2 * 2**attempt)
        raise _Failed(f"unreachable after {self.retries + 1} attempts ({last})")

    async def _http_get(self, client: httpx.AsyncClient, url: str, dest: Path) -> _Digest:
        hashing = _Hashing()  # afresh at each attempt

        async def read(response: httpx.Response) -> None:
            with dest.open("wb") as handle:
                async for chunk in response.aiter_bytes():  # as they arrive: the rate rule counts every byte
                    handle.write(chunk)
                    hashing.update(chunk)

        async with client.stream("GET", url) as response:
            if response.status_code in (401, 403, 404, 410):
                raise _Failed(f"HTTP {response.status_code}: the file is missing or not accessible")
            response.raise_for_status()
            await self._at_min_rate(read(response), lambda: hashing.size, url)
        return hashing.digest()

    async def _at_min_rate(
        self, reading: Coroutine[object, object, None], received: Callable[[], int], url: str
    ) -> None:
        """Await ``reading``; abandon it (raise _Failed naming the host) when fewer than ``min_rate``
        bytes per second arrived over the last ``min_rate_window_s`` seconds (curl's speed limit).
        The per-file deadline still bounds the whole download."""
        task = asyncio.ensure_future(reading)
        if self.min_rate <= 0:
            await task
            return
        loop = asyncio.get_running_loop()
        window = self.min_rate_window_s
        samples: deque[tuple[float, int]] = deque([(loop.time(), 0)])
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=max(0.05, min(1.0, window / 10)))
                if done:
                    task.result()
                    return
                now, total = loop.time(), received()
                samples.append((now, total))
                while len(samples) > 1 and samples[1][0] <= now - window:
                    samples.popleft()
                since, base = samples[0]
                if now - since >= window and total - base < self.min_rate * (now - since):
                    host = urlsplit(url).netloc.rpartition("@")[2] or "?"
                    rate = (total - base) / (now - since)
                    raise _Failed(
                        f"{host} sent {rate:.0f} bytes/s over the last {now - since:.0f} s, below the minimum of"
                        f" {self.min_rate} bytes/s (a stalled or throttled server; set {MIN_RATE_ENV} and"
                        f" {MIN_RATE_WINDOW_ENV} to allow slower servers, 0 to switch the rule off)"
                    )
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
