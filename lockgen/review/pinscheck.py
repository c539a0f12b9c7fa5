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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.lockfiles.lockdir import read_lock_file
from lockgen.lockfiles.requirements import VIA_PIP_SECTION, Pin, RequirementsLock
from lockgen.plan import LockPlan
from lockgen.review.stale import PIP_TARGET, Stale

if TYPE_CHECKING:
    from packaging.markers import Marker

__all__ = ["DirectRequirements", "direct_requirements", "pin_problems"]

_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_PYTHON = re.compile(r"^# (?P<platform>[\w-]+): against .*?, Python (?P<version>\d+\.\d+(?:\.\d+)?),")


@dataclass(frozen=True, slots=True)
class DirectRequirements:
    """What requirements.txt must pin, per platform (from the pip: section, read without the network)."""

    requirements: tuple[tuple[str, tuple[str, ...]], ...]
    """Platform → the requirement lines of its pip: section (``-r`` files included)."""
    where: tuple[tuple[str, str], ...]
    """A requirement's canonical name → its ``file:line``."""
    conda: tuple[tuple[str, frozenset[str]], ...]
    """Platform → the package names of its conda lock (conda installs those; requirements.txt leaves them out)."""
    channels: tuple[str, ...]
    """The conda channels: their conda→PyPI tables name what conda installs under another name."""
    own_mapping: bool
    """A ``--pypi-mapping`` file decides the names: a requirement without a pin is not judged."""


def direct_requirements(pip_targets: LockPlan, inputs: Sequence[tuple[str, tuple[str, ...]]]) -> DirectRequirements:
    names: dict[str, str] = {}
    for platform in pip_targets.platforms:
        for entry in pip_targets.spec.pip_entries(platform.platform):
            name = _name(entry.text)
            if name is not None:
                names.setdefault(name, str(entry.location))
    conda = []
    for platform in pip_targets.platforms:
        lock = read_lock_file(pip_targets.options.output_dir / platform.lock_name, platform.platform).lock
        conda.append((platform.platform, frozenset(e.name for e in lock.entries) if lock else frozenset()))
    channels = tuple(dict.fromkeys(c.written for p in pip_targets.platforms for c in p.request.channels))
    own = pip_targets.options.pypi_mapping is not None
    return DirectRequirements(tuple(inputs), tuple(names.items()), tuple(conda), channels, own)


def _name(text: str) -> str | None:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(Requirement(text.split(" #", 1)[0].strip()).name)
    except InvalidRequirement:
        return None


def pin_problems(path: Path, lock: RequirementsLock, direct: DirectRequirements) -> list[Stale]:
    """Each direct requirement not pinned as it asks, each pin without a well-formed sha256, each pin
    that claims the pip: section without being listed there: the pin or requirement first."""
    from lockgen.pypi.targets import pins_on

    pins = lock.pins()
    found = [_hash_problem(pin) for pin in pins]
    listed = {name for _, lines in direct.requirements for line in lines if (name := _name(line))}
    found += [
        f"{_shown(pin)} says `# via {VIA_PIP_SECTION}`, but the pip: section does not list {pin.name}"
        for pin in pins
        if VIA_PIP_SECTION in pin.via and pin.name not in listed
    ]
    by_platform = pins_on(pins, lock.platforms or [p for p, _ in direct.requirements])
    pythons = {m["platform"]: m["version"] for line in lock.header if (m := _PYTHON.match(line))}
    where = dict(direct.where)
    platforms: dict[str, list[str]] = {}
    for platform, lines in direct.requirements:
        if platform not in by_platform:
            continue
        on = {pin.name: pin for pin in by_platform[platform]}
        for line in lines:
            problem = _requirement_problem(line, platform, on, direct, pythons.get(platform))
            if problem:
                platforms.setdefault(f"{problem} ({where.get(_name(line) or '', 'the pip: section')})", []).append(
                    platform
                )
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
    line: str, platform: str, pins: Mapping[str, Pin], direct: DirectRequirements, python: str | None
) -> str | None:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        return None  # a URL or a local project: requirements-unhashed.txt's
    applies = requirement.marker is None or _marker_holds(requirement.marker, platform, python)
    if requirement.url or not applies:
        return None
    name = canonicalize_name(requirement.name)
    pin = pins.get(name)
    if pin is None:
        return (
            None
            if _from_conda(name, dict(direct.conda).get(platform, frozenset()), direct)
            else (f"{name}: no pin, but `{line}` asks for it")
        )
    if pin.url is None and requirement.specifier and not requirement.specifier.contains(pin.version, prereleases=True):
        return f"{_shown(pin)} does not satisfy `{line}`"
    return None


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_WORD = re.compile(r"[a-z_]+")


def _marker_names(marker: Marker) -> set[str]:
    """The variables a marker names (its words outside quotes, but ``and``, ``or``, ``in``, ``not``)."""
    return set(_WORD.findall(_QUOTED.sub(" ", str(marker)))) - {"and", "or", "in", "not"}


_KNOWN = frozenset({"python_version", "python_full_version", "sys_platform", "platform_machine"})


def _marker_holds(marker: Marker, platform: str, python: str | None) -> bool:
    """Whether ``marker`` holds on ``platform``: False (not judged) when it names a variable the
    lock does not record for the platform (``platform_system``, ``implementation_name``, ...)."""
    from packaging.markers import UndefinedEnvironmentName

    from lockgen.platforms import marker_terms

    if python is None or not _marker_names(marker) <= _KNOWN:
        return False
    environment = {"python_version": ".".join(python.split(".")[:2]), "python_full_version": python}
    environment |= marker_terms(platform)
    if _marker_names(marker) - set(environment):
        return False
    try:
        return bool(marker.evaluate(environment))
    except UndefinedEnvironmentName:
        return False


def _from_conda(name: str, conda: frozenset[str], direct: DirectRequirements) -> bool:
    """Whether conda installs ``name`` on the platform: a conda package of that name, or one the
    conda→PyPI tables map to it (a ``--pypi-mapping`` file of the user's: not judged, True)."""
    from packaging.utils import canonicalize_name

    if direct.own_mapping or any(canonicalize_name(c) == name for c in conda):
        return True
    from lockgen.pypi.mapping import mapping_channel_name, snapshot_table

    for channel in direct.channels:
        table = snapshot_table(mapping_channel_name(channel) or "")
        if table is None:
            continue
        for conda_name in conda:
            if any(canonicalize_name(n) == name for n in table.get(conda_name) or ()):
                return True
    return False
