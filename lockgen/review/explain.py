"""``lockgen explain NAME``: why a package is in a platform's lock, and what constrains its version.

A lock holds URLs only, so the dependency data of its records is read again from the channels'
repodata through rattler's Gateway: from the cache alone with ``offline`` (the same cache and
mirrors as ``lock``), else from the cache or the channel. Records are matched by subdir and file
name, so the explanation is of exactly the files in the lock.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from lockgen.channels import Mirror
from lockgen.config import LockOptions
from lockgen.errors import ChannelError, ConfigError
from lockgen.lockfiles import ExplicitEntry, ExplicitLock
from lockgen.lockfiles.lockdir import LINKED_FILE, REQUIREMENTS_NAME, UNHASHED_NAME, LockProblem, read_lock_file
from lockgen.lockfiles.requirements import VIA_PIP_SECTION, parse_requirements_lock
from lockgen.lockfiles.unhashed import read_unhashed
from lockgen.models import PackageUrl, dependency_name
from lockgen.plan import LockPlan, plan
from lockgen.records import dataclass
from lockgen.repodata.failures import fetch_failure, first_url, offline_miss
from lockgen.repodata.gateway import make_gateway
from lockgen.repodata.lookup import ChannelLookup
from lockgen.reporting import Reporter

__all__ = [
    "Constraint",
    "DependencySource",
    "ExplainError",
    "Explanation",
    "MissingRepodataError",
    "PipExplanation",
    "PipPinUse",
    "Record",
    "RepodataSource",
    "Step",
    "explain",
    "explain_records",
    "refuse_unasked_channels",
    "review_mirrors",
]

MAX_CHAINS = 20


class ExplainError(ConfigError):
    """NAME is not in the lock, or the lock is missing or malformed (exit 2)."""


class MissingRepodataError(ChannelError):
    """The repodata for some locked files is not available (not cached, with --offline) (exit 5)."""


@dataclass(frozen=True, slots=True)
class Record:
    """The part of a repodata record that explain needs."""

    name: str
    version: str
    build: str
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name} {self.version} ({self.build})"


@dataclass(frozen=True, slots=True)
class Step:
    """One link of a chain: ``record`` is there because of ``requirement`` (a user spec or a dependency)."""

    record: Record
    requirement: str
    origin: str = ""
    """``environment.yml:4`` for the user's spec at the start of a chain; empty below it."""


@dataclass(frozen=True, slots=True)
class Constraint:
    """A requirement on NAME's version: the user's spec, a dependency of a locked package, or a constrains entry."""

    spec: str
    source: str
    """``environment.yml:4`` or the label of the locked package that declares it."""
    kind: str
    """``spec``, ``depends`` or ``constrains``."""


@dataclass(frozen=True, slots=True)
class Explanation:
    platform: str
    lock_file: Path
    target: Record
    chains: tuple[tuple[Step, ...], ...]
    """Shortest paths from each user spec that leads to NAME, root first, NAME last."""
    constraints: tuple[Constraint, ...]


@dataclass(frozen=True, slots=True)
class PipPinUse:
    """One pinned line of NAME in the pip lock."""

    version: str
    """``4.44.0``, or the URL of a VCS package (``git+https://...@<commit>``)."""
    platforms: tuple[str, ...]
    via: tuple[str, ...]
    """Who requires it (uv's ``# via``): distribution names; ``pip:`` when the pip: section lists it."""
    file: str
    local: str | None = None
    """A local project's line in requirements-unhashed.txt (``-e ./localproj``); None for a pin or a VCS URL."""
    project: str = ""
    """A local project's name (its static ``[project] name``, else its folder's)."""


@dataclass(frozen=True, slots=True)
class PipExplanation:
    """NAME is a pip package: its pins in requirements.txt (or requirements-unhashed.txt) and who requires it."""

    name: str
    lock_dir: Path
    uses: tuple[PipPinUse, ...]
    requested: tuple[str, ...]
    """``environment.yml:12`` of each pip: line that names it."""


class DependencySource(Protocol):
    def records(self, platform: str, entries: Sequence[ExplicitEntry]) -> dict[str, Record]:
        """The record of every entry, by package name. Raises MissingRepodataError naming what is missing."""


