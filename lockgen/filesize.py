"""Size limits on the files a pull request can commit (environment files, pyproject.toml, everything
in the locks folder), checked before a file is read: a 40 MB lock or a 200 MB pyproject.toml is
refused at once instead of costing seconds and gigabytes in every read-only command.

:class:`lockgen.config.Limits` holds the limits (their settings and defaults are defined there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SizeLimit"]


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
