"""Solve each target platform with py-rattler (Gateway + resolvo), platforms concurrently.

How many platforms run at once is :mod:`lockgen.scheduling`'s call: all of them, unless the flat
repodata they would map together is too large for memory.

This module is the only place that talks to rattler's solver; it takes and returns lockgen's own
dataclasses so the rest of the code does not follow rattler's API churn.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from lockgen.channels import ResolvedChannel, resolve_channel, to_canonical_url
from lockgen.config import ensure_cache_dir, env_int
from lockgen.errors import ChannelError, SolveError
from lockgen.models import LockedPackage, dependency_name, sort_dependency_order
from lockgen.platforms import VirtualPackage
from lockgen.reporting import NullReporter, Reporter
from lockgen.secrets import SecretRegistry, strip_credentials
from lockgen.spec import spec_channel

if TYPE_CHECKING:
    from concurrent.futures import Future

    from rattler import Gateway, MatchSpec, RepoDataRecord

__all__ = ["CondaSolver", "RattlerSolver", "SolveRequest"]


@dataclass(frozen=True, slots=True)
class SolveRequest:
    """Everything that determines one platform's solve."""

    platform: str
    specs: tuple[str, ...]
    channels: tuple[ResolvedChannel, ...]
    virtual_packages: tuple[VirtualPackage, ...]
    channel_priority: str = "strict"
    exclude_newer: dt.datetime | None = None
    preferred: tuple[str, ...] = field(default=())
    """Canonical URLs of previously locked packages: kept when they still satisfy the specs."""
    origins: tuple[str, ...] = field(default=())
    """Where each spec was written (``environment.yml:7``), parallel to ``specs``; for messages."""


TIMEOUT_ENV = "LOCKGEN_HTTP_TIMEOUT"
RETRIES_ENV = "LOCKGEN_HTTP_RETRIES"
MEMORY_ENV = "LOCKGEN_REPODATA_MEMORY_MB"
DEFAULT_TIMEOUT_S = 60
DEFAULT_RETRIES = 3


class CondaSolver(Protocol):
    def solve(self, requests: Sequence[SolveRequest]) -> dict[str, tuple[LockedPackage, ...]]: ...


