"""``lockgen diff``: what changed between two sets of locks, per platform and for pip.

Each package is added, removed, upgraded, downgraded (conda versions ordered as conda orders
them, pip versions as PEP 440 does) or rebuilt (same version, another build, file or hash: the
labels then show the URL or hash that changed). Pip lines that are not pins (index and
find-links options, anything else pip would read) are entries named ``option: <line>``. Changes
that are the same on every platform present on both sides are also listed once, in
:attr:`DiffResult.common`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import field, replace

from lockgen.models import conda_version_order, package_count
from lockgen.records import dataclass
from lockgen.review.sources import OPTION_PREFIX, DirectSpecs, LockSet, PackageState, ReviewSourceError

__all__ = ["KINDS", "Change", "DiffResult", "Notable", "TargetDiff", "diff_locks"]

KINDS = ("added", "removed", "upgraded", "downgraded", "rebuilt")
PIP = "pip"


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    kind: str
    """One of :data:`KINDS`."""
    old: PackageState | None
    new: PackageState | None
    platforms: tuple[str, ...] = ()
    """For a pip pin: the platforms where it changed so, when not every platform both sides resolved."""

    @property
    def old_label(self) -> str:
        old, _ = self._labels()
        return f"{old} on {', '.join(self.platforms)}" if self.platforms and self.kind == "removed" else old

    @property
    def new_label(self) -> str:
        _, new = self._labels()
        return f"{new} on {', '.join(self.platforms)}" if self.platforms and self.kind != "removed" else new

    def _labels(self) -> tuple[str, str]:
        rebuilt = self.kind == "rebuilt"
        old, new = _label(self.old, rebuilt), _label(self.new, rebuilt)
        if ";" not in self.name:  # keyed by name alone (pinned once a side): the marker is part of the value
            old, new = _with_marker(old, self.old, self.new), _with_marker(new, self.new, self.old)
        if rebuilt and old == new and self.old is not None and self.new is not None:
            # same version and build: what differs is the file's URL or the hash the lock pins
            if self.old.url != self.new.url:
                return f"{old} {self.old.url}", f"{new} {self.new.url}"
            shown = _short(self.old.digest), _short(self.new.digest)
            if shown[0] == shown[1]:  # edited past the shown prefix: the whole hashes, or the row reads "no change"
                shown = self.old.digest or "none", self.new.digest or "none"
            return f"{old} hash {shown[0]}", f"{new} hash {shown[1]}"
        return old, new

    @property
    def build_only(self) -> bool:
        """A conda rebuild of the same version with another build string (a python bump rebuilds many):
        counted on one line unless asked for (``diff -v``). A rebuild whose file or hash changed under the
        same build is not one: that is always listed."""
        old, new = self.old, self.new
        return (
            self.kind == "rebuilt" and old is not None and new is not None
            and bool(old.build) and bool(new.build) and old.build != new.build
        )  # fmt: skip

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.name, self.kind, self.old_label, self.new_label)


def _label(state: PackageState | None, with_build: bool) -> str:
    if state is None:
        return ""
    if with_build and state.build:
        return f"{state.version} ({state.build})"
    return state.version


def _with_marker(label: str, state: PackageState | None, other: PackageState | None) -> str:
    """``label`` with the state's marker, when it has one or the other side's differs (``; all``)."""
    if state is None or (not state.marker and (other is None or not other.marker)):
        return label
    return f"{label} ; {state.marker or 'all platforms'}"


def _short(digest: str) -> str:
    """Enough of a hash (or of several, for pip) to tell two apart at a glance."""
    parts = digest.split()
    if len(parts) > 2:
        return f"{len(parts)} hashes, digest {hashlib.sha256(digest.encode()).hexdigest()[:12]}"
    return " ".join(d[:23] + "…" if len(d) > 24 else d for d in parts) or "none"


@dataclass(frozen=True, slots=True)
class TargetDiff:
    """One platform's lock, or the pip lock (``target == "pip"``)."""

    target: str
    status: str
    """``changed``, ``unchanged``, ``added`` (no lock on the old side) or ``removed`` (none on the new side)."""
    before: int
    after: int
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()
    """For the pip lock: platforms it is no longer, or newly, resolved for."""

    def counts(self, exclude: frozenset[tuple[str, str, str, str]] = frozenset()) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for change in self.changes:
            if change.key not in exclude:
                counts[change.kind] += 1
        return counts

    @property
    def summary(self) -> str:
        if self.status == "added":
            return f"{self.target}: new lock ({package_count(self.after)})"
        if self.status == "removed":
            return f"{self.target}: lock removed (had {package_count(self.before)})"
        if not self.changes and not self.notes:
            return f"{self.target}: no changes ({package_count(self.after)})"
        parts = [f"{n} {kind}" for kind, n in self.counts().items() if n] + list(self.notes)
        return f"{self.target}: {', '.join(parts)} ({self.before} → {package_count(self.after)})"


