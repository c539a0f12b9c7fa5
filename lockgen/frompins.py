"""``lockgen lock --from``'s input: the pins of a lock lockgen did not write.

:func:`read_pins` reads conda-lock's unified lock (through :mod:`lockgen.lockfiles.condalock`),
one of its ``conda-<platform>.lock`` renderings (``@EXPLICIT`` files whose pip packages follow as
``# pip NAME @ URL#sha256=HASH`` comments), ``conda list --explicit`` output (no hashes), or a
folder of such files, into :class:`PreviousPins`: the previous lock :mod:`lockgen.migrate` starts
from. A file that is not such a lock raises :class:`~lockgen.lockfiles.explicit.MalformedLock`
naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path

from lockgen.lockfiles.condalock import (
    CondaLockFile,
    explicit_lock,
    is_condalock_path,
    read_condalock,
    read_lock_text,
)
from lockgen.lockfiles.explicit import ExplicitLock, MalformedLock, parse_explicit
from lockgen.lockfiles.requirements import VCS_PREFIXES
from lockgen.records import dataclass

__all__ = ["PipPinned", "PreviousPins", "read_pins", "url_commit"]

_PIP_COMMENT = re.compile(
    r"^#\s*pip\s+(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*@\s*(?P<url>\S+?)(?:#sha256=(?P<sha>[0-9a-f]{64}))?$"
)
_LOCK_FILE = re.compile(r"^conda-(?P<platform>[a-z0-9]+-[a-z0-9_]+)\.lock$")


@dataclass(frozen=True, slots=True)
class PipPinned:
    """A pip package pinned for one platform: ``name==version``, and the file it came from when known."""

    name: str
    version: str
    url: str | None = None
    sha256: str | None = None
    commit: str | None = None
    """A VCS pin (``git+https://…@<commit>``): the commit; such a pin has no file hash."""

    @property
    def vcs(self) -> bool:
        return self.url is not None and self.url.startswith(VCS_PREFIXES)


@dataclass(frozen=True, slots=True)
class PreviousPins:
    """The pins of an existing lock lockgen did not write, per platform."""

    source: str
    conda: Mapping[str, ExplicitLock]
    pip: Mapping[str, tuple[PipPinned, ...]]
    optional: Mapping[str, tuple[tuple[str, str], ...]]
    """Per platform, (name, category) of the conda pins conda-lock marked optional (dev/extras categories)."""
    virtual_needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Package URL → the virtual packages (``__cuda``, ``__glibc``...) its recorded dependencies name."""
    recorded: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Package URL → its ``dependencies`` as the lock recorded them (name, version part): the
    channel's metadata when the lock was made, to tell a patched record from the one pinned."""

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.conda) | set(self.pip)))


def _pins_from_condalock(lock: CondaLockFile, source: str) -> PreviousPins:
    conda: dict[str, ExplicitLock] = {}
    pip: dict[str, tuple[PipPinned, ...]] = {}
    optional: dict[str, tuple[tuple[str, str], ...]] = {}
    for platform in sorted({p.platform for p in lock.packages} | set(lock.platforms)):
        conda[platform] = explicit_lock(platform, lock.for_platform(platform, "conda"))
        pip[platform] = tuple(
            PipPinned(p.name, p.version, p.url, p.sha256, p.commit or url_commit(p.url))
            for p in lock.for_platform(platform, "pip")
        )
        optional[platform] = tuple(
            sorted((p.name, p.category) for p in lock.for_platform(platform, "conda") if p.optional)
        )
    needs = {
        p.url: tuple(sorted(name for name, _ in p.dependencies if name.startswith("__")))
        for p in lock.packages
        if p.manager == "conda" and any(name.startswith("__") for name, _ in p.dependencies)
    }
    recorded = {p.url: p.dependencies for p in lock.packages if p.manager == "conda"}
    return PreviousPins(source, conda, pip, optional, needs, recorded)


