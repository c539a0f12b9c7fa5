"""``lockgen lock --from``: start from a lock lockgen did not write (conda-lock's, or explicit files).

Its pins become the previous lock, exactly as lockgen's own previous locks are used: conda pins
are the solver's preferred (locked) packages, pip pins the resolver's preferences. After the
solve, :func:`summarize` says per platform how many pins were kept, which moved and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InputError, Problem
from lockgen.frompins import PreviousPins, read_pins
from lockgen.lockfiles import ExplicitEntry, ExplicitLock, MalformedLock
from lockgen.lockfiles.requirements import Pin, PreviousLock, parse_compiled
from lockgen.models import LockedPackage, PackageUrl
from lockgen.records import dataclass

if TYPE_CHECKING:
    from lockgen.conda import PinnedOffers

__all__ = ["PlatformOutcome", "PlatformSeed", "SolveFacts", "load_pins", "pip_previous", "summarize"]


def load_pins(path: Path) -> PreviousPins:
    """Read ``--from``; a file that is not a lock is an input error naming it."""
    try:
        return read_pins(path)
    except MalformedLock as exc:
        raise InputError([Problem(f"--from: {exc}")]) from exc


def _platform_marker(platform: str) -> str | None:
    from lockgen.errors import PypiResolutionError
    from lockgen.pypi.targets import pip_target

    try:
        target = pip_target(platform, [("python", "3")], ())
    except PypiResolutionError:
        return None
    return f'sys_platform == "{target.sys_platform}" and platform_machine == "{target.platform_machine}"'


def pip_previous(pins: PreviousPins) -> PreviousLock | None:
    """The pip pins as lockgen's previous requirements.txt: one ``name==version`` per platform, by marker."""
    from packaging.utils import canonicalize_name

    found: list[Pin] = []
    for platform, pinned in sorted(pins.pip.items()):
        marker = _platform_marker(platform)
        if marker is None:
            continue
        for pin in pinned:
            if pin.version and not pin.vcs:  # a VCS pin is pinned by its URL, not a version
                found.append(Pin(canonicalize_name(pin.name), pin.version, None, (), marker))
    return PreviousLock(None, tuple(found)) if found else None


@dataclass(frozen=True, slots=True)
class PlatformSeed:
    """What one platform's new solution did with the pins it started from."""

    platform: str
    kept: int
    total: int
    moved: tuple[str, ...]
    dropped: tuple[str, ...]
    added: tuple[str, ...]

    def lines(self, kind: str) -> list[str]:
        head = f"{self.platform}: {self.kept} of {self.total} {kind} pins kept"
        if self.total and self.kept == self.total and not self.added:
            return [head]
        extra = []
        if self.moved:
            down = sum(1 for m in self.moved if m.startswith("DOWNGRADE "))
            extra.append(f"{len(self.moved)} moved" + (f", {down} of them down" if down else ""))
        if self.dropped:
            extra.append(f"{len(self.dropped)} no longer needed")
        if self.added:
            extra.append(f"{len(self.added)} added")
        out = [f"{head} ({', '.join(extra)})" if extra else head]
        out += [f"  moved {m}" for m in self.moved]
        out += [f"  dropped {d}: no longer required" for d in self.dropped]
        out += [f"  added {a}" for a in self.added]
        return out


def _spec_excludes(specs: Sequence[tuple[str, str]], name: str, version: str, build: str, subdir: str) -> str | None:
    """The environment's spec (with where it was written) that the old pin fails, if any."""
    from lockgen.matchspec import spec_matches

    for spec, origin in specs:
        if spec_matches(spec, name, version, build, subdir) is False:
            return f"{origin} `{spec}` excludes it"
    return None


@dataclass(frozen=True, slots=True)
class SolveFacts:
    """What the new solve of one platform saw, to give each moved pin its true reason."""

    specs: tuple[tuple[str, str], ...] = ()
    """(spec, where it was written) of the environment."""
    virtual: tuple[str, ...] = ()
    offers: PinnedOffers | None = None
    """The channels' records for the pinned files (None: not known, e.g. a solver that does not say)."""
    channels: tuple[str, ...] = ()
    """Canonical channel URLs, in priority order."""
    channel_priority: str = "strict"
    exclude_newer: dt.datetime | None = None


