"""``lockgen verify``: check the locks against their channels' repodata, without installing."""

from __future__ import annotations

import click

from lockgen.cli.options import (
    SEE_EXIT_CODES,
    Locks,
    environment_option,
    locks_options,
    offline_option,
    platforms_option,
    quiet_option,
    verbose_option,
)
from lockgen.cli.runner import StderrReporter, echo, run_core


@click.command("verify", short_help="Check the locks against their channels' repodata.", epilog=SEE_EXIT_CODES)
@platforms_option("Lock to check (repeatable) [default: every lock].")
@locks_options
@environment_option("Environment of [tool.lockgen.environments] to check (repeatable) [default: all].")
@offline_option("Use only cached repodata.")
@quiet_option("Print only the problems.")
@verbose_option()
def command(
    platforms: tuple[str, ...], locks: Locks, environments: tuple[str, ...], offline: bool, quiet: bool, verbose: bool
) -> None:
    """Check the lock files against their channels' repodata, without installing.

    Every URL must be a file in its channel's repodata with the same hash, no name may appear
    twice, lines must come in dependency order, every dependency must be satisfied by another
    line of the same file, and every line's subdir must be the lock's platform or noarch. The
    lock must be the solution of its `# specs:` line: each spec met, every package a spec's or
    another package's dependency; no URL may carry credentials. Each problem is reported with
    file, line and package; exit 8 when there is any, exit 2 when there is no lock to check.

    The repodata comes from the channels themselves: [tool.lockgen] mirrors and cache-dir are
    ignored (pyproject.toml may come with the pull request under review). Pass --mirror and
    --cache-dir to check a mirror; verify then names it on every run.
    """

    def action() -> int:
        from lockgen.config import default_cache_dir
        from lockgen.environments import environment_options
        from lockgen.errors import VerifyError
        from lockgen.secrets import redact
        from lockgen.verify import VerifyOptions, VerifyReport, verify_locks

        reports = []
        noted = False
        for settings in environment_options((), locks.flags(offline), environments):  # one without the table
            ignored = [key for key in ("mirrors", "cache-dir") if key in settings.from_config]
            if ignored and not noted:
                echo(
                    f"note: verify ignores [tool.lockgen] {' and '.join(ignored)} (pyproject.toml can come with a pull"
                    " request) and checks the channels themselves; pass --mirror / --cache-dir to use them",
                    err=True,
                )
            mirrors = () if "mirrors" in ignored else settings.mirrors
            for mirror in mirrors if not noted else ():
                shown = redact(mirror.replacement)
                echo(f"checking through a mirror: {mirror.canonical} is read from {shown}", err=True)
            noted = True
            options = VerifyOptions(
                lock_dir=settings.output_dir,
                cache_dir=default_cache_dir() if "cache-dir" in ignored else settings.cache_dir,
                platforms=platforms,
                mirrors=mirrors,
                filename_template=settings.filename_template,
                offline=settings.offline,
                timeout_s=settings.limits.http_timeout_s,
                retries=settings.limits.http_retries,
            )
            reports.append(verify_locks(options, StderrReporter(quiet, verbose)))
        report = VerifyReport(tuple(lock for one in reports for lock in one.locks))
        for lock in report.locks:
            if lock.findings:
                echo(f"{lock.path}: {len(lock.findings)} problem(s) in {lock.packages} packages")
                for finding in lock.findings:
                    echo(f"  {finding}")
            elif not quiet:
                what = f"platform {lock.platform}" if lock.platform else "VCS URLs and local projects"
                echo(f"{lock.path}: ok ({lock.packages} packages, {what})")
        if report.ok:
            return 0
        bad = sum(1 for lock in report.locks if lock.findings)
        raise VerifyError(
            f"{len(report.findings)} problem(s) in {bad} of {len(report.locks)} lock file(s)",
            [str(f) for f in report.findings],
        )

    run_core(verbose, action)
