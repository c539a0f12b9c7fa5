"""``requirements-unhashed.txt``: the pip section's VCS URLs and local projects, and what they depend on.

pip refuses VCS URLs and local paths under ``--require-hashes``, so ``locks/requirements.txt``
holds every hashed pin (their dependencies included) and this file the lines themselves: VCS
URLs pinned to a commit (``name @ git+URL@<sha>``), local projects as paths relative to the
environment file's folder (``-e ./localproj``, ``./vendor/pkg``). It is written by
:func:`lockgen.pypi.render.render_unhashed`; this module is its one reader, and the checks that
``check``, ``verify`` and ``install`` share. Kept out of :mod:`lockgen.pypi` so that ``check``
does not import the resolver's modules.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = [
    "PROJECT_FILES",
    "UNHASHED_NAME",
    "UnhashedLine",
    "UnhashedLock",
    "input_hash_of",
    "is_direct_line",
    "local_project_of",
    "project_digest",
    "read_unhashed",
    "unhashed_problems",
]

UNHASHED_NAME = "requirements-unhashed.txt"
_VCS = ("git+", "hg+", "svn+", "bzr+")
_FULL_COMMIT = re.compile(r"@[0-9a-f]{40}$")

# The files a local project's metadata comes from (static pyproject.toml, or a build from these).
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")


def project_digest(folder: Path) -> str:
    """sha256 over a local project's metadata sources, so an edited ``pyproject.toml`` re-locks."""
    digest = hashlib.sha256()
    for name in PROJECT_FILES:
        try:
            data = (folder / name).read_bytes()
        except OSError:
            continue
        digest.update(f"{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()



def local_project_of(text: str, base: Path) -> Path | None:
    """The folder of a local-project pip line (``-e .``, ``--editable=./x``, ``./vendor/pkg``), else None."""
    line = text.split(" #", 1)[0].strip()
    for option in ("--editable=", "--editable ", "-e=", "-e "):
        if line.startswith(option):
            line = line[len(option) :].strip()
            break
    else:
        if line.startswith("-e") and len(line) > 2:
            line = line[2:].strip()
        elif line.startswith("-"):
            return None
    if " @ " in line:
        line = line.split(" @ ", 1)[1].strip()
    if line.startswith(_VCS):
        return None
    if line.startswith("file:"):
        line = unquote(urlsplit(line).path)
    elif not (line.startswith((".", "/", "~")) or re.match(r"^[A-Za-z]:[\\/]", line)):
        return None
    return (base / Path(line).expanduser()).resolve()


def is_direct_line(text: str, base: Path) -> bool:
    """A pip line that goes to requirements-unhashed.txt: a VCS URL or a local project."""
    line = text.split(" #", 1)[0].strip()
    for option in ("--editable=", "--editable ", "-e=", "-e "):
        line = line[len(option) :].strip() if line.startswith(option) else line
    url = line.split(" @ ", 1)[1].strip() if " @ " in line else line
    return url.startswith(_VCS) or local_project_of(text, base) is not None


@dataclass(frozen=True, slots=True)
class UnhashedLine:
    """One line of ``requirements-unhashed.txt``: a VCS URL pinned to a commit, or a local project."""

    number: int
    text: str
    """The line without its marker: ``name @ git+URL@<commit>``, ``-e ./path`` or ``./path``."""
    marker: str | None = None
    name: str | None = None
    """A VCS line's distribution name (local projects: None)."""
    url: str | None = None
    path: str | None = None
    """A local project's path, relative to the file's ``paths-base`` (POSIX separators)."""
    editable: bool = False


@dataclass(frozen=True, slots=True)
class UnhashedLock:
    input_hash: str | None
    paths_base: str | None
    lines: tuple[UnhashedLine, ...]
    problems: tuple[tuple[int, str], ...] = ()
    """(line number, why) of lines that are neither form."""


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line:
            lines.append((number, line))
    return lines


def read_unhashed(text: str) -> UnhashedLock:
    """Read ``requirements-unhashed.txt`` (the one reader; :func:`lockgen.pypi.render.render_unhashed` writes it)."""
    input_hash = paths_base = None
    for line in text.splitlines():
        if line.startswith("# input-hash:") and input_hash is None:
            input_hash = line.partition(":")[2].strip()
        elif line.startswith("# paths-base:") and paths_base is None:
            paths_base = line.partition(":")[2].split()[0] if line.partition(":")[2].split() else None
    lines: list[UnhashedLine] = []
    problems: list[tuple[int, str]] = []
    for number, raw in _logical_lines(text):
        body, _, marker_text = raw.partition(" ; ")
        body, marker = body.strip(), marker_text.strip() or None
        editable = body.startswith("-e ")
        if editable:
            body = body[3:].strip()
        if " @ " in body and body.split(" @ ", 1)[1].strip().startswith(_VCS):
            name, _, url = body.partition(" @ ")
            lines.append(UnhashedLine(number, raw.partition(" ; ")[0].strip(), marker, name.strip(), url.strip()))
        elif body.startswith("./") or body == "." or body.startswith("../"):
            lines.append(UnhashedLine(number, raw.partition(" ; ")[0].strip(), marker, path=body, editable=editable))
        else:
            problems.append((number, f"`{_no_login(raw)}` is neither `name @ VCS-URL@commit` nor a ./path"))
    return UnhashedLock(input_hash, paths_base, tuple(lines), tuple(problems))


def unhashed_problems(lock: UnhashedLock) -> list[tuple[int | None, str]]:
    """What makes a ``requirements-unhashed.txt`` unsafe or not lockgen's (no file system access).

    Lines of another form, a VCS URL not pinned to a full commit or carrying a login, a path that
    is absolute or climbs out of ``paths-base``, a ``paths-base`` other than ``.`` or ``..``.
    """
    found: list[tuple[int | None, str]] = list(lock.problems)
    if lock.input_hash is None:
        found.append((None, "no `# input-hash:` line (not written by lockgen?)"))
    if lock.paths_base not in (".", ".."):
        found.append((None, f"paths-base {lock.paths_base!r} must be `.` or `..`"))
    for line in lock.lines:
        if line.url is not None:
            if not _FULL_COMMIT.search(line.url):
                found.append((line.number, f"{line.name} is not pinned to a full commit hash"))
            host = line.url.split("://", 1)[-1].split("/", 1)[0]
            if "@" in host and not host.startswith("git@"):
                found.append((line.number, f"{line.name}: the URL carries a login"))
        elif line.path is not None:
            normal = posixpath.normpath(line.path)
            if normal.startswith("/") or normal == ".." or normal.startswith("../"):
                found.append((line.number, f"{line.path} leaves the project folder"))
    return found


def _no_login(text: str) -> str:
    return re.sub(r"://[^/@\s]+@", "://", text)


def input_hash_of(path: Path) -> str | None:
    """The ``# input-hash:`` value in the header of a pip lock file (None: absent or unreadable)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.startswith("#"):
                    return None
                if line.startswith("# input-hash:"):  # without requirements.txt's own `body=` digest
                    return " ".join(t for t in line.partition(":")[2].split() if not t.startswith("body="))
    except OSError:
        return None
    return None