class RattlerSolver:
    """Fetches repodata through one shared rattler Gateway and solves the requests concurrently, as many
    at once as the repodata's memory footprint allows (or ``jobs``)."""

    def __init__(
        self,
        cache_dir: Path,
        secrets: SecretRegistry | None = None,
        reporter: Reporter | None = None,
        offline: bool = False,
        *,
        timeout_s: int | None = None,
        retries: int | None = None,
        jobs: int | None = None,
        repodata_budget: int | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.secrets = secrets or SecretRegistry()
        self.reporter = reporter or NullReporter()
        self.offline = offline
        self.timeout_s = timeout_s if timeout_s is not None else env_int(TIMEOUT_ENV, DEFAULT_TIMEOUT_S, 1)
        self.retries = retries if retries is not None else env_int(RETRIES_ENV, DEFAULT_RETRIES, 0)
        self.jobs = jobs
        """At most this many platforms at once; None: as many as memory allows (see lockgen.scheduling)."""
        if repodata_budget is None:
            from lockgen.scheduling import REPODATA_BUDGET

            repodata_budget = env_int(MEMORY_ENV, REPODATA_BUDGET // 2**20, 0) * 2**20
        self.repodata_budget = repodata_budget
        """Bytes of flat repodata mapped at once when ``jobs`` is None (default: from MEMORY_ENV)."""

    def solve(self, requests: Sequence[SolveRequest]) -> dict[str, tuple[LockedPackage, ...]]:
        import asyncio  # not at import time: `check` and a no-op `lock` import this module and never solve
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:  # the size check overlaps loading rattler
            check = None if self.offline else pool.submit(self._check_repodata_sizes, requests)
            return asyncio.run(self._solve_all(requests, check))

    def _gateway(self) -> Gateway:
        from rattler import Client, Gateway, SourceConfig
        from rattler.networking.middleware import AuthenticationMiddleware, RetryMiddleware

        config = SourceConfig(cache_action="force-cache-only" if self.offline else "cache-or-fetch")
        client = Client([RetryMiddleware(self.retries), AuthenticationMiddleware()], timeout=self.timeout_s)
        ensure_cache_dir(self.cache_dir)
        return Gateway(cache_dir=self.cache_dir, default_config=config, client=client)

    async def _solve_all(
        self, requests: Sequence[SolveRequest], size_check: Future[None] | None = None
    ) -> dict[str, tuple[LockedPackage, ...]]:
        import asyncio

        from lockgen.scheduling import plan_schedule, run_scheduled

        gateway = self._gateway()
        targets = [(r.platform, [c.fetch for c in _spec_sources(r)[0]]) for r in requests]
        if size_check is not None:  # nothing is fetched before it passes
            await asyncio.wrap_future(size_check)
        if self.jobs is None and len(requests) > 1:
            failed = await self._learn_formats(gateway, [c for _, cs in targets for c in cs])
            # A noarch every solve needs failed: report it now rather than fetch it again. When it
            # concerns only some platforms (msys2 is win-*'s), the others are solved and report
            # their own outcome: one failed URL says nothing about their channels.
            if failed is not None and len(concerned := _concerned(requests, failed)) == len(requests):
                translated = [
                    (r.platform, await self._translate(failed, gateway, r, sources, [r.platform, "noarch"]))
                    for r, (_, sources) in zip(requests, targets, strict=True)
                    if r in concerned
                ]
                raise self._combine(translated)
        schedule = plan_schedule(targets, self.jobs, self.cache_dir, self.repodata_budget)
        if not schedule.concurrent and len(requests) > 1:
            self.reporter.event("solve", None, f"not every platform at once: {schedule.reason}")

        def release(index: int) -> None:
            platform, channels = targets[index]
            subdirs: list[Any] = [platform]  # rattler types subdirs as a Literal of known names
            for channel in channels:
                try:
                    gateway.clear_repodata_cache(channel, subdirs)
                except Exception as exc:  # only memory is at stake: never fail a lock over it
                    self.reporter.event(
                        "solve", platform, f"could not release repodata of {platform}: {self.secrets.redact(str(exc))}"
                    )

        def job(request: SolveRequest) -> Callable[[], Awaitable[tuple[LockedPackage, ...]]]:
            return lambda: self._solve_one(gateway, request)

        results = await run_scheduled(schedule, [job(r) for r in requests], release)
        if not self.offline:
            from lockgen.repodata_limit import refuse_oversized_cache

            refuse_oversized_cache(self.cache_dir, self._subdirs(requests))
        solved: dict[str, tuple[LockedPackage, ...]] = {}
        failures: list[tuple[str, BaseException]] = []
        for request, result in zip(requests, results, strict=True):
            if isinstance(result, BaseException):
                failures.append((request.platform, result))
            else:
                solved[request.platform] = result
        if failures:
            raise self._combine(failures)
        return solved

    @staticmethod
    def _subdirs(requests: Sequence[SolveRequest]) -> dict[str, str]:
        """Fetch URL of each ``<channel>/<subdir>`` the requests read → how messages name it."""
        found: dict[str, str] = {}
        for request in requests:
            for channel in _spec_sources(request)[0]:
                for subdir in (request.platform, "noarch"):
                    found.setdefault(f"{channel.fetch}/{subdir}", f"channel {channel.name}, {subdir}")
        return found

    def _check_repodata_sizes(self, requests: Sequence[SolveRequest]) -> None:
        """Refuse a never-fetched subdir whose compressed repodata would expand past the limit
        (:mod:`lockgen.repodata_limit`), before rattler expands it into the cache."""
        from lockgen.repodata_limit import check_served_repodata
        from lockgen.scheduling import flat_repodata_sizes

        cached = flat_repodata_sizes(self.cache_dir)
        todo = {
            url: shown
            for url, shown in self._subdirs(requests).items()
            if url not in cached and strip_credentials(url) not in cached
        }
        if todo:
            check_served_repodata([(shown, url) for url, shown in todo.items()], self.timeout_s)

    async def _learn_formats(self, gateway: Gateway, channels: Sequence[str]) -> Exception | None:
        """Fetch noarch of each channel not seen before, so the schedule knows flat from sharded.
        The Gateway keeps what it loaded, so the solves do not fetch it again. Returns the failure."""
        from lockgen.scheduling import unknown_channels

        unknown = unknown_channels(channels, self.cache_dir)
        if not unknown:
            return None
        noarch: list[Any] = ["noarch"]
        try:
            await gateway.names(unknown, noarch)
        except Exception as exc:
            return exc
        return None

    def _combine(self, failures: Sequence[tuple[str, BaseException]]) -> Exception:
        network = [(p, e) for p, e in failures if isinstance(e, ChannelError)]
        if network:
            # a platform that waited on another's failed download only says "a coalesced request failed"
            useful = [(p, e) for p, e in network if "coalesced request failed" not in str(e)]
            by_message: dict[str, list[str]] = {}
            for p, e in useful or network:
                by_message.setdefault(str(e), []).append(p)
            lines = [f"{', '.join(ps)}: {m}" for m, ps in by_message.items()]
            waited = [p for p, e in network if useful and (p, e) not in useful]
            if waited:
                lines.append(f"{', '.join(waited)}: stopped by the same failed download")
            return ChannelError("\n".join(lines))
        unsolved = [(p, e) for p, e in failures if isinstance(e, SolveError)]
        if len(unsolved) == len(failures):
            bodies: dict[str, list[str]] = {}  # the same explanation for several platforms is shown once
            for platform, error in unsolved:
                bodies.setdefault(str(error).removeprefix(f"{platform}: "), []).append(platform)
            text = "\n\n".join(f"{', '.join(ps)}: {body}" for body, ps in bodies.items())
            return SolveError(text, tuple(p for p, _ in unsolved))
        where, exc = next((p, e) for p, e in failures if not isinstance(e, SolveError))
        return exc if isinstance(exc, Exception) else RuntimeError(f"{where}: {exc!r}")

    async def _solve_one(self, gateway: Gateway, request: SolveRequest) -> tuple[LockedPackage, ...]:
        from rattler import ChannelPriority, solve

        channels, specs = _rewrite_channel_specs(request)
        sources = [c.fetch for c in channels]
        platforms: list[Any] = [request.platform, "noarch"]
        self.reporter.event("solve", request.platform, f"solving {len(specs)} specs")
        try:
            locked = await self._preferred_records(gateway, request, sources, platforms)
            records = await solve(
                sources,
                specs,
                gateway=gateway,
                platforms=platforms,
                locked_packages=locked,
                virtual_packages=_virtual_packages(request.virtual_packages),
                channel_priority=getattr(ChannelPriority, request.channel_priority.capitalize()),
                exclude_newer=request.exclude_newer,
                timestamp_policy="allow-missing",
            )
        except Exception as exc:
            raise await self._translate(exc, gateway, request, sources, platforms) from exc
        packages = [_to_locked(r, channels, request.platform) for r in records]
        self.reporter.event("solved", request.platform, f"{len(packages)} packages")
        return tuple(sort_dependency_order(packages))

    async def _preferred_records(
        self, gateway: Gateway, request: SolveRequest, sources: list[str], platforms: list[Any]
    ) -> list[RepoDataRecord]:
        if not request.preferred:
            return []
        wanted = {url.rsplit("/", 1)[-1]: url for url in request.preferred}
        names = sorted({_name_from_filename(f) for f in wanted})
        result = await gateway.query(sources, platforms, names, recursive=False)
        found = []
        for records in result:
            for record in records:
                if record.file_name in wanted:
                    found.append(record)
        return found

    async def _translate(
        self, exc: Exception, gateway: Gateway, request: SolveRequest, sources: list[str], platforms: list[Any]
    ) -> Exception:
        from rattler.exceptions import SolverError

        text = self.secrets.redact(str(exc).strip())
        if isinstance(exc, SolverError):
            explained = await self._explain(text, gateway, request, sources, platforms)
            empty = await self._empty_subdirs(gateway, request)
            if empty:  # amend in place: keeps whatever else _explain attached
                explained.message = "\n".join([explained.message, *empty])
                explained.args = (explained.message,)
            return explained
        if not isinstance(exc, (*_rattler_fetch_errors(), OSError)):
            return exc  # not a fetch problem: a bug, shown as an internal error
        if self.offline:
            return await self._offline_error(gateway, request, text)
        url = _first_url(str(exc))
        if url is None:  # e.g. a JSON error: find the subdir that fails
            url = next((f"{u}/repodata.json" for u in await self._failing_subdirs(gateway, request)), None)
        reason = _fetch_reason(text, self.timeout_s, self.retries)
        import asyncio

        if "not valid" in reason and url and await asyncio.to_thread(_serves_html, url, self.timeout_s):
            reason = "the server sent an HTML page (a login or proxy page?) instead of repodata"
        channel = _channel_of(url, request.channels) if url else None
        if reason.startswith((_NO_DNS, _REFUSED)):
            # which of several channels on dead hosts fails first is a race: name the first in order
            refused = reason.startswith(_REFUSED)
            first = await asyncio.to_thread(_first_unreachable, request.channels, refused)
            if first is not None:
                parts = urlsplit(first.fetch)
                port = f":{parts.port}" if parts.port else ""
                where = _where(first)
                hint = self.secrets.redact(first.mirror_hint())
                return ChannelError(
                    f"cannot reach {parts.scheme}://{parts.hostname}{port} for {where}: {reason}\n  hint: {hint}"
                )
        shown = self.secrets.redact(url) if url else ", ".join(self.secrets.redact(s) for s in sources)
        detail = " / ".join(line.strip() for line in text.splitlines() if line.strip())
        headline = fetch_failure(shown, reason=reason, channel=channel)
        hint = f"\n  hint: {self.secrets.redact(channel.mirror_hint())}" if channel is not None else ""
        return ChannelError(f"{headline}{hint}\n  (rattler: {detail})")

    async def _offline_error(self, gateway: Gateway, request: SolveRequest, text: str) -> ChannelError:
        """Name every channel/subdir whose repodata the cache lacks."""
        missing: dict[str, list[str]] = {}
        for url in await self._failing_subdirs(gateway, request):
            channel = _channel_of(url, request.channels)
            shown = self.secrets.redact(url)
            if channel is None or channel.written != channel.name:  # e.g. defaults: its URLs say which part
                key = _where(channel) if channel is not None else shown
                missing.setdefault(key, []).append(shown)
            else:
                name = self._channel_name(request, url)
                missing.setdefault(name if name == shown else f"{name} ({shown})", [])
        parts = [f"{key}: {', '.join(urls)}" if urls else key for key, urls in missing.items()]
        listed = "; ".join(parts) if parts else f"? ({text})"
        return ChannelError(offline_miss(self.cache_dir, listed, mirrored=any(_mirrored(c) for c in request.channels)))

    async def _failing_subdirs(self, gateway: Gateway, request: SolveRequest) -> list[str]:
        """The fetch URLs (``<channel>/<subdir>``) of the request whose repodata cannot be loaded."""
        failing = []
        for channel in request.channels:
            for subdir in (request.platform, "noarch"):
                try:
                    await gateway.names([channel.fetch], [subdir])  # type: ignore[list-item]
                except Exception:
                    failing.append(f"{channel.fetch}/{subdir}")
        return failing

    @staticmethod
    def _channel_name(request: SolveRequest, subdir_url: str) -> str:
        base, _, subdir = subdir_url.rpartition("/")
        name = next((c.name for c in request.channels if c.fetch == base), base)
        return f"{name}/{subdir}"

    async def _empty_subdirs(self, gateway: Gateway, request: SolveRequest) -> list[str]:
        """Notes for channels that serve nothing for the target platform (a 404 counts as empty)."""
        notes = []
        for channel in request.channels:
            try:
                names = await gateway.names([channel.fetch], [request.platform])  # type: ignore[list-item]
            except Exception:  # that failure has its own message; this is only a hint
                names = None
            if names is not None and not names:
                where = self.secrets.redact(f"{channel.fetch}/{request.platform}/repodata.json")
                notes.append(f"  note: {channel.name} has no {request.platform} packages: {where} is missing or empty")
        return notes

    async def _explain(
        self, text: str, gateway: Gateway, request: SolveRequest, sources: list[str], platforms: list[Any]
    ) -> SolveError:
        unknown = await self._unknown_names(gateway, request, sources, platforms)
        if unknown:  # typos first, all at once: the solver would name only one of them per run
            channels = ", ".join(dict.fromkeys(c.label for c in request.channels))
            plural = "s" if len(unknown) > 1 else ""
            lines = [f"{request.platform}: unknown package name{plural} (not in {channels}):", *unknown]
            return SolveError("\n".join(lines), (request.platform,))
        lines = [f"{request.platform}: no solution."]
        seen: set[str] = set()
        for spec in _missing_specs(text):
            name = spec.split()[0].split("[")[0]
            if name in seen:
                continue
            seen.add(name)
            hint = await self._hint(name, spec, gateway, request, (sources, platforms))
            if hint:
                lines.append(f"  {hint}")
        body = text.removeprefix("Cannot solve the request because of: ")
        lines.append("  " + body.replace("\n", "\n  ").rstrip())
        return SolveError("\n".join(lines), (request.platform,))

    async def _unknown_names(
        self, gateway: Gateway, request: SolveRequest, sources: list[str], platforms: list[Any]
    ) -> list[str]:
        """One line per spec of the environment whose package name no channel has, with the closest
        names that exist (one ``names()`` call: the channels' package names, no records)."""
        wanted = [
            (text, origin, dependency_name(text.rpartition("::")[2]))
            for text, origin in zip(request.specs, request.origins or [""] * len(request.specs), strict=True)
        ]
        wanted = [(t, o, n) for t, o, n in wanted if not n.startswith("__") and "*" not in n]
        if not wanted:
            return []
        try:
            known = {name.normalized for name in await gateway.names(sources, platforms)}
        except Exception:  # the failure at hand has its own message; this only sharpens it
            return []
        lines = []
        for text, origin, name in wanted:
            if name in known:
                continue
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.75)
            guess = f"; did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
            where = f"{origin}: " if origin else ""
            what = f"`{name}`" if text == name else f"`{name}` (in `{text}`)"
            lines.append(f"  {where}no package named {what}{guess}")
        return lines

    async def _hint(
        self, name: str, spec: str, gateway: Gateway, request: SolveRequest, where: tuple[list[str], list[Any]]
    ) -> str | None:
        """One line saying why nothing matched ``spec``: unknown name, virtual package, or versions on offer."""
        if name.startswith("__"):
            offered = next((str(v) for v in request.virtual_packages if v.name == name), None)
            fix = "--cuda VERSION" if name == "__cuda" else f"--virtual-package {request.platform}:{name}=VERSION"
            if offered:
                return f"`{spec}` needs the virtual package {name}, but the target has {offered} (change it with {fix})"
            return f"`{spec}` needs the virtual package {name}, which the target lacks (add it with {fix})"
        try:
            result = await gateway.query(where[0], where[1], [name], recursive=False)
        except Exception:
            return None
        records = [r for group in result for r in group]
        channels = ", ".join(c.name for c in request.channels)
        if not records:
            return f"no package named `{name}` in {channels} for {request.platform}"
        from rattler import MatchSpec, Version

        try:
            wanted = MatchSpec(spec, strict=False)
            matching = any(r.matches(wanted) for r in records)
        except Exception:
            matching = False
        if matching:
            mine = [
                f"`{text}` ({origin})" if origin else f"`{text}`"
                for text, origin in zip(request.specs, request.origins or [""] * len(request.specs), strict=True)
                if dependency_name(text) == name
            ]
            against = f" conflicts with {', '.join(mine)}" if mine else " is excluded by another requirement"
            return f"`{spec}`{against}"
        versions = sorted({str(r.version) for r in records}, key=Version)
        shown = ", ".join(versions[-6:])
        return f"`{spec}`: no build matches for {request.platform} in {channels} (versions there: {shown})"


_NO_DNS = "the host name does not resolve"
_REFUSED = "connection refused"
_PROBE_TIMEOUT_S = 3
_DNS_FAILURE = r"dns error|failed to lookup address|name or service not known"
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s()'\"`\\<>]+")
_HTTP_STATUS = re.compile(r"HTTP status (?:client|server) error \((?P<status>\d{3})(?P<phrase>[^)]*)\)")
_RETRIED = "; gave up after {retries} with backoff"
_FETCH_REASONS = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"connection refused", "connection refused (is the server up, and the URL right?)" + _RETRIED),
        (_DNS_FAILURE, _NO_DNS),
        (r"no such file|could not find subdir", "not found"),
        (r"timed out", "no answer within {timeout} s (LOCKGEN_HTTP_TIMEOUT sets the limit)" + _RETRIED),
        (r"redirect", "the server redirects in a loop (too many redirects)"),
        (r"end of file before message length|connection closed before message|incomplete", "the download was cut off"
         " before its end (truncated response)"),
        (r"failed to parse|failed to extract|expected value|eof while parsing|invalid type|missing field"
         r"|trailing characters|expected a borrowed string", "the response is not valid repodata JSON"),
        (r"frame descriptor|dictionary mismatch|zstd|(?<!\.tar\.)bz2|bzip|decompress|corrupt", "the response is"
         " not valid compressed repodata (a corrupt file, or a page served in its place)"),
    )
)  # fmt: skip


