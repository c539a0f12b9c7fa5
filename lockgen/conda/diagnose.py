"""Why a solve or a repodata fetch failed, in words a user can act on.

Two layers. The pure functions read rattler's error texts and the request (tested on recorded
error texts in tests/unit/test_conda_diagnose.py): which specs found no candidates, which names are
typos of known ones, which channel a failed URL belongs to, how several platforms' failures combine
into one message. :class:`Diagnosis` asks the Gateway the few questions those need (the channels'
package names, the versions on offer, which subdirs fail to load) and probes a dead host once.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lockgen.channels import ResolvedChannel
from lockgen.conda.explanation import NoSolution, fit_screen
from lockgen.errors import ChannelError, SolveError
from lockgen.httpclient import HttpSettings
from lockgen.models import dependency_name
from lockgen.records import dataclass
from lockgen.repodata.failures import (
    DNS_FAILURE,
    NO_DNS,
    REFUSED,
    channel_where,
    fetch_failure,
    fetch_reason,
    first_url,
    offline_miss,
)
from lockgen.secrets import SecretRegistry, strip_credentials

if TYPE_CHECKING:
    from rattler import Gateway

    from lockgen.solverequest import SolveRequest

__all__ = [
    "Diagnosis",
    "channel_of",
    "combine_failures",
    "concerned_requests",
    "missing_specs",
    "no_match_hint",
    "offline_listing",
    "typo_lines",
    "unreachable_error",
    "virtual_package_hint",
]

_PROBE_TIMEOUT_S = 3
_MISSING = re.compile(
    r"(?:No candidates were found for (?P<top>[^\n]+?)\.\s*$)"
    r"|(?:└─ (?P<dep>[^\n]+?), for which no candidates were found)",
    re.MULTILINE,
)
"""A requested spec nothing matches (a line of its own), or a dependency: always the last child
(``└─``) of the version that requires it, since a version the solver rejects for a requirement
that found nothing is rejected for that one alone (tests/data/rattler-output)."""


def missing_specs(text: str) -> list[str]:
    """The specs the solver found nothing for, in the order it reports them."""
    return [(m.group("top") or m.group("dep")).strip() for m in _MISSING.finditer(text)]


def channel_of(url: str, channels: Sequence[ResolvedChannel]) -> ResolvedChannel | None:
    """The channel ``url`` (a fetch URL, maybe redacted) belongs to: the longest matching prefix."""
    found = [c for c in channels if url == c.fetch or url.startswith(c.fetch + "/")]
    return max(found, key=lambda c: len(c.fetch), default=None)


def concerned_requests(requests: Sequence[SolveRequest], failed: str) -> list[SolveRequest]:
    """The requests a failed download of some channel's noarch stops (``failed``: its error text):
    those listing that channel (pkgs/msys2 is only win-*'s), or, when its host does not resolve,
    any channel on that host."""
    url = first_url(failed)
    if url is None:
        return list(requests)
    host = urlsplit(url).hostname
    dead_host = re.search(DNS_FAILURE, failed, re.IGNORECASE) is not None
    concerned = [
        r
        for r in requests
        if channel_of(url, r.channels) or (dead_host and any(urlsplit(c.fetch).hostname == host for c in r.channels))
    ]
    return concerned or list(requests)


def combine_failures(failures: Sequence[tuple[str, BaseException]]) -> Exception:
    """One error for every platform that failed: fetch failures grouped by message (a platform that
    only waited on another's failed download says so), else the solver's explanations, each shown
    once for the platforms it concerns; anything else (a bug) is raised as it is."""
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
        # the same explanation for several platforms is shown once; all of them on one screen
        parts = [part for _, e in unsolved if isinstance(e, NoSolution) for part in e.parts]
        text = fit_screen(parts, [(p, str(e)) for p, e in unsolved if not isinstance(e, NoSolution)])
        combined = SolveError(text, tuple(p for p, _ in unsolved))
        combined.details = "\n\n".join(e.details for _, e in unsolved if e.details)
        return combined
    where, exc = next((p, e) for p, e in failures if not isinstance(e, SolveError))
    return exc if isinstance(exc, Exception) else RuntimeError(f"{where}: {exc!r}")


def typo_lines(wanted: Iterable[tuple[str, str, str]], known: Iterable[str]) -> list[str]:
    """One line per ``(spec text, origin, name)`` whose name is not ``known``, with the closest names
    that are (``environment.yml:7: no package named `numpi`; did you mean `numpy`?``)."""
    names = set(known)
    lines = []
    for text, origin, name in wanted:
        if name in names:
            continue
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.75)
        guess = f"; did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
        where = f"{origin}: " if origin else ""
        what = f"`{name}`" if text == name else f"`{name}` (in `{text}`)"
        lines.append(f"  {where}no package named {what}{guess}")
    return lines


def selector_for(have: Sequence[str], targets: Sequence[str]) -> str | None:
    """A line selector true on exactly the ``have`` platforms among ``targets`` (``linux or win``)."""
    from lockgen.platforms import evaluate_selector

    terms: list[str] = []
    for platform in have:
        os_name, _, arch = platform.partition("-")
        same_os = [t for t in targets if t.partition("-")[0] == os_name]
        term = os_name if all(t in have for t in same_os) else f"{os_name}{arch}"
        if term not in terms:
            terms.append(term)
    selector = " or ".join(terms)
    try:
        exact = all(evaluate_selector(selector, t) == (t in have) for t in targets)
    except ValueError:
        return None
    return selector if exact and terms else None


def platform_gap_line(
    wanted: tuple[str, str, str], request: SolveRequest, have: Sequence[str], targets: Sequence[str]
) -> str:
    """A package the channels build for other target platforms but not this one (``cuda-nvcc`` on
    osx-64): say where it exists, and the two fixes (a selector, or dropping the platform)."""
    text, origin, name = wanted
    where = f"{origin}: " if origin else ""
    channels = ", ".join(dict.fromkeys(c.label for c in request.channels))
    selector = selector_for(have, targets)
    fix = f"add the selector `- {text}  # [{selector}]`, or " if selector else "add a `# [...]` selector, or "
    return (
        f"  {where}`{name}` has no {request.platform} build in {channels} (it has builds for {', '.join(have)}):"
        f" {fix}drop {request.platform} from the target platforms"
    )


def checkable_names(request: SolveRequest) -> list[tuple[str, str, str]]:
    """``(spec text, origin, name)`` of the request's specs a typo check can judge (no virtual
    packages, no wildcards)."""
    wanted = [
        (text, origin, dependency_name(text.rpartition("::")[2]))
        for text, origin in zip(request.specs, request.origins or [""] * len(request.specs), strict=True)
    ]
    return [(t, o, n) for t, o, n in wanted if not n.startswith("__") and "*" not in n]


def virtual_package_hint(spec: str, name: str, request: SolveRequest) -> str:
    """Why ``spec`` on virtual package ``name`` failed: the target lacks it or has another version."""
    offered = next((str(v) for v in request.virtual_packages if v.name == name), None)
    fix = "--cuda VERSION" if name == "__cuda" else f"--virtual-package {request.platform}:{name}=VERSION"
    if offered:
        return f"`{spec}` needs the virtual package {name}, but the target has {offered} (change it with {fix})"
    return f"`{spec}` needs the virtual package {name}, which the target lacks (add it with {fix})"


def no_match_hint(spec: str, name: str, request: SolveRequest, versions: Sequence[str], matching: bool) -> str:
    """Why nothing matched ``spec`` though the channels have ``name`` in ``versions`` (sorted, oldest
    first): another requirement excludes the builds that match (``matching``), or none matches."""
    channels = ", ".join(c.name for c in request.channels)
    if not versions:
        return f"no package named `{name}` in {channels} for {request.platform}"
    if matching:
        mine = [
            f"`{text}` ({origin})" if origin else f"`{text}`"
            for text, origin in zip(request.specs, request.origins or [""] * len(request.specs), strict=True)
            if dependency_name(text) == name
        ]
        against = f" conflicts with {', '.join(mine)}" if mine else " is excluded by another requirement"
        return f"`{spec}`{against}"
    shown = ", ".join(versions[-6:])
    if len(versions) > 6:
        shown = f"newest 6 of {len(versions)}: {shown}"
    origins = request.origins or ("",) * len(request.specs)
    where = next((o for t, o in zip(request.specs, origins, strict=True) if t == spec and o), None)
    text = f"`{spec}`: no build matches for {request.platform} in {channels} (versions there: {shown})"
    return f"{where}: {text}" if where else text


def offline_listing(failing: Sequence[str], request: SolveRequest, secrets: SecretRegistry) -> str:
    """The channels/subdirs (``failing``: ``<fetch URL>/<subdir>``) the offline cache lacks, named as
    the user wrote them: ``conda-forge (file:///m/conda-forge/noarch)``; ``channel `defaults` ...: URLs``."""
    missing: dict[str, list[str]] = {}
    for url in failing:
        channel = channel_of(url, request.channels)
        shown = secrets.redact(url)
        if channel is None or channel.written != channel.name:  # e.g. defaults: its URLs say which part
            key = channel_where(channel) if channel is not None else shown
            missing.setdefault(key, []).append(shown)
        else:
            base, _, subdir = url.rpartition("/")
            name = f"{next((c.name for c in request.channels if c.fetch == base), base)}/{subdir}"
            missing.setdefault(name if name == shown else f"{name} ({shown})", [])
    return "; ".join(f"{key}: {', '.join(urls)}" if urls else key for key, urls in missing.items())


def mirrored(channel: ResolvedChannel) -> bool:
    """Whether ``channel`` is fetched from a --mirror replacement rather than from where it lives."""
    return strip_credentials(channel.fetch) != channel.canonical


def unreachable_error(first: ResolvedChannel, reason: str, secrets: SecretRegistry) -> ChannelError:
    """``cannot reach https://host for channel `x` (file:line): <reason>`` and the --mirror fix."""
    parts = urlsplit(first.fetch)
    port = f":{parts.port}" if parts.port else ""
    hint = secrets.redact(first.mirror_hint())
    return ChannelError(
        f"cannot reach {parts.scheme}://{parts.hostname}{port} for {channel_where(first)}: {reason}\n  hint: {hint}"
    )


def first_unreachable(channels: Sequence[ResolvedChannel], connect: bool) -> ResolvedChannel | None:
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


def serves_html(url: str, http: HttpSettings) -> bool:
    """Whether ``url`` answers with an HTML page (a proxy's login page, say): one bounded request."""
    import httpx

    from lockgen.httpclient import make_client

    try:
        with make_client(http) as client, client.stream("GET", url) as response:
            head = next(response.iter_bytes(512), b"")
            kind = response.headers.get("content-type", "")
    except (httpx.HTTPError, OSError, ValueError):
        return False
    return "html" in kind or head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))


