"""Progress reporting: the core reports typed events to a Reporter; the CLI decides what to show and how.

One frozen dataclass per kind of event (as resolvelib's reporter has one method per event): the
core says what happened, with its data, and never words a progress line nor prints
(``cli/runner.py`` does both). A note or a warning is a :class:`~lockgen.errors.Problem` of that
severity, reported as a :class:`Notice`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeAlias

from lockgen.errors import Problem

__all__ = [
    "PIP_LOCK_EVENTS",
    "Event",
    "Extracting",
    "Fetching",
    "Linking",
    "LinkingPackage",
    "Notice",
    "NullReporter",
    "PipInstalling",
    "PipMapping",
    "PipResolved",
    "PipResolving",
    "PipRetrying",
    "PipUpToDate",
    "ReadingRepodata",
    "RecordingReporter",
    "RepodataNotReleased",
    "Reporter",
    "Solved",
    "Solving",
    "SolvingInTurns",
]


@dataclass(frozen=True, slots=True)
class Notice:
    """A note or a warning for the user (shown unless ``--quiet``)."""

    problem: Problem
    """Its severity is ``note`` or ``warning``."""
    platform: str | None = None
    """The platform it concerns, if one (the message names it where that matters)."""
    repeated: bool = False
    """Said already when the file it concerns was last written (that file is kept): progress, shown
    with ``-v`` only, so that it is said once per change and not on every run."""


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


# the pip lock


@dataclass(frozen=True, slots=True)
class PipMapping:
    """Which conda→PyPI name mapping was used, and a digest of what it said for the locked packages."""

    description: str
    digest: str
    packages: int


@dataclass(frozen=True, slots=True)
class PipUpToDate:
    file: str


@dataclass(frozen=True, slots=True)
class PipResolving:
    platform: str
    python_platform: str


@dataclass(frozen=True, slots=True)
class PipRetrying:
    """No wheel fits ``no_wheel``: resolving again, with sdists allowed for ``sdists`` only."""

    platform: str
    no_wheel: tuple[str, ...]
    sdists: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PipResolved:
    platform: str


PIP_LOCK_EVENTS = (PipMapping, PipUpToDate, PipResolving, PipRetrying, PipResolved)
"""The pip lock's progress events."""


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


Event: TypeAlias = (
    Notice
    | SolvingInTurns
    | Solving
    | Solved
    | RepodataNotReleased
    | ReadingRepodata
    | PipMapping
    | PipUpToDate
    | PipResolving
    | PipRetrying
    | PipResolved
    | Fetching
    | Extracting
    | Linking
    | LinkingPackage
    | PipInstalling
)
"""Every kind of event the core reports."""


class Reporter(Protocol):
    def report(self, event: Event) -> None:
        """Something happened; the reporter decides whether and how to show it."""


class NullReporter:
    def report(self, event: Event) -> None:
        return None


class RecordingReporter:
    """Keeps every event (tests use it)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def report(self, event: Event) -> None:
        self.events.append(event)

    @property
    def notices(self) -> list[Notice]:
        return [e for e in self.events if isinstance(e, Notice)]