def _channel_of(url: str, channels: Sequence[ResolvedChannel]) -> ResolvedChannel | None:
    """The channel ``url`` (a fetch URL, maybe redacted) belongs to: the longest matching prefix."""
    found = [c for c in channels if url == c.fetch or url.startswith(c.fetch + "/")]
    return max(found, key=lambda c: len(c.fetch), default=None)


def _concerned(requests: Sequence[SolveRequest], failed: Exception) -> list[SolveRequest]:
    """The requests a failed download of some channel's noarch stops: those listing that channel
    (pkgs/msys2 is only win-*'s), or, when its host does not resolve, any channel on that host."""
    url = _first_url(str(failed))
    if url is None:
        return list(requests)
    host = urlsplit(url).hostname
    dead_host = re.search(_DNS_FAILURE, str(failed), re.IGNORECASE) is not None
    concerned = [
        r
        for r in requests
        if _channel_of(url, r.channels) or (dead_host and any(urlsplit(c.fetch).hostname == host for c in r.channels))
    ]
    return concerned or list(requests)


def _where(channel: ResolvedChannel) -> str:
    """``channel `defaults` (environment.yml:5)``."""
    return f"channel `{channel.label}`" + (f" ({channel.origin})" if channel.origin else "")


def _first_unreachable(channels: Sequence[ResolvedChannel], connect: bool) -> ResolvedChannel | None:
    """The first channel, in order, whose http(s) host name does not resolve (or, with ``connect``,
    refuses a connection): one quick check per host, no retries."""
    import socket

    checked: dict[tuple[str, int], bool] = {}
    for channel in channels:
        parts = urlsplit(channel.fetch)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        key = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        if key not in checked:
            try:
                if connect:
                    socket.create_connection(key, timeout=_PROBE_TIMEOUT_S).close()
                else:
                    socket.getaddrinfo(key[0], key[1])
                checked[key] = True
            except ConnectionRefusedError:
                checked[key] = False
            except (OSError, UnicodeError):
                checked[key] = connect  # looking for refusals, a timeout is another matter; a lookup failed
        if not checked[key]:
            return channel
    return None


