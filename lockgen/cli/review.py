"""The ``check``, ``diff`` and ``explain`` commands: parse options, call :mod:`lockgen.review`, print.

``check`` is on the pre-commit path, so this module imports nothing heavy at import time: the
core modules are imported inside each command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lockgen.cli.main import SEE_EXIT_CODES, collect, input_options, platform_options, run_core, solve_options

if TYPE_CHECKING:
    from lockgen.review.explain import Explanation, PipExplanation
    from lockgen.review.sources import LockSet

EXIT_CHANGED = 6


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""
    group.add_command(check_command)
    group.add_command(diff_command)
    group.add_command(explain_command)


def run_check(
    files: tuple[Path, ...],
    output_dir: Path | None,
    platforms: tuple[str, ...],
    quiet: bool,
    verbose: bool,
    rest: dict[str, Any],
) -> None:
    """``lockgen check`` and ``lockgen lock --check``: exit 0 when up to date, 6 (StaleLockError) otherwise."""
    from lockgen.cli.main import StderrReporter

    def action() -> int:
        from lockgen.config import build_options
        from lockgen.errors import StaleLockError
        from lockgen.review.check import check

        solve_only = {k: v for k, v in rest.items() if k not in ("update", "update_all", "offline", "strict")}
        options = build_options(files, collect(platforms=platforms, output_dir=output_dir, **solve_only))
        result = check(options, StderrReporter(quiet, verbose))
        if result.ok:
            if not quiet:
                click.echo(f"up to date: {', '.join(result.checked)} in {result.output_dir}")
            return 0
        reasons: dict[str, list[str]] = {}
        for stale in result.stale:
            reasons.setdefault(stale.target, []).append(stale.detail)
        count = len(reasons)
        lines = [f"{count} lock{'s are' if count != 1 else ' is'} not up to date in {result.output_dir}:"]
        lines += [f"  {s}" for s in result.stale]
        lines.append("run `lockgen lock` to update them")
        raise StaleLockError("\n".join(lines), reasons)

    run_core(verbose, action)


@click.command("check", short_help="Are the locks up to date with environment.yml? (no network)", epilog=SEE_EXIT_CODES)
@input_options
@platform_options
@solve_options
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True, help="Tracebacks on errors.")
def check_command(
    files: tuple[Path, ...],
    output_dir: Path | None,
    platforms: tuple[str, ...],
    quiet: bool,
    verbose: bool,
    **rest: Any,
) -> None:
    """Are the locks present, well-formed and up to date with environment.yml? No network, no solve.

    Takes the same options as `lock` (they feed each lock's input hash). Exits 0 when every lock
    is up to date; exits 6 naming each stale platform (or pip) and why: spec changed, channels
    changed, option changed, platform added or removed, file missing, malformed or hand-edited.
    """
    run_check(files, output_dir, platforms, quiet, verbose, rest)


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
@click.option("-v", "--verbose", is_flag=True, help="Tracebacks on errors.")
def diff_command(
    base: str | None,
    head: str | None,
    files: tuple[Path, ...],
    output_dir: Path | None,
    fmt: str,
    verbose: bool,
) -> None:
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

        options = build_options(files, collect(output_dir=output_dir))
        lock_dir, env_files, template = options.output_dir, options.files, options.filename_template
        old = _read_side(base or "HEAD", lock_dir, env_files, template)
        new = (
            _read_side(head, lock_dir, env_files, template)
            if head
            else read_directory(lock_dir, "working tree", env_files, template=template)
        )
        result = diff_locks(old, new)
        click.echo(render(result, fmt), nl=False)
        return EXIT_CHANGED if result.changed else 0

    run_core(verbose, action)


@click.command("explain", short_help="Why a package is in a lock, and what constrains it.", epilog=SEE_EXIT_CODES)
@click.argument("name")
@input_options
@click.option(
    "-p", "--platform", "platform", metavar="SUBDIR", help="Which lock [default: this machine's, or the first]."
)
@solve_options
@click.option("--offline", is_flag=True, help="Read dependency data only from the repodata cache.")
@click.option("-v", "--verbose", is_flag=True, help="Tracebacks on errors.")
def explain_command(
    name: str,
    files: tuple[Path, ...],
    output_dir: Path | None,
    platform: str | None,
    offline: bool,
    verbose: bool,
    **rest: Any,
) -> None:
    """Why NAME is in a platform's lock: the chains from your specs to it, and what constrains its version.

    Dependency data comes from the channels' repodata for exactly the files in the lock (from the
    cache only with --offline; use the same --mirror and --cache-dir as `lock`).
    """

    def action() -> int:
        from lockgen.config import build_options
        from lockgen.review.explain import explain

        options = build_options(files, collect(output_dir=output_dir, offline=offline, **rest))
        click.echo(format_explanation(explain(options, name, platform)), nl=False)
        return 0

    run_core(verbose, action)


def format_pip_explanation(found: PipExplanation) -> str:
    lines = []
    for use in found.uses:
        shown = f"{found.name}=={use.version}" if "://" not in use.version else f"{found.name} @ {use.version}"
        on = ", ".join(use.platforms) if use.platforms else "no target platform"
        lines.append(f"{shown} is in {found.lock_dir / use.file} (pip), on {on}")
        if use.via:
            required = [("the pip: section" if v == "pip: section" else v) for v in use.via]
            lines.append(f"  required by: {', '.join(required)}")
    if found.requested:
        lines.append(f"  listed at: {', '.join(found.requested)}")
    return "\n".join(lines) + "\n"


def format_explanation(found: Explanation | PipExplanation) -> str:
    from lockgen.review.explain import PipExplanation

    if isinstance(found, PipExplanation):
        return format_pip_explanation(found)
    target = found.target
    lines = [f"{target.label} is in {found.lock_file} ({found.platform})", ""]
    if found.chains:
        lines.append("required through:")
        for number, chain in enumerate(found.chains, start=1):
            root = chain[0]
            lines.append(f"  {number}. `{root.requirement}` ({root.origin}) -> {root.record.label}")
            lines += [f"       needs `{step.requirement}` -> {step.record.label}" for step in chain[1:]]
    else:
        lines.append("no chain from your specs leads to it (kept from an earlier lock, or a dependency cycle)")
    lines += ["", "its version is constrained by:"]
    if not found.constraints:
        lines.append("  nothing: any version satisfies every requirement in the lock")
    width = max((len(c.source) for c in found.constraints), default=0)
    for constraint in found.constraints:
        note = "" if constraint.kind != "constrains" else "  (run_constrained)"
        lines.append(f"  {constraint.source.ljust(width)}  `{constraint.spec}`{note}")
    return "\n".join(lines) + "\n"
