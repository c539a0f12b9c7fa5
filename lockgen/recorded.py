"""What the existing locks say they were made with (their ``# options:`` and ``# virtual-packages:``
lines): :func:`lockgen.config.build_options` reuses those a command does not set again."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

from lockgen.platforms import KNOWN_PLATFORMS, VirtualPackage, lock_file_name
from lockgen.records import dataclass

__all__ = ["DEFAULT_VALUES", "Recorded", "read_recorded"]

DEFAULT_VALUES = ("none", "strict", "md5")
"""Recorded values that are the defaults anyway: nothing to reuse."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the existing locks say they were made with (their ``# options:`` and ``# virtual-packages:`` lines)."""

    options: dict[str, str] = field(default_factory=dict)
    overrides: tuple[tuple[str, VirtualPackage], ...] = ()
    """Virtual packages that differ from the platform's defaults (what ``--cuda``/``--virtual-package`` did)."""

    @property
    def reusable(self) -> bool:
        """Reusing it changes something: a value other than the default, or a virtual package."""
        return bool(self.overrides) or any(v not in DEFAULT_VALUES for v in self.options.values())


def read_recorded(output_dir: Path, template: str) -> Recorded:
    """The solve-shaping options recorded in the locks under ``output_dir`` (empty when there are none,
    or when the locks disagree: then nothing is reused). Best effort: a lock that does not read says nothing."""
    from lockgen.lockfiles.lockdir import read_lock_file
    from lockgen.platforms import default_virtual_packages

    options: list[dict[str, str]] = []
    overrides: list[tuple[str, VirtualPackage]] = []
    try:
        present = {p.name for p in output_dir.iterdir()}
    except OSError:
        return Recorded()
    for platform in sorted(KNOWN_PLATFORMS):
        try:
            name = lock_file_name(template, platform)
        except ValueError:  # a bad template: build_options says so
            return Recorded()
        if Path(name).parts[0] not in present:
            continue
        lock = read_lock_file(output_dir / name, platform).lock
        if lock is None:
            continue
        if lock.options is not None:
            options.append({k: v for k, v in lock.options if k in ("channel-priority", "exclude-newer", "hash")})
        defaults = default_virtual_packages(platform)
        for text in lock.virtual or ():
            name, _, rest = text.partition("=")
            version, _, build = rest.partition("=")
            package = VirtualPackage(name, version, build or "0")
            if defaults.get(name) != package:
                overrides.append((platform, package))
    agreed = options[0] if options and all(o == options[0] for o in options) else {}
    return Recorded(agreed, tuple(overrides))
