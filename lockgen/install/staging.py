"""The extracted packages ``install`` links from: lockgen's own extracted cache, checked at each reuse.

Each package is extracted once from an archive lockgen has just verified against the lock, into
``<cache>/pkgs/lockgen-extracted-v1/<key>/<segment>`` (``<key>`` is the lock's hash:
``sha256-<hex>`` or ``md5-<hex>``; ``<segment>`` rattler's ``name-version-build``, so the entry is
itself a package cache rattler links from). The extraction happens in a private staging directory
(``<cache>/pkgs/.lockgen-stage-<pid>-*``; rattler extracts it, a large archive on its own threads
reading the file through a client that refuses every request, a small one (up to
:data:`~lockgen.install.download.SMALL_ARCHIVE`) in the event loop's thread, and returns the hashes
of what it read, which must be the verified ones), which is walked once: what the package would write, its
symbolic links, and a digest of the type, mode, size, mtime and inode of every file and link,
written to ``manifest.json`` beside the package; the finished entry is then renamed into place
(atomic: an entry is complete or absent). A later install reuses an entry only when
(:meth:`ExtractedCache.lookup_many`):

- ``lockgen-extracted-v1``, the entry, its package directory and its manifest are owned by this
  user, are not symbolic links, and are writable by no one else (when ``lockgen-extracted-v1`` is
  not, the cache is not used at all: every install extracts into its private staging directory).
  Nobody else can then add, remove or rename anything in an entry, and a directory someone else
  put in place of one is not theirs to pass off as this user's;
- the manifest is the version this code writes, for the same key, was checked under the current
  member rules (:data:`~lockgen.install.confine.MEMBER_RULES`), and names the archive's hashes;
- every file and symbolic link it lists is still there with the same type, mode, size, mtime
  (nanoseconds) and inode (one ``lstat`` each, in parallel, compared as one digest), and every
  symbolic link still has the same target.

Any other entry is removed and extracted again from a verified archive. A package's files are
hard-linked into the prefix when it shares a file system with the cache (rattler copies any file
it rewrites for the prefix), so an edit made in place through a prefix changes the entry's mtime
and the entry is dropped at its next use. See docs/reliability.md ("The extracted package cache").

rattler links each package from its entry (one cache layer per entry), so its ``conda-meta`` record
names a directory that stays. A package that is not in the cache (a cache others may write, an
entry another install stored first) or whose record names another ``name-version-build`` links
through the install's staging directory (``<segment>``: a symbolic link to it), which is removed
afterwards; one left by a killed install is removed by the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import stat
from collections.abc import Awaitable, Iterable, Iterator, Sequence
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
from lockgen.install.download import SMALL_ARCHIVE, Archive
from lockgen.install.fingerprint import fingerprint, members_digest
from lockgen.lockfiles import ExplicitEntry
from lockgen.records import dataclass

if TYPE_CHECKING:
    from rattler import Client, RepoDataRecord

__all__ = [
    "CACHE_NAME",
    "Extracted",
    "ExtractedCache",
    "Extractions",
    "StagingError",
    "cache_key",
    "cache_segment",
    "drop_stale_staging",
    "link_tree",
    "staging_dir",
]

CACHE_NAME = "lockgen-extracted-v1"
_MANIFEST_VERSION = 2
"""2: the package directory is named by its segment, and the fingerprints are one digest (1: ``pkg``, a list)."""
_PREFIX = ".lockgen-stage-"
_STALE = re.compile(rf"^{re.escape(_PREFIX)}(\d+)-")
_STALE_DISCARD = re.compile(r"^\.discard-(\d+)-")


class StagingError(Exception):
    """An archive could not be extracted, or its extraction does not match the verified file."""


@dataclass(frozen=True, slots=True)
class _Pending:
    """A cache entry whose manifest checked, before its files are."""

    found: Extracted
    root: str
    members: list[str]
    digest: str


def cache_segment(record: RepoDataRecord) -> str:
    """The directory name rattler's package cache gives ``record`` (``name-version-build``)."""
    segment = f"{record.name.normalized}-{record.version}-{record.build}"
    if not _plain_segment(segment):
        raise UnsafePath(segment, segment, "the package's name, version or build is not a plain file name")
    return segment


