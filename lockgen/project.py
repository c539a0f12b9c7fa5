"""Where the project is: found from the working folder up, its tree (the environment file's folder and
the git work tree holding it), and the rule that a lock folder inside it stays inside it once links
are followed. Reads files and folders only, never a setting."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from lockgen.channels import Mirror
from lockgen.errors import ConfigError, InputError, Problem

__all__ = [
    "DEFAULT_ENV_FILE",
    "check_env_files",
    "check_lock_folder",
    "check_not_linked_out",
    "ensure_project",
    "env_folder",
    "find_project_root",
    "from_root",
    "inside",
    "lexical",
    "project_files",
    "project_mirrors",
    "project_roots",
]


DEFAULT_ENV_FILE = "environment.yml"
_READ_AT_MOST = 2**20
"""Largest pyproject.toml read to find out whether it has [tool.lockgen]."""


def _has_tool_section(pyproject: Path) -> bool:
    """Whether ``pyproject`` has a ``[tool.lockgen]`` table (a file that does not parse has none)."""
    try:
        if pyproject.stat().st_size > _READ_AT_MOST:  # a project: its settings' reader applies the size limit
            return True
        return _declares_tool(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


@functools.lru_cache(maxsize=4)
def _declares_tool(text: str) -> bool:
    """Whether a pyproject.toml's text has ``[tool.lockgen]``; one parse per text (each environment of
    ``[tool.lockgen.environments]`` finds the project again)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError):  # RecursionError: arrays or tables nested too deep
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "lockgen" in tool


