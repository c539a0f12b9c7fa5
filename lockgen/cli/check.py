"""``lockgen check``: are the locks present, well-formed and up to date? No network, no solve."""

from __future__ import annotations

import click

from lockgen.cli.options import (
    SEE_EXIT_CODES,
    Inputs,
    environment_option,
    input_options,
    lock_platforms_option,
    quiet_option,
    solve_options,
    verbose_option,
)
from lockgen.cli.uptodate import run_check
from lockgen.flags import Flags, SolveFlags


@click.command("check", short_help="Are the locks up to date with environment.yml? (no network)", epilog=SEE_EXIT_CODES)
@input_options
@environment_option()
@lock_platforms_option
@solve_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: for people; json: for tools (docs/json.md), on stdout, with the same exit codes.",
)
@quiet_option()
@verbose_option("Tracebacks on errors.")
def command(
    inputs: Inputs,
    environments: tuple[str, ...],
    platforms: tuple[str, ...],
    solve: SolveFlags,
    fmt: str,
    quiet: bool,
    verbose: bool,
) -> None:
    """Are the locks present, well-formed and up to date with environment.yml? No network, no solve.

    Takes the same options as `lock` (they feed each lock's input hash). Exits 0 when every lock
    is up to date; exits 6 naming each stale platform (or pip) and why: spec changed, channels
    changed, option changed, platform added or removed, file missing, malformed or hand-edited.
    """
    run_check(inputs.files, Flags(inputs.output_dir, platforms, solve), quiet, verbose, fmt, environments)