def _rattler_fetch_errors() -> tuple[type[Exception], ...]:
    from rattler import exceptions as rx

    names = ("GatewayError", "FetchRepoDataError", "CacheDirError", "IoError", "InvalidChannelError", "InvalidUrlError")
    return tuple(getattr(rx, n) for n in names if isinstance(getattr(rx, n, None), type))


def _first_url(text: str) -> str | None:
    match = _URL.search(text)
    return match.group(0).rstrip(".,;:") if match else None


def _fetch_reason(text: str, timeout_s: int, retries: int) -> str:
    """What went wrong, in words, from rattler's error chain (already redacted)."""
    tries = f"{retries} {'retry' if retries == 1 else 'retries'}"
    status = _HTTP_STATUS.search(text)
    if status:
        code = int(status.group("status"))
        said = f"the server answered HTTP {code}{status.group('phrase')}"
        if code in (401, 403):
            return f"{said}: access denied, check the channel's credentials or token"
        if code >= 500 or code in (408, 429):
            return said + _RETRIED.format(retries=tries)
        return said
    for pattern, reason in _FETCH_REASONS:
        if pattern.search(text):
            return reason.format(timeout=timeout_s, retries=tries)
    return "the download failed"


def fetch_failure(
    where: str | None,
    text: str = "",
    *,
    reason: str | None = None,
    channel: ResolvedChannel | None = None,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
) -> str:
    """One line for repodata that could not be fetched: ``where`` (a URL, credentials masked; None:
    the first URL in ``text``), the channel as the user wrote it, and why in words (from rattler's
    error chain ``text``, already redacted, unless ``reason`` is given). The fix for an unreachable
    channel is the channel's :meth:`~lockgen.channels.ResolvedChannel.mirror_hint`.

    ``lock``, ``verify`` and ``explain`` all word fetch failures with this function."""
    where = where or _first_url(text) or "the channel's repodata"
    why = reason if reason is not None else _fetch_reason(text, timeout_s, retries)
    about = f" for {_where(channel)}" if channel is not None and not where.startswith(channel.label) else ""
    return f"cannot fetch {where}{about}: {why}"


