"""What ``lockgen check`` reports: one :class:`Stale` reason per lock that is not up to date.

Shared by the checks of each lock kind (:mod:`lockgen.review.check` for the platform locks,
:mod:`lockgen.review.pipcheck` for ``requirements.txt``, :mod:`lockgen.review.unhashedcheck` for
``requirements-unhashed.txt``) and by :mod:`lockgen.review.groups`.
"""

from __future__ import annotations

from collections.abc import Sequence

from lockgen.records import dataclass

__all__ = ["PIP_TARGET", "Stale", "grouped_lines"]

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


def _shared_detail(stale: Stale) -> str:
    """``stale.detail`` without the lock's own path in front (``locks/linux-64.txt: ...``): what it says of
    any platform."""
    at = stale.detail.find(f"{stale.file}: ")
    before = stale.detail[:at]
    if at < 0 or (before and (not before.endswith("/") or " " in before)):
        return stale.detail
    return stale.detail[at + len(stale.file) + 2 :]


def grouped_lines(stale: Sequence[Stale]) -> list[str]:
    """One line per reason: a reason several locks share (the same sentence, each lock's path aside) once,
    after the targets it applies to (``linux-64, osx-64, win-64: spec changed: ...``); in first-seen order."""
    groups: dict[str, list[Stale]] = {}
    for item in stale:
        groups.setdefault(_shared_detail(item), []).append(item)
    lines = []
    for detail, items in groups.items():
        if len(items) == 1:
            lines.append(str(items[0]))
        else:
            lines.append(f"{', '.join(dict.fromkeys(i.target for i in items))}: {detail}")
    return lines
