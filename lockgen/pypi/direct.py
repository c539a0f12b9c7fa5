"""The VCS and local-project lines of ``requirements-unhashed.txt``, read from uv's output."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InputError, Problem
from lockgen.lockfiles.requirements import VCS_PREFIXES, logical_lines
from lockgen.pypi.pipinput import DirectRequirement
from lockgen.secrets import public_vcs_url

if TYPE_CHECKING:
    from lockgen.pypi.inputs import PlatformInputs


def local_line(relative: str, editable: bool) -> str:
    """A local project's line in requirements-unhashed.txt: its POSIX path relative to the environment
    file's folder, ``./`` first, ``-e`` kept (``lock`` writes it so, ``check`` expects it so)."""
    shown = relative if relative.startswith(".") else f"./{relative}"
    return f"-e {shown}" if editable else shown


def direct_lines(text: str, direct: Sequence[DirectRequirement], base_dir: Path) -> tuple[str, ...]:
    """The pinned lines of VCS URLs and local projects in uv's output, as the unhashed file writes them.

    uv writes ``name @ git+URL@<commit>`` for a VCS URL and the absolute path (``-e`` kept) for a
    local project; a path becomes relative to the environment file's folder (POSIX separators).
    """
    from urllib.parse import unquote, urlsplit

    folders = {d.path: d for d in direct if d.path is not None}
    found: list[str] = []
    for _, line in logical_lines(text):
        editable = line.startswith(("-e ", "--editable "))
        body = line.split(None, 1)[1].strip() if editable else line
        if body.startswith("file:"):
            body = unquote(urlsplit(body).path)
        if Path(body).is_absolute() and Path(body).resolve() in folders:
            relative = Path(os.path.relpath(Path(body).resolve(), base_dir.resolve())).as_posix()
            if relative == ".." or relative.startswith("../"):
                entry = folders[Path(body).resolve()]
                raise InputError(
                    [
                        Problem(
                            f"`{entry.text}`: {relative} is outside the environment file's folder; lockgen locks"
                            " and installs local projects inside the project tree only",
                            entry.where.file,
                            entry.where.line,
                        )
                    ]
                )
            found.append(local_line(relative, folders[Path(body).resolve()].editable))
            continue
        if " @ " in line and any(v in line for v in VCS_PREFIXES):
            name, _, url = line.partition(" @ ")
            found.append(f"{name.strip()} @ {public_vcs_url(url.split()[0])}")
    return tuple(found)


def check_editables(platforms: Sequence[PlatformInputs], direct: Mapping[str, tuple[str, ...]]) -> None:
    """An editable line must apply to every platform: pip takes no marker after ``-e``."""
    targets = [item.platform for item in platforms if item.target is not None]
    editable = {t: {line for line in direct.get(t, ()) if line.startswith("-e ")} for t in targets}
    problems = []
    for line in sorted(set().union(*editable.values()) if editable else ()):
        missing = [t for t in targets if line not in editable[t]]
        if missing:
            problems.append(
                Problem(
                    f"`{line}` applies to some platforms only (not {', '.join(missing)}); pip takes no platform"
                    " marker on an editable line: drop the selector or the `-e`"
                )
            )
    if problems:
        raise InputError(problems)
