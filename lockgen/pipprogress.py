"""The pip lock's progress events, one frozen dataclass per kind (:mod:`lockgen.progress` has the
others; :mod:`lockgen.reporting` the reporter): apart so that a no-op ``lock``, which reports two of
these, builds none of the others (docs/performance.md, "Round 5")."""

from __future__ import annotations

from lockgen.records import dataclass

__all__ = [
    "PIP_LOCK_EVENTS",
    "PipMapping",
    "PipResolved",
    "PipResolving",
    "PipRetrying",
    "PipUpToDate",
]


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
