"""The ``lock`` pipeline: spec → channels → conda solve per platform → pip → lock files.

:func:`plan` computes, without network, what each platform's lock depends on (its input hash);
``check`` uses the same plan. :func:`lock` solves what is out of date and commits all files at
once, or none when any platform fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgen.channels import ResolvedChannel, resolve_channels, with_spec_channels
from lockgen.conda import CondaSolver, SolveRequest
from lockgen.config import LockOptions
from lockgen.errors import InputError, OutputError, Problem
from lockgen.lockfiles import (
    CommitResult,
    ExplicitLock,
    commit_files,
    form_problem,
    is_generated,
    json_sha256,
    recover,
    render_explicit,
    short_digest,
)
from lockgen.lockfiles.header import generated_line
from lockgen.lockfiles.lockdir import generated_file, read_lock_file
from lockgen.lockfiles.requirements import REQUIREMENTS_NAME, UNHASHED_NAME
from lockgen.models import LockedPackage
from lockgen.platforms import DEFAULT_PLATFORMS, KNOWN_PLATFORMS, VirtualPackage, default_virtual_packages
from lockgen.reporting import NullReporter, Reporter
from lockgen.secrets import SecretRegistry, redact
from lockgen.spec import EnvSpec, load_env_specs

if TYPE_CHECKING:
    from lockgen.lockfiles.condalock import PipPinned, PreviousPins
    from lockgen.pypi.requirements import PreviousLock
    from lockgen.pypi.summary import PipSummary

__all__ = ["LockPlan", "LockResult", "PlatformChange", "PlatformPlan", "lock", "plan"]

LOCK_FORMAT = 2
"""2: the ``# specs:`` and ``# options:`` header lines."""


@dataclass(frozen=True, slots=True)
class PlatformPlan:
    platform: str
    lock_name: str
    request: SolveRequest
    input_hash: str
    input_parts: tuple[tuple[str, str], ...] = ()
    """Short hashes of each part of the input (specs, channels, virtual, options): say *what* changed."""
    options: tuple[tuple[str, str], ...] = ()
    """The options as written on the ``# options:`` header line (``check`` names the one that changed)."""


@dataclass(frozen=True, slots=True)
class LockPlan:
    spec: EnvSpec
    options: LockOptions
    platforms: tuple[PlatformPlan, ...]
    explicit_platforms: bool
    secrets: SecretRegistry

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(Path(f).name for f in self.spec.files)


@dataclass(frozen=True, slots=True)
class PlatformChange:
    platform: str
    count: int
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    reused: bool = False

    @property
    def summary(self) -> str:
        if self.reused:
            return f"{self.platform}: {self.count} packages, up to date"
        parts = [f"{len(self.added)} added", f"{len(self.removed)} removed", f"{len(self.changed)} changed"]
        return f"{self.platform}: {self.count} packages ({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class LockResult:
    output_dir: Path
    changes: tuple[PlatformChange, ...]
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    pip: PipSummary | None = None
    """What requirements.txt holds per platform (None without a pip section)."""
    started_from: tuple[str, ...] = field(default=())
    """With ``--from``: per platform, how many of its pins were kept, which moved and why."""

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def _virtual_packages(platform: str, options: LockOptions) -> tuple[VirtualPackage, ...]:
    found = default_virtual_packages(platform, options.cuda)
    for target, package in options.virtual_overrides:
        if target in ("*", platform):
            found[package.name] = package
    return tuple(sorted(found.values()))


def _channels_for(spec: EnvSpec, platform: str, options: LockOptions) -> tuple[ResolvedChannel, ...]:
    base_dir = spec.base_dir
    channels = list(resolve_channels(spec.channels, platform, options.mirrors, base_dir))
    for index, channel in enumerate(channels):
        where = spec.channel_location(channel.written)
        if where is not None:
            channels[index] = replace(channel, origin=str(where))
    written = [d.channel for d in spec.conda_dependencies(platform) if d.channel]
    return with_spec_channels(channels, written, options.mirrors, base_dir)[0]


