"""Merge per-platform pins into one ``requirements.txt``: markers where platforms differ, sorted, stable.

The file layout (header, body, digests) is :mod:`lockgen.lockfiles.requirements`'s; this module
decides which platforms each pin or line applies to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lockgen.lockfiles.requirements import (
    VIA_PIP_SECTION,
    Header,
    Pin,
    render_requirements_lock,
)
from lockgen.lockfiles.unhashed import render_unhashed_lock
from lockgen.pypi.targets import platform_marker

__all__ = ["merge_pins", "render_requirements", "render_unhashed", "unhashed_body"]


def merge_pins(resolved: Mapping[str, Sequence[Pin]], targets: Sequence[str]) -> list[Pin]:
    """One pin per (name, version/url) with a marker selecting exactly the platforms that use it."""
    by_name: dict[str, dict[tuple[str, str | None], dict[str, set[str]]]] = {}
    via: dict[tuple[str, str, str | None], set[str]] = {}
    for platform, pins in resolved.items():
        for pin in pins:
            groups = by_name.setdefault(pin.name, {})
            group = groups.setdefault(pin.key, {})
            group.setdefault(platform, set()).update(pin.hashes)
            via.setdefault((pin.name, *pin.key), set()).update(pin.via)
    merged: list[Pin] = []
    for name in sorted(by_name):
        for (version, url), platforms in by_name[name].items():
            hashes = sorted(set().union(*platforms.values()))
            marker = platform_marker(platforms, targets)
            who = tuple(sorted(via.get((name, version, url), set()), key=lambda v: (v != VIA_PIP_SECTION, v)))
            merged.append(Pin(name, version, url, tuple(hashes), marker, who))
    merged.sort(key=lambda p: (p.name, p.marker or "", p.version, p.url or ""))
    return merged


def render_requirements(header: Header, resolved: Mapping[str, Sequence[Pin]]) -> str:
    """The whole ``requirements.txt`` for the pins each platform resolved (see :func:`render_requirements_lock`)."""
    return render_requirements_lock(header, merge_pins(resolved, header.platforms))


def render_unhashed(header: Header, lines_by_platform: Mapping[str, Sequence[str]]) -> str:
    """The VCS/local-project file: the same header, then each pinned line (a marker where platforms differ).

    VCS lines are pinned to a commit (``name @ git+URL@<sha>``); local projects are paths relative
    to the environment file's folder (``-e ./localproj``), written as the user wrote them. pip
    cannot check a hash for either, so this file is installed with ``--no-deps`` after the hashed one.
    """
    return render_unhashed_lock(header, unhashed_body(lines_by_platform, header.platforms))


def unhashed_body(lines_by_platform: Mapping[str, Sequence[str]], targets: Sequence[str]) -> list[str]:
    """The lines of ``requirements-unhashed.txt`` (``lock`` writes them, ``check`` re-derives them)."""
    platforms_of: dict[str, set[str]] = {}
    for platform, lines in lines_by_platform.items():
        for line in lines:
            platforms_of.setdefault(line, set()).add(platform)
    body = []
    for line in sorted(platforms_of, key=lambda text: (text.removeprefix("-e ").lower(), text)):
        marker = platform_marker(platforms_of[line], targets)
        # pip takes a marker after a URL or a path, not after `-e` (lock_pip_files refuses that case).
        body.append(f"{line} ; {marker}" if marker and not line.startswith("-e ") else line)
    return body