FLEXIBLE = "--channel-priority flexible"


def _channel_of(url: str) -> str:
    return PackageUrl.parse(url).channel


def _channel_name(canonical: str) -> str:
    return canonical.removeprefix("https://conda.anaconda.org/")


def _moved_reason(  # noqa: PLR0911
    entry: ExplicitEntry,
    new: Mapping[str, LockedPackage],
    facts: SolveFacts,
    virtual_needs: Mapping[str, tuple[str, ...]],
    recorded: Mapping[str, tuple[tuple[str, str], ...]],
) -> str:
    """Why the pinned ``entry`` could not be kept, most specific cause first."""
    from lockgen.matchspec import spec_matches

    name = entry.name
    why = _spec_excludes(facts.specs, name, entry.version, entry.build, entry.subdir)
    if why is not None:
        return why
    missing = [v for v in virtual_needs.get(entry.url, ()) if v not in facts.virtual]
    if missing:
        hint = " (lock with --cuda VERSION)" if "__cuda" in missing else ""
        return f"it needs {', '.join(missing)}, which lockgen does not assume for this target{hint}"
    if facts.offers is None:
        return (
            "forced by the other moves, or that file is not offered by the channels (or is newer than --exclude-newer)"
        )
    channel = _channel_of(entry.url)
    offered = next((r for r in facts.offers.records if r.url == entry.url), None)
    if offered is None:
        if channel not in facts.channels:
            return f"its channel {_channel_name(channel)} is not among the environment's channels"
        return f"channel {_channel_name(channel)} no longer offers {entry.file_name} (missing file)"
    if facts.exclude_newer is not None and offered.timestamp_ms is not None:
        uploaded = dt.datetime.fromtimestamp(offered.timestamp_ms / 1000, dt.timezone.utc)
        if uploaded > facts.exclude_newer:
            return (
                f"{entry.file_name} was uploaded {uploaded:%Y-%m-%d %H:%M}Z, after --exclude-newer"
                f" {facts.exclude_newer:%Y-%m-%d %H:%M}Z"
            )
    owners = dict(facts.offers.channels).get(name, ())
    if facts.channel_priority == "strict" and owners and owners[0] != channel:
        return (
            f"it comes from {_channel_name(channel)}, but {_channel_name(owners[0])}, listed first, also has"
            f" {name}: strict channel priority takes {name} from there only; it needs {FLEXIBLE}"
            " (conda's default, which your conda-lock used)"
        )
    before = dict(recorded.get(entry.url, ()))
    unfit = []
    for dep in offered.depends:
        parts = dep.split()
        target = new.get(parts[0]) if parts else None
        if target is not None and spec_matches(dep, target.name, target.version, target.build, target.subdir) is False:
            patched = entry.url in recorded and before.get(parts[0]) != " ".join(parts[1:2])
            unfit.append((not patched, dep, target))  # a patched dependency first: the lock could not foresee it
    for unpatched, dep, target in sorted(unfit, key=lambda item: item[0]):
        fits = f"which {target.name} {target.version} {target.build} does not fit"
        if not unpatched:
            name_of = dep.split()[0]
            was = f"`{name_of} {before[name_of]}`".replace(" `", "`") if name_of in before else "nothing"
            return (
                f"the channel changed the metadata of {name} {entry.version} {entry.build}: it now needs `{dep}`"
                f" (the lock recorded {was}), {fits}"
            )
        return f"its dependency `{dep}` does not fit {target.name} {target.version} {target.build}"
    return "forced by the other moves (every pinned file is offered and fits its own specs)"


def flexible_pins(seed: ExplicitLock, facts: SolveFacts) -> list[str]:
    """Names pinned from a channel below another channel that also has them: conda's flexible
    priority chose them; lockgen's strict default would not (a pin keeps them only while it holds)."""
    if facts.offers is None or facts.channel_priority != "strict":
        return []
    owners = dict(facts.offers.channels)
    found = []
    for entry in seed.entries:
        listed = owners.get(entry.name, ())
        if len(listed) > 1 and _channel_of(entry.url) in listed[1:]:
            found.append(entry.name)
    return sorted(set(found))


