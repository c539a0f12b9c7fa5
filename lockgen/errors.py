"""One error hierarchy for lockgen.

Every expected failure is a :class:`LockgenError` subclass that carries a user-facing message
and an exit code. The CLI prints ``error.message`` and exits with ``error.exit_code``; a
traceback is shown only with ``-v``. Messages never contain credentials: they pass through
:func:`lockgen.secrets.redact` before they are raised.
"""

from __future__ import annotations

from typing import Literal

from lockgen.records import dataclass

__all__ = [
    "EXIT_CODES",
    "ChannelError",
    "ConfigError",
    "InputError",
    "InstallError",
    "LockgenError",
    "OutputError",
    "Problem",
    "PypiResolutionError",
    "Severity",
    "SolveError",
    "StaleLockError",
    "VerifyError",
]


Severity = Literal["error", "warning", "note"]
"""An error stops the run (:class:`InputError` lists them all); a warning or a note is reported
(:class:`lockgen.reporting.Notice`) and the run goes on."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in an input file, with its location when known, and its severity.

    Shown as ``file:line: message`` for an error and ``file:line: warning: message`` (or ``note:``)
    otherwise, the form compilers use and editors jump from."""

    message: str
    file: str | None = None
    line: int | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        label = "" if self.severity == "error" else f"{self.severity}: "
        if self.file is None:
            return f"{label}{self.message}"
        if self.line is None:
            return f"{self.file}: {label}{self.message}"
        return f"{self.file}:{self.line}: {label}{self.message}"


class LockgenError(Exception):
    """Base class of every expected failure. ``exit_code`` is documented in the README."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(LockgenError):
    """Bad command-line option or ``[tool.lockgen]`` setting."""

    exit_code = 2


class InputError(LockgenError):
    """The environment file(s) could not be read or are invalid. Reports all problems at once."""

    exit_code = 3

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [str(p) for p in problems]
        plural = "s" if len(lines) != 1 else ""
        super().__init__(f"invalid input ({len(lines)} problem{plural}):\n  " + "\n  ".join(lines))


class SolveError(LockgenError):
    """A platform has no solution: unsatisfiable specs or unknown package names."""

    exit_code = 4

    def __init__(self, message: str, platforms: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.platforms = platforms
        self.details = ""
        """The solver's whole explanation when ``message`` shows a shortened one (``-v`` prints it)."""


class ChannelError(LockgenError):
    """Repodata or a package index could not be fetched (network, HTTP status, bad data)."""

    exit_code = 5


class StaleLockError(LockgenError):
    """``lockgen check``: a lock is missing, malformed or out of date."""

    exit_code = 6

    def __init__(self, message: str, reasons: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.reasons: dict[str, list[str]] = reasons or {}


class PypiResolutionError(LockgenError):
    """The pip section could not be resolved for a platform."""

    exit_code = 7

    def __init__(self, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing
        """Canonical names of requirements no index has (typos?): the caller may look for close names."""


class VerifyError(LockgenError):
    """``lockgen verify``: a lock does not match the channel's repodata or is not closed."""

    exit_code = 8

    def __init__(self, message: str, findings: list[str] | None = None) -> None:
        super().__init__(message)
        self.findings = list(findings or [])


class InstallError(LockgenError):
    """``lockgen install`` failed before changing the prefix (hash mismatch, missing file, ...)."""

    exit_code = 9


class OutputError(LockgenError):
    """Lock files could not be written (permissions, another writer holding the lock)."""

    exit_code = 10


EXIT_CODES: dict[int, str] = {
    0: "success (for `check`: locks up to date; for `diff`: no changes)",
    1: "unexpected internal error (a bug: please report it with the command run again with `-v`: `lockgen lock -v`)",
    2: "bad command-line option or `[tool.lockgen]` setting; `diff`, `verify`: no lock files to read",
    3: "invalid environment file (every problem listed with file:line), or an input file over its size limit",
    4: "no solution for a platform (conflict explained, per platform) or unknown package",
    5: "a channel, index or mapping could not be fetched (URL and reason given)",
    6: "`check`: a lock is missing, malformed or stale; `diff`: changes found",
    7: "the pip section could not be resolved for a platform",
    8: "`verify`: a lock does not match its channels or is not closed",
    9: "`install`: refused before changing the prefix, or its pip step failed after linking",
    10: "lock files could not be written",
    130: "interrupted (Ctrl-C): the message says which lock files are on disk (the previous set or the whole new one)",
}
