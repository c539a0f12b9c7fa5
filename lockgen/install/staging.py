"""The extracted packages ``install`` links from: lockgen's own extracted cache, checked at each reuse.

Each package is extracted once from an archive lockgen has just verified against the lock, into
``<cache>/pkgs/lockgen-extracted-v1/<key>/pkg`` (``<key>`` is the lock's hash: ``sha256-<hex>``
or ``md5-<hex>``). The extraction happens in a private staging directory
(``<cache>/pkgs/.lockgen-stage-<pid>-*``), which is walked once: what the package would write, its
symbolic links, and the type, mode, size, mtime and inode of every file, written to
``manifest.json`` beside ``pkg``; the finished entry is then renamed into place (atomic: an entry
is complete or absent). A later install reuses an entry only when (:meth:`ExtractedCache.lookup`):

- ``lockgen-extracted-v1``, the entry, its ``pkg`` directory and its manifest are owned by this
  user, are not symbolic links, and are writable by no one else (when ``lockgen-extracted-v1`` is
  not, the cache is not used at all: every install extracts into its private staging directory).
  Nobody else can then add, remove or rename anything in an entry, and a directory someone else
  put in place of one is not theirs to pass off as this user's;
- the manifest is the version this code writes, for the same key, was checked under the current
  member rules (:data:`~lockgen.install.confine.MEMBER_RULES`), and names the archive's hashes;
- every file and symbolic link it lists is still there with the same type, mode, size, mtime
  (nanoseconds) and inode, and every symbolic link still has the same target.

Any other entry is removed and extracted again from a verified archive. A package's files are
hard-linked into the prefix when it shares a file system with the cache (rattler copies any file
it rewrites for the prefix), so an edit made in place through a prefix changes the entry's mtime
and the entry is dropped at its next use. See docs/reliability.md ("The extracted package cache").

Each install links through its staging directory: ``<segment>`` (rattler's ``name-version-build``)
is a symbolic link to the entry's ``pkg``; the staging directory is removed afterwards, and one left
by a killed install is removed by the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgen.install.confine import (
    MEMBER_RULES,
    MemberCheck,
    PackageFiles,
    UnsafePath,
    check_member,
    package_files,
    scan_package,
    unsafe_path_reason,
)
from lockgen.install.download import Archive
from lockgen.lockfiles import ExplicitEntry

if TYPE_CHECKING:
    from rattler import RepoDataRecord

__all__ = [
    "CACHE_NAME",
    "Extracted",
    "ExtractedCache",
    "StagingError",
    "cache_key",
    "cache_segment",
    "drop_stale_staging",
    "extract_all",
    "link_tree",
    "staging_dir",
]

CACHE_NAME = "lockgen-extracted-v1"
_MANIFEST_VERSION = 1
_PREFIX = ".lockgen-stage-"
_STALE = re.compile(rf"^{re.escape(_PREFIX)}(\d+)-")
_STALE_DISCARD = re.compile(r"^\.discard-(\d+)-")


class StagingError(Exception):
    """An archive could not be extracted, or its extraction does not match the verified file."""


def cache_segment(record: RepoDataRecord) -> str:
    """The directory name rattler's package cache gives ``record`` (``name-version-build``)."""
    segment = f"{record.name.normalized}-{record.version}-{record.build}"
    if unsafe_path_reason(segment) is not None or re.search(r"[/\\]", segment) or segment.startswith("."):
        raise UnsafePath(segment, segment, "the package's name, version or build is not a plain file name")
    return segment


