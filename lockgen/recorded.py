"""What the existing locks say they were made with (their ``# options:`` and ``# virtual-packages:``
lines): :func:`reuse_recorded` gives :func:`lockgen.config.build_options` those a command does not set again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field, replace
from pathlib import Path
from typing import Any

from lockgen.flags import SolveFlags
from lockgen.platforms import KNOWN_PLATFORMS, VirtualPackage, lock_file_name
from lockgen.records import dataclass

__all__ = ["DEFAULT_VALUES", "Recorded", "read_recorded", "reuse_recorded"]

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


def reuse_recorded(
    solve: SolveFlags, tool: Mapping[str, Any], recorded: Recorded, overridden: bool
) -> tuple[SolveFlags, tuple[tuple[str, VirtualPackage], ...], list[str]]:
    """``solve`` with the locks' recorded options where neither it nor [tool.lockgen] sets one; the
    virtual-package overrides to reuse (empty: none); what was reused, as options."""
    reused: list[str] = []
    values: dict[str, Any] = {}
    for attr, key, option in (
        ("channel_priority", "channel-priority", "--channel-priority"),
        ("hash_kind", "hash", "--hash"),
        ("exclude_newer", "exclude-newer", "--exclude-newer"),
    ):
        if getattr(solve, attr) is None and key not in tool and recorded.options.get(key, "none") not in DEFAULT_VALUES:
            values[attr] = recorded.options[key]
            reused.append(f"{option} {recorded.options[key]}")
    overrides: tuple[tuple[str, VirtualPackage], ...] = ()
    if solve.cuda is None and not overridden and "cuda" not in tool and recorded.overrides:
        cuda = {v.version for _, v in recorded.overrides if v.name == "__cuda" and v.build == "0"}
        if len(cuda) == 1:  # --cuda: for every linux and windows target, also one locked later
            values["cuda"] = cuda.pop()
            reused.append(f"--cuda {values['cuda']}")
        overrides = tuple((p, v) for p, v in recorded.overrides if "cuda" not in values or v.name != "__cuda")
        reused += [f"--virtual-package {p}:{v.name}={v.version}" for p, v in overrides]
    if solve.cuda == "none":  # `--cuda none`: no __cuda, whatever the locks say
        values["cuda"] = None
    return replace(solve, **values), overrides, reused