def find_project_root(start: Path) -> Path | None:
    """The nearest folder, from ``start`` up, holding an environment.yml or a pyproject.toml with
    ``[tool.lockgen]`` (as git, uv and pixi find their project); None when there is none. The search
    stops at the root of the git repository it starts in: a file above the checkout is nobody's project."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / DEFAULT_ENV_FILE).is_file():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_tool_section(pyproject):
            return folder
        if (folder / ".git").exists():
            return None
    return None


def from_root(root: Path, path: Path) -> Path:
    """``path`` (relative to the project root) as the user reads it: relative to the working folder."""
    if path.is_absolute():
        return path
    cwd = Path.cwd().resolve()
    if root == cwd:
        return path
    return Path(os.path.relpath(root / path, cwd))


def ensure_project(files: Sequence[Path]) -> None:
    """Without ``files``, InputError (exit 3) naming the folder searched when no project is found from
    the working folder up: for the commands that need an environment file (lock, check, explain)."""
    project_files(files, require_project=True)


def project_files(files: Sequence[Path], require_project: bool) -> tuple[Sequence[Path], Path | None]:
    """``files``, or the found project's environment file and the project root (None: files were given,
    or no project was found and none is required)."""
    if files:
        return files, None
    root = find_project_root(Path.cwd())
    if root is None:
        if require_project:
            why = (
                f"no such file in {Path.cwd().resolve()} or any folder above it (nor a pyproject.toml with"
                " [tool.lockgen]): run lockgen inside the project, or pass the file with -f FILE"
            )
            raise InputError([Problem(why, DEFAULT_ENV_FILE)])
        return [Path(DEFAULT_ENV_FILE)], None
    return [from_root(root, Path(DEFAULT_ENV_FILE))], root


def lexical(path: Path) -> Path:
    """``path`` made absolute and normalised without following links (``a/../b`` is ``b``)."""
    return Path(os.path.normpath(Path(path).absolute()))


def env_folder(env_file: Path) -> Path:
    """The folder an environment file is named in, resolved: the project's folder. A link's target
    never chooses it (a committed ``environment.yml -> /elsewhere/env.yml`` stays in this project)."""
    return lexical(env_file).parent.resolve()


def project_roots(env_file: Path) -> tuple[Path, ...]:
    """The project's tree, resolved: the environment file's folder and the git work tree holding it."""
    here = env_folder(env_file)
    roots = [here]
    for parent in (here, *here.parents):
        if (parent / ".git").exists():
            roots.append(parent)
            break
    return tuple(dict.fromkeys(roots))


def inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def memo_allowed(cache_dir: Path, env_file: Path) -> bool:
    """Whether lockgen may keep memos in ``cache_dir`` (what a text parsed to, what the mapping answered):
    only outside the project, since a pull request can commit a folder there and a memo in it would
    choose what lockgen reads its inputs as. The project is the environment file's tree and the one lockgen
    runs in (:func:`_running_project`). A folder that does not resolve (a loop of links) keeps none."""
    try:
        real = cache_dir.resolve()
        running = _running_project(Path.cwd().resolve())
    except (OSError, RuntimeError):  # RuntimeError: a loop, before Python 3.13
        return False
    return not inside(real, (*project_roots(env_file), *running))


def memo_folder(memo_dir: Path, env_files: Sequence[Path]) -> Path | None:
    """``memo_dir`` when lockgen may keep memos there for these environment files: the folder itself (a
    link in the cache may lead elsewhere) outside the project of each file (``-f base.yml -f
    ../pr/gpu.yml``: each has its own) and of the one lockgen runs in (:func:`memo_allowed`); else None."""
    folders = dict.fromkeys(lexical(file).parent for file in env_files)  # a file's project is its folder's
    if not folders or not all(memo_allowed(memo_dir, folder / DEFAULT_ENV_FILE) for folder in folders):
        return None
    return memo_dir


def _running_project(cwd: Path) -> tuple[Path, ...]:
    """The project lockgen runs in: the nearest folder from ``cwd`` up with an environment.yml or any
    pyproject.toml (not parsed: more folders kept from memos, never fewer), and the git work tree
    holding ``cwd`` (a checkout without ``.git`` running ``-f envs/gpu.yml --cache-dir .cache``)."""
    found: list[Path] = []
    for folder in (cwd, *cwd.parents):
        if not found and ((folder / DEFAULT_ENV_FILE).is_file() or (folder / "pyproject.toml").is_file()):
            found.append(folder)
        if (folder / ".git").exists():
            return (*found, folder)
    return tuple(found)


def check_env_files(files: Sequence[Path]) -> None:
    """InputError (exit 3) for an environment file that is a symbolic link leading out of the project
    (the folder it is named in, or the git work tree holding it): a pull request can commit such a
    link, and its target is not the project's file. Only the link's own text is shown, never where
    it leads."""
    problems = []
    for file in files:
        path = lexical(file)
        if not path.is_symlink() or inside(path.resolve(), project_roots(file)):
            continue
        import shlex  # here: only a link leading out is worded

        shown, quoted = str(file), shlex.quote(str(file))
        problems.append(
            Problem(
                f"a symbolic link (to {str(path.readlink())!r}) that leads out of the project folder"
                f" {env_folder(file)}; lockgen reads the environment file, its pyproject.toml, locks and -r files"
                " in the project only. Replace the link by a copy of the file it points to, e.g."
                f' `cp --remove-destination "$(readlink -f {quoted})" {quoted}`',
                shown,
            )
        )
    if problems:
        raise InputError(problems)


def check_lock_folder(output_dir: Path, project: Path) -> None:
    """ConfigError (exit 2) when an environment's lock folder of [tool.lockgen.environments]
    (``OUTPUT_DIR/NAME``), inside ``project``, leaves it through a symbolic link (``locks/gpu -> ../x``)."""
    try:
        check_not_linked_out(output_dir, project)
    except ConfigError:
        real = lexical(output_dir).resolve()
        raise ConfigError(
            f"the lock folder {output_dir} resolves to {real}, outside the project, through a symbolic link;"
            " lockgen reads and writes locks inside the project only: replace the link by a folder, or pass"
            f" the folder holding it with -o {real.parent}"
        ) from None


def check_not_linked_out(output_dir: Path, project: Path) -> None:
    """An output folder inside the project must stay inside it once links are followed: a committed
    ``locks -> ../outside`` link would make ``lock`` write, and ``check`` read, outside the project.
    A folder given outside the project (``-o /srv/locks``) is the user's own choice."""
    folder = lexical(output_dir)
    if folder != project and project not in folder.parents:
        return
    real = folder.resolve()
    if not inside(real, project_roots(project / "environment.yml")):
        raise ConfigError(
            f"the lock folder {output_dir} resolves to {real}, outside the project, through a symbolic link;"
            " lockgen reads and writes locks inside the project only: replace the link by a folder, or pass"
            f" the real folder with -o {real}"
        )


def refuse_lock_folder_file(output_dir: Path, origin: str) -> None:
    """ConfigError (exit 2) for a lock folder that exists as something other than a folder (``-o
    afile``): every command would otherwise fail on each lock with the system's "Not a directory"."""
    if output_dir.exists() and not output_dir.is_dir():
        raise ConfigError(
            f"the lock folder {output_dir} ({origin}) is a file, not a folder: name the folder the locks are in"
            " (or go in) with -o DIR, or move the file away"
        )


def project_mirrors(mirrors: Sequence[Mirror], roots: Sequence[Path]) -> list[tuple[Mirror, Path]]:
    """The mirrors that read packages from a folder inside ``roots`` (the project's tree), with that folder.

    Such a folder comes with the repository, so a pull request can fill it with its own archives and
    re-lock with their hashes: ``install`` refuses them unless told otherwise (``--allow-project-mirror``)."""
    from urllib.parse import unquote, urlsplit

    found = []
    resolved = [root.resolve() for root in roots]
    for mirror in mirrors:
        parts = urlsplit(mirror.replacement)
        if parts.scheme != "file":
            continue
        folder = Path(unquote(parts.path)).resolve()
        if any(folder == root or root in folder.parents for root in resolved):
            found.append((mirror, folder))
    return found
