"""Options shared by several commands, each declared once, handed to commands as typed objects.

A bundle decorator (:func:`input_options`, :func:`solve_options`, :func:`lock_options`) adds its
click options and passes the command one frozen dataclass instead of loose keyword arguments, so
mypy checks every use; :func:`lockgen.config.build_options` turns them into settings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import click

from lockgen.errors import EXIT_CODES
from lockgen.flags import Flags, LockFlags, SolveFlags
from lockgen.records import dataclass

__all__ = [
    "EXIT_HELP",
    "SEE_EXIT_CODES",
    "Inputs",
    "Locks",
    "bundle",
    "cache_dir_option",
    "collect_into",
    "environment_option",
    "input_options",
    "lock_options",
    "lock_platforms_option",
    "locks_options",
    "mirror_option",
    "offline_option",
    "output_dir_option",
    "platforms_option",
    "quiet_option",
    "solve_options",
    "verbose_option",
]

Command = Callable[..., Any]
Decorator = Callable[[Command], Command]

EXIT_HELP = "\b\nExit codes:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES.items())
"""The one exit-code table: shown by `lockgen --help` (and in README, "Exit codes")."""

SEE_EXIT_CODES = "Exit codes: see `lockgen --help`."
"""Each command's epilog: the table lives in one place."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """Which environment and which locks: ``-f`` (repeatable) and ``-o``."""

    files: tuple[Path, ...] = ()
    output_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class Locks:
    """Which locks and where their packages come from: ``-o``, ``--mirror``, ``--cache-dir`` (install, verify)."""

    output_dir: Path | None = None
    mirrors: tuple[str, ...] = ()
    cache_dir: Path | None = None

    def flags(self, offline: bool = False) -> Flags:
        solve = SolveFlags(mirrors=self.mirrors, cache_dir=self.cache_dir)
        return Flags(self.output_dir, solve=solve, lock=LockFlags(offline=offline))


def collect_into(
    param: str, names: Sequence[str], build: Callable[..., Any], options: Sequence[Decorator]
) -> Decorator:
    """Add ``options`` (listed as they appear in --help) to a command; the values of those named in
    ``names`` reach it as one ``build(**values)`` in ``param``, any other option as itself."""

    def apply(func: Command) -> Command:
        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs[param] = build(**{name: kwargs.pop(name) for name in names})
            return func(*args, **kwargs)

        decorated: Command = command
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return apply


def bundle(cls: type[Any], param: str, options: Sequence[Decorator]) -> Decorator:
    """:func:`collect_into` for a dataclass: its fields' options reach the command as one ``cls``."""
    return collect_into(param, [f.name for f in fields(cls)], cls, options)


# --- options several commands share -------------------------------------------------------------------------


def output_dir_option(file_okay: bool = True) -> Decorator:
    return click.option(
        "-o",
        "--output-dir",
        type=click.Path(path_type=Path, file_okay=file_okay),
        default=None,
        help="Directory of the lock files [default: locks, or [tool.lockgen] output-dir].",
    )


def platforms_option(help: str) -> Decorator:
    return click.option("-p", "--platform", "platforms", multiple=True, metavar="SUBDIR", help=help)


MIRROR_HELP = "Fetch CANONICAL (e.g. https://conda.anaconda.org) from REPLACEMENT (URL or directory)"


def mirror_option(help: str = f"{MIRROR_HELP}. Repeatable.") -> Decorator:
    return click.option("--mirror", "mirrors", multiple=True, metavar="CANONICAL=REPLACEMENT", help=help)


def cache_dir_option(what: str) -> Decorator:
    return click.option(
        "--cache-dir",
        type=click.Path(path_type=Path, file_okay=False),
        help=f"{what} cache [default: the user cache dir, or $LOCKGEN_CACHE_DIR].",
    )


def environment_option(
    help: str = "Environment of [tool.lockgen.environments] (repeatable) [default: all].", multiple: bool = True
) -> Decorator:
    """``-e/--environment NAME``: repeatable (``environments``, a tuple) or one (``environment``)."""
    dest = "environments" if multiple else "environment"
    return click.option("-e", "--environment", dest, multiple=multiple, metavar="NAME", help=help)


def offline_option(help: str) -> Decorator:
    return click.option("--offline", is_flag=True, help=help)


def quiet_option(help: str = "Print nothing but errors.") -> Decorator:
    return click.option("-q", "--quiet", is_flag=True, help=help)


def verbose_option(help: str = "Progress and tracebacks.") -> Decorator:
    return click.option("-v", "--verbose", is_flag=True, help=help)


# --- bundles ------------------------------------------------------------------------------------------------