def offline_miss(cache_dir: Path, listed: str, *, mirrored: bool) -> str:
    """The message for ``--offline`` when the cache lacks repodata for ``listed`` (channel/subdir names).

    The cache is kept per fetch URL, so a lock made through a mirror is found only with the same
    ``--mirror``: say so when none was given, rather than only "run without --offline"."""
    fix = "run once without --offline to fill it"
    if not mirrored:
        fix += " (or, if the locks were made through a mirror, pass the same --mirror and --cache-dir)"
    return f"offline: the cache {cache_dir} has no repodata for {listed}; {fix}"


def _mirrored(channel: ResolvedChannel) -> bool:
    """Whether ``channel`` is fetched from a --mirror replacement rather than from where it lives."""
    return strip_credentials(channel.fetch) != channel.canonical


def _serves_html(url: str, timeout_s: int) -> bool:
    """Whether ``url`` answers with an HTML page (a proxy's login page, say): one bounded request."""
    import httpx

    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=True, max_redirects=5) as client,
            client.stream("GET", url) as response,
        ):
            head = next(response.iter_bytes(512), b"")
            kind = response.headers.get("content-type", "")
    except (httpx.HTTPError, OSError, ValueError):
        return False
    return "html" in kind or head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))


_MISSING = re.compile(
    r"(?:No candidates were found for (?P<top>[^\n]+?)\.\s*$)"
    r"|(?:[└├]─ (?P<dep>[^\n]+?), for which no candidates were found)",
    re.MULTILINE,
)