@dataclass(frozen=True, slots=True)
class Notable:
    """A change the headline names: to a package the environment file names, or a downgrade."""

    name: str
    kind: str
    old: str
    new: str
    targets: tuple[str, ...]
    """The locks (platforms, or ``pip``) where it happened."""
    direct: bool

    @property
    def versions(self) -> str:
        if self.kind == "added":
            return self.new
        if self.kind == "removed":
            return f"(was {self.old})"
        return f"{self.old} → {self.new}"

    @property
    def where(self) -> str:
        """``on osx-64, win-64``; the pip lock as ``(pip)``."""
        platforms = [t for t in self.targets if t != PIP]
        shown = [f"on {', '.join(platforms)}"] if platforms else []
        return " ".join(shown + (["(pip)"] if PIP in self.targets else []))


@dataclass(frozen=True, slots=True)
class DiffResult:
    base: str
    head: str
    targets: tuple[TargetDiff, ...]
    """Conda platforms in name order, then pip when either side has a pip lock."""
    common: tuple[Change, ...]
    """Changes identical on every platform present on both sides (when there are two or more)."""
    direct: DirectSpecs = field(default_factory=DirectSpecs)
    """What either side's environment file named: those rows are the user's own specs."""
    moved: tuple[str, ...] = ()
    """Warnings that the two sides keep their locks in different places ([tool.lockgen] output-dir or
    filename-template changed): a pull request must not move the locks out of the reviewer's sight."""
    why: tuple[tuple[str, ...], ...] = ()
    """"Why not newer" answers (:attr:`lockgen.holdback.HoldBack.lines`) for downgraded named packages."""

    def downgraded_direct(self) -> list[tuple[str, str]]:
        """(package, platform) of every downgrade of a package the environment file names."""
        return [
            (n.name, target) for n in self.notable() if n.direct and n.kind == "downgraded"
            for target in n.targets if target != PIP
        ]  # fmt: skip

    def is_direct(self, target: str, change: Change) -> bool:
        """Whether ``change`` is of a package the environment file names (not only a dependency)."""
        if target == PIP:
            return change.name.split(";", 1)[0] in self.direct.pip
        return change.name in self.direct.conda

    @property
    def changed(self) -> bool:
        return bool(self.moved) or any(t.status != "unchanged" for t in self.targets)

    def notable(self) -> tuple[Notable, ...]:
        """What a reviewer must see first: every change to a package the environment file names, then
        every other downgrade; the same change on several locks once, with their names."""
        grouped: dict[tuple[str, str, str, str], list[str]] = {}
        direct: dict[tuple[str, str, str, str], bool] = {}
        for target in self.targets:
            if target.status != "changed":
                continue
            for change in target.changes:
                named = self.is_direct(target.target, change)
                if named or change.kind == "downgraded":
                    grouped.setdefault(change.key, []).append(target.target)
                    direct[change.key] = named
        found = [Notable(k[0], k[1], k[2], k[3], tuple(where), direct[k]) for k, where in grouped.items()]
        return tuple(sorted(found, key=lambda n: (not n.direct, n.kind != "downgraded", n.name, n.targets)))

    @property
    def common_platforms(self) -> tuple[str, ...]:
        return tuple(t.target for t in self.targets if t.target != PIP and t.status in ("changed", "unchanged"))

    def own_changes(self, target: TargetDiff) -> tuple[Change, ...]:
        """``target``'s changes less those listed once in :attr:`common`."""
        if target.target == PIP or target.status != "changed":
            return target.changes
        shared = {c.key for c in self.common}
        return tuple(c for c in target.changes if c.key not in shared)

    def totals(self) -> dict[str, int]:
        """Headline numbers: each common change counted once, plus every other change."""
        totals = dict.fromkeys(KINDS, 0)
        for change in self.common:
            totals[change.kind] += 1
        for target in self.targets:
            for change in self.own_changes(target):
                totals[change.kind] += 1
        return totals


Compare = Callable[[str, str], int]


_conda_compare: Compare = conda_version_order


def _pip_compare(a: str, b: str) -> int:
    from packaging.version import InvalidVersion, Version

    try:
        left, right = Version(a), Version(b)
    except InvalidVersion:
        return (a > b) - (a < b)
    return (left > right) - (left < right)


