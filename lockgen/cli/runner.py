"""Running a command: progress on stderr, expected errors mapped to exit codes, leaving through os._exit.

Expected failures (:class:`~lockgen.errors.LockgenError`) print one message and exit with their
documented code; a traceback appears only with ``-v``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

import click

from lockgen.errors import LockgenError
from lockgen.printable import printable
from lockgen.secrets import redact

__all__ = ["StderrReporter", "echo", "finish", "print_traceback", "run_core"]


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print ``text`` with every control character escaped (:func:`lockgen.printable.printable`): all that
    lockgen prints may quote a lock, an environment file or a server, and none of it may drive the terminal."""
    click.echo(printable(text), err=err, nl=nl)


class StderrReporter:
    """Shows progress on stderr when it is a terminal (or -v), warnings always (unless --quiet)."""

    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.progress = verbose or sys.stderr.isatty()

    def event(self, kind: str, platform: str | None, detail: str) -> None:
        if self.quiet:
            return
        detail = redact(detail)  # the core masks what it knows; this catches URL credentials it did not
        if kind in ("warning", "note"):
            echo(detail, err=True)
        elif self.progress:
            where = f"[{platform}] " if platform else ""
            echo(f"{where}{detail}", err=True)


def run_core(verbose: bool, action: Callable[[], int]) -> None:
    """Run ``action``; map expected errors to exit codes; always leave through os._exit.

    rattler can crash during interpreter teardown after a solve, so lockgen flushes its streams
    and exits with ``os._exit`` instead of letting the interpreter shut down normally.
    """
    code = 1
    try:
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
            # Nothing is left to clean up (finish() leaves through os._exit): keep the exit quiet.
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
    finish(code)


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
    echo(redact(traceback.format_exc()), err=True, nl=False)


def finish(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
