"""Command-line flags for tests, typed: one keyword per option, as ``lockgen lock`` takes it.

:func:`lockgen.config.build_options` takes :class:`~lockgen.config.Flags` only; tests that set a
few options say ``build_options(files, flags(output_dir=..., hash_kind="sha256"))``. A misspelt
keyword is a TypeError, and mypy checks each value's type.
"""

from __future__ import annotations

from pathlib import Path

from lockgen.flags import Flags, LockFlags, SolveFlags


def flags(
    *,
    output_dir: Path | None = None,
    platforms: tuple[str, ...] = (),
    mirrors: tuple[str, ...] = (),
    cuda: str | None = None,
    virtual_packages: tuple[str, ...] = (),
    channel_priority: str | None = None,
    exclude_newer: str | None = None,
    hash_kind: str | None = None,
    allow_includes: tuple[Path, ...] = (),
    filename_template: str | None = None,
    pypi_mapping: Path | None = None,
    cache_dir: Path | None = None,
    update: tuple[str, ...] = (),
    update_all: bool = False,
    from_lock: Path | None = None,
    conda_lock_file: Path | None = None,
    offline: bool = False,
    jobs: str | None = None,
    strict: bool = False,
    only_binary: bool = False,
    writes_locks: bool = False,
) -> Flags:
    """:class:`Flags` from one keyword per option (each default: not given on the command line);
    ``writes_locks``: as ``lock`` (not a read-only command) builds them."""
    solve = SolveFlags(
        mirrors=mirrors,
        cuda=cuda,
        virtual_packages=virtual_packages,
        channel_priority=channel_priority,
        exclude_newer=exclude_newer,
        hash_kind=hash_kind,
        allow_includes=allow_includes,
        filename_template=filename_template,
        pypi_mapping=pypi_mapping,
        cache_dir=cache_dir,
    )
    lock = LockFlags(
        update=update,
        update_all=update_all,
        from_lock=from_lock,
        conda_lock_file=conda_lock_file,
        offline=offline,
        jobs=jobs,
        strict=strict,
        only_binary=only_binary,
    )
    return Flags(output_dir=output_dir, platforms=platforms, solve=solve, lock=lock, writes_locks=writes_locks)
