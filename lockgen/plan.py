"""What a lock run is asked for, computed from the environment file(s) and options with no network.

:func:`plan` works out each target platform's conda request (:class:`~lockgen.solverequest.SolveRequest`)
and its input hash, the hash a lock's header records and ``check`` recomputes. :func:`pip_request`
narrows a plan to what the pip stage needs (:class:`PipRequest`). ``lock`` and ``check`` both
start here; this module imports neither stage's backend (no rattler solve, no uv).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.channels import ResolvedChannel, resolve_channels, with_spec_channels
from lockgen.config import DEFAULT_UV_TIMEOUT_S, LockOptions, platform_cache_dir
from lockgen.errors import InputError, Problem
from lockgen.httpclient import HttpSettings
from lockgen.lockfiles import json_sha256, short_digest
from lockgen.platforms import DEFAULT_PLATFORMS, KNOWN_PLATFORMS, VirtualPackage, default_virtual_packages
from lockgen.records import dataclass
from lockgen.reporting import Notice, NullReporter, Reporter
from lockgen.secrets import SecretRegistry, redact
from lockgen.solverequest import SolveRequest
from lockgen.spec.envfile import load_env_specs
from lockgen.spec.model import CondaDependency, EnvSpec, Location, PipEntry

if TYPE_CHECKING:
    from lockgen.lockfiles.requirements import PreviousLock  # a conda-only lock loads no pip lock reader

__all__ = [
    "INPUT_PARTS",
    "LOCK_FORMAT",
    "LockPlan",
    "PipPlatform",
    "PipRequest",
    "PlatformPlan",
    "pip_plan",
    "pip_request",
    "plan",
]

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
    """``-p`` chose a subset of the targets: the others' locks are kept, requirements.txt still covers them."""
    secrets: SecretRegistry
    solve_notes: tuple[Problem, ...] = ()
    """Said when a conda lock is solved, not on every run (``pip`` added for the pip section)."""

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(Path(f).name for f in self.spec.files)


@dataclass(frozen=True, slots=True)
class PipPlatform:
    """One target platform as the pip stage sees it."""

    platform: str
    lock_name: str
    """Its conda lock's file name (requirements.txt's header says what it was resolved against)."""
    entries: tuple[PipEntry, ...]
    """The ``pip:`` lines that apply on this platform (selectors evaluated)."""
    conda_dependencies: tuple[CondaDependency, ...]
    """The conda specs that apply here: a package listed on both sides is reported."""
    virtual_packages: tuple[VirtualPackage, ...]
    """The target's glibc/macOS/CUDA: they pick the wheel tags."""


@dataclass(frozen=True, slots=True)
class PipRequest:
    """What the pip stage (:func:`lockgen.pypi.stage.lock_pip_files`) is asked to lock, and how."""

    platforms: tuple[PipPlatform, ...]
    sources: tuple[str, ...]
    """The environment files: their names go in the header; their folders are left out of messages."""
    base_dir: Path
    """The first environment file's folder: local projects and ``-r`` files are relative to it."""
    channels: tuple[str, ...]
    """The conda channels, in priority order: they choose the conda→PyPI name mapping."""
    output_dir: Path
    chosen_cache_dir: Path | None
    """As :attr:`lockgen.config.LockOptions.chosen_cache_dir`: None, the platform's user cache folder."""
    exclude_newer: dt.datetime | None = None
    pypi_mapping: Path | None = None
    allow_includes: tuple[Path, ...] = ()
    only_binary: bool = False
    offline: bool = False
    strict: bool = False
    update: tuple[str, ...] = ()
    update_all: bool = False
    mapping_url: str | None = None
    """The conda→PyPI mapping download's URL template (``{channel}``); None: parselmouth's."""
    uv_timeout_s: int = DEFAULT_UV_TIMEOUT_S
    http: HttpSettings | None = None
    """lockgen's own requests of the pip stage (the mapping, name hints): :mod:`lockgen.httpclient`."""
    """How long one platform's ``uv pip compile`` may run."""
    agreed: PreviousLock | None = None
    """Pins the pip sections of this one's group agreed on, resolved together (several environments,
    :class:`lockgen.pipagreement.PipAgreement`): a pip package they also install must be the same
    version here (a constraint, not a requirement)."""

    @property
    def cache_dir(self) -> Path:
        """Where the mapping and uv's cache are kept (looked up here: ``check`` never reads it)."""
        return self.chosen_cache_dir if self.chosen_cache_dir is not None else platform_cache_dir()


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
    deps = [d for d in spec.conda_dependencies(platform) if d.channel]
    origins = {d.channel: str(d.location) for d in reversed(deps) if d.channel}
    return with_spec_channels(
        channels, [d.channel for d in deps if d.channel], options.mirrors, base_dir, platform, origins
    )[0]


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