def explain(
    options: LockOptions,
    name: str,
    platform: str | None = None,
    source: DependencySource | None = None,
    reporter: Reporter | None = None,
) -> Explanation | PipExplanation:
    """Explain ``name`` in ``platform``'s lock (default: this machine's platform, else the first locked target)."""
    if platform is not None:
        options = replace(options, platforms=(platform,))
    options = replace(options, mirrors=review_mirrors(options)[0])
    the_plan = plan(options, reporter)
    targets = [p.platform for p in the_plan.platforms]
    chosen = platform or _default_platform(targets, [t for t in targets if _lock_path(options, t).is_file()])
    path = _lock_path(options, chosen)
    lock = _read_lock(path)
    wanted = name.strip().lower()
    if wanted not in lock.by_name():
        pip = explain_pip(options, the_plan, wanted)
        if pip is not None:
            return pip
        raise ExplainError(f"{wanted} is not in {path} ({len(lock.entries)} packages); see `lockgen diff` or the lock")
    _refuse_unasked_reads(options, the_plan, chosen, path, lock)
    source = source or RepodataSource(the_plan, options)
    records = source.records(chosen, lock.entries)
    specs = [(d.spec, str(d.location)) for d in the_plan.spec.conda_dependencies(chosen)]
    chains, constraints = explain_records(records, specs, wanted)
    return Explanation(chosen, path, records[wanted], chains, constraints)


def review_mirrors(options: LockOptions) -> tuple[tuple[Mirror, ...], tuple[Mirror, ...]]:
    """(the mirrors explain reads through, the ``[tool.lockgen] mirrors`` it leaves out). The command
    line's are all taken; of pyproject.toml's (which a pull request can edit) only folders inside the
    project's tree, which the PR could commit anyway: never a URL or a folder elsewhere."""
    from lockgen.project import project_mirrors, project_roots

    if "mirrors" not in options.from_config or not options.files:
        return options.mirrors, ()
    inside = {mirror for mirror, _ in project_mirrors(options.mirrors, project_roots(options.files[0]))}
    return tuple(m for m in options.mirrors if m in inside), tuple(m for m in options.mirrors if m not in inside)


def _refuse_unasked_reads(
    options: LockOptions, the_plan: LockPlan, platform: str, path: Path, lock: ExplicitLock
) -> None:
    """Before anything is fetched: ExplainError for a lock line whose channel the environment does not
    list (the lock is stale, or was edited), ConfigError for a channel explain may not read on its own
    (:func:`~lockgen.channels.unasked_channels`; the environment file can name any host)."""
    from lockgen.secrets import strip_credentials

    planned = next(p for p in the_plan.platforms if p.platform == platform).request.channels
    listed = {c.canonical for c in planned}
    stray = [e for e in lock.entries if strip_credentials(e.package.channel) not in listed]
    if stray:
        first = stray[0]
        more = f" (and {len(stray) - 1} more lines)" if len(stray) > 1 else ""
        raise ExplainError(
            f"{path}:{first.line}: {first.name} comes from {strip_credentials(first.package.channel)}, which is"
            f" not a channel of {', '.join(the_plan.source_names)}{more}: the lock is stale or was edited;"
            " nothing was fetched. Run `lockgen check`, and `lockgen lock` to re-lock"
        )
    refuse_unasked_channels(options, the_plan)


def refuse_unasked_channels(options: LockOptions, the_plan: LockPlan, command: str = "explain") -> None:
    """ConfigError for a channel of ``the_plan`` that a read-only command may not read on its own
    (:func:`~lockgen.channels.unasked_channels`; the environment file can name any host)."""
    from lockgen.channels import PUBLIC_CHANNEL_HOSTS, unasked_channels
    from lockgen.project import project_roots

    roots = project_roots(options.files[0]) if options.files else ()
    channels = [c.canonical for p in the_plan.platforms for c in p.request.channels]
    refused = unasked_channels(channels, options.mirrors, roots)
    if refused:
        raise ConfigError(
            f"{command} reads a channel only from {', '.join(sorted(PUBLIC_CHANNEL_HOSTS))} (https), a folder inside"
            " the project, or where a --mirror on its own command line sends it (the environment file, like"
            f" anything a pull request commits, can name any host); not read: {', '.join(refused)}. If you trust"
            " it, pass `--mirror CHANNEL=WHERE` (`--mirror CHANNEL=CHANNEL` reads it where it is)"
        )


