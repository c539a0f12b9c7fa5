"""`install` and `verify` commands: build options, call :mod:`lockgen.install` / :mod:`lockgen.verify`, show results."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from lockgen.channels import Mirror, parse_mirror
from lockgen.cli.habits import install_habits
from lockgen.errors import VerifyError


def _tool_settings() -> tuple[dict[str, Any], Path]:
    """``[tool.lockgen]`` of ./pyproject.toml (the one ``lock`` reads beside ./environment.yml)."""
    from lockgen.config import read_tool_config

    section, pyproject = read_tool_config(Path("environment.yml"))
    return section, (pyproject.parent if pyproject else Path.cwd())


def _mirrors(cli_values: tuple[str, ...], tool: Mapping[str, Any], base: Path) -> tuple[Mirror, ...]:
    from lockgen.config import tool_mirrors

    if cli_values:
        return tuple(parse_mirror(m) for m in cli_values)
    return tuple(tool_mirrors(tool.get("mirrors", []), base))


def _common(output_dir: Path | None, cache_dir: Path | None, mirrors: tuple[str, ...]) -> dict[str, Any]:
    from lockgen.conda import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S, RETRIES_ENV, TIMEOUT_ENV
    from lockgen.config import default_cache_dir, env_int
    from lockgen.install.download import DEADLINE_ENV, DEFAULT_DEADLINE_S

    tool, base = _tool_settings()
    lock_dir = output_dir or Path(tool.get("output-dir", "locks"))
    cache = cache_dir or (Path(tool["cache-dir"]) if tool.get("cache-dir") else default_cache_dir())
    template = str(tool.get("filename-template", "{platform}.txt"))
    return {
        "lock_dir": lock_dir,
        "cache_dir": cache,
        "mirrors": _mirrors(mirrors, tool, base),
        "template": template,
        "timeout_s": env_int(TIMEOUT_ENV, DEFAULT_TIMEOUT_S, 1),
        "retries": env_int(RETRIES_ENV, DEFAULT_RETRIES, 0),
        "deadline_s": env_int(DEADLINE_ENV, DEFAULT_DEADLINE_S, 1),
    }


def _shared_options(func: Any) -> Any:
    func = click.option(
        "--cache-dir",
        type=click.Path(path_type=Path, file_okay=False),
        help="Repodata and package cache [default: the user cache dir, or $LOCKGEN_CACHE_DIR].",
    )(func)
    func = click.option(
        "--mirror",
        "mirrors",
        multiple=True,
        metavar="CANONICAL=REPLACEMENT",
        help="Fetch CANONICAL (e.g. https://conda.anaconda.org) from REPLACEMENT (URL or directory). Repeatable.",
    )(func)
    return click.option(
        "-o",
        "--output-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Directory of the lock files [default: locks, or [tool.lockgen] output-dir].",
    )(func)


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level group."""
    from lockgen.cli.main import SEE_EXIT_CODES

    @group.command(short_help="Create an environment from a lock, without conda.", epilog=SEE_EXIT_CODES)
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
    @_shared_options
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
    @click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
    @click.option("-v", "--verbose", is_flag=True, help="Progress and tracebacks.")
    @install_habits
    def install(quiet: bool, verbose: bool, **values: Any) -> None:
        """Create or update a conda environment at PREFIX from OUTPUT_DIR/<platform>.txt, without conda.

        LOCKFILE, when given, is the lock to install instead: a conda-lock.yml (its conda and pip
        packages for the platform), an explicit lock file (with requirements.txt beside it), or a
        directory of lockgen locks.

        Downloads every package in parallel into the package cache, checks each file against the
        lock's hash before anything is linked (a mismatch, a missing file or an unreachable URL
        leaves PREFIX unchanged), links them with rattler, then installs OUTPUT_DIR/requirements.txt
        (if present) with the environment's own Python. An up-to-date PREFIX is left alone.

        Every package is extracted afresh from its verified archive and every path it would write
        is checked first: a path outside PREFIX ('..', absolute, or through a symbolic link that
        leaves it) refuses the whole install, PREFIX unchanged. A host that cannot be resolved or
        connected stops the install at once; each file must arrive within
        $LOCKGEN_DOWNLOAD_DEADLINE seconds (default 1800).
        """
        from lockgen.cli.main import run_core

        run_core(verbose, lambda: _install_action(values, quiet, verbose))

    @group.command(short_help="Check the locks against their channels' repodata.", epilog=SEE_EXIT_CODES)
    @click.option(
        "-p",
        "--platform",
        "platforms",
        multiple=True,
        metavar="SUBDIR",
        help="Lock to check (repeatable) [default: every lock].",
    )
    @_shared_options
    @click.option("--offline", is_flag=True, help="Use only cached repodata.")
    @click.option("-q", "--quiet", is_flag=True, help="Print only the problems.")
    @click.option("-v", "--verbose", is_flag=True, help="Progress and tracebacks.")
    def verify(quiet: bool, verbose: bool, **values: Any) -> None:
        """Check the lock files against their channels' repodata, without installing.

        Every URL must be a file in its channel's repodata with the same hash, no name may appear
        twice, lines must come in dependency order, every dependency must be satisfied by another
        line of the same file, and every line's subdir must be the lock's platform or noarch.
        Each problem is reported with file, line and package; exit 8 when there is any.
        """
        from lockgen.cli.main import run_core

        run_core(verbose, lambda: _verify_action(values, quiet, verbose))