def flexible_note(names: Sequence[str]) -> str:
    return (
        f"{len(names)} pins need {FLEXIBLE} (conda's default, which your conda-lock used):"
        f" {', '.join(names[:8])}{' ...' if len(names) > 8 else ''} come from a channel listed after another"
        " that also has them, which lockgen's strict default does not choose from (a pin is kept only while"
        f" nothing moves it); lock with {FLEXIBLE} (or [tool.lockgen] channel-priority = \"flexible\")"
    )


def summarize_conda(
    platform: str,
    seed: ExplicitLock,
    solution: Sequence[LockedPackage],
    facts: SolveFacts,
    *,
    optional: Sequence[str] = (),
    virtual_needs: Mapping[str, tuple[str, ...]] | None = None,
    recorded: Mapping[str, tuple[tuple[str, str], ...]] | None = None,
) -> PlatformSeed:
    """Kept / moved / dropped pins; ``optional`` pins (conda-lock's dev/extras) count only when still used."""
    from lockgen.conda import version_lower

    new = {p.name: p for p in solution}
    old = {e.name: e for e in seed.entries if e.name in new or e.name not in optional}
    kept = sum(1 for e in old.values() if e.name in new and new[e.name].file_name == e.file_name)
    moved = []
    for name in sorted(set(old) & set(new)):
        entry, package = old[name], new[name]
        if package.file_name == entry.file_name:
            continue
        before = f"{entry.version} {entry.build}".strip()
        after = f"{package.version} {package.build}"
        why = _moved_reason(entry, new, facts, virtual_needs or {}, recorded or {})
        down = "DOWNGRADE " if version_lower(package.version, entry.version) else ""
        moved.append(f"{down}{name} {before} -> {after}: {why}")
    return PlatformSeed(
        platform,
        kept,
        len(old),
        tuple(moved),
        tuple(sorted(set(old) - set(new))),
        tuple(sorted(set(new) - set(old))),
    )


def _marker_true(pin: Pin, environment: Mapping[str, str] | None) -> bool:
    if pin.marker is None or environment is None:
        return True
    from packaging.markers import InvalidMarker, Marker

    try:
        return Marker(pin.marker).evaluate(dict(environment))
    except InvalidMarker:
        return True


def _pip_excludes(lines: Sequence[tuple[str, str]], name: str, version: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    for text, origin in lines:
        try:
            requirement = Requirement(text.split(" #", 1)[0].strip())
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) == name and not requirement.specifier.contains(
            version, prereleases=True
        ):
            return f"{origin} `{text}` excludes it"
    return "forced by the other moves or by conda's packages, or no longer on the index"


def _vcs_commits(unhashed: bytes | None, environment: Mapping[str, str] | None) -> dict[str, str]:
    """Name → commit of the VCS lines of requirements-unhashed.txt that apply to the platform."""
    from packaging.utils import canonicalize_name

    from lockgen.frompins import url_commit
    from lockgen.lockfiles.unhashed import read_unhashed

    if not unhashed:
        return {}
    found: dict[str, str] = {}
    for line in read_unhashed(unhashed.decode("utf-8", "replace")).lines:
        if line.name and line.url and _marker_true(Pin(line.name, "", None, (), line.marker), environment):
            found[canonicalize_name(line.name)] = url_commit(line.url) or line.url
    return found


