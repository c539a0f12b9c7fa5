"""Solve each target platform with py-rattler (Gateway + resolvo), platforms concurrently.

How many platforms run at once is :mod:`lockgen.scheduling`'s call: all of them, unless the flat
repodata they would map together is too large for memory.

This module is the only place that talks to rattler's solver; it takes and returns lockgen's own
dataclasses so the rest of the code does not follow rattler's API churn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lockgen.channels import (
    ResolvedChannel,
    defaults_channel_for,
    split_channel_spec,
    with_spec_channels,
)
from lockgen.conda.locked import owning_channel, to_locked
from lockgen.config import (
    DEFAULT_HTTP_RETRIES,
    DEFAULT_HTTP_TIMEOUT_S,
    DEFAULT_REPODATA_MAX_MB,
    DEFAULT_REPODATA_MEMORY_MB,
)
from lockgen.errors import ChannelError, SolveError
from lockgen.httpclient import HttpSettings
from lockgen.models import LockedPackage, PackageUrl, dependency_name, sort_dependency_order
from lockgen.platforms import VirtualPackage
from lockgen.progress import RepodataNotReleased, Solved, Solving, SolvingInTurns
from lockgen.repodata.gateway import collect_from_here, done_with, import_asyncio, make_gateway
from lockgen.reporting import NullReporter, Reporter
from lockgen.secrets import SecretRegistry
from lockgen.solverequest import SolveRequest

if TYPE_CHECKING:
    from concurrent.futures import Future

    from rattler import Gateway, MatchSpec, RepoDataRecord

    from lockgen.conda.diagnose import Diagnosis

__all__ = ["CondaSolver", "PinnedOffers", "RattlerSolver", "several_environments"]


class PinnedOffers:
    """What the channels offer now for the files a solve was asked to keep (``lock --from`` explains
    each moved pin with it): those files' records as the channels describe them today (patched
    metadata included), and for each pinned name the channels offering it, in priority order.

    A solve fills it with ``compute``, which runs on first use only: most solves that keep earlier
    files never need a reason for a moved pin, and converting every pinned record costs about as
    much as converting the solution (docs/performance.md)."""

    __slots__ = ("_channels", "_compute", "_records")

    def __init__(
        self,
        records: tuple[LockedPackage, ...] = (),
        channels: tuple[tuple[str, tuple[str, ...]], ...] = (),
        *,
        compute: Callable[[], tuple[tuple[LockedPackage, ...], tuple[tuple[str, tuple[str, ...]], ...]]] | None = None,
    ) -> None:
        self._records, self._channels, self._compute = records, channels, compute

    def _resolve(self) -> None:
        if self._compute is not None:
            self._records, self._channels = self._compute()
            self._compute = None

    @property
    def records(self) -> tuple[LockedPackage, ...]:
        self._resolve()
        return self._records

    @property
    def channels(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        self._resolve()
        return self._channels


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
        timeout_s: int = DEFAULT_HTTP_TIMEOUT_S,
        retries: int = DEFAULT_HTTP_RETRIES,
        jobs: int | None = None,
        repodata_budget: int = DEFAULT_REPODATA_MEMORY_MB * 2**20,
        repodata_max_bytes: int = DEFAULT_REPODATA_MAX_MB * 2**20,
        on_solved: Callable[[str, tuple[LockedPackage, ...]], None] | None = None,
        http: HttpSettings | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.on_solved = on_solved
        """Told each platform's solution as soon as it is known (the pip stage starts that platform's
        uv then); called on the solve's event loop, so it must return quickly."""
        self.offers: dict[str, PinnedOffers] = {}
        self.solved: dict[str, tuple[LockedPackage, ...]] = {}
        """Per platform solved with preferred files: what the channels offer for them (see PinnedOffers)."""
        self.secrets = secrets or SecretRegistry()
        self.reporter = reporter or NullReporter()
        self.offline = offline
        self.timeout_s = timeout_s
        self.retries = retries
        self.jobs = jobs
        """At most this many platforms at once; None: as many as memory allows (see lockgen.scheduling)."""
        self.repodata_budget = repodata_budget
        """Bytes of flat repodata mapped at once when ``jobs`` is None (LockOptions.limits)."""
        self.repodata_max_bytes = repodata_max_bytes
        """Largest a subdir's flat repodata may expand to (lockgen.repodata.limit)."""
        self.http = http or HttpSettings(timeout_s)
        """lockgen's own requests (the size check, probing a failing URL): :mod:`lockgen.httpclient`."""
        self._gateway: Gateway | None = None
        """Kept across calls: a second call (several environments) loads no repodata the first one loaded."""

    def solve(self, requests: Sequence[SolveRequest]) -> dict[str, tuple[LockedPackage, ...]]:
        import_asyncio()  # before any thread starts (the size check's), without ssl in the console script
        import asyncio  # not at import time: `check` and a no-op `lock` import this module and never solve

        if several_environments(requests):
            _fewer_malloc_arenas()
        todo = {} if self.offline else self._unchecked_subdirs(requests)
        if not todo:  # every subdir cached (a warm lock): no size check, so no thread for it
            return asyncio.run(self._solve_all(requests))
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:  # the size check overlaps loading rattler
            check = pool.submit(self._check_repodata_sizes, todo)
            return asyncio.run(self._solve_all(requests, check))

    async def _solve_all(
        self, requests: Sequence[SolveRequest], size_check: Future[None] | None = None
    ) -> dict[str, tuple[LockedPackage, ...]]:
        import asyncio

        from lockgen.scheduling import plan_schedule, run_scheduled

        if self._gateway is None:
            self._gateway = make_gateway(
                self.cache_dir, offline=self.offline, timeout_s=self.timeout_s, retries=self.retries
            )
        collect_from_here()  # rattler and asyncio imported: the console script's collector on again
        gateway = self._gateway
        targets = [(r.platform, [c.fetch for c in _spec_sources(r)[0]]) for r in requests]
        if size_check is not None:  # nothing is fetched before it passes
            await asyncio.wrap_future(size_check)
        if self.jobs is None and len(requests) > 1:
            failed = await self._learn_formats(gateway, [c for _, cs in targets for c in cs])
            # A noarch every solve needs failed: report it now rather than fetch it again. When it
            # concerns only some platforms (msys2 is win-*'s), the others are solved and report
            # their own outcome: one failed URL says nothing about their channels.
            if failed is not None:
                from lockgen.conda.diagnose import combine_failures, concerned_requests

                concerned = concerned_requests(requests, str(failed))
                if len(concerned) == len(requests):
                    translated = [
                        (r.key, await self._diagnosis(gateway).translate(failed, r, sources, [r.platform, "noarch"]))
                        for r, (_, sources) in zip(requests, targets, strict=True)
                        if r in concerned
                    ]
                    raise self._kept(combine_failures(translated))
        schedule = plan_schedule(targets, self.jobs, self.cache_dir, self.repodata_budget)
        every = tuple(dict.fromkeys(r.platform for r in requests))  # several environments: each platform once
        if self.jobs is None and len(every) < len(requests):
            # Several environments share each platform's repodata, but every solve at once would hold a
            # solver's pool each: as many at once as one environment runs (docs/performance.md).
            width = f"{len(every)} at once, as one environment (--jobs N changes this)"
            schedule = replace(schedule, most=len(every), reason=f"{schedule.reason}; {len(requests)} solves, {width}")
        if not schedule.concurrent and len(requests) > 1:
            self.reporter.report(SolvingInTurns(schedule.reason))

        remaining = {platform: sum(1 for p, _ in targets if p == platform) for platform, _ in targets}

        def release(index: int) -> None:
            platform, channels = targets[index]
            remaining[platform] -= 1
            if remaining[platform] > 0:  # another request (environment) of this platform reads it next
                return
            subdirs: list[Any] = [platform]  # rattler types subdirs as a Literal of known names
            for channel in channels:
                try:
                    gateway.clear_repodata_cache(channel, subdirs)
                except Exception as exc:  # only memory is at stake: never fail a lock over it
                    self.reporter.report(RepodataNotReleased(platform, self.secrets.redact(str(exc))))

        def job(request: SolveRequest) -> Callable[[], Awaitable[tuple[LockedPackage, ...]]]:
            return lambda: self._solve_one(gateway, request, every)

        results = await run_scheduled(schedule, [job(r) for r in requests], release)
        done_with(gateway)  # freed here, or kept until the CLI's os._exit skips that cost
        if not self.offline:
            from lockgen.repodata.limit import refuse_oversized_cache

            refuse_oversized_cache(self.cache_dir, self._subdirs(requests), self.repodata_max_bytes)
        solved: dict[str, tuple[LockedPackage, ...]] = {}
        failures: list[tuple[str, BaseException]] = []
        for request, result in zip(requests, results, strict=True):
            if isinstance(result, BaseException):
                failures.append((request.key, result))
            else:
                solved[request.key] = result
        self.solved = solved  # when some platform failed: what the others' solves found
        if failures:  # the diagnosis module loads only when something failed
            from lockgen.conda.diagnose import combine_failures

            raise self._kept(combine_failures(failures))
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

    def _unchecked_subdirs(self, requests: Sequence[SolveRequest]) -> dict[str, str]:
        """The subdirs the requests read that rattler has not cached (fetch URL → name shown): only
        those get the size check. A few file names and headers in the cache folder, read before
        any thread starts (docs/performance.md, "Round 7: the warm sharded lock")."""
        from lockgen.repodata.limit import subdirs_to_check

        return subdirs_to_check(self.cache_dir, self._subdirs(requests))

    def _check_repodata_sizes(self, todo: Mapping[str, str]) -> None:
        """Refuse a never-fetched subdir of ``todo`` whose compressed repodata would expand past the
        limit (:mod:`lockgen.repodata.limit`), before rattler expands it into the cache."""
        from lockgen.repodata.limit import check_served_repodata

        subdirs = [(shown, url) for url, shown in todo.items()]
        check_served_repodata(subdirs, self.http, self.repodata_max_bytes)

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

    def _kept(self, error: Exception) -> Exception:
        """A solve error whose message shows a shortened explanation names the file that holds the
        whole one (under the cache folder: never in the project tree)."""
        details = getattr(error, "details", "")
        if not isinstance(error, SolveError) or len(details.splitlines()) <= len(error.message.splitlines()):
            return error
        from lockgen.conda.explanation import keep_explanation

        path = keep_explanation(self.secrets.redact(details), self.cache_dir)
        lines = len(details.splitlines())
        where = f"in {path} (`-v` prints it)" if path else "printed with `-v`"
        error.message += f"\nthe solver's whole explanation ({lines} lines) is {where}"
        error.args = (error.message,)
        return error

    def _diagnosis(self, gateway: Gateway, targets: tuple[str, ...] = ()) -> Diagnosis:
        from lockgen.conda.diagnose import Diagnosis

        return Diagnosis(
            gateway, self.secrets, self.cache_dir, self.offline, self.timeout_s, self.retries, targets, self.http
        )

    async def _solve_one(
        self, gateway: Gateway, request: SolveRequest, targets: tuple[str, ...] = ()
    ) -> tuple[LockedPackage, ...]:
        from rattler import ChannelPriority, MatchSpec, solve

        channels, specs = _rewrite_channel_specs(request)
        sources = [c.fetch for c in channels]
        platforms: list[Any] = [request.platform, "noarch"]
        self.reporter.report(Solving(request.key, len(specs)))
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
                constraints=[MatchSpec(c, strict=False) for c in request.constraints] or None,
            )
        except Exception as exc:
            raise await self._diagnosis(gateway, targets).translate(exc, request, sources, platforms) from exc
        owners: dict[str | None, ResolvedChannel | None] = {}  # a few distinct channel strings: look each up once
        packages = [to_locked(r, channels, request.platform, owners) for r in records]
        self.reporter.report(Solved(request.key, len(packages)))
        solution = tuple(sort_dependency_order(packages))
        if self.on_solved is not None:
            self.on_solved(request.key, solution)
        return solution

    async def _preferred_records(
        self, gateway: Gateway, request: SolveRequest, sources: list[str], platforms: list[Any]
    ) -> list[RepoDataRecord]:
        if not request.preferred:
            return []
        preferred = [PackageUrl.parse(url) for url in request.preferred]
        wanted = {p.filename for p in preferred}
        names = sorted({p.name for p in preferred})
        result = await gateway.query(sources, platforms, names, recursive=False)
        found = []
        for records in result:
            for record in records:
                if record.file_name in wanted:
                    found.append(record)
        every = [r for records in result for r in records]
        self.offers[request.platform] = PinnedOffers(compute=lambda: _offers(request, every, found))
        return found


