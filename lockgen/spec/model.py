"""What an environment file asks for: :class:`EnvSpec` and its entries, each with its :class:`Location`.

Line selectors (``- pywin32  # [win]``) are kept with each entry and applied per target platform
by :meth:`EnvSpec.conda_dependencies` and :meth:`EnvSpec.pip_entries`.
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

from lockgen.errors import Problem
from lockgen.models import PACKAGE_NAME
from lockgen.platforms import evaluate_selector
from lockgen.records import dataclass

__all__ = ["LEADING_NAME", "CondaDependency", "EnvSpec", "Location", "PipEntry"]

LEADING_NAME = rf"^\s*(?P<name>{PACKAGE_NAME})"
"""The package name a conda spec or a pip requirement starts with: a pattern compiled when first used
(``re``'s cache). A file read from its memo (``spec/memo.py``) never uses it: ``check`` and a no-op
``lock`` compile it only for a changed file."""


@dataclass(frozen=True, slots=True, order=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class CondaDependency:
    """One conda match spec as the user wrote it (``conda-forge::scipy>=1.11``)."""

    spec: str
    name: str
    channel: str | None
    selector: str | None
    location: Location


@dataclass(frozen=True, slots=True)
class PipEntry:
    """One line of the ``pip:`` list: a requirement, a URL, or an option such as ``--index-url``."""

    text: str
    selector: str | None
    location: Location


@dataclass(frozen=True, slots=True)
class EnvSpec:
    """What the environment file(s) ask for, before any platform is chosen."""

    files: tuple[str, ...]
    name: str | None
    channels: tuple[str, ...]
    nodefaults: bool
    dependencies: tuple[CondaDependency, ...]
    pip: tuple[PipEntry, ...] | None
    platforms: tuple[str, ...] | None
    notes: tuple[Problem, ...] = field(default=())
    """Warnings and notes about the file(s) (severity ``warning`` or ``note``): reported, not fatal."""
    channel_locations: tuple[tuple[str, Location], ...] = field(default=())
    """Where each channel (and ``defaults``) is listed: the first file and line that names it."""

    def channel_location(self, channel: str) -> Location | None:
        return next((where for name, where in self.channel_locations if name == channel), None)

    def conda_dependencies(self, platform: str) -> tuple[CondaDependency, ...]:
        return tuple(d for d in self.dependencies if _selected(d.selector, platform))

    def pip_entries(self, platform: str) -> tuple[PipEntry, ...]:
        return tuple(e for e in self.pip or () if _selected(e.selector, platform))

    @property
    def base_dir(self) -> Path:
        return Path(self.files[0]).parent if self.files else Path()


def _selected(selector: str | None, platform: str) -> bool:
    return selector is None or evaluate_selector(selector, platform)
