"""The command line: parse options, call the core, present results, map errors to exit codes.

Nothing here decides anything about locking; it builds :class:`~lockgen.config.LockOptions` and
presents what the core returns. Expected failures (:class:`~lockgen.errors.LockgenError`) print
one message and exit with their documented code; a traceback appears only with ``-v``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from lockgen import __version__
from lockgen.cli.habits import lock_habits
from lockgen.errors import EXIT_CODES, LockgenError
from lockgen.secrets import redact

F = TypeVar("F", bound=Callable[..., Any])

EXIT_HELP = "\b\nExit codes:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES.items())
"""The one exit-code table: shown by `lockgen --help` (and in README, "Exit codes")."""

SEE_EXIT_CODES = "Exit codes: see `lockgen --help`."
"""Each command's epilog: the table lives in one place."""


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
            click.echo(detail, err=True)
        elif self.progress:
            where = f"[{platform}] " if platform else ""
            click.echo(f"{where}{detail}", err=True)


def input_options(func: F) -> F:
    """Options that say which environment and which locks: shared by every command."""
    func = click.option(
        "-o",
        "--output-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Directory of the lock files [default: locks, or [tool.lockgen] output-dir].",
    )(func)
    return click.option(
        "-f",
        "--file",
        "files",
        multiple=True,
        type=click.Path(path_type=Path),
        help="Environment file; repeat to merge several (later wins) [default: environment.yml].",
    )(func)


def platform_options(func: F) -> F:
    return click.option(
        "-p",
        "--platform",
        "platforms",
        multiple=True,
        metavar="SUBDIR",
        help="Target platform (repeatable); overrides `platforms:` [default: linux-64, osx-64, win-64].",
    )(func)


