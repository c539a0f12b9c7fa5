"""conda-lock's command-line habits: accepted where lockgen has the same thing, refused with our equivalent otherwise.

The options are hidden from ``--help`` (docs/from-conda-lock.md lists them); each refusal is a
ConfigError (exit 2) that names what to use instead, so a CI script ported from conda-lock fails
with a fix rather than a bare "no such option".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import click

from lockgen.cli.options import collect_into
from lockgen.errors import ConfigError, Problem
from lockgen.records import dataclass

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["Habits", "check_install_habits", "check_lock_habits", "install_habits", "lock_habits"]

_NO_CONDA = "lockgen solves and installs with rattler and needs no conda, mamba or micromamba: drop {opt}"
_CATEGORIES = (
    "lockgen locks one environment (no dev/extras categories): keep optional packages in a second file and"
    " lock it with -f environment.yml -f dev.yml (later files win), into its own -o directory"
)

# option name -> (takes a value, what to say)
_LOCK: dict[str, tuple[bool, str]] = {
    "--conda": (True, _NO_CONDA),
    "--mamba": (False, _NO_CONDA),
    "--no-mamba": (False, _NO_CONDA),
    "--micromamba": (False, _NO_CONDA),
    "--no-micromamba": (False, _NO_CONDA),
    "--check-input-hash": (
        False,
        "`lockgen lock` already re-solves only the platforms whose inputs changed; `lockgen check` tells"
        " without locking (exit 6 when out of date): drop {opt}",
    ),
    "--strip-auth": (False, "lockgen never writes credentials into a lock: drop {opt}"),
    "--with-cuda": (True, "use --cuda VERSION (adds __cuda to linux and windows targets)"),
    "--without-cuda": (False, "lockgen adds __cuda only when asked with --cuda: drop {opt}"),
    "--virtual-package-spec": (
        True,
        "use --virtual-package PLATFORM:NAME=VERSION (repeatable) or [tool.lockgen] virtual-packages",
    ),
    "--pypi_to_conda_lookup_file": (True, "use --pypi-mapping FILE (a conda→PyPI mapping JSON)"),
    "--dev-dependencies": (False, _CATEGORIES),
    "--no-dev-dependencies": (False, _CATEGORIES),
    "--extras": (True, _CATEGORIES),
    "--filter-categories": (False, _CATEGORIES),
    "--channel": (
        True,
        "lockgen takes channels from `channels:` in environment.yml; to fetch them elsewhere use --mirror",
    ),
    "--md": (True, "lockgen's locks carry no time or git metadata, so the same solution gives the same bytes"),
    "--metadata": (True, "lockgen's locks carry no time or git metadata, so the same solution gives the same bytes"),
    "--metadata-yaml": (True, "lockgen's locks carry no custom metadata: drop {opt}"),
    "--metadata-json": (True, "lockgen's locks carry no custom metadata: drop {opt}"),
    "--log-level": (True, "use -v (progress and tracebacks) or -q (errors only)"),
    "--pdb": (False, "use -v for a traceback"),
}
_LOCK_SHORT = {"--channel": "-c"}  # conda-lock's -e (--extras) is lockgen's -e/--environment

_INSTALL: dict[str, tuple[bool, str]] = {
    "--conda": (True, _NO_CONDA),
    "--mamba": (False, _NO_CONDA),
    "--no-mamba": (False, _NO_CONDA),
    "--micromamba": (False, _NO_CONDA),
    "--no-micromamba": (False, _NO_CONDA),
    "--dev": (False, "lockgen's locks have no dev category; everything in the lock is installed: drop {opt}"),
    "--no-dev": (False, "lockgen's locks have no dev category; everything in the lock is installed: drop {opt}"),
    "--extras": (True, "lockgen's locks have no extras categories; everything in the lock is installed"),
    "--copy": (False, "lockgen links files the way rattler does (hard links, copies where needed): drop {opt}"),
    "--validate-platform": (False, "lockgen always checks the lock's platform: drop {opt}"),
    "--no-validate-platform": (False, "use -p PLATFORM to install another platform's lock deliberately"),
    "--auth": (True, "lockgen reads credentials for channels from rattler's auth store (RATTLER_AUTH_FILE)"),
    "--auth-file": (True, "set RATTLER_AUTH_FILE=PATH instead"),
    "--log-level": (True, "use -v (progress and tracebacks) or -q (errors only)"),
}
_INSTALL_SHORT = {"--extras": "-E"}


def _dest(long: str) -> str:
    return "habit_" + long.lstrip("-").replace("-", "_")


@dataclass(frozen=True, slots=True)
class Habits:
    """The hidden conda-lock options of one command line: option destination → value (unset: empty/False)."""

    values: Mapping[str, Any]


def _add(func: F, table: Mapping[str, tuple[bool, str]], short: Mapping[str, str], kind: bool = False) -> F:
    """Add ``table``'s options, hidden; the command receives them as one :class:`Habits` in ``habits``."""
    options = [click.option("-k", "--kind", "habit_kind", multiple=True, hidden=True)] if kind else []
    for long, (takes_value, _) in table.items():
        names = [long, *([short[long]] if long in short else [])]
        if takes_value:
            options.append(click.option(*names, _dest(long), multiple=True, hidden=True))
        else:
            options.append(click.option(*names, _dest(long), is_flag=True, hidden=True))
    dests = [_dest(long) for long in table] + (["habit_kind"] if kind else [])
    return cast(F, collect_into("habits", dests, lambda **values: Habits(values), options)(func))


def _refuse(habits: Habits, table: Mapping[str, tuple[bool, str]], command: str) -> None:
    for long, (_, message) in table.items():
        if habits.values.get(_dest(long)):
            raise ConfigError(f"`lockgen {command} {long}` is a conda-lock option: " + message.format(opt=long))


def lock_habits(func: F) -> F:
    """Hidden conda-lock options for ``lockgen lock``; ``--kind``/``-k`` is handled by :func:`check_lock_habits`."""
    return _add(func, _LOCK, _LOCK_SHORT, kind=True)


def check_lock_habits(habits: Habits) -> list[Problem]:
    """Refuse the unsupported conda-lock options; return notes to print for the accepted ones."""
    notes = []
    for kind in habits.values.get("habit_kind", ()) or ():
        if kind == "explicit":
            message = "--kind explicit is what lockgen always writes (OUTPUT_DIR/<platform>.txt, @EXPLICIT); ignored"
            notes.append(Problem(message, severity="note"))
        elif kind == "lock":
            raise ConfigError(
                "`lockgen lock --kind lock` is a conda-lock option: lockgen writes conda-lock.yml with"
                " --conda-lock-file conda-lock.yml (or [tool.lockgen] conda-lock-file), next to its explicit locks"
            )
        elif kind == "env":
            raise ConfigError(
                "`lockgen lock --kind env` is a conda-lock option: lockgen does not render environment files;"
                " OUTPUT_DIR/<platform>.txt installs with `conda create --file`, `micromamba create -f` or"
                " `lockgen install`"
            )
        else:
            raise ConfigError(f"--kind {kind!r}: conda-lock's kinds are explicit, lock and env")
    _refuse(habits, _LOCK, "lock")
    return notes


def install_habits(func: F) -> F:
    """Hidden conda-lock options for ``lockgen install``."""
    return _add(func, _INSTALL, _INSTALL_SHORT)


def check_install_habits(habits: Habits) -> None:
    _refuse(habits, _INSTALL, "install")
