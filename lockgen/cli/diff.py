"""``lockgen diff``: what changed between two sets of locks."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lockgen.cli.options import (
    SEE_EXIT_CODES,
    Inputs,
    cache_dir_option,
    environment_option,
    input_options,
    mirror_option,
    offline_option,
    verbose_option,
)
from lockgen.cli.runner import echo, run_core
from lockgen.flags import Flags, LockFlags, SolveFlags

if TYPE_CHECKING:
    from lockgen.config import Limits, LockOptions
    from lockgen.filesize import SizeLimit
    from lockgen.review.diff import DiffResult
    from lockgen.review.sources import LockSet

EXIT_CHANGED = 6


def _in(side: str, environment: str) -> str:
    """A directory side holds one folder per environment; a git revision is read at each environment's path."""
    return str(Path(side) / environment) if environment and Path(side).is_dir() else side


def _read_side(argument: str, lock_dir: Path, env_files: tuple[Path, ...], template: str, limits: Limits) -> LockSet:
    """A directory when ``argument`` names one (its specs: the environment file beside it, else the
    working tree's), else a git revision of ``lock_dir`` (its specs: the environment file at that revision).
    Only files named by ``template`` (and requirements.txt) are locks."""
    from lockgen.review.sources import environment_beside, read_directory, read_revision

    path = Path(argument)
    if path.is_dir():
        files = environment_beside(path, env_files)
        return read_directory(path, argument, files, template=template, limit=limits.lock_files)
    return read_revision(
        argument, lock_dir, env_files, template=template, limit=limits.lock_files, env_limit=limits.input_files
    )


def _tool_mirrors(text: str | None, where: str) -> tuple[str, ...]:
    """``[tool.lockgen] mirrors`` of a pyproject.toml's text as written (credentials masked), sorted."""
    from lockgen.secrets import redact
    from lockgen.toolconfig import parse_tool_text

    values = parse_tool_text(text, where).get("mirrors", ()) if text is not None else ()
    pairs = [f"{k}={v}" for k, v in values.items()] if isinstance(values, dict) else list(values)
    return tuple(sorted(redact(str(pair)) for pair in pairs))