def several_environments(requests: Sequence[SolveRequest]) -> bool:
    """Whether ``requests`` solve some platform more than once (several environments in one run):
    then the solves' threads share two glibc heaps (:func:`_fewer_malloc_arenas`).

    One environment is left with glibc's default: the shared heaps saved it 5-10 MB of peak memory
    but cost ~100 ms of CPU on the dl environment's warm lock (0.80 against 0.69 s), the threads
    waiting on each other's heap locks; with ten environments the memory saved was 60-70 MB and the
    CPU within noise (docs/performance.md, "Round 6")."""
    return len(requests) > len({r.platform for r in requests})


_M_ARENA_MAX = -8
"""glibc's mallopt() parameter for the most heaps ("arenas") threads allocate from."""


def _fewer_malloc_arenas() -> None:
    """Let the threads that solve share two glibc heaps instead of up to 8 per core.

    glibc gives a thread that allocates while another holds the heap a heap of its own, and keeps
    what was freed there for that heap's next use. rattler solves on its own threads, so locking
    several environments (30 solves) kept each thread's high-water mark: 10 environments peaked
    around 235 MB where one peaks at 150 MB; with two heaps, 155-170 MB (docs/performance.md). Only
    memory is at stake, so nothing fails over it; ``MALLOC_ARENA_MAX`` set by the user wins, and
    other C libraries (macOS, Windows, musl) are left alone."""
    import ctypes
    import os
    import sys

    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_ARENA_MAX, 2)