def summarize_pip(  # noqa: PLR0917
    platform: str,
    pins: PreviousPins,
    requirements: bytes | None,
    environment: Mapping[str, str] | None,
    lines: Sequence[tuple[str, str]] = (),
    unhashed: bytes | None = None,
) -> PlatformSeed | None:
    from packaging.utils import canonicalize_name

    pinned = pins.pip.get(platform, ())
    old = {canonicalize_name(p.name): p.version for p in pinned if not p.vcs}
    old_vcs = {canonicalize_name(p.name): p.commit or p.url or "" for p in pinned if p.vcs}
    if not old and not old_vcs:
        return None
    text = requirements.decode("utf-8", "replace") if requirements else ""
    new = {p.name: p.version for p in parse_compiled(text) if _marker_true(p, environment)}
    new_vcs = _vcs_commits(unhashed, environment)
    kept = sum(1 for name, version in old.items() if new.get(name) == version)
    kept += sum(1 for name, commit in old_vcs.items() if new_vcs.get(name) == commit)
    moved = [
        f"{name} {old[name]} -> {new[name]}: {_pip_excludes(lines, name, old[name])}"
        for name in sorted(set(old) & set(new))
        if new[name] != old[name]
    ]
    moved += [
        f"{name} @ {commit[:12]} -> {new_vcs[name][:12]}: environment.yml's VCS URL names another commit now"
        " (lockgen resolves it again; pin the commit in the URL to keep it)"
        for name, commit in sorted(old_vcs.items())
        if name in new_vcs and new_vcs[name] != commit
    ]
    old_names, new_names = set(old) | set(old_vcs), set(new) | set(new_vcs)
    return PlatformSeed(
        platform,
        kept,
        len(old_names),
        tuple(moved),
        tuple(sorted(old_names - new_names)),
        tuple(sorted(new_names - old_names)),
    )


@dataclass(frozen=True, slots=True)
class PlatformOutcome:
    """What one target platform of a ``--from`` run came to, as :func:`summarize` reads it."""

    platform: str
    solution: tuple[LockedPackage, ...] | None
    """Its new conda solution; None when it was not solved (a failed run summarizes the others)."""
    facts: SolveFacts = SolveFacts()
    marker_environment: Mapping[str, str] | None = None
    """Its pip marker environment, to tell which requirements.txt lines apply (None: not known)."""
    pip_lines: tuple[tuple[str, str], ...] = ()
    """The ``pip:`` lines that apply to it: (text, where it is written)."""


def summarize(
    pins: PreviousPins,
    outcomes: Sequence[PlatformOutcome],
    requirements: bytes | None,
    unhashed: bytes | None = None,
    listed: Sequence[str] = (),
) -> tuple[str, ...]:
    """The lines ``lockgen lock --from`` prints: per platform, pins kept / moved (and why) / dropped."""
    lines = [f"started from {pins.source}:"]
    total = kept = 0
    flexible: set[str] = set()
    for outcome in outcomes:
        platform, solution = outcome.platform, outcome.solution
        seed = pins.conda.get(platform)
        if seed is None or not seed.entries:
            if solution is not None:
                lines.append(f"{platform}: no pins in {pins.source}; solved from the specs alone")
            continue
        optional = dict(pins.optional.get(platform, ()))
        solved = {p.name for p in solution or ()}
        if solution is not None:
            result = summarize_conda(
                platform,
                seed,
                solution,
                outcome.facts,
                optional=tuple(optional),
                virtual_needs=pins.virtual_needs,
                recorded=pins.recorded,
            )
            total, kept = total + result.total, kept + result.kept
            lines += result.lines("conda")
            flexible |= set(flexible_pins(seed, outcome.facts))
        pip = summarize_pip(platform, pins, requirements, outcome.marker_environment, outcome.pip_lines, unhashed)
        if pip is not None:
            total, kept = total + pip.total, kept + pip.kept
            lines += pip.lines("pip")
        unused = [f"{name} ({category})" for name, category in sorted(optional.items()) if name not in solved]
        if unused:
            lines.append(
                f"  not used: {len(unused)} pins of conda-lock's optional categories (lockgen locks one environment;"
                " lock dev packages with -f environment.yml -f dev.yml): "
                + ", ".join(unused[:8])
                + (" ..." if len(unused) > 8 else "")
            )
    targets = {outcome.platform for outcome in outcomes}
    others = [p for p in pins.platforms if p not in targets]
    chosen = [p for p in others if p in listed]  # listed, but -p chose other platforms this run
    if chosen:
        lines.append(f"not locked this run: {', '.join(chosen)} (listed in `platforms:`, but -p chose others)")
    if unlisted := [p for p in others if p not in listed]:
        lines.append(
            f"not locked: {', '.join(unlisted)} (in {pins.source} but not a target; add them to `platforms:`"
            " in environment.yml or [tool.lockgen], or pass -p)"
        )
    if total:
        lines.append(f"kept {kept} of {total} pins ({100 * kept // total}%)")
    if flexible:
        lines.append(flexible_note(sorted(flexible)))
    return tuple(lines)