def cache_key(entry: ExplicitEntry) -> str:
    """The extracted cache's name for ``entry``: the hash its lock line names."""
    return f"sha256-{entry.sha256}" if entry.sha256 else f"md5-{entry.md5}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def drop_stale_staging(parent: Path) -> None:
    """Remove staging directories under ``parent`` whose process is gone (killed installs)."""
    if not parent.is_dir():
        return
    for path in parent.glob(f"{_PREFIX}*"):
        match = _STALE.match(path.name)
        if match and path.is_dir() and not path.is_symlink() and not _pid_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def staging_dir(package_cache: Path) -> Iterator[Path]:
    """A fresh staging directory under ``package_cache``, removed on exit (stale ones first)."""
    package_cache.mkdir(parents=True, exist_ok=True)
    drop_stale_staging(package_cache)
    path = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=package_cache))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class Extracted:
    """A package extracted from a verified archive (now, or by an earlier install whose entry still checks)."""

    entry: ExplicitEntry
    directory: Path
    """The package's root (``info/``, its files)."""
    md5: str
    sha256: str
    size: int
    """The archive's hashes and size, as lockgen verified them."""
    files: PackageFiles
    reused: bool


def _private(path: Path, uid: int) -> bool:
    """``path`` is this user's and nobody else may write it (not a symbolic link)."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return info.st_uid == uid and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not stat.S_ISLNK(info.st_mode)


def _make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) when missing, writable by this user only whatever the umask
    (a umask of 002 would otherwise leave it group-writable, and the cache unused)."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        path.chmod(0o755)


class ExtractedCache:
    """``<package cache>/lockgen-extracted-v1``: entries lockgen wrote, reused only while they check."""

    def __init__(self, package_cache: Path, member_check: MemberCheck = check_member) -> None:
        self.root = package_cache / CACHE_NAME
        self.member_check = member_check
        self.uid = os.getuid() if hasattr(os, "getuid") else -1
        _make_private_dir(self.root)
        self.usable = os.name != "nt" and _private(self.root, self.uid)
        for aside in self.root.glob(".discard-*"):  # what a killed install was deleting
            match = _STALE_DISCARD.match(aside.name)
            if match and not _pid_alive(int(match.group(1))) and not aside.is_symlink():
                shutil.rmtree(aside, ignore_errors=True)
        """False when someone else could write the cache (or on Windows): nothing is reused from it or
        stored in it, every package is extracted into the install's private staging directory."""

    # --- reuse ------------------------------------------------------------------------------------

    def lookup(self, entry: ExplicitEntry) -> Extracted | None:
        """The entry for ``entry`` when it is intact; a damaged or foreign one is removed."""
        if not self.usable:
            return None
        key = cache_key(entry)
        directory = self.root / key
        if not directory.exists():
            return None
        found = self._check(entry, key, directory)
        if found is None:
            self._discard(directory)
        return found

    def _check(self, entry: ExplicitEntry, key: str, directory: Path) -> Extracted | None:  # noqa: PLR0911
        manifest_path = directory / "manifest.json"
        if not (_private(directory, self.uid) and _private(manifest_path, self.uid)):
            return None
        try:
            data = json.loads(manifest_path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != _MANIFEST_VERSION or data.get("key") != key:
            return None
        if data.get("member_rules") != MEMBER_RULES:  # checked under other rules: check it again
            return None
        try:
            md5, sha256, size = str(data["md5"]), str(data["sha256"]), int(data["size"])
            package = PackageFiles(
                str(data["name"]),
                tuple(str(p) for p in data["files"]),
                {str(k): str(v) for k, v in data["links"].items()},
                tuple(str(p) for p in data["entry_points"]),
                bool(data["noarch_python"]),
            )
            prints: dict[str, list[int]] = data["stat"]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if (entry.sha256 and entry.sha256 != sha256) or (entry.md5 and entry.md5 != md5):
            return None
        root = directory / "pkg"
        if not _private(root, self.uid):
            return None
        base, lstat = f"{root}{os.sep}", os.lstat  # ~46k files in a big environment: no Path objects
        try:
            for relative, (mode, size, mtime, inode) in prints.items():
                info = lstat(base + relative)
                if info.st_mtime_ns != mtime or info.st_ino != inode or info.st_size != size or info.st_mode != mode:
                    return None
        except (OSError, TypeError, ValueError):
            return None
        for relative, target in package.links.items():
            try:
                if str((root / relative).readlink()) != target:
                    return None
            except OSError:
                return None
        return Extracted(entry, root, md5, sha256, size, package, reused=True)

    def _discard(self, directory: Path) -> None:
        """Move a bad entry aside (one rename, so no reader sees it half-deleted), then delete it."""
        aside = self.root / f".discard-{os.getpid()}-{directory.name}"
        try:
            directory.rename(aside)
        except OSError:
            return
        shutil.rmtree(aside, ignore_errors=True)

    # --- extraction -------------------------------------------------------------------------------

    def extract(self, archive: Archive, staging: Path, segment: str) -> Extracted:
        """Extract ``archive`` (verified) into ``staging``, check every member, then store it in the
        cache (when usable). Raises StagingError or UnsafePath."""
        key = cache_key(archive.entry)
        work = staging / f"{key}.part"
        work.mkdir()
        work.chmod(0o755)
        root = work / "pkg"
        _extract_checked(archive, root)
        root.chmod(0o755)
        try:
            scan = scan_package(root, segment, self.member_check)
            package = package_files(root, segment, scan)
        except (OSError, ValueError) as exc:
            raise StagingError(f"{segment}: {exc}" if isinstance(exc, OSError) else str(exc)) from exc
        found = Extracted(archive.entry, root, archive.md5, archive.sha256, archive.size, package, reused=False)
        if not self.usable:
            return found
        manifest: dict[str, Any] = {
            "version": _MANIFEST_VERSION,
            "key": key,
            "member_rules": MEMBER_RULES,
            "md5": archive.md5,
            "sha256": archive.sha256,
            "size": archive.size,
            "name": segment,
            "files": list(package.files),
            "links": package.links,
            "entry_points": list(package.entry_points),
            "noarch_python": package.noarch_python,
            "stat": scan.fingerprints,
        }
        manifest_path = work / "manifest.json"
        manifest_path.write_text(json.dumps(manifest, separators=(",", ":")), encoding="utf-8")
        manifest_path.chmod(0o644)
        destination = self.root / key
        if destination.exists():  # stored by a concurrent install (keep it: it may be linking from it), or damaged
            if self._check(archive.entry, key, destination) is not None:
                return found
            self._discard(destination)
        try:
            work.rename(destination)
        except OSError:  # another install stored the same package a moment ago: link from ours
            return found
        return Extracted(archive.entry, destination / "pkg", archive.md5, archive.sha256, archive.size, package, False)


def _extract_checked(archive: Archive, destination: Path) -> None:
    from rattler.package_streaming import extract

    try:
        sha256, md5 = extract(archive.path, destination)
    except Exception as exc:
        raise StagingError(f"{archive.entry.name} ({archive.entry.url}): cannot extract the archive ({exc})") from exc
    if sha256.hex() != archive.sha256 or md5.hex() != archive.md5:
        raise StagingError(
            f"{archive.entry.name} ({archive.entry.url}): the archive changed after it was verified"
            f" (extracted sha256 {sha256.hex()}, verified {archive.sha256})"
        )


async def extract_all(
    cache: ExtractedCache, staging: Path, items: Sequence[tuple[Archive, str]], jobs: int = 4
) -> list[Extracted]:
    """Extract every (archive, cache segment), ``jobs`` at a time; in order."""
    limit = asyncio.Semaphore(max(1, jobs))

    async def one(archive: Archive, segment: str) -> Extracted:
        async with limit:
            return await asyncio.to_thread(cache.extract, archive, staging, segment)

    results = await asyncio.gather(*(one(a, s) for a, s in items), return_exceptions=True)
    for result in results:  # every extraction has finished: the caller may remove the directory
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, Extracted)]


def link_tree(staging: Path, packages: Sequence[tuple[str, Extracted]]) -> None:
    """Make ``staging`` the package cache rattler links from: ``<segment>`` → each package's directory."""

    def one(item: tuple[str, Extracted]) -> None:
        segment, extracted = item
        place = staging / segment
        if extracted.directory != place:
            place.symlink_to(extracted.directory, target_is_directory=True)

    with ThreadPoolExecutor(max_workers=8) as pool:  # making a link waits on the file system
        for _ in pool.map(one, packages):
            pass