def _compare_packages(
    old: Mapping[str, PackageState], new: Mapping[str, PackageState], compare: Compare
) -> tuple[Change, ...]:
    changes: list[Change] = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if before is None:
            changes.append(Change(name, "added", None, after))
        elif after is None:
            changes.append(Change(name, "removed", before, None))
        else:
            order = compare(before.version, after.version) if before.version != after.version else 0
            kind = "upgraded" if order < 0 else "downgraded" if order > 0 else "rebuilt"
            changes.append(Change(name, kind, before, after))
    return tuple(changes)


def _target(
    target: str,
    old: Mapping[str, PackageState] | None,
    new: Mapping[str, PackageState] | None,
    compare: Compare,
) -> TargetDiff:
    changes = _compare_packages(old or {}, new or {}, compare)
    if old is None:
        status = "added"
    elif new is None:
        status = "removed"
    else:
        status = "changed" if changes else "unchanged"
    return TargetDiff(target, status, len(old or {}), len(new or {}), changes)


def _common(targets: list[TargetDiff]) -> tuple[Change, ...]:
    both = [t for t in targets if t.status in ("changed", "unchanged")]
    if len(both) < 2:
        return ()
    shared = {c.key for c in both[0].changes}
    for target in both[1:]:
        shared &= {c.key for c in target.changes}
    return tuple(c for c in both[0].changes if c.key in shared)


def _merge_single_markers(
    old: Mapping[str, PackageState] | None, new: Mapping[str, PackageState] | None
) -> tuple[dict[str, PackageState] | None, dict[str, PackageState] | None]:
    """Key a pip package by name alone when each side pins it once, whatever its marker.

    ``rich==13.9`` becoming ``rich==13.10 ; sys_platform == "linux"`` is an upgrade, not a
    removal and an addition. Packages pinned several times (per platform) keep ``name; marker`` keys.
    """

    def names(side: Mapping[str, PackageState] | None) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for key in side or {}:
            found.setdefault(key.split(";", 1)[0], []).append(key)
        return found

    old_names, new_names = names(old), names(new)

    def rekey(side: Mapping[str, PackageState] | None) -> dict[str, PackageState] | None:
        if side is None:
            return None
        out: dict[str, PackageState] = {}
        for key, state in side.items():
            name = key.split(";", 1)[0]
            single = len(old_names.get(name, [])) <= 1 and len(new_names.get(name, [])) <= 1
            out[name if single else key] = state
        return out

    return rekey(old), rekey(new)


def diff_locks(base: LockSet, head: LockSet) -> DiffResult:
    """Compare ``base`` (old) with ``head`` (new).

    Raises ReviewSourceError when neither side holds a lock file: "no changes" is said only of
    locks that were read."""
    if base.empty and head.empty:
        raise ReviewSourceError(
            f"no lock files to compare: none in {base.where or base.label} nor in {head.where or head.label}."
            " Run lockgen inside the project (it looks for environment.yml or pyproject.toml with"
            " [tool.lockgen] from the working folder up), or name the locks folder with -o"
        )
    targets = [
        _target(platform, base.conda.get(platform), head.conda.get(platform), _conda_compare)
        for platform in sorted(set(base.conda) | set(head.conda))
    ]
    common = _common(targets)
    if base.pip is not None and head.pip is not None and base.pip_platforms and head.pip_platforms:
        targets.append(_pip_by_platform(base.pip, head.pip, base.pip_platforms, head.pip_platforms))
    elif base.pip is not None or head.pip is not None:
        old_pip, new_pip = _merge_single_markers(base.pip, head.pip)
        targets.append(_target(PIP, old_pip, new_pip, _pip_compare))
    moved: tuple[str, ...] = ()
    if base.location and head.location and base.location != head.location:
        moved = (
            f"the locks moved from {base.location} to {head.location} ([tool.lockgen] output-dir or"
            " filename-template changed): each side is read from its own place; check what else is left in the old one",
        )
    moved += _settings_changes(base, head)
    if base.mirrors is not None and head.mirrors is not None and base.mirrors != head.mirrors:
        change = [f"removed {m}" for m in base.mirrors if m not in head.mirrors]
        change += [f"added {m}" for m in head.mirrors if m not in base.mirrors]
        moved += (f"[tool.lockgen] mirrors changed: {'; '.join(change)} (`lockgen install` downloads through them)",)
    return DiffResult(base.label, head.label, tuple(targets), common, base.direct | head.direct, moved)


