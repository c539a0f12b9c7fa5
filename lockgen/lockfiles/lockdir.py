"""A lock directory: per platform, the ``@EXPLICIT`` lock it holds or the problem with it.

Every command reads locks through here (``lock`` its previous locks, ``check``, ``diff``,
``explain``, ``install``, ``verify``) and maps a :class:`LockRead`'s problem to its own message and
exit code: the reading, decoding and parsing, and what counts as missing, unreadable, malformed or
for another platform, are decided once. A commit's journal left in the folder (:func:`stray_journal`)
is found here too, so a command that writes nothing need not load the writer to report one.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from functools import lru_cache
from pathlib import Path

from lockgen.lockfiles.explicit import ExplicitLock, MalformedLock, parse_explicit
from lockgen.lockfiles.header import is_generated
from lockgen.platforms import lock_file_names
from lockgen.records import dataclass

__all__ = [
    "LINKED_FILE",
    "REQUIREMENTS_NAME",
    "TXN_DIR",
    "UNHASHED_NAME",
    "LockDir",
    "LockProblem",
    "LockRead",
    "claims_platform",
    "generated_file",
    "read_lock_file",
    "read_lock_text",
    "stray_journal",
]

REQUIREMENTS_NAME = "requirements.txt"
"""The pip lock in a lock folder (:mod:`lockgen.lockfiles.requirements` reads and writes it)."""
UNHASHED_NAME = "requirements-unhashed.txt"
"""Its VCS and local-project lines (:mod:`lockgen.lockfiles.unhashed`)."""

TXN_DIR = ".lockgen-txn"
"""The journal of a commit in progress (:mod:`lockgen.lockfiles.commit` writes and applies it)."""

_CLAIM_LINES = 50
"""How far into a file :func:`claims_platform` looks."""


class LockProblem(Enum):
    """Why a lock file gave no lock."""

    MISSING = "missing"
    UNREADABLE = "unreadable"
    """An OS error (permissions, a directory, ...)."""
    NOT_UTF8 = "not-utf8"
    MALFORMED = "malformed"
    """Not an ``@EXPLICIT`` lock (:class:`MalformedLock` says where and why)."""


@dataclass(frozen=True, slots=True)
class LockRead:
    """One lock file as read: the lock, or the problem (with the details each command words its own way)."""

    path: Path
    platform: str | None
    """The platform the file's name promises (None: a file the template does not name)."""
    lock: ExplicitLock | None
    text: str = ""
    """The file's text ("" when it could not be read or decoded)."""
    problem: LockProblem | None = None
    error: Exception | None = None
    """The error behind the problem (an OSError, a UnicodeDecodeError, a :class:`MalformedLock`)."""
    data: bytes = b""
    """The raw bytes, when they were read."""

    @property
    def wrong_platform(self) -> bool:
        """Whether the lock's ``# platform:`` line names a platform other than the one its name promises."""
        return (
            self.lock is not None and self.platform is not None and self.lock.platform not in (None, self.platform)
        )

    @property
    def bad_byte(self) -> int:
        """For :attr:`LockProblem.NOT_UTF8`: the offset of the first byte that is not UTF-8 (else 0)."""
        return self.error.start if isinstance(self.error, UnicodeDecodeError) else 0

    @property
    def bad_line(self) -> int:
        """The 1-based line holding :attr:`bad_byte`."""
        return self.data[: self.bad_byte].count(b"\n") + 1


@lru_cache(maxsize=256)
def _parsed(text: str) -> ExplicitLock:
    """``parse_explicit``, once per text and process: ``lock`` and ``check`` read each lock for the
    options it records and again for its packages (an :class:`ExplicitLock` is immutable); 256: every
    lock of 50 environments on 3 platforms and more (``[tool.lockgen.environments]``)."""
    return parse_explicit(text)


def read_lock_text(text: str, path: Path, platform: str | None = None) -> LockRead:
    """Parse a lock's text (from a file or a git revision)."""
    try:
        return LockRead(path, platform, _parsed(text), text)
    except MalformedLock as exc:
        return LockRead(path, platform, None, text, LockProblem.MALFORMED, MalformedLock(exc.reason, exc.line, path))


LINKED_FILE = "is a symbolic link, not a file lockgen wrote: a link can point anywhere; replace it by the file"


def read_lock_file(path: Path, platform: str | None = None) -> LockRead:
    """Read, decode and parse the lock at ``path``; never raises for an expected problem. A lock
    that is a symbolic link is :attr:`LockProblem.UNREADABLE` (lockgen writes regular files; a link
    committed in a pull request could make every command read a file of its choosing)."""
    if path.is_symlink():
        return LockRead(path, platform, None, problem=LockProblem.UNREADABLE, error=OSError(LINKED_FILE))
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        return LockRead(path, platform, None, problem=LockProblem.MISSING, error=exc)
    except OSError as exc:
        return LockRead(path, platform, None, problem=LockProblem.UNREADABLE, error=exc)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LockRead(path, platform, None, problem=LockProblem.NOT_UTF8, error=exc, data=data)
    read = read_lock_text(text, path, platform)
    return LockRead(read.path, platform, read.lock, text, read.problem, read.error, data=data)


def generated_file(path: Path) -> bool:
    """Whether the file at ``path`` exists and begins as every file lockgen writes does."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return is_generated(handle.read(200))
    except OSError:
        return False


def stray_journal(out_dir: Path) -> Path | None:
    """The journal directory in ``out_dir``, if any (read-only commands report it, never apply it)."""
    txn = out_dir / TXN_DIR
    return txn if txn.is_dir() or txn.is_symlink() or txn.exists() else None


def claims_platform(text: str) -> str | None:
    """What makes ``text`` look like a lock (an ``@EXPLICIT`` or ``# platform:`` line), or None."""
    for line in text.splitlines()[:_CLAIM_LINES]:
        stripped = line.strip()
        if stripped == "@EXPLICIT":
            return "an @EXPLICIT line"
        if stripped.startswith("#") and stripped[1:].strip().startswith("platform:"):
            return f"`{stripped}`"
    return None


@dataclass(frozen=True, slots=True)
class LockDir:
    """The locks in ``path``, named by the filename ``template`` (``{platform}.txt`` by default)."""

    path: Path
    template: str

    def names(self) -> dict[str, str]:
        """File name → platform for every known platform: the only files here that are locks."""
        return lock_file_names(self.template)

    def path_for(self, platform: str) -> Path:
        return self.path / self.template.format(platform=platform)

    def read(self, platform: str) -> LockRead:
        """The lock of ``platform``, or why there is none."""
        return read_lock_file(self.path_for(platform), platform)

    def generated(self, platform: str) -> bool:
        """Whether ``platform``'s lock file exists and lockgen wrote it (so it may be replaced or removed)."""
        return generated_file(self.path_for(platform))

    def others(self) -> Iterator[Path]:
        """``*.txt`` files here that the template does not name and that are not the pip lock files."""
        if not self.path.is_dir():
            return
        names = self.names()
        for path in sorted(self.path.glob("*.txt")):
            if path.name not in names and path.name not in (REQUIREMENTS_NAME, UNHASHED_NAME) and path.is_file():
                yield path