def solve_options(func: F) -> F:
    """Options that change what is solved; they also feed each lock's input hash."""
    opts = [
        click.option(
            "--mirror",
            "mirrors",
            multiple=True,
            metavar="CANONICAL=REPLACEMENT",
            help="Fetch CANONICAL (e.g. https://conda.anaconda.org) from REPLACEMENT (URL or directory);"
            " locks keep canonical URLs. Repeatable.",
        ),
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
            help="Also read pip -r/-c files under DIR (default: only the project's tree). Repeatable.",
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
        click.option(
            "--cache-dir",
            type=click.Path(path_type=Path, file_okay=False),
            help="Repodata and mapping cache [default: the user cache dir, or $LOCKGEN_CACHE_DIR].",
        ),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


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
        click.echo(f"error: {redact(exc.message)}", err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted; lock files are the old set, or the whole new set if writing had begun", err=True)
        code = 130
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except Exception as exc:  # an unexpected failure: a bug
        if verbose:
            print_traceback()
        click.echo(f"internal error: {type(exc).__name__}: {redact(str(exc))} (run with -v for a traceback)", err=True)
        code = 1
    finish(code)


def print_traceback() -> None:
    """The current traceback (with its chained causes) on stderr, URL credentials masked: a third-party
    exception's text may carry a URL with ``user:password@`` or ``/t/<token>/``."""
    click.echo(redact(traceback.format_exc()), err=True, nl=False)


def finish(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def collect(**values: Any) -> dict[str, Any]:
    """Keep only the options the user set, so [tool.lockgen] can fill the rest."""
    return {k: v for k, v in values.items() if v not in (None, (), [], False)}


class LazyGroup(click.Group):
    """Loads a sibling module's commands only when one of them is asked for (or listed by --help),
    so `lockgen lock` and `lockgen check` do not import the code of the other commands."""

    modules: ClassVar[dict[str, str]] = {
        "check": "review",
        "diff": "review",
        "explain": "review",
        "install": "install",
        "verify": "install",
    }
    order: ClassVar[tuple[str, ...]] = ("lock", "check", "diff", "explain", "verify", "install")
    """The order of a day's work, which `lockgen --help` lists them in."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = {*super().list_commands(ctx), *self.modules}
        return sorted(names, key=lambda n: (self.order.index(n) if n in self.order else len(self.order), n))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.modules:
            import importlib

            module = importlib.import_module(f"lockgen.cli.{self.modules[cmd_name]}")
            module.register(self)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(__version__, prog_name="lockgen")
def cli() -> None:
    """Turn a conda environment.yml into reproducible, hashed, per-platform locks.

    `lockgen COMMAND --help` describes each command's options.
    """


@cli.command(short_help="Solve every platform and write the lock files.", epilog=SEE_EXIT_CODES)
@input_options
@platform_options
@solve_options
@click.option(
    "--update",
    "update",
    multiple=True,
    metavar="NAME",
    help="Let NAME (and what it forces) move to a newer version; repeatable.",
)
@click.option("--update-all", is_flag=True, help="Solve from scratch, ignoring the existing locks.")
@click.option(
    "--from",
    "from_lock",
    type=click.Path(path_type=Path, exists=True),
    help="Start from another tool's lock: a conda-lock.yml, an explicit file, or a directory of them;"
    " its pins are kept where the specs still allow them (docs/from-conda-lock.md).",
)
@click.option(
    "--conda-lock-file",
    "--lockfile",
    "conda_lock_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the solution as conda-lock's unified lock (format v1) at this path"
    " [default: none, or [tool.lockgen] conda-lock-file].",
)
@click.option("--check", "check_only", is_flag=True, help="Do not lock; exit like `lockgen check`.")
@click.option("--offline", is_flag=True, help="Use only cached repodata; say what is missing.")
@click.option(
    "-j",
    "--jobs",
    metavar="N|auto",
    help="Platforms solved at once [default: auto: all, unless their flat repodata would take more than"
    " LOCKGEN_REPODATA_MEMORY_MB (320) of memory together; env LOCKGEN_JOBS].",
)
@click.option("--strict", is_flag=True, help="Turn warnings (e.g. a package both in conda and pip) into errors.")
@click.option(
    "--only-binary",
    is_flag=True,
    help="Lock pip packages from wheels only: refuse sdists instead of building their metadata"
    " ([tool.lockgen] only-binary).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True, help="Progress and tracebacks.")
@lock_habits
def lock(
    files: tuple[Path, ...],
    output_dir: Path | None,
    platforms: tuple[str, ...],
    check_only: bool,
    quiet: bool,
    verbose: bool,
    **rest: Any,
) -> None:
    """Solve every target platform and write the lock files, all or nothing.

    Reads environment.yml (or -f files), fetches repodata for each platform and noarch, solves
    them concurrently, and writes OUTPUT_DIR/<platform>.txt (@EXPLICIT, one URL#hash a line) and,
    when the file has a pip: section, OUTPUT_DIR/requirements.txt. Existing locks are kept where
    they still satisfy the specs; platforms whose inputs did not change are not solved again.
    """
    if check_only:
        from lockgen.cli.review import run_check

        for key in ("from_lock", "conda_lock_file"):
            rest.pop(key, None)
        rest = {k: v for k, v in rest.items() if not k.startswith("habit_")}

        run_check(files, output_dir, platforms, quiet, verbose, rest)
        return

    def action() -> int:
        from lockgen.cli.habits import check_lock_habits
        from lockgen.config import build_options
        from lockgen.lock import lock as do_lock

        notes = check_lock_habits(rest)
        values = collect(platforms=platforms, output_dir=output_dir, **rest)
        options = build_options(files, values)
        reporter = StderrReporter(quiet, verbose)
        for note in notes:
            reporter.event("note", None, note)
        result = do_lock(options, reporter)
        if not quiet:
            for change in result.changes:
                click.echo(change.summary)
            for line in result.pip.lines() if result.pip else ():
                click.echo(line)
            for line in result.started_from:
                click.echo(line)
            if result.changed:
                click.echo(f"wrote {', '.join(result.written + result.removed)} in {result.output_dir}")
            else:
                click.echo(f"nothing changed in {result.output_dir}")
        return 0

    run_core(verbose, action)


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
