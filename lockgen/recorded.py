"""What the existing locks say they were made with (their ``# options:`` and ``# virtual-packages:``
lines): :func:`lockgen.config.build_options` reuses those a command does not set again."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lockgen.platforms import KNOWN_PLATFORMS, VirtualPackage, lock_file_name

__all__ = ["Recorded", "read_recorded"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the existing locks say they were made with (their ``# options:`` and ``# virtual-packages:`` lines)."""

    options: dict[str, str] = field(default_factory=dict)
    overrides: tuple[tuple[str, VirtualPackage], ...] = ()
    """Virtual packages that differ from the platform's defaults (what ``--cuda``/``--virtual-package`` did)."""


def read_recorded(output_dir: Path, template: str) -> Recorded:
    """The solve-shaping options recorded in the locks under ``output_dir`` (empty when there are none,
    or when the locks disagree: then nothing is reused). Best effort: a lock that does not read says nothing."""
    from lockgen.lockfiles.lockdir import read_lock_file
    from lockgen.platforms import default_virtual_packages

    options: list[dict[str, str]] = []
    overrides: list[tuple[str, VirtualPackage]] = []
    if not output_dir.is_dir():
        return Recorded()
    for platform in sorted(KNOWN_PLATFORMS):
        try:
            name = lock_file_name(template, platform)
        except ValueError:  # a bad template: build_options says so
            return Recorded()
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
