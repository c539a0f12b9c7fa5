"""What ``lockgen install [LOCKFILE] [-n NAME | --prefix DIR]`` installs, and where.

``-n NAME`` resolves into the user's conda envs directory, found without running conda, the first
of: ``$CONDA_ENVS_PATH`` / ``$CONDA_ENVS_DIRS`` (first entry); ``envs_dirs`` of the first condarc
that sets it (``$CONDARC``, ``~/.condarc``, ``~/.conda/condarc``, ``~/.config/conda/condarc``);
``envs/`` of a writable root prefix (``$MAMBA_ROOT_PREFIX``, ``$CONDA_ROOT``, the installation
``$CONDA_EXE`` belongs to, or the active base environment ``$CONDA_PREFIX``; when an environment
under ``…/envs/`` is active, that ``envs`` directory); else ``~/.conda/envs``.

A ``LOCKFILE`` is turned into the files ``lockgen install`` reads (``<platform>.txt`` and
``requirements.txt``) in a scratch directory: a conda-lock.yml through :mod:`lockgen.lockfiles.condalock`,
an explicit file as it is, a directory as the lock directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from lockgen.errors import ConfigError, InstallError
from lockgen.platforms import KNOWN_PLATFORMS

__all__ = ["envs_dir", "install_source", "prefix_for"]

_ENV_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+\-]*$")
_VARIABLE = re.compile(r"\$(\w+)|\$\{([^}]*)\}" + (r"|%([^%]+)%" if os.name == "nt" else ""))


def _expand(text: str, environ: Mapping[str, str]) -> str:
    """``$NAME``, ``${NAME}`` (and ``%NAME%`` on Windows) from ``environ``, as :func:`os.path.expandvars`
    does from the process's: an unknown name stays as written."""

    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group is not None)
        found = environ.get(name) if os.name != "nt" else environ.get(name, environ.get(name.upper()))
        return found if found is not None else match.group(0)

    return _VARIABLE.sub(value, text)


def _condarc_envs_dirs(environ: Mapping[str, str], home: Path) -> list[str]:
    candidates = [environ.get("CONDARC", "")]
    candidates += [
        str(home / ".condarc"),
        str(home / ".conda" / "condarc"),
        str(home / ".config" / "conda" / "condarc"),
    ]
    for candidate in candidates:
        if not candidate or not Path(candidate).is_file():
            continue
        import yaml  # only with a condarc: `install --prefix` need not load it (~8 ms)

        try:
            with Path(candidate).open(encoding="utf-8") as handle:
                data = yaml.safe_load(handle.read(1_000_000))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        dirs = data.get("envs_dirs") if isinstance(data, dict) else None
        if isinstance(dirs, list) and dirs and all(isinstance(d, str) for d in dirs):
            return dirs
    return []


def _root_prefixes(environ: Mapping[str, str]) -> list[Path]:
    roots = [Path(environ[k]) for k in ("MAMBA_ROOT_PREFIX", "CONDA_ROOT") if environ.get(k)]
    exe = environ.get("CONDA_EXE")
    if exe:
        roots.append(Path(exe).resolve().parent.parent)  # <root>/bin/conda, <root>/Scripts/conda.exe
    active = environ.get("CONDA_PREFIX")
    if active:
        path = Path(active)
        roots.append(path.parent.parent if path.parent.name == "envs" else path)
    return roots


def envs_dir(environ: Mapping[str, str], home: Path | None = None) -> Path:
    """The directory ``-n NAME`` environments go into (see the module docstring for the order)."""
    home = home if home is not None else Path(environ.get("HOME") or Path.home())
    listed = environ.get("CONDA_ENVS_PATH") or environ.get("CONDA_ENVS_DIRS")
    if listed:
        first = next((p for p in listed.split(os.pathsep) if p.strip()), "")
        if first:
            return Path(_expand(first, environ)).expanduser()
    for configured in _condarc_envs_dirs(environ, home):
        return Path(
            _expand(configured.replace("~", str(home), 1) if configured.startswith("~") else configured, environ)
        )
    for root in _root_prefixes(environ):
        if (root / "conda-meta").is_dir() and os.access(root, os.W_OK):
            return root / "envs"
    return home / ".conda" / "envs"


def prefix_for(prefix: Path | None, name: str | None, platform: str | None, environ: Mapping[str, str]) -> Path:
    """The environment directory from ``--prefix`` or ``-n NAME`` (exactly one)."""
    if platform and platform not in KNOWN_PLATFORMS and (os.sep in platform or "/" in platform or platform[0] in ".~"):
        raise ConfigError(
            f"-p {platform}: in lockgen install, -p is the platform (conda-lock's -p is the prefix);"
            f" use --prefix {platform}"
        )
    if prefix is not None and name is not None:
        raise ConfigError("give either -n NAME or --prefix DIR, not both")
    if prefix is not None:
        return prefix
    if name is None:
        raise ConfigError("say where to install: -n NAME (your conda envs directory) or --prefix DIR")
    if not _ENV_NAME.match(name) or name in (".", ".."):
        raise ConfigError(f"-n {name!r}: an environment name is letters, digits and _ . + - (no path)")
    return envs_dir(environ) / name


def install_source(lockfile: Path | None, platform: str, scratch: Path) -> tuple[Path | None, str]:
    """(lock directory, file name template) for ``LOCKFILE``; (None, "") when none was given."""
    if lockfile is None:
        return None, ""
    if lockfile.is_dir():
        return lockfile, "{platform}.txt"
    if not lockfile.is_file():
        raise InstallError(f"{lockfile}: no such lock file")
    from lockgen.lockfiles.condalock import is_condalock_path

    if is_condalock_path(lockfile):
        _write_from_condalock(lockfile, platform, scratch)
        return scratch, "{platform}.txt"
    if "{" in lockfile.name or "}" in lockfile.name:
        target = scratch / f"{platform}.txt"
        target.write_bytes(lockfile.read_bytes())
        requirements = lockfile.parent / "requirements.txt"
        if requirements.is_file():
            (scratch / "requirements.txt").write_bytes(requirements.read_bytes())
        return scratch, "{platform}.txt"
    return lockfile.parent, lockfile.name


def _write_from_condalock(path: Path, platform: str, scratch: Path) -> None:
    from lockgen.lockfiles import MalformedLock, render_explicit
    from lockgen.lockfiles.condalock import explicit_for_platform, pip_requirements_for_platform, read_condalock
    from lockgen.models import LockedPackage, sort_dependency_order

    try:
        lock = read_condalock(path)
        explicit = explicit_for_platform(lock, platform, str(path))
        requirements = pip_requirements_for_platform(lock, platform, str(path))
    except MalformedLock as exc:
        raise InstallError(str(exc)) from exc
    depends = {
        p.url: tuple(f"{name} {spec}".strip() for name, spec in p.dependencies)
        for p in lock.for_platform(platform, "conda")
    }
    packages = [
        LockedPackage(e.name, e.version, e.build, e.subdir, e.url, e.md5, e.sha256, depends.get(e.url, ()))
        for e in explicit.entries
    ]
    kind = "md5" if all(p.md5 for p in packages) else "sha256"
    if kind == "sha256" and not all(p.sha256 for p in packages):
        raise InstallError(f"{path}: some {platform} packages have neither an md5 for all nor a sha256 for all")
    text = render_explicit(platform, sort_dependency_order(packages), "none", [path.name], kind)
    (scratch / f"{platform}.txt").write_text(text, encoding="utf-8")
    if requirements:
        (scratch / "requirements.txt").write_text(requirements, encoding="utf-8")
