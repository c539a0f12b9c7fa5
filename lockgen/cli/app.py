"""The ``lockgen`` group: loads each command's module only when that command is asked for.

One module per command (``lockgen.cli.<name>``, each defining ``command``); commands import
:mod:`~lockgen.cli.options` and :mod:`~lockgen.cli.runner`, never each other or this module.
Nothing here decides anything about locking.
"""

from __future__ import annotations

import importlib
from typing import ClassVar

import click

from lockgen import __version__
from lockgen.cli.options import EXIT_HELP
from lockgen.cli.runner import finish

__all__ = ["LazyGroup", "cli", "main"]


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


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.ClickException as exc:
        exc.show()
        finish(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        finish(130)
    except click.exceptions.Exit as exc:
        finish(exc.exit_code)
    finish(0)


if __name__ == "__main__":  # pragma: no cover
    main()