def _revision_location(revision: str, env_files: tuple[Path, ...], limit: SizeLimit) -> tuple[Path, str, str]:
    """Where the locks were at ``revision`` by that revision's own [tool.lockgen] (pyproject.toml is part of
    the pull request, so the other side's settings must not choose where this side is read): (folder, template,
    ``folder/template`` for the move warning)."""
    from lockgen.review.sources import read_revision_file
    from lockgen.toolconfig import lock_location, parse_tool_text

    project = (env_files[0] if env_files else Path("environment.yml")).absolute().parent
    text = read_revision_file(revision, project / "pyproject.toml", limit)
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
@click.option(
    "--max-chars",
    type=click.IntRange(min=0),
    default=60_000,
    show_default=True,
    help="Output (text or Markdown) longer than this leaves out its largest tables (and says so), to fit"
    " a pull-request comment (GitHub's limit: 65,536) or a screen; 0: no limit.",
)
@click.option(
    "--why-not-newer",
    is_flag=True,
    help="For each downgraded package the environment file names, ask the solver what holds it back"
    " (the working tree's environment; a few solves a platform; see `lockgen explain`).",
)
@mirror_option()
@cache_dir_option("Repodata (for --why-not-newer)")
@offline_option("With --why-not-newer: use only cached repodata.")
@verbose_option("Also every package of a lock added or removed whole (a platform added or dropped); tracebacks.")
def command(
    base: str | None,
    head: str | None,
    inputs: Inputs,
    environments: tuple[str, ...],
    fmt: str,
    max_chars: int,
    why_not_newer: bool,
    mirrors: tuple[str, ...],
    cache_dir: Path | None,
    offline: bool,
    verbose: bool,
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
    Exits 0 when nothing changed, 6 when something did (a move included), 2 when neither side holds
    a lock file (it names where it looked). Without -o and -f, the project is found from the working
    folder up.
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
            limit = options.limits.lock_files
            old = _read_side(_in(base or "HEAD", sub), lock_dir, env_files, template, options.limits)
            new = (
                _read_side(_in(head, sub), lock_dir, env_files, template, options.limits)
                if head
                else read_directory(lock_dir, "working tree", env_files, template=template, limit=limit)
            )
            return diff_locks(old, new)

        targets = environment_targets(inputs.files, Flags(inputs.output_dir), environments)
        if targets is not None:
            from lockgen.review.envdiff import environments_diff, render_environments

            results = [(t.name, compare(t.options, t.name)) for t in targets]
            every = environments_diff(base or "HEAD", head or "working tree", results)
            echo(render_environments(every, fmt, verbose), nl=False)
            return EXIT_CHANGED if every.changed else 0

        solve = SolveFlags(mirrors=mirrors, cache_dir=cache_dir)
        options = build_options(inputs.files, Flags(inputs.output_dir, solve=solve, lock=LockFlags(offline=offline)))
        lock_dir, env_files, template = options.output_dir, options.files, options.filename_template
        limit = options.limits.lock_files

        def side(argument: str | None) -> LockSet:
            """One side; unless -o named the folder, a revision's locks are where that revision's settings put them."""
            from lockgen.review.sources import read_revision_file

            pyproject = (env_files[0] if env_files else Path("environment.yml")).absolute().parent / "pyproject.toml"
            if argument is None:
                found = read_directory(lock_dir, "working tree", env_files, template=template, limit=limit)
                text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else None
                found = dataclasses.replace(found, mirrors=_tool_mirrors(text, str(pyproject)))
                here = f"{_relative_to_project(lock_dir, env_files)}/{template}"
                return found if inputs.output_dir is not None else dataclasses.replace(found, location=here)
            if Path(argument).is_dir():
                return _read_side(argument, lock_dir, env_files, template, options.limits)
            text = read_revision_file(argument, pyproject, options.limits.input_files)
            mirrors = _tool_mirrors(text, f"{argument}:pyproject.toml")
            if inputs.output_dir is not None:
                found = _read_side(argument, lock_dir, env_files, template, options.limits)
                return dataclasses.replace(found, mirrors=mirrors)
            folder, its_template, location = _revision_location(argument, env_files, options.limits.input_files)
            found = _read_side(argument, folder, env_files, its_template, options.limits)
            return dataclasses.replace(found, location=location, mirrors=mirrors)

        result = diff_locks(side(base or "HEAD"), side(head))
        if head is None and options.conda_lock_file is not None:
            result = _with_condalock(result, options)
        if why_not_newer and head is None:
            result = _with_why(result, options)
        echo(render(result, fmt, max_chars, verbose), nl=False)
        return EXIT_CHANGED if result.changed else 0

    run_core(verbose, action)


def _with_condalock(result: DiffResult, options: LockOptions) -> DiffResult:
    """``result`` warning (exit 6) of each place the working tree's conda-lock.yml disagrees with its locks:
    it is written from the same solution, so the locks' rows are its rows, unless a hand edit made it differ."""
    from lockgen.condalockcheck import condalock_disagreements
    from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME, read_lock_file
    from lockgen.plan import plan

    out_dir = options.output_dir
    locks = {p.platform: read_lock_file(out_dir / p.lock_name, p.platform).lock for p in plan(options).platforms}
    pip_path = out_dir / REQUIREMENTS_NAME
    requirements = pip_path.read_text(encoding="utf-8", errors="replace") if pip_path.is_file() else None
    found = condalock_disagreements(options.conda_lock_file or Path(), locks, requirements)
    shown = [f"{options.conda_lock_file} disagrees with the locks (not what lockgen wrote): {line}" for line in found]
    return dataclasses.replace(result, moved=(*result.moved, *shown)) if shown else result


def _with_why(result: DiffResult, options: LockOptions) -> DiffResult:
    """``result`` with the solver's "why not newer" for each downgraded package the environment file names."""
    from lockgen.errors import LockgenError
    from lockgen.holdback import why_not_newer as holdback
    from lockgen.plan import plan
    from lockgen.review.explain import refuse_unasked_channels, review_mirrors

    options = dataclasses.replace(options, mirrors=review_mirrors(options)[0])  # not a PR's mirror URLs
    refused = ""
    try:
        if result.downgraded_direct():
            refuse_unasked_channels(options, plan(options), "diff --why-not-newer")
    except LockgenError as exc:
        refused = exc.message
    answers: list[tuple[str, ...]] = []
    for package, platform in result.downgraded_direct():
        if refused:
            answers.append((f"why not newer ({package} on {platform}): not solved: {refused}",))
            continue
        try:
            answers.append(tuple(holdback(options, package, platform).lines))
        except LockgenError as exc:
            answers.append((f"why not newer ({package} on {platform}): could not solve: {exc.message}",))
    return dataclasses.replace(result, why=tuple(answers))


def _relative_to_project(lock_dir: Path, env_files: tuple[Path, ...]) -> str:
    import os

    # normalised: from a subfolder the project's files are `../environment.yml` and `.` or `../locks`
    project = Path(os.path.normpath((env_files[0] if env_files else Path("environment.yml")).absolute().parent))
    try:
        return Path(os.path.normpath(lock_dir.absolute())).relative_to(project).as_posix()
    except ValueError:
        return lock_dir.as_posix()
