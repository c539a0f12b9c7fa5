"""Size limits on the files a pull request can commit (environment files, pyproject.toml, everything
in the locks folder), checked before a file is read: a 40 MB lock or a 200 MB pyproject.toml is
refused at once instead of costing seconds and gigabytes in every read-only command.

:class:`lockgen.config.Limits` holds the limits (their settings and defaults are defined there).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lockgen.errors import InputError, Problem
from lockgen.records import dataclass

__all__ = ["SizeLimit", "lock_folder_files", "refuse_oversized"]


@dataclass(frozen=True, slots=True)
class SizeLimit:
    """At most ``max_bytes`` in one file of a kind (``what``); the ``setting`` raises it (whole MiB)."""

    max_bytes: int
    setting: str
    what: str

    def problem(self, path: Path) -> str | None:
        """Why ``path`` is not read (its size, the limit, the setting), or None: within the limit, or
        not there to look at (the reader says what is wrong with it)."""
        try:
            size = path.stat().st_size
        except OSError:
            return None
        return self.size_problem(size)

    def size_problem(self, size: int) -> str | None:
        """:meth:`problem` for a file of ``size`` bytes (a git blob, say)."""
        if size <= self.max_bytes:
            return None
        return (
            f"{size / 2**20:.1f} MiB, over the {self.max_bytes / 2**20:g} MiB limit for {self.what};"
            f" not read (if the file is real, raise the limit: {self.setting}=N, in MiB)"
        )


def lock_folder_files(path: Path) -> list[Path]:
    """The files of a locks folder that commands read: each ``*.txt`` (the locks, requirements*.txt, and
    any other, which check and verify look into); ``path`` itself when it is a file; none when absent."""
    if path.is_dir():
        return sorted(path.glob("*.txt"))
    return [path] if path.is_file() else []


def refuse_oversized(
    inputs: Sequence[Path], input_limit: SizeLimit, locks: Sequence[Path], lock_limit: SizeLimit
) -> None:
    """Before anything reads them: environment files (``inputs``) and ``locks``, each within its limit;
    else InputError (exit 3) naming each file with its size, the limit and the setting that raises it."""
    found = [(path, input_limit.problem(path)) for path in inputs]
    found += [(path, lock_limit.problem(path)) for path in locks]
    problems = [Problem(reason, str(path)) for path, reason in found if reason is not None]
    if problems:
        raise InputError(problems)
