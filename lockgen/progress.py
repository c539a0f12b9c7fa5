"""The core's progress events, one frozen dataclass per kind: the conda solve, verify, install
(:mod:`lockgen.reporting` has the reporter and :class:`~lockgen.reporting.Notice`; the pip lock's
events are in :mod:`lockgen.pipprogress`).

Apart from :mod:`lockgen.reporting` so that the commands that report none of them (``check``, a
no-op ``lock``) do not build these classes (about 0.35 ms each at import; docs/performance.md, "Round 5").
"""

from __future__ import annotations

from pathlib import Path

from lockgen.records import dataclass

__all__ = [
    "Extracting",
    "Fetching",
    "Linking",
    "LinkingPackage",
    "PipInstalling",
    "ReadingRepodata",
    "RepodataNotReleased",
    "Solved",
    "Solving",
    "SolvingInTurns",
]


# the conda solve


@dataclass(frozen=True, slots=True)
class SolvingInTurns:
    """The platforms are solved a few at a time, not all at once (the memory budget)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Solving:
    target: str
    """The request's key: a platform, or ``<environment>/<platform>``, or a group's label."""
    specs: int


@dataclass(frozen=True, slots=True)
class Solved:
    target: str
    packages: int


@dataclass(frozen=True, slots=True)
class RepodataNotReleased:
    """A solved platform's repodata could not be dropped from memory (only memory is at stake)."""

    platform: str
    error: str


# verify


@dataclass(frozen=True, slots=True)
class ReadingRepodata:
    lines: int
    """How many lock lines are looked up."""


# install


@dataclass(frozen=True, slots=True)
class Fetching:
    platform: str
    packages: int


@dataclass(frozen=True, slots=True)
class Extracting:
    platform: str
    fresh: int
    """Archives to extract."""
    checked: int
    """Packages checked (extracted now or before)."""


@dataclass(frozen=True, slots=True)
class Linking:
    platform: str
    packages: int
    prefix: Path


@dataclass(frozen=True, slots=True)
class LinkingPackage:
    platform: str
    package: str
    removing: bool = False


@dataclass(frozen=True, slots=True)
class PipInstalling:
    platform: str
    tool: str
    """``uv`` or ``pip``."""
    requirements: Path
