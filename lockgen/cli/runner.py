"""Running a command: progress on stderr, expected errors mapped to exit codes.

Expected failures (:class:`~lockgen.errors.LockgenError`) print one message and exit with their
documented code; a traceback appears only with ``-v``. A command ends by raising click's ``Exit``
with its code, so click's test runner can call it in-process; only the console script
(:func:`lockgen.cli.app.main`) then leaves through ``os._exit``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, TypeAlias, TypeGuard

import click

from lockgen.errors import ConfigError, LockgenError
from lockgen.printable import printable
from lockgen.reporting import Event, Notice
from lockgen.secrets import redact

if TYPE_CHECKING:
    from lockgen.pipprogress import PipMapping, PipResolved, PipResolving, PipRetrying, PipUpToDate

_PipEvent: TypeAlias = "PipMapping | PipUpToDate | PipResolving | PipRetrying | PipResolved"

__all__ = ["StderrReporter", "echo", "print_traceback", "progress_line", "run_core"]


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print ``text`` with every control character escaped (:func:`lockgen.printable.printable`): all that
    lockgen prints may quote a lock, an environment file or a server, and none of it may drive the terminal."""
    click.echo(printable(text), err=err, nl=nl)


class StderrReporter:
    """Shows progress on stderr when it is a terminal (or -v), notes and warnings always (unless --quiet)."""

    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.progress = verbose or sys.stderr.isatty()

    def report(self, event: Event) -> None:
        if self.quiet:
            return
        if isinstance(event, Notice) and not event.repeated:
            echo(redact(str(event.problem)), err=True)  # the core masks what it knows; this catches the rest
        elif self.progress:
            platform, detail = progress_line(event)
            where = f"[{platform}] " if platform else ""
            echo(f"{where}{redact(detail)}", err=True)


def progress_line(event: Event) -> tuple[str | None, str]:
    """How ``event`` reads as a progress line: the platform (or solve target) it is about, and the words."""
    if isinstance(event, Notice):
        return None, str(event.problem)
    if _pip_lock_event(event):  # a no-op lock's; it need not build the solve's and install's classes
        return _pip_line(event)
    return _solve_or_install_line(event)


def _pip_lock_event(event: Event) -> TypeGuard[_PipEvent]:
    """Whether ``event`` is one of :mod:`lockgen.pipprogress`'s (which the core loaded to make it)."""
    return type(event).__module__ == "lockgen.pipprogress"


def _solve_or_install_line(event: Event) -> tuple[str | None, str]:  # noqa: PLR0911
    # here, not at the top: check reports no progress, and a no-op lock only the pip lock's
    from lockgen.progress import (
        Extracting,
        Fetching,
        Linking,
        LinkingPackage,
        PipInstalling,
        ReadingRepodata,
        RepodataNotReleased,
        Solved,
        Solving,
        SolvingInTurns,
    )

    if isinstance(event, Notice):
        return None, str(event.problem)
    if isinstance(event, SolvingInTurns):
        return None, f"not every platform at once: {event.reason}"
    if isinstance(event, Solving):
        return event.target, f"solving {event.specs} specs"
    if isinstance(event, Solved):
        return event.target, f"{event.packages} packages"
    if isinstance(event, RepodataNotReleased):
        return event.platform, f"could not release repodata of {event.platform}: {event.error}"
    if isinstance(event, ReadingRepodata):
        return None, f"reading repodata for {event.lines} lines"
    if isinstance(event, Fetching):
        return event.platform, f"fetching {event.packages} packages"
    if isinstance(event, Extracting):
        return event.platform, f"extracting {event.fresh} and checking {event.checked} packages"
    if isinstance(event, Linking):
        return event.platform, f"linking {event.packages} packages into {event.prefix}"
    if isinstance(event, LinkingPackage):
        return event.platform, f"{'removing' if event.removing else 'linking'} {event.package}"
    if isinstance(event, PipInstalling):
        return event.platform, f"{event.tool}: installing {event.requirements}"
    return _pip_line(event)


def _pip_line(event: _PipEvent) -> tuple[str | None, str]:
    from lockgen.pipprogress import PipMapping, PipResolving, PipRetrying, PipUpToDate

    if isinstance(event, PipMapping):
        return None, (
            f"conda→PyPI names from {event.description}: digest {event.digest} over {event.packages} conda packages"
        )
    if isinstance(event, PipUpToDate):
        return None, f"{event.file} is up to date"
    if isinstance(event, PipResolving):
        return event.platform, f"resolving pip packages for {event.python_platform}"
    if isinstance(event, PipRetrying):
        no_wheel, sdists = ", ".join(event.no_wheel), ", ".join(event.sdists)
        return event.platform, f"no wheel fits {no_wheel}: resolving again, sdists only for {sdists}"
    return event.platform, "pip packages resolved"


def run_core(verbose: bool, action: Callable[[], int]) -> NoReturn:
    """Run ``action``; map expected errors to exit codes; end with click's ``Exit`` carrying the code.

    The streams are flushed first: the console script (:func:`lockgen.cli.app.main`) leaves through
    ``os._exit``, as rattler can crash during interpreter teardown after a solve.
    """
    code = 1
    try:
        _working_folder_exists()
        code = action()
    except LockgenError as exc:
        if verbose:
            print_traceback()
        echo(f"error: {redact(exc.message)}", err=True)
        details = getattr(exc, "details", "")
        if verbose and details:  # the whole of what the message shortened (a solver's explanation)
            echo(redact(details), err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        if not verbose:
            # Ctrl-C can land while asyncio builds its event loop: the half-made loop's __del__ then
            # fails when the interrupted frames are freed, and Python prints that as a traceback.
            # Nothing is left to clean up (the console script leaves through os._exit): keep the exit quiet.
            sys.unraisablehook = lambda _unraisable: None
        click.echo(interrupted_message(), err=True)
        code = 130
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except Exception as exc:  # an unexpected failure: a bug
        if verbose:
            print_traceback()
        echo(f"internal error: {type(exc).__name__}: {redact(str(exc))} (run with -v for a traceback)", err=True)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    raise click.exceptions.Exit(code)


def _working_folder_exists() -> None:
    """ConfigError when the folder lockgen runs in was removed (a checkout deleted under an open shell):
    every relative path and the project are found from it, and ``Path.cwd()`` raised an internal error."""
    from pathlib import Path

    try:
        Path.cwd()
    except FileNotFoundError:
        raise ConfigError(
            "the folder lockgen runs in no longer exists (it was removed or moved);"
            " `cd` to the project and run the command again"
        ) from None


def interrupted_message() -> str:
    """What Ctrl-C leaves on disk: a commit is all or nothing and holds a Ctrl-C until it is whole,
    so either no lock file was written (the previous ones are untouched) or the new set is complete."""
    commit = sys.modules.get("lockgen.lockfiles.commit")  # never imported: nothing was written
    done = commit.committed() if commit is not None else ()
    if not done:
        return "interrupted: no lock file was written; the lock files on disk are the previous ones, untouched"
    sets = []
    for folder, written, removed in done:
        names = ", ".join([*written, *(f"{name} removed" for name in removed)])
        sets.append(f"{folder} holds the whole new set ({names})")
    return "interrupted after the new lock files were written: " + "; ".join(sets)


def print_traceback() -> None:
    """The current traceback (with its chained causes) on stderr, URL credentials masked: a third-party
    exception's text may carry a URL with ``user:password@`` or ``/t/<token>/``."""
    import traceback  # here, not at the top: it imports textwrap, and only a failure with -v prints one

    echo(redact(traceback.format_exc()), err=True, nl=False)
