"""``lockgen diff``: what changed between two sets of locks."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lockgen.cli.options import SEE_EXIT_CODES, Inputs, environment_option, input_options, verbose_option
from lockgen.cli.runner import echo, run_core
from lockgen.config import Flags

if TYPE_CHECKING:
    from lockgen.config import LockOptions
    from lockgen.review.diff import DiffResult
    from lockgen.review.sources import LockSet

EXIT_CHANGED = 6


def _in(side: str, environment: str) -> str:
    """A directory side holds one folder per environment; a git revision is read at each environment's path."""
    return str(Path(side) / environment) if environment and Path(side).is_dir() else side


def _read_side(argument: str, lock_dir: Path, env_files: tuple[Path, ...], template: str) -> LockSet:
    """A directory when ``argument`` names one (its specs: the environment file beside it, else the
    working tree's), else a git revision of ``lock_dir`` (its specs: the environment file at that revision).
    Only files named by ``template`` (and requirements.txt) are locks."""
    from lockgen.review.sources import environment_beside, read_directory, read_revision

    path = Path(argument)
    if path.is_dir():
        return read_directory(path, argument, environment_beside(path, env_files), template=template)
    return read_revision(argument, lock_dir, env_files, template=template)


def _revision_location(revision: str, env_files: tuple[Path, ...]) -> tuple[Path, str, str]:
    """Where the locks were at ``revision`` by that revision's own [tool.lockgen] (pyproject.toml is part of
    the pull request, so the other side's settings must not choose where this side is read): (folder, template,
    ``folder/template`` for the move warning)."""
    from lockgen.config import lock_location, parse_tool_text
    from lockgen.review.sources import read_revision_file

    project = (env_files[0] if env_files else Path("environment.yml")).absolute().parent
    text = read_revision_file(revision, project / "pyproject.toml")
    where = f"{revision}:pyproject.toml"
    folder, template = lock_location(parse_tool_text(text, where) if text is not None else {}, where)
    return project / folder, template, f"{folder}/{template}"


@click.command("diff", short_help="What changed between two sets of locks.", epilog=SEE_EXIT_CODES)
@click.argument("base", required=False)
@click.argument("head", required=False)
@input_options
@environment_option("Environment of [tool.lockgen.environments] to compare (repeatable) [default: all].")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text: a terminal table; markdown: a pull-request comment; json: for bots.",
)
@verbose_option("Tracebacks on errors.")
def command(
    base: str | None, head: str | None, inputs: Inputs, environments: tuple[str, ...], fmt: str, verbose: bool
) -> None:
    """Compare two sets of locks: added, removed, upgraded, downgraded and rebuilt packages.

    \b
    lockgen diff              HEAD's locks → the working tree's
    lockgen diff REV          REV's locks (e.g. origin/main) → the working tree's
    lockgen diff A B          A → B, each a directory of locks or a git revision

    With [tool.lockgen.environments]: every environment (or those -e names), one section each;
    a directory A or B holds one folder per environment.

    Without -o, each side is read where its own [tool.lockgen] output-dir and filename-template
    put its locks (a revision's pyproject.toml for a revision); locks that moved are a warning.
    Exits 0 when nothing changed and 6 when something did (a move included).
    """

    def action() -> int:
        from lockgen.config import build_options
        from lockgen.environments import environment_targets
        from lockgen.review.diff import diff_locks
        from lockgen.review.render import render
        from lockgen.review.sources import read_directory

        def compare(options: LockOptions, sub: str = "") -> DiffResult:
            """One environment's locks (``sub``: its folder name, "" without the table)."""
            lock_dir, env_files, template = options.output_dir, options.files, options.filename_template
            old = _read_side(_in(base or "HEAD", sub), lock_dir, env_files, template)
            new = (
                _read_side(_in(head, sub), lock_dir, env_files, template)
                if head
                else read_directory(lock_dir, "working tree", env_files, template=template)
            )
            return diff_locks(old, new)

        targets = environment_targets(inputs.files, Flags(inputs.output_dir), environments)
        if targets is not None:
            from lockgen.review.envdiff import environments_diff, render_environments

            results = [(t.name, compare(t.options, t.name)) for t in targets]
            every = environments_diff(base or "HEAD", head or "working tree", results)
            echo(render_environments(every, fmt), nl=False)
            return EXIT_CHANGED if every.changed else 0

        options = build_options(inputs.files, Flags(inputs.output_dir))
        lock_dir, env_files, template = options.output_dir, options.files, options.filename_template

        def side(argument: str | None) -> LockSet:
            """One side; unless -o named the folder, a revision's locks are where that revision's settings put them."""
            if argument is None:
                found = read_directory(lock_dir, "working tree", env_files, template=template)
                here = f"{_relative_to_project(lock_dir, env_files)}/{template}"
                return found if inputs.output_dir is not None else dataclasses.replace(found, location=here)
            if inputs.output_dir is not None or Path(argument).is_dir():
                return _read_side(argument, lock_dir, env_files, template)
            folder, its_template, location = _revision_location(argument, env_files)
            found = _read_side(argument, folder, env_files, its_template)
            return dataclasses.replace(found, location=location)

        result = diff_locks(side(base or "HEAD"), side(head))
        echo(render(result, fmt), nl=False)
        return EXIT_CHANGED if result.changed else 0

    run_core(verbose, action)


def _relative_to_project(lock_dir: Path, env_files: tuple[Path, ...]) -> str:
    project = (env_files[0] if env_files else Path("environment.yml")).absolute().parent
    try:
        return lock_dir.absolute().relative_to(project).as_posix()
    except ValueError:
        return lock_dir.as_posix()
