"""``lockgen diff``: what changed between two sets of locks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from lockgen.cli.options import SEE_EXIT_CODES, Inputs, input_options, verbose_option
from lockgen.cli.runner import echo, run_core
from lockgen.config import Flags

if TYPE_CHECKING:
    from lockgen.review.sources import LockSet

EXIT_CHANGED = 6


def _read_side(argument: str, lock_dir: Path, env_files: tuple[Path, ...], template: str) -> LockSet:
    """A directory when ``argument`` names one (its specs: the environment file beside it, else the
    working tree's), else a git revision of ``lock_dir`` (its specs: the environment file at that revision).
    Only files named by ``template`` (and requirements.txt) are locks."""
    from lockgen.review.sources import environment_beside, read_directory, read_revision

    path = Path(argument)
    if path.is_dir():
        return read_directory(path, argument, environment_beside(path, env_files), template=template)
    return read_revision(argument, lock_dir, env_files, template=template)


@click.command("diff", short_help="What changed between two sets of locks.", epilog=SEE_EXIT_CODES)
@click.argument("base", required=False)
@click.argument("head", required=False)
@input_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text: a terminal table; markdown: a pull-request comment; json: for bots.",
)
@verbose_option("Tracebacks on errors.")
def command(base: str | None, head: str | None, inputs: Inputs, fmt: str, verbose: bool) -> None:
    """Compare two sets of locks: added, removed, upgraded, downgraded and rebuilt packages.

    \b
    lockgen diff              HEAD's locks → the working tree's
    lockgen diff REV          REV's locks (e.g. origin/main) → the working tree's
    lockgen diff A B          A → B, each a directory of locks or a git revision

    Exits 0 when nothing changed and 6 when something did.
    """

    def action() -> int:
        from lockgen.config import build_options
        from lockgen.review.diff import diff_locks
        from lockgen.review.render import render
        from lockgen.review.sources import read_directory

        options = build_options(inputs.files, Flags(inputs.output_dir))
        lock_dir, env_files, template = options.output_dir, options.files, options.filename_template
        old = _read_side(base or "HEAD", lock_dir, env_files, template)
        new = (
            _read_side(head, lock_dir, env_files, template)
            if head
            else read_directory(lock_dir, "working tree", env_files, template=template)
        )
        result = diff_locks(old, new)
        echo(render(result, fmt), nl=False)
        return EXIT_CHANGED if result.changed else 0

    run_core(verbose, action)