def url_commit(url: str) -> str | None:
    """The commit a VCS URL is pinned to (``git+https://host/repo.git@<commit>``), else None."""
    if not url.startswith(VCS_PREFIXES):
        return None
    ref = url.split("#", 1)[0].rpartition("@")[2]
    return ref.lower() if "/" not in ref and re.fullmatch(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}", ref) else None


def _platform_of_explicit(path: Path, lock: ExplicitLock) -> str:
    if lock.platform:
        return lock.platform
    match = _LOCK_FILE.match(path.name)
    if match:
        return match.group("platform")
    subdirs = {e.subdir for e in lock.entries} - {"noarch"}
    if len(subdirs) == 1:
        return subdirs.pop()
    raise MalformedLock(f"{path}: cannot tell its platform (no `# platform:` line, name or platform URLs)")


def _unhashed_explicit(text: str, where: str) -> ExplicitLock:
    """An explicit file whose URLs carry no hash (``conda list --explicit``): URLs are pins too."""
    try:
        lock = parse_explicit(text, hashes=False)
    except MalformedLock as exc:
        if exc.line is None:
            raise MalformedLock(f"{where}: {exc.reason}") from None
        line = text.splitlines()[exc.line - 1].strip()
        raise MalformedLock(f"{where}:{exc.line}: not an explicit lock line: {line[:120]!r}") from None
    return ExplicitLock(lock.platform, None, lock.entries, ())


def _explicit_pins(path: Path) -> tuple[str, ExplicitLock, tuple[PipPinned, ...]]:
    text = read_lock_text(path)
    try:
        lock = parse_explicit(text)
    except ValueError:
        lock = _unhashed_explicit(text, str(path))
    pip = []
    for line in text.splitlines():
        match = _PIP_COMMENT.match(line.strip())
        if match:
            url = match.group("url")
            version = _version_from_file(url.rpartition("/")[2])
            pip.append(PipPinned(match.group("name"), version, url, match.group("sha"), url_commit(url)))
    return _platform_of_explicit(path, lock), lock, tuple(pip)


def _version_from_file(file_name: str) -> str:
    """The version in a wheel or sdist file name (``name-1.2-py3-none-any.whl`` → ``1.2``)."""
    stem = file_name.split("#", 1)[0]
    if stem.endswith(".whl"):
        parts = stem[:-4].split("-")
        return parts[1] if len(parts) >= 5 else ""
    for suffix in (".tar.gz", ".zip", ".tar.bz2"):
        if stem.endswith(suffix):
            return stem[: -len(suffix)].rpartition("-")[2]
    return ""


def read_pins(path: Path) -> PreviousPins:
    """The pins of ``path``: a conda-lock.yml, one explicit file, or a directory of explicit files.

    In a directory, ``*.lock`` and ``*.txt`` files that are explicit locks are read (one per
    platform; others, such as a requirements.txt, are skipped); ``conda-lock.yml`` there is read
    when it is the only lock.
    """
    if path.is_dir():
        found: dict[str, ExplicitLock] = {}
        pip: dict[str, tuple[PipPinned, ...]] = {}
        for child in sorted(path.iterdir()):
            if not child.is_file() or child.suffix not in (".lock", ".txt"):
                continue
            head = read_lock_text(child)[:65536]
            if "@EXPLICIT" not in head:
                continue
            platform, lock, pins = _explicit_pins(child)
            if platform in found:
                raise MalformedLock(f"{path}: two explicit locks for {platform}; keep one or name a file")
            found[platform], pip[platform] = lock, pins
        if not found:
            for name in ("conda-lock.yml", "conda-lock.yaml"):
                if (path / name).is_file():
                    return _pins_from_condalock(read_condalock(path / name), str(path / name))
            raise MalformedLock(f"{path}: no explicit lock files (@EXPLICIT) and no conda-lock.yml in it")
        return PreviousPins(str(path), found, pip, dict.fromkeys(found, ()))
    if not path.exists():
        raise MalformedLock(f"{path}: no such file or directory")
    if is_condalock_path(path):
        return _pins_from_condalock(read_condalock(path), str(path))
    platform, lock, pins = _explicit_pins(path)
    return PreviousPins(str(path), {platform: lock}, {platform: pins}, {platform: ()})
