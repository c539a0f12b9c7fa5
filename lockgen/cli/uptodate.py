"""Are the locks up to date? What ``lockgen check`` and ``lockgen lock --check`` both run.

Imports nothing heavy at import time: ``check`` is on the pre-commit path.
"""

from __future__ import annotations

from pathlib import Path

from lockgen.cli.runner import StderrReporter, echo, run_core
from lockgen.flags import Flags

__all__ = ["run_check"]


def run_check(
    files: tuple[Path, ...],
    flags: Flags,
    quiet: bool,
    verbose: bool,
    fmt: str = "text",
    environments: tuple[str, ...] = (),
) -> None:
    """Exit 0 when the locks are up to date, 6 (StaleLockError) naming each stale one otherwise.
    ``fmt="json"`` prints docs/json.md's document on stdout instead (the same exit codes). With
    ``[tool.lockgen.environments]``: those named in ``environments`` (all when empty)."""

    def action() -> int:
        from lockgen.config import build_options, environments_table
        from lockgen.errors import StaleLockError
        from lockgen.project import ensure_project
        from lockgen.review.check import check, render_check_json
        from lockgen.review.stale import grouped_lines

        ensure_project(files)
        targets = None
        if environments or environments_table(files) is not None:  # no table, no -e: one environment
            from lockgen.environments import environment_targets

            targets = environment_targets(files, flags, environments)
        if targets is not None:
            from lockgen.environments import check_group_options
            from lockgen.review.groups import check_environments

            check_group_options(targets)
            root = build_options(files, flags).output_dir
            result = check_environments(targets, root, StderrReporter(quiet, verbose))
            reused = tuple(f"{t.name}: {option}" for t in targets for option in t.options.from_locks)
        else:
            options = build_options(files, flags)
            reused = options.from_locks
            result = check(options, StderrReporter(quiet, verbose))
        if fmt == "json":
            echo(render_check_json(result, reused), nl=False)
            return 0 if result.ok else StaleLockError.exit_code
        if reused and not quiet:  # a reader of the CI log sees which options the verdict assumed
            echo(f"with the options the locks record: {', '.join(reused)}", err=True)
        if result.ok and targets is not None:
            if not quiet:
                names = ", ".join(t.name for t in targets)
                echo(f"up to date: {len(result.checked)} locks of {names} in {result.output_dir}")
            return 0
        if result.ok:
            if not quiet:
                echo(f"up to date: {', '.join(result.checked)} in {result.output_dir}")
            return 0
        reasons: dict[str, list[str]] = {}
        for stale in result.stale:
            reasons.setdefault(stale.target, []).append(stale.detail)
        count = len(reasons)
        lines = [f"{count} lock{'s are' if count != 1 else ' is'} not up to date in {result.output_dir}:"]
        lines += [f"  {line}" for line in grouped_lines(result.stale)]
        lines.append("run `lockgen lock` to update them")
        raise StaleLockError("\n".join(lines), reasons)

    run_core(verbose, action)
