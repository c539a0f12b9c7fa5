"""Extract verified archives into a private staging directory, the only place ``install`` links from.

An extracted package cache shared between runs can be edited by anything that can write the cache,
and rattler checks at most that its files exist. So every install extracts the packages it links
from the archives it has just verified against the lock, into ``<cache>/pkgs/.lockgen-stage-<pid>-*``
(same file system as the cache, so hard links into the prefix still work), checks the archive hash
the extraction saw, and removes the staging directory afterwards. A staging directory whose process
is gone (a killed install) is removed by the next install.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.install.confine import PackageFiles, UnsafePath, package_files, unsafe_path_reason
from lockgen.install.download import Archive

if TYPE_CHECKING:
    from rattler import RepoDataRecord

__all__ = ["StagingError", "cache_segment", "drop_stale_staging", "stage_packages", "staging_dir"]

_PREFIX = ".lockgen-stage-"
_STALE = re.compile(rf"^{re.escape(_PREFIX)}(\d+)-")


class StagingError(Exception):
    """An archive could not be extracted, or its extraction does not match the verified file."""


def cache_segment(record: RepoDataRecord) -> str:
    """The directory name rattler's package cache gives ``record`` (``name-version-build``)."""
    segment = f"{record.name.normalized}-{record.version}-{record.build}"
    if unsafe_path_reason(segment) is not None or re.search(r"[/\\]", segment) or segment.startswith("."):
        raise UnsafePath(segment, segment, "the package's name, version or build is not a plain file name")
    return segment


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


def _extract(archive: Archive, destination: Path, name: str) -> PackageFiles:
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
    try:
        return package_files(destination, name)
    except ValueError as exc:
        raise StagingError(str(exc)) from exc


async def stage_packages(
    staging: Path, items: Sequence[tuple[Archive, RepoDataRecord]], jobs: int = 4
) -> list[PackageFiles]:
    """Extract every (archive, record) into ``staging/<cache segment>``; their files, in order."""
    limit = asyncio.Semaphore(max(1, jobs))

    async def one(archive: Archive, record: RepoDataRecord) -> PackageFiles:
        segment = cache_segment(record)
        async with limit:
            return await asyncio.to_thread(_extract, archive, staging / segment, segment)

    results = await asyncio.gather(*(one(a, r) for a, r in items), return_exceptions=True)
    for result in results:  # every extraction has finished: the caller may remove the directory
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, PackageFiles)]
