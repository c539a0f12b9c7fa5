"""``lockgen lock --from``: start from a lock lockgen did not write (conda-lock's, or explicit files).

Its pins become the previous lock, exactly as lockgen's own previous locks are used: conda pins
are the solver's preferred (locked) packages, pip pins the resolver's preferences. After the
solve, :func:`summarize` says per platform how many pins were kept, which moved and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lockgen.errors import InputError, Problem
from lockgen.lockfiles import ExplicitLock
from lockgen.lockfiles.condalock import CondaLockFormatError, PreviousPins, read_pins
from lockgen.models import LockedPackage
from lockgen.pypi.requirements import Pin, PreviousLock, parse_compiled

__all__ = ["PlatformSeed", "load_pins", "pip_previous", "summarize"]


def load_pins(path: Path) -> PreviousPins:
    """Read ``--from``; a file that is not a lock is an input error naming it."""
    try:
        return read_pins(path)
    except CondaLockFormatError as exc:
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
            extra.append(f"{len(self.moved)} moved")
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
    from lockgen.conda import spec_matches

    for spec, origin in specs:
        if spec_matches(spec, name, version, build, subdir) is False:
            return f"{origin} `{spec}` excludes it"
    return None


def summarize_conda(
    platform: str,
    seed: ExplicitLock,
    solution: Sequence[LockedPackage],
    specs: Sequence[tuple[str, str]],
    *,
    optional: Sequence[str] = (),
    virtual_needs: Mapping[str, tuple[str, ...]] | None = None,
    virtual: Sequence[str] = (),
) -> PlatformSeed:
    """Kept / moved / dropped pins; ``optional`` pins (conda-lock's dev/extras) count only when still used."""
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
        why = _spec_excludes(specs, name, entry.version, entry.build, entry.subdir)
        missing = [v for v in (virtual_needs or {}).get(entry.url, ()) if v not in virtual]
        if why is None and missing:
            hint = " (lock with --cuda VERSION)" if "__cuda" in missing else ""
            why = f"it needs {', '.join(missing)}, which lockgen does not assume for this target{hint}"
        if why is None:
            why = (
                "forced by the other moves, or that file is not offered by the channels"
                " (or is newer than --exclude-newer)"
            )
        moved.append(f"{name} {before} -> {after}: {why}")
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

    from lockgen.lockfiles.condalock import url_commit
    from lockgen.lockfiles.requirements import read_unhashed

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


def summarize(  # noqa: PLR0917
    pins: PreviousPins,
    targets: Sequence[str],
    solutions: Mapping[str, Sequence[LockedPackage]],
    specs: Mapping[str, Sequence[tuple[str, str]]],
    requirements: bytes | None,
    environments: Mapping[str, Mapping[str, str] | None],
    pip_lines: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    virtual: Mapping[str, Sequence[str]] | None = None,
    unhashed: bytes | None = None,
) -> tuple[str, ...]:
    """The lines ``lockgen lock --from`` prints: per platform, pins kept / moved (and why) / dropped."""
    lines = [f"started from {pins.source}:"]
    total = kept = 0
    for platform in targets:
        seed = pins.conda.get(platform)
        if seed is None or not seed.entries:
            lines.append(f"{platform}: no pins in {pins.source}; solved from the specs alone")
            continue
        optional = dict(pins.optional.get(platform, ()))
        solved = {p.name for p in solutions.get(platform, ())}
        if platform in solutions:
            result = summarize_conda(
                platform,
                seed,
                solutions[platform],
                specs.get(platform, ()),
                optional=tuple(optional),
                virtual_needs=pins.virtual_needs,
                virtual=(virtual or {}).get(platform, ()),
            )
            total, kept = total + result.total, kept + result.kept
            lines += result.lines("conda")
        pip = summarize_pip(
            platform, pins, requirements, environments.get(platform), (pip_lines or {}).get(platform, ()), unhashed
        )
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
    others = [p for p in pins.platforms if p not in targets]
    if others:
        lines.append(
            f"not locked: {', '.join(others)} (in {pins.source} but not a target; add them to `platforms:`"
            " in environment.yml or [tool.lockgen], or pass -p)"
        )
    if total:
        lines.append(f"kept {kept} of {total} pins ({100 * kept // total}%)")
    return tuple(lines)