def _missing_specs(text: str) -> list[str]:
    """The specs the solver found nothing for, in the order it reports them."""
    return [(m.group("top") or m.group("dep")).strip() for m in _MISSING.finditer(text)]


def _rewrite_channel_specs(request: SolveRequest) -> tuple[tuple[ResolvedChannel, ...], list[MatchSpec]]:
    """Point ``channel::name`` specs at the channel's fetch URL, adding that channel if needed."""
    from rattler import MatchSpec

    channels, texts = _spec_sources(request)
    return channels, [MatchSpec(text, strict=False) for text in texts]


def _spec_sources(request: SolveRequest) -> tuple[tuple[ResolvedChannel, ...], list[str]]:
    """The channels a request reads (spec channels added) and its specs with ``channel::`` pointing at
    the channel's fetch URL; no rattler import, so it can run before rattler loads."""
    channels = list(request.channels)
    specs = []
    for text in request.specs:
        head, sep, rest = text.partition("::")
        if sep and head:
            if "://" in head:  # a URL channel: its last segment is a subdir only when it names one
                base = spec_channel(head)
                subdir = head.rstrip("/")[len(base) :].strip("/") or None
            else:
                parts = head.split("/")
                subdir = parts[-1] if len(parts) > 1 and "-" in parts[-1] else None
                base = "/".join(parts[:-1]) if subdir else head
            bare = strip_credentials(base) if "://" in base else base
            known = next((c for c in channels if base in (c.name, c.canonical, c.fetch) or bare == c.canonical), None)
            channel = known or resolve_channel(base)
            if known is None:  # the core adds spec channels (mirrored); this is the fallback
                channels.append(channel)
            specs.append(f"{channel.fetch}{'/' + subdir if subdir else ''}::{rest}")
        else:
            specs.append(text)
    return tuple(channels), specs


