"""``lockgen install``: create an environment from a lock, without conda."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lockgen.cli.habits import Habits, check_install_habits, install_habits
from lockgen.cli.options import (
    SEE_EXIT_CODES,
    Locks,
    environment_option,
    locks_options,
    quiet_option,
    verbose_option,
)
from lockgen.cli.runner import StderrReporter, echo, run_core
from lockgen.repodata.gateway import collect_from_here

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lockgen.channels import Mirror
    from lockgen.install import InstallOptions, InstallResult


@click.command("install", short_help="Create an environment from a lock, without conda.", epilog=SEE_EXIT_CODES)
@click.argument("lockfile", required=False, type=click.Path(path_type=Path))
@click.option("-p", "--platform", metavar="SUBDIR", help="Lock to install [default: this machine's platform].")
@click.option(
    "--prefix",
    type=click.Path(path_type=Path, file_okay=False),
    help="Environment directory to create or update.",
)
@click.option(
    "-n",
    "--name",
    metavar="NAME",
    help="Environment name: created in your conda envs directory (docs/from-conda-lock.md); or use --prefix.",
)
@locks_options
@environment_option("Environment of [tool.lockgen.environments] to install (its locks: OUTPUT_DIR/NAME).", False)
@click.option("--no-pip", is_flag=True, help="Do not install requirements.txt.")
@click.option(
    "--foreign-platform",
    is_flag=True,
    help="Link a lock for a platform this machine cannot run (e.g. to prepare an environment for"
    " another machine); the pip step is skipped. Without it such a lock is refused (exit 9).",
)
@click.option(
    "--pip-installer",
    type=click.Choice(["auto", "uv", "pip"]),
    default="auto",
    help="Installer for requirements.txt [default: auto: uv when available, else the environment's pip].",
)
@click.option(
    "--allow-project-mirror",
    is_flag=True,
    help="Take [tool.lockgen] mirrors that are folders inside the project (a pull request could fill them);"
    " refused without it or LOCKGEN_ALLOW_PROJECT_MIRROR=1. A --mirror given here is always taken.",
)
@quiet_option()
@verbose_option()
@install_habits
def command(
    lockfile: Path | None,
    platform: str | None,
    prefix: Path | None,
    name: str | None,
    locks: Locks,
    environment: str | None,
    no_pip: bool,
    foreign_platform: bool,
    pip_installer: str,
    allow_project_mirror: bool,
    quiet: bool,
    verbose: bool,
    habits: Habits,
) -> None:
    """Create or update a conda environment at PREFIX from OUTPUT_DIR/<platform>.txt, without conda.

    LOCKFILE, when given, is the lock to install instead: a conda-lock.yml (its conda and pip
    packages for the platform), an explicit lock file (with requirements.txt beside it), or a
    directory of lockgen locks.

    Downloads every package in parallel into the package cache, checks each file against the
    lock's hash before anything is linked (a mismatch, a missing file or an unreachable URL
    leaves PREFIX unchanged), links them with rattler, then installs OUTPUT_DIR/requirements.txt
    (if present) with the environment's own Python. An up-to-date PREFIX is left alone.

    Every package is extracted from its verified archive (or reused from lockgen's own extracted
    cache while every file matches what was recorded then) and every path it would write is
    checked first: a path outside PREFIX ('..', absolute, or through a symbolic link that
    leaves it) refuses the whole install, PREFIX unchanged. A host that cannot be resolved or
    connected stops the install at once; each file must arrive within
    $LOCKGEN_DOWNLOAD_DEADLINE seconds (default 1800), and a download averaging less than
    $LOCKGEN_DOWNLOAD_MIN_RATE bytes/s (default 1024) over $LOCKGEN_DOWNLOAD_MIN_RATE_WINDOW
    seconds (default 30) is abandoned. The pip step as a whole (uv or pip, and the builds of
    local projects) must end within $LOCKGEN_PIP_DEADLINE seconds (default 3600); else it is
    stopped, with every process it started. Its downloads keep the same minimum rate (relayed
    through a proxy lockgen runs on 127.0.0.1, unless one of *_PROXY is set).
    """

    def action() -> int:
        from lockgen.config import read_environment
        from lockgen.environments import one_environment_options
        from lockgen.filesize import lock_folder_files, refuse_oversized
        from lockgen.install import InstallOptions, install_lock
        from lockgen.install.core import host_platform
        from lockgen.install.envs import install_source, prefix_for

        host = host_platform()  # imports rattler
        collect_from_here()
        check_install_habits(habits)
        environ = read_environment()
        target = prefix_for(prefix, name, platform, environ)
        _check_platform_option(platform)
        settings = one_environment_options((), locks.flags(), environment)
        if lockfile is not None:  # a lock named here, outside the locks folder build_options looked into
            beside = [] if lockfile.is_dir() else [lockfile.parent / "requirements.txt"]
            limits = settings.limits
            refuse_oversized((), limits.input_files, [*lock_folder_files(lockfile), *beside], limits.lock_files)
        with _scratch(lockfile) as scratch:
            chosen = platform or host
            lock_dir, template = install_source(lockfile, chosen, Path(scratch)) if scratch else (None, "")
            if "mirrors" in settings.from_config and not (allow_project_mirror or settings.allow_project_mirror):
                _refuse_project_mirrors(settings.mirrors, lockfile, settings.output_dir)
            options = InstallOptions(
                prefix=target,
                platform=chosen,
                lock_dir=lock_dir if lock_dir is not None else settings.output_dir,
                cache_dir=settings.cache_dir,
                mirrors=settings.mirrors,
                filename_template=template if lock_dir is not None else settings.filename_template,
                pip=not no_pip,
                pip_installer=pip_installer,
                timeout_s=settings.limits.http_timeout_s,
                retries=settings.limits.http_retries,
                foreign_platform=foreign_platform,
                download_deadline_s=settings.limits.download_deadline_s,
                download_min_rate=settings.limits.download_min_rate,
                download_min_rate_window_s=settings.limits.download_min_rate_window_s,
                pip_deadline_s=settings.limits.pip_deadline_s,
                http=settings.limits.http,
                project_dir=settings.files[0].parent if lock_dir is None and settings.files else None,
                shown_as=lockfile if scratch and lock_dir == Path(scratch) else None,  # a conda-lock.yml's scratch copy
            )
            _show(options, install_lock(options, StderrReporter(quiet, verbose), environ), environ, quiet)
        return 0

    run_core(verbose, action)


def _scratch(lockfile: Path | None) -> AbstractContextManager[str | None]:
    """A scratch folder for what a LOCKFILE given here is turned into (a conda-lock.yml's explicit lock),
    removed afterwards; none without one (the project's locks are read where they are)."""
    if lockfile is None:
        return contextlib.nullcontext()
    import tempfile

    return tempfile.TemporaryDirectory(prefix="lockgen-install-")


def _refuse_project_mirrors(mirrors: tuple[Mirror, ...], lockfile: Path | None, lock_dir: Path) -> None:
    """Refuse a [tool.lockgen] mirror folder inside the project's tree (the working folder's, and the locks')."""
    from lockgen.errors import ConfigError
    from lockgen.project import project_mirrors, project_roots

    roots = {*project_roots(Path("environment.yml")), *project_roots(lockfile or lock_dir)}
    inside = project_mirrors(mirrors, sorted(roots))
    if inside:
        shown = ", ".join(f"{m.canonical}={folder}" for m, folder in inside)
        raise ConfigError(
            f"[tool.lockgen] mirrors {shown}: a folder inside the project, where a pull request could put its own"
            " packages (and re-lock with their hashes). Pass --allow-project-mirror (or"
            " LOCKGEN_ALLOW_PROJECT_MIRROR=1) if you trust that folder, or name it with --mirror"
        )


def _check_platform_option(platform: str | None) -> None:
    """``-p`` must be a known conda subdir, as for ``lock`` (``-p ../../x`` is refused, exit 2)."""
    from lockgen.errors import ConfigError
    from lockgen.platforms import check_platform

    if platform is None:
        return
    try:
        check_platform(platform)
    except ValueError as exc:
        raise ConfigError(f"-p/--platform: {exc}") from exc


def _show(options: InstallOptions, result: InstallResult, environ: Mapping[str, str], quiet: bool) -> None:
    from lockgen.install import activation_hint

    if quiet:
        return
    if result.installed or result.removed:
        echo(
            f"{result.prefix}: linked {len(result.installed)} packages ({result.downloaded} downloaded,"
            f" {len(result.installed) - result.downloaded} from the cache), removed {len(result.removed)},"
            f" kept {result.unchanged}"
        )
    else:
        echo(f"{result.prefix} is up to date with {result.lock_path} ({result.unchanged} packages)")
    if result.pip in ("uv", "pip"):
        echo(f"installed {options.requirements_path} with {result.pip}")
    elif result.pip == "up-to-date":
        echo(f"{options.requirements_path}: already installed")
    if result.pip in ("uv", "pip") and options.unhashed_path.is_file():
        echo(f"installed {options.unhashed_path} (VCS and local projects, --no-deps) with {result.pip}")
    echo(f"To activate: {activation_hint(result.prefix, environ)}")