PIP_ADDED_NOTE = (
    "the pip: section is installed with pip, which the conda dependencies do not list: `pip` added"
    " to them (as conda-lock does); list `- pip` yourself to choose its version and silence this note"
)


def conda_specs(spec: EnvSpec, platform: str) -> tuple[tuple[str, ...], tuple[str, ...], Location | None]:
    """The conda specs to solve on ``platform`` and where each is written, and where ``pip`` was added.

    A ``pip:`` section needs pip in the environment (the rebuild runs ``python -m pip install``):
    when the conda dependencies do not name ``pip``, it is added (as conda-lock does), at the
    first pip line's location.
    """
    deps = spec.conda_dependencies(platform)
    specs, origins = tuple(d.spec for d in deps), tuple(str(d.location) for d in deps)
    entries = spec.pip_entries(platform)
    if not entries or any(d.name == "pip" for d in deps):
        return specs, origins, None
    where = entries[0].location
    return (*specs, "pip"), (*origins, f"{where}: the pip: section needs it"), where


def env_memo_dir(options: LockOptions) -> Path | None:
    """Where the memos of parsed environment files are (:mod:`lockgen.spec.memo`): lockgen's cache, when
    that is outside the project of every file (:func:`lockgen.project.memo_folder`); None: parse every file."""
    from lockgen.project import memo_folder
    from lockgen.spec.memo import MEMO_DIR

    return memo_folder(options.cache_dir / "envfile" / MEMO_DIR, [Path(file) for file in options.files])


def plan(options: LockOptions, reporter: Reporter | None = None) -> LockPlan:
    """Read the environment file(s) and work out every platform's request. No network."""
    reporter = reporter or NullReporter()
    spec = load_env_specs(options.files, options.limits.input_files, env_memo_dir(options))
    for note in spec.notes:
        reporter.report(Notice(note))
    explicit = options.platforms is not None
    targets = options.environment_platforms or options.config_platforms or spec.platforms or DEFAULT_PLATFORMS
    platforms = options.platforms or targets
    problems = [Problem(f"unknown platform {p!r}") for p in platforms if p not in KNOWN_PLATFORMS]
    if not spec.channels:
        problems.append(Problem("no channels listed (add `channels: [conda-forge]`)", str(spec.files[0])))
    if problems:
        raise InputError(problems)
    secrets = SecretRegistry()
    for mirror in options.mirrors:
        secrets.add_url(mirror.replacement)
    plans = []
    added: list[Location] = []
    for platform in platforms:
        channels = _channels_for(spec, platform, options)
        for channel in channels:
            secrets.add_url(channel.fetch)
        specs, origins, pip_added = conda_specs(spec, platform)
        if pip_added is not None and pip_added not in added:
            added.append(pip_added)
        virtual = _virtual_packages(platform, options)
        request = SolveRequest(
            platform=platform,
            specs=specs,
            origins=origins,
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
    solve_notes = tuple(Problem(PIP_ADDED_NOTE, where.file, where.line, "note") for where in added)
    return LockPlan(spec, options, tuple(plans), explicit, secrets, solve_notes)


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


def pip_request(the_plan: LockPlan) -> PipRequest:
    """What the pip stage needs of ``the_plan`` (pass it :func:`pip_plan`'s plan to cover every target)."""
    spec, options = the_plan.spec, the_plan.options
    platforms = tuple(
        PipPlatform(
            p.platform,
            p.lock_name,
            spec.pip_entries(p.platform),
            spec.conda_dependencies(p.platform),
            p.request.virtual_packages,
        )
        for p in the_plan.platforms
    )
    return PipRequest(
        platforms=platforms,
        sources=spec.files,
        base_dir=spec.base_dir,
        channels=spec.channels,
        output_dir=options.output_dir,
        chosen_cache_dir=options.chosen_cache_dir,
        exclude_newer=options.exclude_newer,
        pypi_mapping=options.pypi_mapping,
        allow_includes=options.allow_includes,
        only_binary=options.only_binary,
        offline=options.offline,
        strict=options.strict,
        update=options.update,
        update_all=options.update_all,
        mapping_url=options.mapping_url,
        uv_timeout_s=options.limits.uv_timeout_s,
        http=options.limits.http,
    )
