"""``lockgen explain``: why a package is in a lock, and what constrains its version."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lockgen.cli.options import (
    SEE_EXIT_CODES,
    Inputs,
    environment_option,
    input_options,
    offline_option,
    solve_options,
    verbose_option,
)
from lockgen.cli.runner import echo, run_core
from lockgen.flags import Flags, LockFlags, SolveFlags

if TYPE_CHECKING:
    from lockgen.review.explain import Explanation, PipExplanation


@click.command("explain", short_help="Why a package is in a lock, and what constrains it.", epilog=SEE_EXIT_CODES)
@click.argument("name")
@input_options
@environment_option("Environment of [tool.lockgen.environments] whose lock to read.", False)
@click.option(
    "-p", "--platform", "platform", metavar="SUBDIR", help="Which lock [default: this machine's, or the first]."
)
@solve_options
@offline_option("Read dependency data only from the repodata cache.")
@click.option(
    "--why-not-newer/--no-why-not-newer",
    default=True,
    show_default=True,
    help="Ask the solver what holds a conda package at its version (a few solves).",
)
@verbose_option("Tracebacks on errors.")
def command(
    name: str,
    inputs: Inputs,
    environment: str | None,
    platform: str | None,
    solve: SolveFlags,
    offline: bool,
    why_not_newer: bool,
    verbose: bool,
) -> None:
    """Why NAME is in a platform's lock: the chains from your specs to it, what constrains its version,
    and why it is not newer.

    Dependency data comes from the channels' repodata for exactly the files in the lock (from the
    cache only with --offline; use the same --mirror and --cache-dir as `lock`). Channels are read
    from conda.anaconda.org and repo.anaconda.com, folders inside the project, or where --mirror sends
    them; [tool.lockgen] mirrors that are URLs or folders elsewhere are ignored (pull requests edit
    pyproject.toml). "Why not newer"
    solves the platform again with `NAME >VERSION`, then without one spec at a time: the specs whose
    removal lets a newer NAME in are the causes, each with the dependency chain where it clashes.
    """

    def action() -> int:
        from dataclasses import replace

        from lockgen.environments import one_environment_options
        from lockgen.project import ensure_project
        from lockgen.review.explain import Explanation, explain, review_mirrors
        from lockgen.secrets import redact
        from lockgen.toolconfig import check_platforms

        flags = Flags(inputs.output_dir, solve=solve, lock=LockFlags(offline=offline))
        check_platforms((platform,) if platform else None, None)  # -p ../x: a bad option (exit 2), as for check
        ensure_project(inputs.files)
        options = one_environment_options(inputs.files, flags, environment)
        kept, left_out = review_mirrors(options)
        if left_out:
            shown = ", ".join(redact(str(m)) for m in left_out)
            echo(
                f"note: explain ignores [tool.lockgen] mirrors {shown} (pyproject.toml can come with a pull request;"
                " only a folder inside the project is read); pass --mirror to use them",
                err=True,
            )
        options = replace(options, mirrors=kept)  # for "why not newer" too
        found = explain(options, name, platform)
        echo(format_explanation(found), nl=False)
        if why_not_newer and isinstance(found, Explanation):
            from lockgen.errors import LockgenError
            from lockgen.holdback import why_not_newer as holdback

            try:
                lines = holdback(options, found.target.name, found.platform).lines
            except LockgenError as exc:
                lines = [f"why not newer: could not solve to find out: {exc.message.splitlines()[0]}"]
            echo("\n" + "\n".join(lines))
        return 0

    run_core(verbose, action)


def format_pip_explanation(found: PipExplanation) -> str:
    lines = []
    for use in found.uses:
        shown = f"{found.name}=={use.version}" if "://" not in use.version else f"{found.name} @ {use.version}"
        if use.local is not None:
            shown = f"{use.project} (the local project `{use.local}`)"
        on = ", ".join(use.platforms) if use.platforms else "no target platform"
        lines.append(f"{shown} is in {found.lock_dir / use.file} (pip), on {on}")
        if use.local is not None:
            lines.append(
                "  unhashed: a local folder has no file to hash, so pip installs it after requirements.txt:"
                f" `pip install --no-deps -r {found.lock_dir / use.file}`, from the environment file's folder"
            )
        elif "://" in use.version:
            lines.append(
                "  unhashed: a VCS checkout has no file to hash; it is pinned to a commit instead, and pip installs"
                f" it after requirements.txt: `pip install --no-deps -r {found.lock_dir / use.file}`"
            )
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