def explain_pip(options: LockOptions, the_plan: LockPlan, name: str) -> PipExplanation | None:
    """NAME's pins in the pip lock files, on which platforms, required by whom (None: not a pip package)."""
    from packaging.markers import InvalidMarker, Marker
    from packaging.utils import canonicalize_name

    from lockgen.errors import InputError
    from lockgen.platforms import marker_terms
    from lockgen.pypi.requirements import parse_pip_entries

    wanted = canonicalize_name(name)
    folder = options.output_dir
    text = _read_pip_lock(folder / REQUIREMENTS_NAME)
    if text is None:
        return None
    lock = parse_requirements_lock(text)
    platforms = lock.platforms or ()

    def where(marker: str | None) -> tuple[str, ...]:
        if marker is None:
            return platforms
        try:
            parsed = Marker(marker)
        except InvalidMarker:
            return ()
        return tuple(p for p in platforms if (env := marker_terms(p)) and parsed.evaluate(env))

    uses = [
        PipPinUse(pin.version or pin.url or "", where(pin.marker), pin.via, REQUIREMENTS_NAME)
        for pin in lock.pins()
        if pin.name == wanted
    ]
    unhashed_text = _read_pip_lock(folder / UNHASHED_NAME)
    unhashed = read_unhashed(unhashed_text) if unhashed_text is not None else None
    local_folders: list[Path] = []
    for line in unhashed.lines if unhashed else ():
        if line.name and canonicalize_name(line.name) == wanted and line.url:
            uses.append(PipPinUse(line.url, where(line.marker), (VIA_PIP_SECTION,), UNHASHED_NAME))
        elif line.path is not None and (local := _local_project(options, line.path, wanted)) is not None:
            project, local_folder = local
            uses.append(PipPinUse("", where(line.marker), (VIA_PIP_SECTION,), UNHASHED_NAME, line.text, project))
            local_folders.append(local_folder)
    if not uses:
        return None
    requested: list[str] = []
    for target in the_plan.platforms:
        try:
            parsed = parse_pip_entries(the_plan.spec.pip_entries(target.platform), options.allow_includes)
        except InputError:
            continue
        named = [loc for n, loc in parsed.names if n == wanted]
        named += [d.where for d in parsed.direct if d.path is not None and d.path in local_folders]
        requested += [str(loc) for loc in named if str(loc) not in requested]
    return PipExplanation(wanted, folder, tuple(uses), tuple(requested))


def _local_project(options: LockOptions, path: str, wanted: str) -> tuple[str, Path] | None:
    """(its name, its folder) for a local project's line that is NAME (its static ``[project] name``, or its
    folder's name), else None. The path is relative to the environment file's folder (as lock writes
    it) and read only inside that folder: the line comes from a lock a pull request can edit."""
    from packaging.utils import canonicalize_name

    from lockgen.lockfiles.requirements import project_name
    from lockgen.project import env_folder

    if not options.files:
        return None
    home = env_folder(options.files[0]).resolve()
    folder = (home / path).resolve()
    if folder != home and home not in folder.parents:
        return None
    static = project_name(folder)
    names = {canonicalize_name(folder.name), *([canonicalize_name(static)] if static else [])}
    return (canonicalize_name(static or folder.name), folder) if wanted in names else None


def _read_pip_lock(path: Path) -> str | None:
    """A pip lock's text (None: absent or unreadable); ExplainError for a symbolic link, which check and
    diff refuse too: a committed link can point anywhere, and what it shows is not the project's lock."""
    if path.is_symlink():
        raise ExplainError(f"{path} {LINKED_FILE}")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _read_lock(path: Path) -> ExplicitLock:
    read = read_lock_file(path)
    if read.problem is LockProblem.MISSING:
        raise ExplainError(f"{path} does not exist; run `lockgen lock` first")
    if read.problem is LockProblem.MALFORMED:
        raise ExplainError(f"{path} is malformed: {read.error}")
    if read.lock is None:
        raise ExplainError(f"{path} is unreadable: {read.error}")
    return read.lock


def _lock_path(options: LockOptions, platform: str) -> Path:
    return options.output_dir / options.lock_name(platform)


def _default_platform(targets: Sequence[str], locked: Sequence[str]) -> str:
    """This machine's platform when it has a lock, else the first target that has one."""
    import platform as host
    import sys

    machine = host.machine().lower()
    arch = {"x86_64": "64", "amd64": "64", "aarch64": "aarch64", "arm64": "arm64"}.get(machine, machine)
    system = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(sys.platform, sys.platform)
    if system == "linux" and arch == "arm64":
        arch = "aarch64"
    here = f"{system}-{arch}"
    if here in locked:
        return here
    return locked[0] if locked else targets[0]


