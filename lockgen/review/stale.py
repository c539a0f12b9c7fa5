"""What ``lockgen check`` reports: one :class:`Stale` reason per lock that is not up to date.

Shared by the checks of each lock kind (:mod:`lockgen.review.check` for the platform locks,
:mod:`lockgen.review.pipcheck` for ``requirements.txt``, :mod:`lockgen.review.unhashedcheck` for
``requirements-unhashed.txt``) and by :mod:`lockgen.review.groups`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PIP_TARGET", "Stale"]

PIP_TARGET = "pip"


@dataclass(frozen=True, slots=True)
class Stale:
    """One reason a lock is not up to date."""

    target: str
    """A platform (``linux-64``) or :data:`PIP_TARGET`."""
    file: str
    """The lock file's name inside the output directory."""
    reason: str
    """A stable code: missing, malformed, hand-edited, specs, channels, virtual, options, inputs, removed, extra,
    moved."""
    detail: str
    """A sentence for people."""

    def __str__(self) -> str:
        return f"{self.target}: {self.detail}"