def _offers(
    request: SolveRequest, every: Sequence[RepoDataRecord], found: Sequence[RepoDataRecord]
) -> tuple[tuple[LockedPackage, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """The records of ``found`` as lockgen's packages, and each pinned name's channels in priority order."""
    channels = _spec_sources(request)[0]
    by_name: dict[str, set[str]] = {}
    owners: dict[str | None, ResolvedChannel | None] = {}  # a few distinct channel strings: look each up once
    for record in every:
        served = record.channel
        if served not in owners:
            owners[served] = owning_channel(record, channels)
        owner = owners[served]
        if owner is not None:
            by_name.setdefault(record.name.normalized, set()).add(owner.canonical)
    order = {c.canonical: i for i, c in enumerate(channels)}
    records = []
    for record in found:
        try:
            records.append(to_locked(record, channels, request.platform))
        except ChannelError:  # a record that lies is refused by the solve itself if chosen
            continue
    return (
        tuple(records),
        tuple(
            (name, tuple(sorted(cs, key=lambda c: order.get(c, len(order))))) for name, cs in sorted(by_name.items())
        ),
    )


def _rewrite_channel_specs(request: SolveRequest) -> tuple[tuple[ResolvedChannel, ...], list[MatchSpec]]:
    """Point ``channel::name`` specs at the channel's fetch URL, adding that channel if needed."""
    from rattler import MatchSpec

    channels, texts = _spec_sources(request)
    return channels, [MatchSpec(text, strict=False) for text in texts]


def _spec_sources(request: SolveRequest) -> tuple[tuple[ResolvedChannel, ...], list[str]]:
    """The channels a request reads (spec channels added, as the plan adds them) and its specs with
    ``channel::`` pointing at the channel's fetch URL; no rattler import, so it can run before
    rattler loads."""
    parsed = [split_channel_spec(text) for text in request.specs]
    channels, found = with_spec_channels(request.channels, [c for c, _, _ in parsed if c], platform=request.platform)

    def fetch(channel: str, rest: str) -> str:
        if channel == "defaults":  # a spec names one channel: the one of defaults' that holds such packages
            wanted = defaults_channel_for(dependency_name(rest), request.platform)
            return next((c.fetch for c in channels if c.canonical == wanted), found[channel].fetch)
        return found[channel].fetch

    specs = [
        f"{fetch(channel, rest)}{'/' + subdir if subdir else ''}::{rest}" if channel else text
        for (channel, subdir, rest), text in zip(parsed, request.specs, strict=True)
    ]
    return channels, specs


def _virtual_packages(packages: Sequence[VirtualPackage]) -> list[Any]:
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    return [GenericVirtualPackage(PackageName(vp.name), Version(vp.version), BuildString(vp.build)) for vp in packages]
