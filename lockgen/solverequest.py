"""What one platform's conda solve is asked: :class:`SolveRequest`.

Its own module, below :mod:`lockgen.conda`, so that :mod:`lockgen.plan` (and so ``check`` and a
no-op ``lock``) can build requests without importing the solver and its diagnostics
(import it from here: ``lockgen.conda`` exports only its own modules' names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import field

from lockgen.channels import ResolvedChannel
from lockgen.platforms import VirtualPackage
from lockgen.records import dataclass

__all__ = ["SolveRequest"]


@dataclass(frozen=True, slots=True)
class SolveRequest:
    """Everything that determines one platform's solve."""

    platform: str
    specs: tuple[str, ...]
    channels: tuple[ResolvedChannel, ...]
    virtual_packages: tuple[VirtualPackage, ...]
    channel_priority: str = "strict"
    exclude_newer: dt.datetime | None = None
    preferred: tuple[str, ...] = field(default=())
    """Canonical URLs of previously locked packages: kept when they still satisfy the specs."""
    origins: tuple[str, ...] = field(default=())
    """Where each spec was written (``environment.yml:7``), parallel to ``specs``; for messages."""
    constraints: tuple[str, ...] = field(default=())
    """Match specs a package must satisfy *if* the solution has it (a group's agreed versions and builds)."""
    label: str = ""
    """The result's key when one call solves several requests of a platform (several environments)."""

    @property
    def key(self) -> str:
        return self.label or self.platform
