"""``check`` of requirements.txt's pins against the pip: section, from the files alone.

The ``body=`` digest is plain sha256: a pull request can drop a pin, add one or change a hash and
recompute it. So, on each platform the lock was resolved for: every requirement of the pip:
section (and the files it includes) whose markers hold there is pinned, to a version its
specifier allows, unless conda installs it (the platform's conda lock has the package); every
pin has well-formed ``--hash=sha256:`` options; and a pin that says ``# via pip: section`` is one
the section lists. Whether a hash is the file the index serves is ``install``'s check (pip
``--require-hashes``); whether an extra pin is needed by another needs the index's metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from lockgen.lockfiles.lockdir import read_lock_file
from lockgen.lockfiles.requirements import VIA_PIP_SECTION, Pin, RequirementsLock
from lockgen.matchspec import plain_ranges_hold
from lockgen.pipsyntax import canonical_name, marker_applies
from lockgen.plan import LockPlan
from lockgen.platforms import marker_terms
from lockgen.records import dataclass
from lockgen.review.stale import PIP_TARGET, Stale
from lockgen.spec.pipentry import plain_requirement_name

__all__ = ["DirectRequirements", "direct_requirements", "pin_problems"]

_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_BARE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class DirectRequirements:
    """What requirements.txt must pin, per platform (from the pip: section, read without the network)."""

    requirements: tuple[tuple[str, tuple[str, ...]], ...]
    """Platform → the requirement lines of its pip: section (``-r`` files included)."""
    where: tuple[tuple[str, str], ...]
    """A requirement's canonical name → its ``file:line``."""
    locks: tuple[tuple[str, Path], ...]
    """Platform → its conda lock: conda installs the packages it lists (requirements.txt leaves them out).
    Read only for a requirement that has no pin (:func:`_conda_names`)."""
    channels: tuple[str, ...]
    """The conda channels: their conda→PyPI tables name what conda installs under another name."""
    own_mapping: bool
    """A ``--pypi-mapping`` file decides the names: a requirement without a pin is not judged."""


def direct_requirements(pip_targets: LockPlan, inputs: Sequence[tuple[str, tuple[str, ...]]]) -> DirectRequirements:
    names: dict[str, str] = {}
    for platform in pip_targets.platforms:
        for entry in pip_targets.spec.pip_entries(platform.platform):
            parsed = _requirement(entry.text.split(" #", 1)[0].strip())
            if parsed is not None:
                names.setdefault(parsed[0], str(entry.location))
    out_dir = pip_targets.options.output_dir
    locks = tuple((p.platform, out_dir / p.lock_name) for p in pip_targets.platforms)
    channels = tuple(dict.fromkeys(c.written for p in pip_targets.platforms for c in p.request.channels))
    own = pip_targets.options.pypi_mapping is not None
    return DirectRequirements(tuple(inputs), tuple(names.items()), locks, channels, own)


def _conda_names(direct: DirectRequirements, platform: str, read: dict[str, frozenset[str]]) -> frozenset[str]:
    """The package names of ``platform``'s conda lock (none when it is missing or does not read), read
    once per platform into ``read``."""
    if platform not in read:
        path = dict(direct.locks).get(platform)
        lock = read_lock_file(path, platform).lock if path is not None else None
        read[platform] = frozenset(e.name for e in lock.entries) if lock else frozenset()
    return read[platform]


def _requirement(line: str) -> tuple[str, str, str | None, bool] | None:
    """(canonical name, specifier, marker, names a URL) of a requirement line; None when it is none
    (an option, a local path). The common shapes are read without packaging
    (:func:`lockgen.spec.pipentry.plain_requirement_name`), any other by packaging."""
    if not line or line.startswith(("-", ".", "/", "~")):
        return None  # an option (`--index-url`, `-r`), a local path
    if _BARE_URL.match(line):  # pip's `https://host/name-1.0-py3-none-any.whl` (or `...#egg=name`) line
        name = _url_name(line.split(" ;", 1)[0].strip())
        return (canonical_name(name), "", None, True) if name else None
    name = plain_requirement_name(line)
    if name is not None:
        head, _, marker = line.partition(";")
        return canonical_name(name), head.strip()[len(name) :].strip(), marker.strip() or None, False
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        return None
    written = str(requirement.marker) if requirement.marker is not None else None
    return canonical_name(requirement.name), str(requirement.specifier), written, bool(requirement.url)


def _url_name(url: str) -> str | None:
    """The distribution name a bare URL names: its ``#egg=`` fragment, else its archive's file name."""
    path, _, fragment = url.partition("#")
    egg = re.search(r"(?:^|&)egg=([A-Za-z0-9._-]+)", fragment)
    if egg:
        return egg.group(1)
    file_name = path.partition("?")[0].rstrip("/").rpartition("/")[2]
    if file_name.endswith(".whl"):
        return file_name.partition("-")[0] or None
    for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if file_name.endswith(ext):
            return file_name.removesuffix(ext).rpartition("-")[0] or None
    return None