def rattler_fetch_errors() -> tuple[type[Exception], ...]:
    from rattler import exceptions as rx

    names = ("GatewayError", "FetchRepoDataError", "CacheDirError", "IoError", "InvalidChannelError", "InvalidUrlError")
    return tuple(getattr(rx, n) for n in names if isinstance(getattr(rx, n, None), type))


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Turns an exception from one platform's solve into a :class:`SolveError` or :class:`ChannelError`
    with a message and a fix, asking ``gateway`` what the pure functions above need."""

    gateway: Gateway
    secrets: SecretRegistry
    cache_dir: Path
    offline: bool
    timeout_s: int
    retries: int
    targets: tuple[str, ...] = ()
    """Every platform of the run: a package missing on one of them may exist on the others."""
    http: HttpSettings | None = None
    """How to probe a failing URL (:func:`serves_html`); None: with ``timeout_s`` and nothing else."""

    async def translate(
        self, exc: Exception, request: SolveRequest, sources: list[str], platforms: list[Any]
    ) -> Exception:
        from rattler.exceptions import SolverError

        text = self.secrets.redact(str(exc).strip())
        if isinstance(exc, SolverError):
            empty = await self._empty_subdirs(request)
            explained = await self._explain(text, request, sources, platforms, [e.strip() for e in empty])
            if empty and not isinstance(explained, NoSolution):  # amend in place: keeps what _explain attached
                explained.message = "\n".join([explained.message, *empty])
                explained.args = (explained.message,)
            return explained
        if not isinstance(exc, (*rattler_fetch_errors(), OSError)):
            return exc  # not a fetch problem: a bug, shown as an internal error
        if self.offline:
            return await self._offline_error(request, text)
        return await self._fetch_error(exc, text, request, sources)

    async def _fetch_error(self, exc: Exception, text: str, request: SolveRequest, sources: list[str]) -> Exception:
        import asyncio

        url = first_url(str(exc))
        if url is None:  # e.g. a JSON error: find the subdir that fails
            url = next((f"{u}/repodata.json" for u in await self.failing_subdirs(request)), None)
        reason = fetch_reason(text, self.timeout_s, self.retries)
        http = self.http or HttpSettings(self.timeout_s)
        if "not valid" in reason and url and await asyncio.to_thread(serves_html, url, http):
            reason = "the server sent an HTML page (a login or proxy page?) instead of repodata"
        channel = channel_of(url, request.channels) if url else None
        if reason.startswith((NO_DNS, REFUSED)):
            # which of several channels on dead hosts fails first is a race: name the first in order
            first = await asyncio.to_thread(first_unreachable, request.channels, reason.startswith(REFUSED))
            if first is not None:
                return unreachable_error(first, reason, self.secrets)
        shown = self.secrets.redact(url) if url else ", ".join(self.secrets.redact(s) for s in sources)
        detail = " / ".join(line.strip() for line in text.splitlines() if line.strip())
        headline = fetch_failure(shown, reason=reason, channel=channel)
        hint = f"\n  hint: {self.secrets.redact(channel.mirror_hint())}" if channel is not None else ""
        return ChannelError(f"{headline}{hint}\n  (rattler: {detail})")

    async def _offline_error(self, request: SolveRequest, text: str) -> ChannelError:
        """Name every channel/subdir whose repodata the cache lacks."""
        listed = offline_listing(await self.failing_subdirs(request), request, self.secrets) or f"? ({text})"
        return ChannelError(offline_miss(self.cache_dir, listed, mirrored=any(mirrored(c) for c in request.channels)))

    async def failing_subdirs(self, request: SolveRequest) -> list[str]:
        """The fetch URLs (``<channel>/<subdir>``) of the request whose repodata cannot be loaded."""
        failing = []
        for channel in request.channels:
            for subdir in (request.platform, "noarch"):
                try:
                    await self.gateway.names([channel.fetch], [subdir])  # type: ignore[list-item]
                except Exception:
                    failing.append(f"{channel.fetch}/{subdir}")
        return failing

    async def _empty_subdirs(self, request: SolveRequest) -> list[str]:
        """Notes for channels that serve nothing for the target platform (a 404 counts as empty)."""
        notes = []
        for channel in request.channels:
            try:
                names = await self.gateway.names([channel.fetch], [request.platform])  # type: ignore[list-item]
            except Exception:  # that failure has its own message; this is only a hint
                names = None
            if names is not None and not names:
                where = self.secrets.redact(f"{channel.fetch}/{request.platform}/repodata.json")
                try:  # a noarch-only channel is usual (it serves every platform): say so, not "empty"
                    noarch = bool(await self.gateway.names([channel.fetch], ["noarch"]))
                except Exception:
                    noarch = False
                what = "only noarch packages" if noarch else "no packages"
                notes.append(f"  note: {channel.name} has {what} for {request.platform}: {where} is missing or empty")
        return notes

    async def _explain(
        self, text: str, request: SolveRequest, sources: list[str], platforms: list[Any], notes: Sequence[str] = ()
    ) -> SolveError:
        unknown = await self._unknown_names(request, sources, platforms)
        if unknown:  # typos first, all at once: the solver would name only one of them per run
            channels = ", ".join(dict.fromkeys(c.label for c in request.channels))
            plural = "s" if len(unknown) > 1 else ""
            if any("no package named" in u for u in unknown):
                lines = [f"{request.platform}: unknown package name{plural} (not in {channels}):", *unknown]
            else:
                lines = [f"{request.platform}: package{plural} not built for {request.platform}:", *unknown]
            return SolveError("\n".join(lines), (request.platform,))
        hints: list[str] = []
        seen: set[str] = set()
        for spec in missing_specs(text):
            name = spec.split()[0].split("[")[0]
            if name in seen:
                continue
            seen.add(name)
            hint = await self._hint(name, spec, request, (sources, platforms))
            if hint:
                hints.append(hint)
        body = text.removeprefix("Cannot solve the request because of: ")
        return NoSolution(request.platform, [*hints, *notes], body)

    async def _unknown_names(self, request: SolveRequest, sources: list[str], platforms: list[Any]) -> list[str]:
        """One line per spec whose package name no channel has (one ``names()`` call: the channels'
        package names, no records); a name the run's other target platforms have is said to be
        missing for this platform only (:func:`platform_gap_line`)."""
        wanted = checkable_names(request)
        if not wanted:
            return []
        try:
            known = {name.normalized for name in await self.gateway.names(sources, platforms)}
        except Exception:  # the failure at hand has its own message; this only sharpens it
            return []
        unknown = [w for w in wanted if w[2] not in known]
        elsewhere: dict[str, list[str]] = {}
        for other in (t for t in self.targets if t != request.platform) if unknown else ():
            there: set[str] = set()
            with contextlib.suppress(Exception):  # that platform's own solve reports its failures
                there = {name.normalized for name in await self.gateway.names(sources, [other])}  # type: ignore[list-item]
            for _, _, name in unknown:
                if name in there:
                    elsewhere.setdefault(name, []).append(other)
        gaps = [platform_gap_line(w, request, elsewhere[w[2]], self.targets) for w in unknown if w[2] in elsewhere]
        return [*typo_lines([w for w in unknown if w[2] not in elsewhere], known), *gaps]

    async def _hint(
        self, name: str, spec: str, request: SolveRequest, where: tuple[list[str], list[Any]]
    ) -> str | None:
        """One line saying why nothing matched ``spec``: unknown name, virtual package, or versions on offer."""
        if name.startswith("__"):
            return virtual_package_hint(spec, name, request)
        try:
            result = await self.gateway.query(where[0], where[1], [name], recursive=False)
        except Exception:
            return None
        records = [r for group in result for r in group]
        from rattler import MatchSpec, Version

        try:
            wanted = MatchSpec(spec, strict=False)
            matching = any(r.matches(wanted) for r in records)
        except Exception:
            matching = False
        versions = sorted({str(r.version) for r in records}, key=Version)
        return no_match_hint(spec, name, request, versions, matching)
