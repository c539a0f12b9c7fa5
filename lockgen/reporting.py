"""Progress reporting: the core reports typed events to a Reporter; the CLI decides what to show and how.

One frozen dataclass per kind of event (as resolvelib's reporter has one method per event): the
core says what happened, with its data, and never words a progress line nor prints
(``cli/runner.py`` does both). A note or a warning is a :class:`~lockgen.errors.Problem` of that
severity, reported as a :class:`Notice`; the progress events are in :mod:`lockgen.progress`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeAlias

from lockgen.errors import Problem
from lockgen.records import dataclass

if TYPE_CHECKING:
    from lockgen.pipprogress import PipMapping, PipResolved, PipResolving, PipRetrying, PipUpToDate
    from lockgen.progress import (
        Extracting,
        Fetching,
        Linking,
        LinkingPackage,
        PipInstalling,
        ReadingRepodata,
        RepodataNotReleased,
        Solved,
        Solving,
        SolvingInTurns,
    )

__all__ = [
    "Event",
    "Notice",
    "NullReporter",
    "RecordingReporter",
    "Reporter",
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


Event: TypeAlias = """(
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
)"""
"""Every kind of event the core reports: a :class:`Notice` or a progress event of :mod:`lockgen.progress`
(a string, so that importing this module does not import that one: check reports no progress)."""


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