def _install_action(values: dict[str, Any], quiet: bool, verbose: bool) -> int:
    import tempfile

    from lockgen.cli.habits import check_install_habits
    from lockgen.install.envs import install_source, prefix_for

    check_install_habits(values)
    prefix = prefix_for(values["prefix"], values["name"], values["platform"], os.environ)
    _check_platform_option(values["platform"])
    common = _common(values["output_dir"], values["cache_dir"], values["mirrors"])
    with tempfile.TemporaryDirectory(prefix="lockgen-install-") as scratch:
        platform = values["platform"] or _host_platform()
        lock_dir, template = install_source(values["lockfile"], platform, Path(scratch))
        if lock_dir is not None:
            common["lock_dir"], common["template"] = lock_dir, template
        else:
            _check_template(common["template"], platform)
        return _install(values, prefix, platform, common, quiet, verbose)


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


def _check_template(template: str, platform: str) -> None:
    """``[tool.lockgen] filename-template`` must name a plain file holding ``{platform}``, as for ``lock``."""
    from lockgen.errors import ConfigError
    from lockgen.platforms import lock_file_name

    try:
        lock_file_name(template, platform)
    except ValueError as exc:
        raise ConfigError(f"[tool.lockgen] filename-template: {exc}") from exc


def _host_platform() -> str:
    from lockgen.install.core import host_platform

    return host_platform()


def _install(
    values: Mapping[str, Any], prefix: Path, platform: str, common: Mapping[str, Any], quiet: bool, verbose: bool
) -> int:
    from lockgen.cli.main import StderrReporter
    from lockgen.install import InstallOptions, activation_hint, install_lock

    options = InstallOptions(
        prefix=prefix,
        platform=platform,
        lock_dir=common["lock_dir"],
        cache_dir=common["cache_dir"],
        mirrors=common["mirrors"],
        filename_template=common["template"],
        pip=not values["no_pip"],
        pip_installer=values["pip_installer"],
        timeout_s=common["timeout_s"],
        retries=common["retries"],
        foreign_platform=values["foreign_platform"],
        download_deadline_s=common["deadline_s"],
    )
    result = install_lock(options, StderrReporter(quiet, verbose), os.environ)
    if quiet:
        return 0
    if result.installed or result.removed:
        click.echo(
            f"{result.prefix}: linked {len(result.installed)} packages ({result.downloaded} downloaded,"
            f" {len(result.installed) - result.downloaded} from the cache), removed {len(result.removed)},"
            f" kept {result.unchanged}"
        )
    else:
        click.echo(f"{result.prefix} is up to date with {result.lock_path} ({result.unchanged} packages)")
    if result.pip in ("uv", "pip"):
        click.echo(f"installed {options.requirements_path} with {result.pip}")
    elif result.pip == "up-to-date":
        click.echo(f"{options.requirements_path}: already installed")
    if result.pip in ("uv", "pip") and options.unhashed_path.is_file():
        click.echo(f"installed {options.unhashed_path} (VCS and local projects, --no-deps) with {result.pip}")
    click.echo(f"To activate: {activation_hint(result.prefix, os.environ)}")
    return 0


def _verify_action(values: Mapping[str, Any], quiet: bool, verbose: bool) -> int:
    from lockgen.cli.main import StderrReporter
    from lockgen.verify import VerifyOptions, verify_locks

    common = _common(values["output_dir"], values["cache_dir"], values["mirrors"])
    options = VerifyOptions(
        lock_dir=common["lock_dir"],
        cache_dir=common["cache_dir"],
        platforms=values["platforms"],
        mirrors=common["mirrors"],
        filename_template=common["template"],
        offline=values["offline"],
        timeout_s=common["timeout_s"],
        retries=common["retries"],
    )
    report = verify_locks(options, StderrReporter(quiet, verbose))
    for lock in report.locks:
        if lock.findings:
            click.echo(f"{lock.path}: {len(lock.findings)} problem(s) in {lock.packages} packages")
            for finding in lock.findings:
                click.echo(f"  {finding}")
        elif not quiet:
            what = f"platform {lock.platform}" if lock.platform else "VCS URLs and local projects"
            click.echo(f"{lock.path}: ok ({lock.packages} packages, {what})")
    if report.ok:
        return 0
    bad = sum(1 for lock in report.locks if lock.findings)
    raise VerifyError(
        f"{len(report.findings)} problem(s) in {bad} of {len(report.locks)} lock file(s)",
        [str(f) for f in report.findings],
    )