INPUT_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("specs", ("specs",)),
    ("channels", ("channels",)),
    ("virtual", ("virtual-packages",)),
    ("options", ("format", "channel-priority", "exclude-newer", "hash")),
)
"""The breakdown written after the input hash: each part is a short hash of these payload keys."""


OPTION_KEYS = ("format", "channel-priority", "exclude-newer", "hash")


def _input_parts(payload: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple((part, short_digest({k: payload[k] for k in keys})) for part, keys in INPUT_PARTS)


def plan(options: LockOptions, reporter: Reporter | None = None) -> LockPlan:
    """Read the environment file(s) and work out every platform's request. No network."""
    reporter = reporter or NullReporter()
    spec = load_env_specs(options.files)
    for note in spec.notes:
        reporter.event("warning" if "warning" in note else "note", None, note)
    explicit = options.platforms is not None
    platforms = options.platforms or spec.platforms or DEFAULT_PLATFORMS
    problems = [Problem(f"unknown platform {p!r}") for p in platforms if p not in KNOWN_PLATFORMS]
    if not spec.channels:
        problems.append(Problem("no channels listed (add `channels: [conda-forge]`)", str(spec.files[0])))
    if problems:
        raise InputError(problems)
    secrets = SecretRegistry()
    for mirror in options.mirrors:
        secrets.add_url(mirror.replacement)
    plans = []
    for platform in platforms:
        channels = _channels_for(spec, platform, options)
        for channel in channels:
            secrets.add_url(channel.fetch)
        deps = spec.conda_dependencies(platform)
        virtual = _virtual_packages(platform, options)
        request = SolveRequest(
            platform=platform,
            specs=tuple(d.spec for d in deps),
            origins=tuple(str(d.location) for d in deps),
            channels=channels,
            virtual_packages=virtual,
            channel_priority=options.channel_priority,
            exclude_newer=options.exclude_newer,
        )
        payload = {
            "format": LOCK_FORMAT,
            "platform": platform,
            "channels": [c.canonical for c in channels],
            "specs": [redact(s) if "://" in s else s for s in request.specs],
            "virtual-packages": [str(v) for v in virtual],
            "channel-priority": options.channel_priority,
            "exclude-newer": options.exclude_newer.isoformat() if options.exclude_newer else None,
            "hash": options.hash_kind,
        }
        shown = tuple((key, "none" if payload[key] is None else str(payload[key])) for key in OPTION_KEYS)
        plans.append(
            PlatformPlan(
                platform, options.lock_name(platform), request, json_sha256(payload), _input_parts(payload), shown
            )
        )
    return LockPlan(spec, options, tuple(plans), explicit, secrets)


def pip_plan(the_plan: LockPlan) -> LockPlan:
    """The plan the pip lock is made for: every target platform, not only those ``-p`` chose.

    ``lockgen lock -p linux-64`` re-locks one platform, but requirements.txt serves them all: it
    keeps covering each other target of the environment whose conda lock exists in the output
    directory (resolved against that existing lock).
    """
    if not the_plan.explicit_platforms:
        return the_plan
    full = plan(replace(the_plan.options, platforms=None))
    chosen = {p.platform for p in the_plan.platforms}
    out_dir = the_plan.options.output_dir
    platforms = [p for p in full.platforms if p.platform in chosen or (out_dir / p.lock_name).is_file()]
    platforms += [p for p in the_plan.platforms if p.platform not in {q.platform for q in platforms}]
    return replace(the_plan, platforms=tuple(platforms))


def _read_previous(path: Path) -> ExplicitLock | None:
    return read_lock_file(path).lock


def _change(platform: str, old: ExplicitLock | None, new: tuple[LockedPackage, ...]) -> PlatformChange:
    before = {e.name: (e.version, e.build) for e in old.entries} if old else {}
    after = {p.name: (p.version, p.build) for p in new}
    return PlatformChange(
        platform=platform,
        count=len(new),
        added=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        changed=tuple(sorted(n for n in set(after) & set(before) if after[n] != before[n])),
    )


def _preferred(previous: ExplicitLock | None, options: LockOptions) -> tuple[str, ...]:
    if previous is None or options.update_all:
        return ()
    frozen = {n.lower() for n in options.update}
    return tuple(e.url for e in previous.entries if e.name not in frozen)


def lock(options: LockOptions, reporter: Reporter | None = None, solver: CondaSolver | None = None) -> LockResult:
    """Lock every target platform; write all files or, on any failure, none."""
    reporter = reporter or NullReporter()
    the_plan = plan(options, reporter)
    out_dir = options.output_dir
    if out_dir.is_dir():
        recover(out_dir)
    previous = {p.platform: _read_previous(out_dir / p.lock_name) for p in the_plan.platforms}
    pins, previous = _started_pins(options, previous)
    condalock = _CondaLockTarget.for_options(options, the_plan, previous) if options.conda_lock_file else None
    forced = options.update_all or bool(options.update) or (condalock is not None and not condalock.current)
    to_solve = [
        p for p in the_plan.platforms if forced or not _up_to_date(previous[p.platform], p, out_dir / p.lock_name)
    ]
    if condalock is not None and to_solve:  # conda-lock.yml holds every platform's records: solve them all
        to_solve = list(the_plan.platforms)
    solutions: dict[str, tuple[LockedPackage, ...]] = {}
    if to_solve:
        if solver is None:
            from lockgen.conda import RattlerSolver

            solver = RattlerSolver(
                options.cache_dir,
                the_plan.secrets,
                reporter,
                offline=options.offline,
                jobs=options.jobs,
                timeout_s=options.limits.http_timeout_s,
                retries=options.limits.http_retries,
                repodata_budget=options.limits.repodata_budget,
                repodata_max_bytes=options.limits.repodata_max_bytes,
            )
        requests = [_with_preferred(p.request, _preferred(previous[p.platform], options)) for p in to_solve]
        solutions = solver.solve(requests)
    files: dict[str, bytes | None] = {}
    changes: list[PlatformChange] = []
    for p in the_plan.platforms:
        if p.platform in solutions:
            text = render_explicit(
                p.platform,
                solutions[p.platform],
                p.input_hash,
                the_plan.source_names,
                options.hash_kind,
                input_parts=p.input_parts,
                specs=p.request.specs,
                options=p.options,
            )
            files[p.lock_name] = text.encode()
            changes.append(_change(p.platform, previous[p.platform], solutions[p.platform]))
        else:
            old = previous[p.platform]
            assert old is not None
            changes.append(PlatformChange(p.platform, len(old.entries), reused=True))
    files.update(_stale_platform_files(the_plan, out_dir))
    files.update(_pip_files(the_plan, solutions, previous, reporter, _pip_seed(pins)))
    started: tuple[str, ...] = ()
    if pins is not None:
        started = _started_from(the_plan, pins, solutions, files.get(REQUIREMENTS_NAME))
    result = _commit(
        out_dir, files, condalock, condalock.files(the_plan, solutions, files, reporter) if condalock else {}
    )
    return LockResult(
        out_dir,
        tuple(changes),
        result.written,
        result.unchanged,
        result.removed,
        tuple(the_plan.spec.notes),
        _pip_summary(files.get(REQUIREMENTS_NAME)),
        started,
    )


def _started_pins(
    options: LockOptions, previous: dict[str, ExplicitLock | None]
) -> tuple[PreviousPins | None, dict[str, ExplicitLock | None]]:
    """With ``--from``, its pins replace the previous locks (a platform it lacks keeps lockgen's own)."""
    if options.from_lock is None:
        return None, previous
    from lockgen.migrate import load_pins

    pins = load_pins(options.from_lock)
    return pins, {platform: pins.conda.get(platform) or old for platform, old in previous.items()}


def _pip_seed(pins: PreviousPins | None) -> PreviousLock | None:
    if pins is None:
        return None
    from lockgen.migrate import pip_previous

    return pip_previous(pins)


def _commit(
    out_dir: Path, files: dict[str, bytes | None], condalock: _CondaLockTarget | None, extra: dict[str, bytes]
) -> CommitResult:
    """Commit the locks (with the conda-lock file when it lives in the output directory), then a
    conda-lock file elsewhere in its own all-or-nothing commit (docs/from-conda-lock.md)."""
    if condalock is not None and condalock.in_output_dir:
        files.update(extra)
    result = commit_files(out_dir, files)
    if condalock is None or condalock.in_output_dir:
        return result
    side = commit_files(condalock.path.parent, extra)
    return CommitResult(
        result.written + tuple(str(condalock.path) for _ in side.written),
        result.unchanged + tuple(str(condalock.path) for _ in side.unchanged),
        result.removed,
    )


def _started_from(
    the_plan: LockPlan,
    pins: PreviousPins,
    solutions: Mapping[str, tuple[LockedPackage, ...]],
    requirements: bytes | None,
) -> tuple[str, ...]:
    from lockgen.errors import PypiResolutionError
    from lockgen.migrate import summarize
    from lockgen.pypi.targets import pip_target

    specs = {p.platform: tuple(zip(p.request.specs, p.request.origins, strict=False)) for p in the_plan.platforms}
    environments: dict[str, Mapping[str, str] | None] = {}
    for p in the_plan.platforms:
        pairs = [(pkg.name, pkg.version) for pkg in solutions.get(p.platform, ())]
        try:
            environments[p.platform] = pip_target(p.platform, pairs, p.request.virtual_packages).marker_environment()
        except PypiResolutionError:
            environments[p.platform] = None
    targets = [p.platform for p in the_plan.platforms]
    pip_lines = {
        p.platform: tuple((e.text, str(e.location)) for e in the_plan.spec.pip_entries(p.platform))
        for p in the_plan.platforms
    }
    virtual = {p.platform: tuple(v.name for v in p.request.virtual_packages) for p in the_plan.platforms}
    return summarize(pins, targets, solutions, specs, requirements, environments, pip_lines, virtual)


@dataclass(frozen=True, slots=True)
class _CondaLockTarget:
    """``--conda-lock-file``: where it goes and whether the one there already matches the locks."""

    path: Path
    in_output_dir: bool
    current: bool

    @classmethod
    def for_options(
        cls, options: LockOptions, the_plan: LockPlan, previous: Mapping[str, ExplicitLock | None]
    ) -> _CondaLockTarget:
        from lockgen.lockfiles.condalock import CondaLockFormatError, read_condalock

        path = options.conda_lock_file
        assert path is not None
        in_out = path.parent.resolve() == options.output_dir.resolve()
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise OutputError(f"{path} is not a regular file; refusing to write the conda-lock file there")
        if not path.exists():
            return cls(path, in_out, False)
        try:
            existing = read_condalock(path)
        except CondaLockFormatError as exc:
            raise OutputError(
                f"{path} exists and is not a conda-lock lock file ({exc}); refusing to overwrite it"
            ) from exc
        hashes, wanted = dict(existing.content_hash), content_hashes(the_plan)
        current = sorted(existing.platforms) == sorted(p.platform for p in the_plan.platforms)
        for p in the_plan.platforms:
            old = previous.get(p.platform)
            urls = sorted(pkg.url for pkg in existing.for_platform(p.platform, "conda"))
            same_hash = hashes.get(p.platform) == wanted[p.platform]
            if old is None or not same_hash or urls != sorted(e.url for e in old.entries):
                current = False
        return cls(path, in_out, current)

    def files(
        self,
        the_plan: LockPlan,
        solutions: Mapping[str, tuple[LockedPackage, ...]],
        files: Mapping[str, bytes | None],
        reporter: Reporter,
    ) -> dict[str, bytes]:
        if not solutions:  # nothing solved: the file there is current
            return {self.path.name: self.path.read_bytes()}
        from lockgen.lockfiles.condalock import render_condalock

        pip, left_out = _condalock_pip(the_plan, solutions, files.get(REQUIREMENTS_NAME), reporter)
        header = [
            generated_line(the_plan.source_names).removeprefix("# "),
            "conda-lock's unified format (version 1): `conda-lock install`, `micromamba create -f` read it.",
        ]
        own = [p.platform for p in the_plan.platforms if not _conda_lock_hash(the_plan, p)]
        if own:
            header.append(
                f"content_hash of {', '.join(own)} is lockgen's input hash, not conda-lock's (docs/from-conda-lock.md)."
            )
        if left_out:
            header.append(
                f"Not here: pip packages {', '.join(left_out)} (no file URL found); they are in requirements.txt:"
                " after creating the environment, run"
                " `pip install --no-deps --require-hashes -r locks/requirements.txt`."
            )
            reporter.event(
                "warning",
                None,
                f"warning: {self.path} lacks pip packages {', '.join(left_out)} (their file could not be looked up"
                f" on the index); they are in {REQUIREMENTS_NAME}: install it with pip after `conda-lock install`",
            )
        channels = [c.canonical for c in the_plan.platforms[0].request.channels] if the_plan.platforms else []
        text = render_condalock(
            {p: tuple(pkgs) for p, pkgs in solutions.items()},
            {p: tuple(pins) for p, pins in pip.items()},
            channels=[_channel_name(c) for c in channels],
            sources=list(the_plan.source_names),
            content_hash=content_hashes(the_plan),
            header=header,
        )
        return {self.path.name: text.encode()}


def _condalock_pip(
    the_plan: LockPlan,
    solutions: Mapping[str, tuple[LockedPackage, ...]],
    requirements: bytes | None,
    reporter: Reporter,
) -> tuple[dict[str, list[PipPinned]], list[str]]:
    """Per platform, the pip file each pin installs there (conda-lock names one file per platform),
    looked up on the pip section's indexes by the hashes requirements.txt pins; and the names not found."""
    from packaging.markers import Marker

    from lockgen.errors import PypiResolutionError
    from lockgen.lockfiles.condalock import PipPinned
    from lockgen.pypi.files import PYPI_SIMPLE, file_for_pin, index_files, tag_ranking
    from lockgen.pypi.requirements import parse_compiled, parse_pip_entries
    from lockgen.pypi.targets import pip_target

    pins = parse_compiled(requirements.decode("utf-8")) if requirements else ()
    if not pins:
        return {}, []
    chosen: dict[str, tuple[Any, list[Any]]] = {}
    indexes: list[str] = []
    for p in the_plan.platforms:
        pairs = [(pkg.name, pkg.version) for pkg in solutions.get(p.platform, ())]
        try:
            target = pip_target(p.platform, pairs, p.request.virtual_packages)
        except PypiResolutionError:
            continue
        env = target.marker_environment()
        chosen[p.platform] = (target, [pin for pin in pins if pin.marker is None or Marker(pin.marker).evaluate(env)])
        section = parse_pip_entries(the_plan.spec.pip_entries(p.platform))
        if not section.no_index:
            for url in (section.index_url or PYPI_SIMPLE, *section.extra_index_urls):
                if url not in indexes:
                    indexes.append(url)
    wanted = sorted({pin.name for _, applies in chosen.values() for pin in applies if pin.url is None})
    listed: dict[str, Any] = {}
    if wanted and indexes and not the_plan.options.offline:
        listed, problems = index_files(wanted, indexes, the_plan.secrets)
        for problem in problems:
            reporter.event("warning", None, f"warning: conda-lock file: {problem}")
    found: dict[str, list[PipPinned]] = {}
    missing: set[str] = set()
    for platform, (target, applies) in chosen.items():
        ranking = tag_ranking(target)
        for pin in applies:
            sha = [h.removeprefix("sha256:") for h in pin.hashes if h.startswith("sha256:")]
            if pin.url is not None and len(sha) == 1:
                found.setdefault(platform, []).append(PipPinned(pin.name, pin.version, pin.url, sha[0]))
                continue
            item = file_for_pin(pin, listed.get(pin.name, ()), ranking) if pin.url is None else None
            if item is None or item.sha256 is None:
                missing.add(pin.name)
            else:
                found.setdefault(platform, []).append(PipPinned(pin.name, pin.version, item.url, item.sha256))
    return found, sorted(missing)


def _conda_lock_hash(the_plan: LockPlan, platform: PlatformPlan) -> str | None:
    """conda-lock's own content hash where lockgen can reproduce it: one environment file, no pip
    section, no virtual-package overrides, plain specs (see
    :func:`~lockgen.lockfiles.condalock.conda_lock_content_hash`)."""
    from lockgen.lockfiles.condalock import conda_lock_content_hash

    spec, options = the_plan.spec, the_plan.options
    if len(spec.files) != 1 or spec.pip is not None or options.virtual_overrides:
        return None
    deps = [d.spec for d in spec.conda_dependencies(platform.platform)]
    return conda_lock_content_hash(platform.platform, spec.channels, deps, options.cuda)


def content_hashes(the_plan: LockPlan) -> dict[str, str]:
    """Per platform, the ``content_hash`` written into conda-lock.yml: conda-lock's own where it can be
    reproduced, else lockgen's input hash (so a changed input always changes it)."""
    return {
        p.platform: _conda_lock_hash(the_plan, p) or p.input_hash.removeprefix("sha256:") for p in the_plan.platforms
    }


def _channel_name(canonical: str) -> str:
    """``https://conda.anaconda.org/conda-forge`` → ``conda-forge``, as conda-lock writes channels."""
    prefix = "https://conda.anaconda.org/"
    return canonical[len(prefix) :] if canonical.startswith(prefix) else canonical


def _pip_summary(text: bytes | None) -> PipSummary | None:
    if text is None:
        return None
    from lockgen.pypi.summary import summarize_requirements

    return summarize_requirements(text.decode("utf-8", errors="replace"))


def _up_to_date(previous: ExplicitLock | None, platform: PlatformPlan, path: Path) -> bool:
    """The lock was made from these inputs and is byte for byte what lockgen writes (as ``check`` judges)."""
    if previous is None or previous.input_hash != platform.input_hash:
        return False
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return form_problem(previous, text, platform.platform, {c.canonical for c in platform.request.channels}) is None


def _with_preferred(request: SolveRequest, preferred: tuple[str, ...]) -> SolveRequest:
    return replace(request, preferred=preferred)


def _stale_platform_files(the_plan: LockPlan, out_dir: Path) -> dict[str, bytes | None]:
    """Locks of platforms no longer targeted are removed (unless -p chose a subset)."""
    if the_plan.explicit_platforms or not out_dir.is_dir():
        return {}
    targeted = {p.lock_name for p in the_plan.platforms}
    stale: dict[str, bytes | None] = {}
    for platform in KNOWN_PLATFORMS:
        name = the_plan.options.lock_name(platform)
        path = out_dir / name
        if name not in targeted and path.is_file() and generated_file(path):
            stale[name] = None
    return stale


def _pip_files(
    the_plan: LockPlan,
    solutions: Mapping[str, tuple[LockedPackage, ...]],
    previous: Mapping[str, ExplicitLock | None],
    reporter: Reporter,
    seed: PreviousLock | None = None,
) -> dict[str, bytes | None]:
    """The pip section's lock, or its removal when the environment has no pip section.

    ``seed`` (a :class:`~lockgen.pypi.requirements.PreviousLock`, from ``--from``) replaces the
    existing requirements.txt as the pins to keep."""
    from lockgen.pypi import lock_pip_files

    if the_plan.spec.pip is None:
        unhashed = the_plan.options.output_dir / UNHASHED_NAME
        ours = unhashed.is_file() and is_generated(unhashed.read_bytes())
        return {REQUIREMENTS_NAME: None, **({UNHASHED_NAME: None} if ours else {})}

    targets = pip_plan(the_plan)
    conda: dict[str, tuple[tuple[str, str], ...]] = {}
    for p in targets.platforms:
        if p.platform in solutions:
            conda[p.platform] = tuple((pkg.name, pkg.version) for pkg in solutions[p.platform])
            continue
        old = previous.get(p.platform) or _read_previous(the_plan.options.output_dir / p.lock_name)
        if old is None:
            raise OutputError(f"{p.lock_name} is missing or malformed; run `lockgen lock` for {p.platform}")
        conda[p.platform] = tuple((e.name, e.version) for e in old.entries)
    return lock_pip_files(targets, conda, reporter, previous=seed)
