"""What ``locks/requirements.txt`` holds per platform: counts, and the pins that differ between platforms.

Read back from the file's text (the same text whether it was just resolved or kept as it was), so
`lock` can say it in its summary: a version that only one platform got (a wheel missing for an
older macOS, a dependency conda pins differently) is written with a marker and is easy to miss.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from lockgen.lockfiles.requirements import Pin, parse_compiled
from lockgen.models import package_count
from lockgen.pipsyntax import marker_applies, plain_release
from lockgen.platforms import marker_terms
from lockgen.records import dataclass

if TYPE_CHECKING:
    from packaging.version import Version

__all__ = ["Divergence", "PipSummary", "summarize_requirements"]

_PLATFORMS_LINE = re.compile(r"^# platforms: (?P<platforms>.+)$", re.MULTILINE)
_MACOS_LINE = re.compile(r"^# (?P<platform>\S+): against .*\(macOS (?P<macos>[\d.]+)\)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Divergence:
    """A package pinned to different versions (or files) on different platforms."""

    name: str
    versions: tuple[tuple[str, tuple[str, ...]], ...]
    """(version, the platforms that got it), newest first."""
    missing: tuple[str, ...] = ()
    """Platforms that do not get the package at all."""
    note: str = ""
    """A fact that may explain it (the macOS version a platform is resolved for)."""

    def __str__(self) -> str:
        parts = [f"{version} on {', '.join(platforms)}" for version, platforms in self.versions]
        if self.missing:
            parts.append(f"none on {', '.join(self.missing)}")
        text = f"{self.name}: {'; '.join(parts)}"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True, slots=True)
class PipSummary:
    counts: tuple[tuple[str, int], ...]
    """(platform, number of pip packages it installs), in the file's platform order."""
    divergent: tuple[Divergence, ...]
    only_some: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(package, platforms) for packages at one version that only some platforms install."""

    @property
    def headline(self) -> str:
        counts = {n for _, n in self.counts}
        if len(self.counts) == 1:
            return f"pip: {package_count(self.counts[0][1])} on {self.counts[0][0]}"
        if len(counts) == 1:
            return f"pip: {package_count(self.counts[0][1])} on each of {', '.join(p for p, _ in self.counts)}"
        return "pip: " + ", ".join(f"{package_count(n)} on {p}" for p, n in self.counts)

    def lines(self, changed: bool = True) -> list[str]:
        """The headline, then one line per divergent pin and per platform-specific package group;
        when the file did not change (``changed`` False), the headline and one line counting them:
        the details are said once, when they change, not on every run."""
        out = [self.headline]
        if not changed:
            differ = len(self.divergent) + len(self.only_some)
            if differ:
                verb = "pin differs" if differ == 1 else "pins differ"
                out.append(f"  {differ} {verb} between platforms (listed when requirements.txt changes)")
            return out
        if self.divergent:
            out.append("  versions differ between platforms:")
            out += [f"    {d}" for d in self.divergent]
        by_platforms: dict[tuple[str, ...], list[str]] = {}
        for name, platforms in self.only_some:
            by_platforms.setdefault(platforms, []).append(name)
        out += [f"  only on {', '.join(p)}: {', '.join(names)}" for p, names in by_platforms.items()]
        return out


def _applies(pin: Pin, environment: Mapping[str, str]) -> bool:
    if not pin.marker:
        return True
    applies = marker_applies(pin.marker, environment)  # lockgen's own markers: packaging.markers not imported
    if applies is not None:
        return applies
    from packaging.markers import InvalidMarker, Marker

    try:
        return Marker(pin.marker).evaluate(dict(environment))
    except InvalidMarker:
        return True


def _newest_first(versions: Iterable[str]) -> list[str]:
    """``versions`` (and URLs, after every version) newest first, in packaging's order; versions of
    digits and dots alone are ordered without importing it (Round 8): by their releases without
    trailing zeros, where packaging's order of such versions is decided."""
    listed = list(versions)
    releases = [plain_release(v) for v in listed]
    plain = [r for r in releases if r is not None]
    if len(plain) == len(listed):
        trimmed = {v: _trimmed(r) for v, r in zip(listed, plain, strict=True)}
        return sorted(listed, key=trimmed.__getitem__, reverse=True)
    from packaging.version import InvalidVersion, Version

    def key(text: str) -> tuple[int, Version | str]:
        try:
            return (1, Version(text))
        except InvalidVersion:
            return (0, text)  # a URL pin: after every version

    return sorted(listed, key=key, reverse=True)


def _trimmed(release: tuple[int, ...]) -> tuple[int, ...]:
    end = len(release)
    while end and release[end - 1] == 0:
        end -= 1
    return release[:end]


def summarize_requirements(text: str) -> PipSummary | None:
    """The summary of a requirements.txt lockgen wrote; None when it names no platforms."""
    found = _PLATFORMS_LINE.search(text)
    if found is None:
        return None
    platforms = [p.strip() for p in found.group("platforms").split(",") if p.strip()]
    macos = {m.group("platform"): m.group("macos") for m in _MACOS_LINE.finditer(text)}
    pins = parse_compiled(text)
    per_platform: dict[str, dict[str, str]] = {}
    for platform in platforms:
        environment = marker_terms(platform)
        per_platform[platform] = {
            pin.name: pin.version or (pin.url or "") for pin in pins if _applies(pin, environment)
        }
    divergent: list[Divergence] = []
    only_some: list[tuple[str, tuple[str, ...]]] = []
    for name in sorted({pin.name for pin in pins}):
        got: dict[str, list[str]] = {}
        for platform in platforms:
            version = per_platform[platform].get(name)
            if version is not None:
                got.setdefault(version, []).append(platform)
        missing = tuple(p for p in platforms if name not in per_platform[p])
        if len(got) > 1:
            versions = tuple((v, tuple(got[v])) for v in _newest_first(got))
            notes = [f"{p} is resolved for macOS {macos[p]}" for _, ps in versions[1:] for p in ps if p in macos]
            divergent.append(Divergence(name, versions, missing, "; ".join(notes)))
        elif missing and got:
            only_some.append((name, tuple(next(iter(got.values())))))
    counts = tuple((p, len(per_platform[p])) for p in platforms)
    return PipSummary(counts, tuple(divergent), tuple(only_some))