def _plain_segment(segment: str) -> bool:
    return unsafe_path_reason(segment) is None and not re.search(r"[/\\]", segment) and not segment.startswith(".")


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
    """A fresh staging directory under ``package_cache``, removed on exit (the caller drops stale ones
    first: :func:`drop_stale_staging`)."""
    package_cache.mkdir(parents=True, exist_ok=True)
    path = _new_private_dir(package_cache, f"{_PREFIX}{os.getpid()}-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _new_private_dir(parent: Path, prefix: str, attempts: int = 100) -> Path:
    """A directory ``<prefix><12 random hex digits>`` created under ``parent``, for this user only
    (what ``tempfile.mkdtemp`` makes, without loading ``tempfile`` and its random generator)."""
    for _ in range(attempts):
        path = parent / f"{prefix}{os.urandom(6).hex()}"
        try:
            path.mkdir(0o700)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no new directory name under {parent} after {attempts} attempts")


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
        return self.lookup_many([entry]).get(entry.url)

    def lookup_many(self, entries: Sequence[ExplicitEntry]) -> dict[str, Extracted]:
        """The intact entries for ``entries``, by URL; damaged or foreign ones are removed.

        One thread: each ``lstat`` is a few microseconds, and threads would spend more than that
        handing Python's lock back and forth."""
        found: dict[str, Extracted] = {}
        if not self.usable:
            return found
        for entry in entries:
            key = cache_key(entry)
            directory = self.root / key
            if not os.path.lexists(directory):
                continue
            intact = self._check(entry, key, directory)
            if intact is None:
                self._discard(directory)
            else:
                found[entry.url] = intact
        return found

    def _links_hold(self, found: Extracted) -> bool:
        for relative, target in found.files.links.items():
            try:
                if os.readlink(f"{found.directory}{os.sep}{relative}") != target:  # noqa: PTH115
                    return False
            except OSError:
                return False
        return True

    def _check(self, entry: ExplicitEntry, key: str, directory: Path) -> Extracted | None:
        """The entry at ``directory`` when it is intact (manifest, then every file)."""
        pending = self._check_manifest(entry, key, directory)
        if pending is None or not self._links_hold(pending.found):
            return None
        return pending.found if members_digest(pending.root, pending.members) == pending.digest else None

    def _check_manifest(self, entry: ExplicitEntry, key: str, directory: Path) -> _Pending | None:  # noqa: PLR0911
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
            members, digest = data["members"], str(data["stat"])
            if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
                return None
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if (entry.sha256 and entry.sha256 != sha256) or (entry.md5 and entry.md5 != md5):
            return None
        if not _plain_segment(package.name):
            return None
        root = directory / package.name
        if not _private(root, self.uid):
            return None
        found = Extracted(entry, root, md5, sha256, size, package, reused=True)
        return _Pending(found, str(root), members, digest)

    def _discard(self, directory: Path) -> None:
        """Move a bad entry aside (one rename, so no reader sees it half-deleted), then delete it."""
        aside = self.root / f".discard-{os.getpid()}-{directory.name}"
        try:
            directory.rename(aside)
        except OSError:
            return
        shutil.rmtree(aside, ignore_errors=True)

    # --- extraction -------------------------------------------------------------------------------

    def _work_dir(self, archive: Archive, staging: Path) -> Path:
        work = staging / f"{cache_key(archive.entry)}.part"
        work.mkdir()
        work.chmod(0o755)
        return work

    async def unpack(self, archive: Archive, staging: Path, segment: str, client: Client) -> Path:
        """Extract ``archive`` (verified) into ``staging / <key>.part / segment``; that ``.part``
        directory, for :meth:`store`. Raises StagingError.

        rattler extracts on its own threads (``client`` refuses every request: the archive is a local
        file), so Python's lock stays free for the downloads and the other packages' scans."""
        work = self._work_dir(archive, staging)
        await _extract_checked(archive, work / segment, client)
        return work

    def unpack_and_store(self, archive: Archive, staging: Path, segment: str) -> Extracted:
        """:meth:`unpack` then :meth:`store`, in the calling thread (rattler extracts holding Python's
        lock): for a small archive, whose extraction costs less than handing it to rattler's threads."""
        from rattler.package_streaming import extract

        work = self._work_dir(archive, staging)
        try:
            sha256, md5 = extract(archive.path, work / segment)
        except Exception as exc:
            raise _cannot_extract(archive, exc) from exc
        _check_extracted(archive, sha256, md5)
        return self.store(archive, work, segment)

    def store(self, archive: Archive, work: Path, segment: str) -> Extracted:
        """Check every member of a fresh extraction (``work / segment``), write its manifest and rename
        it into the cache (when usable). Raises StagingError or UnsafePath."""
        key = cache_key(archive.entry)
        root = work / segment
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
            "members": list(scan.fingerprints),
            "stat": fingerprint(tuple(f) for f in scan.fingerprints.values()),  # type: ignore[misc]
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
        stored = destination / segment
        return Extracted(archive.entry, stored, archive.md5, archive.sha256, archive.size, package, reused=False)


async def _extract_checked(archive: Archive, destination: Path, client: Client) -> None:
    from rattler.package_streaming import download_and_extract

    try:
        sha256, md5 = await download_and_extract(
            client, archive.path.as_uri(), destination, expected_sha=bytes.fromhex(archive.sha256)
        )
    except Exception as exc:
        raise _cannot_extract(archive, exc) from exc
    _check_extracted(archive, sha256, md5)


def _cannot_extract(archive: Archive, exc: Exception) -> StagingError:
    return StagingError(f"{archive.entry.name} ({archive.entry.url}): cannot extract the archive ({exc})")


def _check_extracted(archive: Archive, sha256: bytes, md5: bytes) -> None:
    """The extraction read the verified bytes (its hashes are the verified ones); else StagingError."""
    if sha256.hex() != archive.sha256 or md5.hex() != archive.md5:
        raise StagingError(
            f"{archive.entry.name} ({archive.entry.url}): the archive changed after it was verified"
            f" (extracted sha256 {sha256.hex()}, verified {archive.sha256})"
        )


class Extractions:
    """Extractions started as each archive is verified, ``jobs`` at a time, while the others download.

    Each waits for its cache segment (the package's record), then extracts into ``staging``
    (:meth:`ExtractedCache.unpack`, on rattler's threads, ``jobs`` at a time) and checks and stores
    the entry (:meth:`ExtractedCache.store`, in a worker thread beside the next
    extractions); a small archive is extracted, checked and stored at once in the event loop's
    thread (:meth:`ExtractedCache.unpack_and_store`). :meth:`stop` must run
    before ``staging`` is removed: it starts no more and waits for those running (rattler's threads
    and the scans write into it)."""

    def __init__(self, cache: ExtractedCache, staging: Path, client: Client, jobs: int = 2) -> None:
        self.cache = cache
        self.staging = staging
        self.client = client
        self._limit = asyncio.Semaphore(max(1, jobs))
        self._tasks: dict[str, asyncio.Task[Extracted]] = {}
        self._stopped = False

    def start(self, archive: Archive, segment: Awaitable[str]) -> None:
        """Extract ``archive`` once ``segment`` is known and a slot is free."""
        self._tasks[archive.entry.url] = asyncio.create_task(self._one(archive, segment))

    async def _one(self, archive: Archive, segment: Awaitable[str]) -> Extracted:
        name = await segment
        if archive.size <= SMALL_ARCHIVE:
            # extracted, checked and stored right here, in the event loop's thread (about a millisecond):
            # handing it to another thread would cost more (Python's lock passed back and forth at each
            # system call, a wake-up of the loop for the result), and rattler's threads stay free for
            # the large archives
            if self._stopped:
                raise StagingError(f"{archive.entry.name}: not extracted (the install stopped)")
            return self.cache.unpack_and_store(archive, self.staging, name)
        async with self._limit:  # rattler's extractions, ``jobs`` at a time; the scans (Python) beside them
            if self._stopped:
                raise StagingError(f"{archive.entry.name}: not extracted (the install stopped)")
            work = await self.cache.unpack(archive, self.staging, name, self.client)
        return await asyncio.to_thread(self.cache.store, archive, work, name)

    async def results(self, urls: Iterable[str]) -> list[Extracted]:
        """The extractions of ``urls`` (each started), in that order, once every extraction finished;
        raises the first failure in that order."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        return [self._tasks[url].result() for url in urls]

    async def stop(self) -> None:
        """Start no more extractions, and wait for those running."""
        self._stopped = True
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def link_tree(
    staging: Path, packages: Sequence[tuple[str, str, Extracted]]
) -> tuple[list[tuple[Path, str | None]], set[str]]:
    """The package cache layers rattler links ``packages`` (segment, package name, extraction) from:
    each entry of the extracted cache itself, and ``staging`` for the others (``<segment>`` → the
    extraction), each with the name of the one package it is to serve (None: ``staging``, which serves
    several); with the URLs of the packages linked through ``staging`` (deleted afterwards)."""
    layers: list[tuple[Path, str | None]] = []
    through_staging: set[str] = set()

    for segment, name, extracted in packages:
        directory = extracted.directory
        if directory.name == segment and not directory.parent.is_relative_to(staging):
            layers.append((directory.parent, name))
            continue
        through_staging.add(extracted.entry.url)
        place = staging / segment
        if directory != place:
            place.symlink_to(directory, target_is_directory=True)
    if through_staging:
        layers.append((staging, None))
    return layers, through_staging