input_options: Decorator = bundle(
    Inputs,
    "inputs",
    [
        click.option(
            "-f",
            "--file",
            "files",
            multiple=True,
            type=click.Path(path_type=Path),
            help="Environment file; repeat to merge several (later wins) [default: environment.yml].",
        ),
        output_dir_option(),
    ],
)
"""``-f`` and ``-o``, as :class:`Inputs` in ``inputs``: which environment and which locks."""

lock_platforms_option = platforms_option(
    "Target platform (repeatable); overrides `platforms:` [default: linux-64, osx-64, win-64]."
)

solve_options: Decorator = bundle(
    SolveFlags,
    "solve",
    [
        mirror_option(f"{MIRROR_HELP}; locks keep canonical URLs. Repeatable."),
        click.option("--cuda", metavar="VERSION", help="Add __cuda=VERSION to linux and windows targets."),
        click.option(
            "--virtual-package",
            "virtual_packages",
            multiple=True,
            metavar="PLATFORM:NAME=VERSION",
            help="Override or add a virtual package, e.g. osx-64:__osx=11.0 (PLATFORM may be *).",
        ),
        click.option(
            "--channel-priority",
            type=click.Choice(["strict", "flexible", "disabled"]),
            help="Channel priority [default: strict].",
        ),
        click.option(
            "--exclude-newer",
            metavar="DATE",
            help="Ignore packages published after DATE (2026-08-01 or ISO 8601, UTC).",
        ),
        click.option(
            "--hash",
            "hash_kind",
            type=click.Choice(["md5", "sha256"]),
            help="Hash written after each URL [default: md5].",
        ),
        click.option(
            "--allow-include",
            "allow_includes",
            multiple=True,
            metavar="DIR",
            type=click.Path(path_type=Path, file_okay=False),
            help="Also read pip -r/-c files under DIR (default: only the project's tree; [tool.lockgen]"
            " allow-includes adds folders for `lock` only). Repeatable.",
        ),
        click.option(
            "--filename-template",
            metavar="TEMPLATE",
            help="Lock file name, must contain {platform} [default: {platform}.txt].",
        ),
        click.option(
            "--pypi-mapping",
            type=click.Path(path_type=Path, dir_okay=False),
            help="conda→PyPI name mapping JSON to use instead of downloading one.",
        ),
        cache_dir_option("Repodata and mapping"),
    ],
)
"""Options that change what is solved (they also feed each lock's input hash), as :class:`SolveFlags` in ``solve``."""

lock_options: Decorator = bundle(
    LockFlags,
    "how",
    [
        click.option(
            "--update",
            "update",
            multiple=True,
            metavar="NAME",
            help="Let NAME (and what it forces) move to a newer version; repeatable.",
        ),
        click.option("--update-all", is_flag=True, help="Solve from scratch, ignoring the existing locks."),
        click.option(
            "--from",
            "from_lock",
            type=click.Path(path_type=Path, exists=True),
            help="Start from another tool's lock: a conda-lock.yml, an explicit file, or a directory of them;"
            " its pins are kept where the specs still allow them (docs/from-conda-lock.md). With several"
            " environments: the one -e names.",
        ),
        click.option(
            "--conda-lock-file",
            "--lockfile",
            "conda_lock_file",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Also write the solution as conda-lock's unified lock (format v1) at this path; it replaces"
            " only a file lockgen wrote, or the --from file [default: none, or [tool.lockgen] conda-lock-file]."
            " With several environments: the one -e names.",
        ),
        click.option("--check", "check_only", is_flag=True, help="Do not lock; exit like `lockgen check`."),
        offline_option("Use only cached repodata; say what is missing."),
        click.option(
            "-j",
            "--jobs",
            metavar="N|auto",
            help="Platforms solved at once [default: auto: all, unless their flat repodata would take more than"
            " LOCKGEN_REPODATA_MEMORY_MB (320) of memory together; env LOCKGEN_JOBS].",
        ),
        click.option(
            "--strict", is_flag=True, help="Turn warnings (e.g. a package both in conda and pip) into errors."
        ),
        click.option(
            "--only-binary",
            is_flag=True,
            help="Lock pip packages from wheels only: refuse sdists instead of building their metadata"
            " ([tool.lockgen] only-binary).",
        ),
    ],
)
"""``lock``'s own options, as :class:`LockFlags` in ``how`` (``--check`` reaches the command as ``check_only``)."""

locks_options: Decorator = bundle(
    Locks,
    "locks",
    [output_dir_option(file_okay=False), mirror_option(), cache_dir_option("Repodata and package")],
)
"""``-o``, ``--mirror`` and ``--cache-dir`` of ``install`` and ``verify``, as :class:`Locks` in ``locks``."""
