"""What the command line said, before ``config`` fills the rest from ``[tool.lockgen]``, the locks'
recorded options and the defaults (:func:`lockgen.config.build_options`)."""

from __future__ import annotations

from pathlib import Path

from lockgen.records import dataclass

__all__ = ["Flags", "LockFlags", "SolveFlags"]


@dataclass(frozen=True, slots=True)
class SolveFlags:
    """The command-line options that change what is solved (they feed each lock's input hash)."""

    mirrors: tuple[str, ...] = ()
    cuda: str | None = None
    virtual_packages: tuple[str, ...] = ()
    channel_priority: str | None = None
    exclude_newer: str | None = None
    hash_kind: str | None = None
    allow_includes: tuple[Path, ...] = ()
    filename_template: str | None = None
    pypi_mapping: Path | None = None
    cache_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class LockFlags:
    """The command-line options of ``lock`` that say how to lock, not what."""

    update: tuple[str, ...] = ()
    update_all: bool = False
    from_lock: Path | None = None
    conda_lock_file: Path | None = None
    offline: bool = False
    jobs: str | None = None
    strict: bool = False
    only_binary: bool = False


@dataclass(frozen=True, slots=True)
class Flags:
    """What the command line said; None or empty where the user set nothing ([tool.lockgen] fills those)."""

    output_dir: Path | None = None
    platforms: tuple[str, ...] = ()
    solve: SolveFlags = SolveFlags()
    lock: LockFlags = LockFlags()
    writes_locks: bool = False
    """The command writes the locks (``lock``; not ``lock --check``): only then are ``[tool.lockgen]
    allow-includes`` honoured. A read-only command (check, diff, explain, install, verify) runs on what
    a pull request committed, pyproject.toml included: it reads outside the project only where its own
    command line says (``--allow-include``)."""