def _virtual_packages(packages: Sequence[VirtualPackage]) -> list[Any]:
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    return [GenericVirtualPackage(PackageName(vp.name), Version(vp.version), BuildString(vp.build)) for vp in packages]


def _name_from_filename(file_name: str) -> str:
    stem = file_name.removesuffix(".conda").removesuffix(".tar.bz2")
    return stem.rsplit("-", 2)[0]


_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!-]*\.(?:conda|tar\.bz2)")


def _record_problem(record: RepoDataRecord, url: str, channel: ResolvedChannel | None, platform: str) -> str | None:
    """Why a solved record must not be written to a lock (its repodata lies), or None."""
    if not _FILE_NAME.fullmatch(record.file_name):
        return "its file name is not a package file name"
    if channel is None or not url.startswith(channel.canonical + "/"):
        where = urlsplit(url).netloc or url.split(":", 1)[0]
        return f"its URL points outside the channel (to {where}; repodata `base_url`?)"
    served_from, _, file_name = url[len(channel.canonical) + 1 :].rpartition("/")
    checks = (
        (file_name != record.file_name, f"its URL names another file ({file_name!r})"),
        (
            record.subdir not in (platform, "noarch") or served_from.rsplit("/", 1)[-1] != record.subdir,
            f"it claims subdir {record.subdir!r} but is listed in {served_from or 'the channel root'!r}",
        ),
        (not record.md5 or not any(record.md5), "its md5 is missing or all zeros"),
        (record.sha256 is not None and not any(record.sha256), "its sha256 is all zeros"),
    )
    return next((problem for failed, problem in checks if failed), None)


