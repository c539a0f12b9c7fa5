"""The ``lockgen`` group: loads each command's module only when that command is asked for.

One module per command (``lockgen.cli.<name>``, each defining ``command``); commands import
:mod:`~lockgen.cli.options` and :mod:`~lockgen.cli.runner`, never each other or this module.
Nothing here decides anything about locking. :func:`main`, which the console script
(:func:`lockgen.cli.main`) runs, is the one place the process leaves through ``os._exit``; ``cli``
itself only returns or raises (click's test runner calls it).
"""

from __future__ import annotations

import gc
import importlib
import io
import os
import sys
from typing import ClassVar, NoReturn

import click

from lockgen import __version__
from lockgen.cli.options import EXIT_HELP

__all__ = ["LazyGroup", "cli", "finish", "main"]

_GC_THRESHOLD = 20_000
"""New container objects (net) between two young-generation collections in a ``lock`` or ``check`` process."""
_FEWER_COLLECTIONS = ("lock", "check")
"""The commands that raise it: ``install`` keeps the default (its peak memory is held to rattler's), after
its imports, which it makes with the collector off (:mod:`lockgen.cli.install`)."""
_IMPORTS_UNCOLLECTED = ("lock", "install")
"""The commands that import rattler with the collector off, then set what the imports made aside
(:func:`~lockgen.repodata.gateway.collect_from_here`: ``install`` after its imports, ``lock`` when it solves)."""

_NEVER_SOLVES = ("check",)
"""The commands that run no solver, so have no Gateway to keep until exit: they do not load
:mod:`lockgen.repodata.gateway` (and the cache folder's code) for the switch."""


class LazyGroup(click.Group):
    """Imports a command's module only when the command is run (or listed by --help), so
    `lockgen lock` and `lockgen check` do not import the code of the other commands."""

    order: ClassVar[tuple[str, ...]] = ("lock", "check", "diff", "explain", "verify", "install")
    """The commands, in the order of a day's work, which `lockgen --help` lists them in."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.order)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.order:
            module = importlib.import_module(f"lockgen.cli.{cmd_name}")
            self.add_command(module.command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(__version__, prog_name="lockgen")
def cli() -> None:
    """Turn a conda environment.yml into reproducible, hashed, per-platform locks.

    `lockgen COMMAND --help` describes each command's options.
    """


def main(*, imports_uncollected: bool = False) -> NoReturn:
    """Run ``cli`` on the command line, flush, and leave through ``os._exit``.

    rattler can crash during interpreter teardown after a solve, so the process never gets there; and
    a Gateway the solver is done with need not be freed (:func:`~lockgen.repodata.gateway.done_with`).
    ``imports_uncollected``: the console script (:func:`lockgen.cli.main`) had the collector off while
    click and lockgen's modules were imported; what they made lives until exit and is set aside here
    (``gc.freeze``), then each command's collector is set as below.
    """
    # The collector's default threshold (700 new objects) made a no-op `lock` collect 22 times (~3 ms)
    # to free 5 objects: lockgen makes few reference cycles, and a command that allocates more than
    # this still collects (docs/performance.md, "Round 7"). The group takes no option with a value:
    # the first word that is not an option is the command.
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    if imports_uncollected:
        gc.freeze()  # also starts the young generation's count from zero
    if command in _FEWER_COLLECTIONS:
        gc.set_threshold(_GC_THRESHOLD, 10, 10)
    if command in _IMPORTS_UNCOLLECTED:
        gc.disable()  # for its imports only: turned on again once they are done (collect_from_here)
    elif imports_uncollected:
        gc.enable()
    if command not in _NEVER_SOLVES:
        from lockgen.repodata.gateway import keep_gateways_until_exit

        keep_gateways_until_exit()
    for stream in (sys.stdout, sys.stderr):  # a Windows console redirected to a file writes cp1252: no `→`
        if isinstance(stream, io.TextIOWrapper) and stream.encoding.lower() not in ("utf-8", "utf8"):
            stream.reconfigure(errors="backslashreplace")
    try:
        returned = cli.main(standalone_mode=False)  # a command's exit code (click's Exit), else None
    except click.exceptions.ClickException as exc:
        exc.show()
        finish(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        finish(130)
    except click.exceptions.Exit as exc:
        finish(exc.exit_code)
    finish(returned if isinstance(returned, int) else 0)


def finish(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process with ``code`` at once (no interpreter teardown)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