def explain_records(
    records: Mapping[str, Record], specs: Sequence[tuple[str, str]], name: str
) -> tuple[tuple[tuple[Step, ...], ...], tuple[Constraint, ...]]:
    """The chains from the user's ``specs`` (text, origin) to ``name`` and the constraints on it."""
    chains: list[tuple[Step, ...]] = []
    for spec, origin in specs:
        root = dependency_name(spec)
        if root not in records:
            continue
        chain = _shortest_chain(records, Step(records[root], spec, origin), name)
        if chain and chain not in chains:
            chains.append(chain)
    chains.sort(key=len)
    constraints = [Constraint(spec, origin, "spec") for spec, origin in specs if dependency_name(spec) == name]
    for record in sorted(records.values(), key=lambda r: r.name):
        constraints += [Constraint(d, record.label, "depends") for d in record.depends if dependency_name(d) == name]
        constraints += [
            Constraint(c, record.label, "constrains") for c in record.constrains if dependency_name(c) == name
        ]
    return tuple(chains[:MAX_CHAINS]), tuple(constraints)


def _shortest_chain(records: Mapping[str, Record], root: Step, name: str) -> tuple[Step, ...] | None:
    """Breadth-first from ``root`` along dependencies that are in the lock."""
    queue: deque[tuple[Step, ...]] = deque([(root,)])
    seen = {root.record.name}
    while queue:
        chain = queue.popleft()
        if chain[-1].record.name == name:
            return chain
        for dep in chain[-1].record.depends:
            dep_name = dependency_name(dep)
            if dep_name in records and dep_name not in seen:
                seen.add(dep_name)
                queue.append((*chain, Step(records[dep_name], dep)))
    return None


class RepodataSource:
    """Reads records through rattler's Gateway, with the lock's cache directory and mirrors (the
    environment's channels first, for their credentials)."""

    def __init__(
        self, the_plan: LockPlan, options: LockOptions, *, timeout_s: int | None = None, retries: int | None = None
    ) -> None:
        self.plan = the_plan
        self.options = options
        self.timeout_s = timeout_s if timeout_s is not None else options.limits.http_timeout_s
        self.retries = retries if retries is not None else options.limits.http_retries

    def records(self, platform: str, entries: Sequence[ExplicitEntry]) -> dict[str, Record]:
        return asyncio.run(self._records(platform, entries))

    async def _records(self, platform: str, entries: Sequence[ExplicitEntry]) -> dict[str, Record]:
        planned = next(p for p in self.plan.platforms if p.platform == platform).request.channels
        gateway = make_gateway(
            self.options.cache_dir, offline=self.options.offline, timeout_s=self.timeout_s, retries=self.retries
        )
        lookup = ChannelLookup(gateway, self.options.mirrors, self.plan.secrets, planned)
        found = await lookup.lookup(entries)
        if found.failures:
            raise self._fetch_error(platform, lookup, entries, found.failures)
        records: dict[str, Record] = {}
        for r in found.records.values():
            records[r.name.normalized] = Record(
                r.name.normalized, str(r.version), str(r.build), tuple(r.depends), tuple(r.constrains)
            )
        missing = [e.file_name for e in entries if e.name not in records]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            if self.options.offline:
                where = f"the repodata cache {self.options.cache_dir}; run without --offline (or `lockgen lock`) once"
            else:
                where = "the channels' repodata (removed from the channel?); re-lock with `lockgen lock`"
            raise MissingRepodataError(f"{platform}: no record of {shown} in {where}")
        return records

    def _fetch_error(
        self,
        platform: str,
        lookup: ChannelLookup,
        entries: Sequence[ExplicitEntry],
        failures: Mapping[tuple[str, str], str],
    ) -> MissingRepodataError:
        """Worded as `lock` words it: what could not be read and why in one line, then the fix (--mirror)."""
        redact = self.plan.secrets.redact
        channels = [lookup.channel(c) for c in dict.fromkeys(PackageUrl.parse(e.url).channel for e in entries)]
        if self.options.offline:
            listed = f"{platform} and noarch of " + ", ".join(f"{c.name} ({redact(c.fetch)})" for c in channels)
            mirrored = bool(self.options.mirrors)
            return MissingRepodataError(
                f"{platform}: {offline_miss(self.options.cache_dir, listed, mirrored=mirrored)}"
            )
        (canonical, subdir), text = min(failures.items())
        channel = lookup.channel(canonical)
        where = first_url(text) or redact(f"{channel.fetch}/{subdir}")
        line = fetch_failure(where, text, channel=channel, timeout_s=self.timeout_s, retries=self.retries)
        hint = f"\n  hint: {redact(channel.mirror_hint())}"
        return MissingRepodataError(f"{platform}: {line}{hint}")