def _owning_channel(record: RepoDataRecord, channels: Sequence[ResolvedChannel]) -> ResolvedChannel | None:
    served = (record.channel or "").rstrip("/")  # rattler masks a password here: compare without credentials
    bare = strip_credentials(served)
    return next((c for c in channels if served == c.fetch or bare in (strip_credentials(c.fetch), c.canonical)), None)


def _to_locked(record: RepoDataRecord, channels: Sequence[ResolvedChannel], platform: str) -> LockedPackage:
    url = to_canonical_url(record.url, channels)
    channel = _owning_channel(record, channels)
    problem = _record_problem(record, url, channel, platform)
    if problem is not None:
        name = channel.name if channel else strip_credentials(record.channel or "?")
        raise ChannelError(
            f"channel {name}: refusing {record.file_name!r} ({record.subdir}): {problem}; the channel's"
            " repodata is wrong or was tampered with, and nothing was written"
        )
    timestamp = record.timestamp
    return LockedPackage(
        name=record.name.normalized,
        version=str(record.version),
        build=str(record.build),
        subdir=record.subdir,
        url=url,
        md5=record.md5.hex() if record.md5 else None,
        sha256=record.sha256.hex() if record.sha256 else None,
        depends=tuple(record.depends),
        constrains=tuple(record.constrains),
        build_number=record.build_number,
        timestamp_ms=int(timestamp.timestamp() * 1000) if timestamp else None,
        size=record.size,
    )