def _settings_changes(base: LockSet, head: LockSet) -> tuple[str, ...]:
    """One warning per distinct change of the solve options a platform's lock records (``check`` and
    a plain ``lock`` reuse them): ``options changed on linux-64, win-64: channel-priority=strict →
    channel-priority=flexible; added virtual-package __cuda=12.6=0``."""
    by_change: dict[str, list[str]] = {}
    for platform in sorted(set(base.settings) & set(head.settings)):
        old, new = base.settings[platform], head.settings[platform]
        if old == new:
            continue
        old_keys = {item.split("=", 1)[0]: item for item in old if not item.startswith("virtual-package ")}
        new_keys = {item.split("=", 1)[0]: item for item in new if not item.startswith("virtual-package ")}
        parts = [f"{old_keys[k]} → {new_keys[k]}" for k in old_keys if k in new_keys and old_keys[k] != new_keys[k]]
        parts += [f"removed {old_keys[k]}" for k in old_keys if k not in new_keys]
        parts += [f"added {new_keys[k]}" for k in new_keys if k not in old_keys]
        old_virtual = [v for v in old if v.startswith("virtual-package ")]
        new_virtual = [v for v in new if v.startswith("virtual-package ")]
        parts += [f"removed {v}" for v in old_virtual if v not in new_virtual]
        parts += [f"added {v}" for v in new_virtual if v not in old_virtual]
        by_change.setdefault("; ".join(parts), []).append(platform)
    return tuple(
        f"solve options changed on {', '.join(platforms)}: {change} (`check` and a plain `lock` reuse what"
        " a lock records)"
        for change, platforms in by_change.items()
        if change
    )


def _applies(marker: str, platform: str) -> bool:
    """Whether a pin's marker holds on ``platform`` (lockgen writes platform markers only; anything it
    cannot judge counts as applying)."""
    if not marker:
        return True
    from packaging.markers import InvalidMarker, Marker, UndefinedEnvironmentName, default_environment

    from lockgen.platforms import marker_terms

    environment: dict[str, str] = {**default_environment(), **marker_terms(platform)}  # type: ignore[dict-item]
    try:
        return Marker(marker).evaluate(environment)
    except (InvalidMarker, UndefinedEnvironmentName):
        return True


def _by_platform(
    side: Mapping[str, PackageState], platforms: tuple[str, ...]
) -> tuple[dict[str, dict[str, PackageState]], dict[str, PackageState]]:
    """A pip lock's pins as name → platform → pin (markers evaluated), and its option lines."""
    pins: dict[str, dict[str, PackageState]] = {}
    options: dict[str, PackageState] = {}
    for key, state in side.items():
        if key.startswith(OPTION_PREFIX):
            options[key] = state
            continue
        name = key.split(";", 1)[0].strip()
        for platform in platforms:
            if _applies(state.marker, platform):
                pins.setdefault(name, {})[platform] = replace(state, marker="")
    return pins, options


def _pip_by_platform(
    old: Mapping[str, PackageState],
    new: Mapping[str, PackageState],
    old_platforms: tuple[str, ...],
    new_platforms: tuple[str, ...],
) -> TargetDiff:
    """The pip lock compared platform by platform (like conda's): a package's change listed once with the
    platforms it happened on; a platform no longer (or newly) resolved said once, not as marker churn."""
    old_pins, old_options = _by_platform(old, old_platforms)
    new_pins, new_options = _by_platform(new, new_platforms)
    both = tuple(p for p in new_platforms if p in old_platforms)
    changes: list[Change] = []
    for name in sorted(set(old_pins) | set(new_pins)):
        grouped: dict[tuple[str, str, str], list[str]] = {}
        first: dict[tuple[str, str, str], Change] = {}
        for platform in both:
            before, after = old_pins.get(name, {}).get(platform), new_pins.get(name, {}).get(platform)
            if before == after:
                continue
            was, now = ({name: before} if before else {}), ({name: after} if after else {})
            (change,) = _compare_packages(was, now, _pip_compare)
            key = (change.kind, change.old_label, change.new_label)
            grouped.setdefault(key, []).append(platform)
            first.setdefault(key, change)
        for key, where in grouped.items():
            shown = () if len(where) == len(both) else tuple(where)
            changes.append(replace(first[key], platforms=shown))
    changes += _compare_packages(old_options, new_options, _pip_compare)
    notes = []
    for platform in (p for p in new_platforms if p not in old_platforms):
        here = {n: v[platform] for n, v in new_pins.items() if platform in v}
        own = sorted(n for n, state in here.items() if all(new_pins[n].get(p) != state for p in both))
        mine = f"; its own: {', '.join(f'{n} {here[n].version}' for n in own)}" if own and both else ""
        notes.append(f"{platform} now resolved ({package_count(len(here))}{mine})")
    for platform in (p for p in old_platforms if p not in new_platforms):
        gone = sum(1 for v in old_pins.values() if platform in v)
        notes.append(f"{platform} no longer resolved (its {package_count(gone)} gone)")
    status = "changed" if changes or notes else "unchanged"
    return TargetDiff(PIP, status, len(old), len(new), tuple(changes), tuple(notes))
