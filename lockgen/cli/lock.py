"""``lockgen lock``: solve every platform and write the lock files (``--check``: exit like ``lockgen check``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lockgen.cli.habits import Habits, check_lock_habits, lock_habits
from lockgen.cli.options import (
    SEE_EXIT_CODES,
    Inputs,
    environment_option,
    input_options,
    lock_options,
    lock_platforms_option,
    quiet_option,
    solve_options,
    verbose_option,
)
from lockgen.cli.runner import StderrReporter, echo, run_core
from lockgen.flags import Flags, LockFlags, SolveFlags

if TYPE_CHECKING:
    from lockgen.lock import LockResult


@click.command("lock", short_help="Solve every platform and write the lock files.", epilog=SEE_EXIT_CODES)
@input_options
@environment_option(
    "Lock this environment of [tool.lockgen.environments] and the rest of its group (repeatable) [default: all]."
)
@lock_platforms_option
@solve_options
@lock_options
@quiet_option()
@verbose_option()
@lock_habits
def command(
    inputs: Inputs,
    environments: tuple[str, ...],
    platforms: tuple[str, ...],
    solve: SolveFlags,
    how: LockFlags,
    check_only: bool,
    quiet: bool,
    verbose: bool,
    habits: Habits,
) -> None:
    """Solve every target platform and write the lock files, all or nothing.

    Reads environment.yml (or -f files), fetches repodata for each platform and noarch, solves
    them concurrently, and writes OUTPUT_DIR/<platform>.txt (@EXPLICIT, one URL#hash a line) and,
    when the file has a pip: section, OUTPUT_DIR/requirements.txt. Existing locks are kept where
    they still satisfy the specs; platforms whose inputs did not change are not solved again.
    """
    if check_only:
        from lockgen.cli.uptodate import run_check

        # what `check` compares: the solve options, and those of `lock` that feed an input hash
        checked = LockFlags(jobs=how.jobs, only_binary=how.only_binary)
        run_check(
            inputs.files, Flags(inputs.output_dir, platforms, solve, checked), quiet, verbose, environments=environments
        )
        return

    def action() -> int:
        from lockgen.config import build_options, environments_table
        from lockgen.lock import lock
        from lockgen.project import ensure_project
        from lockgen.reporting import Notice

        notes = check_lock_habits(habits)
        flags = Flags(inputs.output_dir, platforms, solve, how, writes_locks=True)
        ensure_project(inputs.files)
        targets = None
        if environments or environments_table(inputs.files) is not None:  # no table, no -e: one environment
            from lockgen.environments import environment_targets

            targets = environment_targets(inputs.files, flags, environments, whole_groups=True)
        reporter = StderrReporter(quiet, verbose)
        for note in notes:
            reporter.report(Notice(note))
        if targets is not None:
            from lockgen.environments import adopting, check_group_options
            from lockgen.grouplock import lock_environments

            check_group_options(targets)
            alone = adopting(targets, flags, environments)
            for target in targets:
                if target.options.from_locks and not quiet:
                    _say_reused(target.options.from_locks, f"{target.name}: ")
            if alone is not None:  # --from / --conda-lock-file: that one environment's lock, as without the table
                from lockgen.lockfiles.commit import recover

                root = alone.options.output_dir.parent  # an interrupted commit of every environment ends first
                if root.is_dir():
                    recover(root, state_dirs=alone.options.state_dirs)
                result = lock(alone.options, reporter)
                if not quiet:
                    echo(f"[{alone.name}]")
                    _echo_result(result)
                return 0
            for locked in lock_environments(targets, reporter):
                if not quiet:
                    echo(f"[{locked.name}]")
                    _echo_result(locked.result)
            return 0
        options = build_options(inputs.files, flags)
        if options.from_locks and not quiet:
            _say_reused(options.from_locks)
        result = lock(options, reporter)
        if not quiet:
            _echo_result(result)
        return 0

    run_core(verbose, action)


def _say_reused(reused: tuple[str, ...], who: str = "") -> None:
    """The options taken from what the locks record, on stderr (unless --quiet, as notes are)."""
    from lockgen.secrets import redact

    echo(redact(f"{who}as the locks were made: {', '.join(reused)} (give another value to change)"), err=True)


def _echo_result(result: LockResult) -> None:
    from pathlib import Path

    from lockgen.lockfiles.lockdir import REQUIREMENTS_NAME

    for change in result.changes:
        for line in change.lines():
            echo(line)
    pip_changed = any(Path(name).name == REQUIREMENTS_NAME for name in result.written)
    for line in result.pip.lines(changed=pip_changed) if result.pip else ():
        echo(line)
    for line in result.started_from:
        echo(line)
    if result.written or result.removed:
        done = [f"wrote {', '.join(result.written)}"] if result.written else []
        done += [f"removed {', '.join(result.removed)}"] if result.removed else []
        echo(f"{'; '.join(done)} in {result.output_dir}")
    if result.written_beside:
        echo(f"wrote {', '.join(result.written_beside)}")
    if not result.changed:
        echo(f"nothing changed in {result.output_dir}")
