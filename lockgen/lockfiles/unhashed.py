"""``requirements-unhashed.txt``: the pip lines pip cannot check by hash, its one reader and writer.

pip refuses VCS URLs and local paths under ``--require-hashes``, so those lines go here rather
than in ``requirements.txt``: VCS URLs pinned to a commit (``name @ git+URL@<sha>``), local projects
as paths relative to the ``# paths-base:`` folder (``-e ./localproj``, ``./vendor/pkg``).
:func:`render_unhashed_lock` writes it with requirements.txt's header
(:func:`~lockgen.lockfiles.requirements.header_lines`) and its own ``body=`` digest;
:func:`read_unhashed` reads it back and :func:`unhashed_problems` says what makes one unsafe.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from lockgen.lockfiles.header import render_input_hash
from lockgen.lockfiles.requirements import (
    VCS_PREFIXES,
    Header,
    body_digest,
    header_lines,
    logical_lines,
    parse_requirements_lock,
)
from lockgen.records import dataclass
from lockgen.secrets import without_login

__all__ = ["UnhashedLine", "UnhashedLock", "read_unhashed", "render_unhashed_lock", "unhashed_problems"]

_FULL_COMMIT = re.compile(r"@[0-9a-f]{40}$")


def render_unhashed_lock(header: Header, lines: Sequence[str]) -> str:
    """The VCS/local-project file: the same header, then each line as given (sorted, markers added).

    Its input-hash line is requirements.txt's inputs plus its own ``body=`` digest of the lines."""
    body = "".join(f"{line}\n" for line in lines)
    head = header_lines(header, render_input_hash(header.input_hash, [("body", body_digest(body))]))
    head.append(f"# paths-base: {header.paths_base or '.'}   (local paths below start there: run pip from that folder)")
    return "\n".join(head) + "\n" + body


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
    """The inputs of the ``# input-hash:`` line without ``body=`` (requirements.txt's, when one run wrote both)."""
    paths_base: str | None
    lines: tuple[UnhashedLine, ...]
    problems: tuple[tuple[int, str], ...] = ()
    """(line number, why) of lines that are neither form."""
    body_edited: bool | None = None
    """Whether the lines differ from the ``body=`` digest lockgen wrote (None: no ``body=``, an older lockgen)."""
    body: str = ""
    """Every byte after the header."""


def read_unhashed(text: str) -> UnhashedLock:
    """Read ``requirements-unhashed.txt`` (the one reader; :func:`render_unhashed_lock` writes it)."""
    head = parse_requirements_lock(text)
    based = next((line.partition(":")[2].split() for line in head.header if line.startswith("# paths-base:")), None)
    paths_base = based[0] if based else None
    lines: list[UnhashedLine] = []
    problems: list[tuple[int, str]] = []
    for number, raw in logical_lines(text):
        body, _, marker_text = raw.partition(" ; ")
        body, marker = body.strip(), marker_text.strip() or None
        editable = body.startswith("-e ")
        if editable:
            body = body[3:].strip()
        if " @ " in body and body.split(" @ ", 1)[1].strip().startswith(VCS_PREFIXES):
            name, _, url = body.partition(" @ ")
            lines.append(UnhashedLine(number, raw.partition(" ; ")[0].strip(), marker, name.strip(), url.strip()))
        elif body.startswith("./") or body == "." or body.startswith("../"):
            lines.append(UnhashedLine(number, raw.partition(" ; ")[0].strip(), marker, path=body, editable=editable))
        else:
            problems.append((number, f"`{without_login(raw)}` is neither `name @ VCS-URL@commit` nor a ./path"))
    digest = dict(head.parts).get("body")
    edited = None if digest is None else digest != body_digest(head.body)
    return UnhashedLock(head.inputs, paths_base, tuple(lines), tuple(problems), edited, head.body)


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