def _applies(marker: str | None, platform: str) -> bool | None:
    """Whether ``marker`` holds on ``platform`` (None: it compares what the platform alone does not say)."""
    return True if marker is None else marker_applies(marker, marker_terms(platform))


def pin_problems(path: Path, lock: RequirementsLock, direct: DirectRequirements) -> list[Stale]:
    """Each direct requirement not pinned as it asks, each pin without a well-formed sha256, each pin
    that claims the pip: section without being listed there: the pin or requirement first."""
    pins = lock.pins()
    found = [_hash_problem(pin) for pin in pins]
    requirements = [parsed for _, lines in direct.requirements for line in lines if (parsed := _requirement(line))]
    listed = {parsed[0] for parsed in requirements}
    by_url = {parsed[0] for parsed in requirements if parsed[3]}
    found += [  # uv writes `name @ URL` only for a requirement that names the URL: any other is an edit
        f"{_shown(pin)}: the pip: section names no URL for {pin.name}"
        for pin in pins
        if pin.url is not None and pin.name not in by_url
    ]
    found += [
        f"{_shown(pin)} says `# via {VIA_PIP_SECTION}`, but the pip: section does not list {pin.name}"
        for pin in pins
        if VIA_PIP_SECTION in pin.via and pin.name not in listed
    ]
    targets = lock.platforms or [p for p, _ in direct.requirements]
    where = dict(direct.where)
    platforms: dict[str, list[str]] = {}
    conda: dict[str, frozenset[str]] = {}
    for platform, lines in direct.requirements:
        if platform not in targets:
            continue
        on = {pin.name: pin for pin in pins if _applies(pin.marker, platform) is not False}  # unknown: counts
        for line in lines:
            problem = _requirement_problem(line, platform, on, direct, conda)
            if problem:
                name = (_requirement(line) or ("",))[0]
                platforms.setdefault(f"{problem} ({where.get(name, 'the pip: section')})", []).append(platform)
    found += [f"{problem} on {', '.join(names)}" for problem, names in platforms.items()]
    unique = list(dict.fromkeys(p for p in found if p))
    return [Stale(PIP_TARGET, path.name, "hand-edited", f"{path}: {problem}") for problem in unique]


def _shown(pin: Pin) -> str:
    return f"{pin.name}=={pin.version}" if pin.url is None else f"{pin.name} @ {pin.url}"


def _hash_problem(pin: Pin) -> str | None:
    bad = [h for h in pin.hashes if not _SHA256.fullmatch(h)]
    if bad:
        return f"{_shown(pin)}: `--hash={bad[0][:80]}` is not a sha256 hash"
    if not pin.hashes:
        return f"{_shown(pin)} has no --hash=sha256: (pip --require-hashes refuses it)"
    return None


def _requirement_problem(
    line: str, platform: str, pins: Mapping[str, Pin], direct: DirectRequirements, conda: dict[str, frozenset[str]]
) -> str | None:
    parsed = _requirement(line)
    if parsed is None or parsed[3] or _applies(parsed[2], platform) is not True:
        return None  # a URL or local project (requirements-unhashed.txt's), or not judged here
    name, specifier, _, _ = parsed
    pin = pins.get(name)
    if pin is None:
        if _from_conda(name, platform, direct, conda):
            return None
        return f"{name}: no pin, but `{line}` asks for it"
    if pin.url is None and specifier:
        allowed = plain_ranges_hold(specifier, pin.version)  # the common shapes without packaging
        if allowed is None:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                allowed = SpecifierSet(specifier).contains(pin.version, prereleases=True)
            except InvalidSpecifier:
                return None
        if not allowed:
            return f"{_shown(pin)} does not satisfy `{line}`"
    return None


def _from_conda(name: str, platform: str, direct: DirectRequirements, read: dict[str, frozenset[str]]) -> bool:
    """Whether conda installs ``name`` on ``platform``: a package of that name in its conda lock, or one
    the conda→PyPI tables map to it (a ``--pypi-mapping`` file of the user's: not judged, True)."""
    if direct.own_mapping:
        return True
    conda = _conda_names(direct, platform, read)
    if any(canonical_name(c) == name for c in conda):
        return True
    from lockgen.pypi.mapping import mapping_channel_name, snapshot_table

    for channel in direct.channels:
        table = snapshot_table(mapping_channel_name(channel) or "")
        if table is None:
            continue
        for conda_name in conda:
            if any(canonical_name(n) == name for n in table.get(conda_name) or ()):
                return True
    return False
