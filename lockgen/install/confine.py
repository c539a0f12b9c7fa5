"""Keep ``lockgen install`` inside its prefix: check what a package would write before it is linked.

rattler's linker writes every ``info/paths.json`` (or ``info/files``) entry at ``prefix / path``
and trusts the path: ``../x`` or ``/etc/x`` would land outside the prefix (an absolute path even
panics it halfway through). Every package is therefore extracted from its verified archive by
lockgen (:mod:`lockgen.install.staging`; a reused extraction is one whose manifest still matches)
and checked here, all packages at once, before anything in the prefix changes:

- every path is relative, non-empty, without ``..`` segments, NUL or a Windows drive, and not
  under ``conda-meta/`` (the prefix's own records);
- no path reaches the prefix through a symbolic link that leaves it: neither one the package (or
  another package of the same install) ships, nor one already in the prefix that this install
  does not remove; a file is never written through such a link either;
- every entry is what the package really holds: a "file" is a regular file of the extracted
  package (not a symbolic link, nor a path through one, which would make the linker copy or
  hard-link a file from outside, say a private key, into the prefix), a "symbolic link" is one;
- a ``noarch: python`` entry point is a plain file name (it becomes ``bin/<name>``) of printable
  characters, not ``.``/``..``, without a path separator;
- nothing but regular files, directories and symbolic links reaches the prefix: an archive member
  that extracts to a FIFO, a device node or a socket is refused (:func:`member_problem`), and
  set-user-ID, set-group-ID and sticky bits are stripped from what was extracted (:func:`safe_mode`),
  whatever the extractor did with them. Both happen as the one scan of a fresh extraction meets
  each member (:func:`scan_package`, :func:`check_member`; :data:`MEMBER_RULES` versions them).

A package that breaks a rule is refused with :class:`~lockgen.errors.InstallError` naming the
package, the path and the rule.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from lockgen.records import dataclass

if TYPE_CHECKING:
    import tarfile

__all__ = [
    "MEMBER_RULES",
    "Confinement",
    "MemberCheck",
    "PackageFiles",
    "Scan",
    "UnsafePath",
    "check_member",
    "check_paths",
    "entry_point_problem",
    "member_problem",
    "package_files",
    "safe_mode",
    "scan_package",
    "tar_member_problem",
    "unsafe_path_reason",
]

_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_LINK_HOPS = 40
_SPECIAL_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX
_ENTRY_POINT = re.compile(r"^[^\x00-\x20\x7f-\x9f/\\:*?\"<>|]+$")
"""A console script's file name: printable, no separator, nothing a Windows file name refuses."""


class UnsafePath(Exception):
    """A package would write outside the prefix (or into conda-meta)."""

    def __init__(self, package: str, path: str, reason: str) -> None:
        super().__init__(f"{package}: refusing the path {path!r}: {reason}")
        self.package = package
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PackageFiles:
    """What one extracted package would create in the prefix (paths as in ``paths.json``)."""

    name: str
    """``name-version-build``, for messages."""
    files: tuple[str, ...]
    """Regular files and directories."""
    links: dict[str, str]
    """Symbolic links the package ships: path → target."""
    entry_points: tuple[str, ...] = ()
    noarch_python: bool = False


def unsafe_path_reason(path: str) -> str | None:
    """Why ``path`` (a ``paths.json`` entry) may not be linked into a prefix, or None when it may."""
    if (  # the common case, decided without splitting
        path.strip("/\\.")
        and ".." not in path
        and "\0" not in path
        and path[0] not in "/\\"
        and path[1:2] != ":"
        and not path.startswith("conda-meta")
    ):
        return None
    parts = re.split(r"[/\\]", path)
    checks = (
        (not path.strip("/\\."), "an empty path names the prefix itself"),
        ("\0" in path, "the path contains a NUL byte"),
        (path.startswith(("/", "\\")) or bool(_DRIVE.match(path)), "absolute paths are not allowed"),
        (".." in parts, "'..' segments are not allowed"),
        (parts[0] == "conda-meta", "a package may not write into conda-meta/"),
    )
    return next((reason for failed, reason in checks if failed), None)


def member_problem(mode: int) -> str | None:
    """Why an archive member (or what it extracted to) of this ``st_mode`` may not reach a prefix.

    Only regular files, directories and symbolic links may: a FIFO would hang whatever opens it, a
    device node (made as root) would give access to a disk or a terminal. Hard links are judged by
    their target, which must be a regular file of the same package.
    """
    kinds = (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    found = next((what for test, what in kinds if test(mode)), None)
    return None if found is None else f"it is {found}: a package may hold only files, directories and links"


def tar_member_problem(member: tarfile.TarInfo) -> str | None:
    """Why one member of a package's tar may not be extracted (None: it may, with ``safe_mode(mode)``).

    For an extractor of our own (rattler's skips ``..`` names, keeps absolute ones inside and
    refuses hard links that leave): a name that is absolute, climbs with ``..`` or holds a NUL; a
    hard link whose target does the same; anything but a file, directory, symbolic or hard link.
    A symbolic link's target is judged later, with the paths the package lists (:func:`check_paths`).
    """
    import tarfile

    name = member.name.removeprefix("./")
    for what, path in (("the member", name), ("the hard link's target", member.linkname if member.islnk() else "")):
        if path and unsafe_path_reason(path) in (
            "absolute paths are not allowed", "'..' segments are not allowed", "the path contains a NUL byte",
        ):  # fmt: skip
            return f"{what} {path!r}: {unsafe_path_reason(path)}"
    kinds = {
        tarfile.FIFOTYPE: stat.S_IFIFO, tarfile.CHRTYPE: stat.S_IFCHR, tarfile.BLKTYPE: stat.S_IFBLK,
    }  # fmt: skip
    if member.type in kinds:
        return member_problem(kinds[member.type])
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return f"{name!r} is a tar member of type {member.type!r}, which no package needs"
    return None


def safe_mode(mode: int) -> int:
    """``mode`` without set-user-ID, set-group-ID and sticky bits: a package never installs a
    program that runs as its owner (they are stripped, not refused: an honest build rarely sets them)."""
    return mode & ~_SPECIAL_BITS


def entry_point_problem(point: str) -> str | None:
    """Why a ``noarch: python`` entry point name may not become ``bin/<name>`` (None when it may)."""
    if point in ("", ".", "..") or unsafe_path_reason(point) is not None or not _ENTRY_POINT.match(point):
        return "an entry point must be a plain file name (printable, no path separator, not '.' or '..')"
    return None


MemberCheck = Callable[[str, str, os.stat_result, str], None]
"""Called for every member of a fresh extraction, once, as it is scanned: (package, relative path,
``lstat``, absolute path). Raises :class:`UnsafePath` (or ValueError) to refuse the package; may
change the member's mode (it is looked at again afterwards when it had set-id or sticky bits)."""

MEMBER_RULES = 1
"""The version of :func:`check_member`'s rules. Bump it when they change: lockgen's extracted cache
records it, and entries extracted under other rules are extracted (and so checked) again."""


def check_member(package: str, relative: str, info: os.stat_result, path: str) -> None:
    """What every extracted member gets as it is scanned: set-user-ID, set-group-ID and sticky bits
    cleared (:func:`safe_mode`). A FIFO, device or socket is recorded by the scan and refused when
    the package lists it (:func:`package_files`)."""
    if info.st_mode & _SPECIAL_BITS and not stat.S_ISLNK(info.st_mode):
        os.chmod(path, stat.S_IMODE(safe_mode(info.st_mode)))  # noqa: PTH101 (a str path, rarely)


@dataclass(frozen=True, slots=True)
class Scan:
    """One walk of an extracted package: its members by type, and a fingerprint of each file and link."""

    files: frozenset[str]
    directories: frozenset[str]
    links: dict[str, str]
    special: dict[str, str]
    """Anything else (FIFO, device, socket): path → why it may not be installed."""
    fingerprints: dict[str, list[int]]
    """relative path → [st_mode, st_size, st_mtime_ns, st_ino] for every regular file and symbolic link."""


def scan_package(root: Path, name: str, member_check: MemberCheck = check_member) -> Scan:
    """Walk an extracted package once (one ``scandir`` and one ``lstat`` per member), calling
    ``member_check`` on each member."""
    files: set[str] = set()
    directories: set[str] = set()
    links: dict[str, str] = {}
    special: dict[str, str] = {}
    prints: dict[str, list[int]] = {}
    pending = [("", str(root))]
    while pending:
        relative, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                path = f"{relative}/{entry.name}" if relative else entry.name
                info = entry.stat(follow_symlinks=False)
                member_check(name, path, info, entry.path)
                if info.st_mode & _SPECIAL_BITS:  # the check may have cleared them: record what is there
                    info = os.lstat(entry.path)
                if stat.S_ISLNK(info.st_mode):
                    links[path] = os.readlink(entry.path)  # noqa: PTH115 (a str path, one call per link)
                elif stat.S_ISDIR(info.st_mode):
                    directories.add(path)
                    pending.append((path, entry.path))
                    continue
                elif stat.S_ISREG(info.st_mode):
                    files.add(path)
                else:
                    special[path] = member_problem(info.st_mode) or "not a regular file"
                    continue
                prints[path] = [info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino]
    return Scan(frozenset(files), frozenset(directories), links, special, prints)


def package_files(directory: Path, name: str, scan: Scan | None = None) -> PackageFiles:
    """Read an extracted package's paths (``paths.json``, or the old ``info/files``) and link.json,
    and check them against its members (``scan``, walked here when not given).

    Raises ValueError when the metadata cannot be read.
    """
    from rattler import PathsJson

    try:
        paths = PathsJson.from_package_directory_with_deprecated_fallback(directory)
    except Exception as exc:
        raise ValueError(f"{name}: cannot read info/paths.json or info/files ({exc})") from exc
    if scan is None:
        scan = scan_package(directory, name)
    regular, shipped_links, special = scan.files, scan.links, scan.special
    files: list[str] = []
    links: dict[str, str] = {}
    for entry in paths.paths:
        relative = str(entry.relative_path)
        reason = unsafe_path_reason(relative)
        if reason is not None:
            raise UnsafePath(name, relative, reason)
        key = _normal(relative)
        if key in special:
            raise UnsafePath(name, relative, special[key])
        if entry.path_type.softlink:
            if key not in shipped_links:
                raise ValueError(f"{name}: {relative} is listed as a symbolic link but the package has none there")
            links[relative] = shipped_links[key]
        elif entry.path_type.hardlink and key not in regular:
            # a symbolic link (or a path through one) would make the linker copy whatever it points at
            raise ValueError(f"{name}: {relative} is listed as a file but the package has no regular file there")
        elif key in shipped_links:
            raise ValueError(f"{name}: {relative} is listed as a directory but the package ships a symbolic link there")
        else:
            files.append(relative)
    entry_points: list[str] = []
    noarch_python = False
    link_json = directory / "info" / "link.json"
    if link_json.is_file():
        try:
            data = json.loads(link_json.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise ValueError(f"{name}: info/link.json is not valid JSON ({exc})") from exc
        noarch = data.get("noarch") if isinstance(data, dict) else None
        if isinstance(noarch, dict) and noarch.get("type") == "python":
            noarch_python = True
            for point in noarch.get("entry_points") or ():
                entry_points.append(str(point).split("=", 1)[0].strip())
    index = directory / "info" / "index.json"
    if not noarch_python and index.is_file():
        with contextlib.suppress(OSError, ValueError, AttributeError, RecursionError):
            noarch_python = json.loads(index.read_text(encoding="utf-8")).get("noarch") == "python"
    return PackageFiles(name, tuple(files), links, tuple(entry_points), noarch_python)


@dataclass(frozen=True, slots=True)
class Confinement:
    """The prefix an install writes into, and where ``noarch: python`` paths land in it."""

    prefix: Path
    site_packages: str | None
    """``lib/python3.X/site-packages`` (``Lib/site-packages`` on Windows); None without python."""
    scripts: str
    """``bin`` (``Scripts`` on Windows)."""
    removed: frozenset[str] = frozenset()
    """Prefix paths the install removes first (files of replaced or dropped packages)."""

    def target(self, package: PackageFiles, path: str) -> str:
        """Where ``path`` of ``package`` lands, relative to the prefix."""
        if package.noarch_python:
            if path.startswith("site-packages/") and self.site_packages:
                return f"{self.site_packages}/{path.removeprefix('site-packages/')}"
            if path.startswith("python-scripts/"):
                return f"{self.scripts}/{path.removeprefix('python-scripts/')}"
        return path


def check_paths(packages: Sequence[PackageFiles], confinement: Confinement) -> None:
    """Raise :class:`UnsafePath` for the first path (in package order) that would leave the prefix."""
    links: dict[str, str] = {}
    for package in packages:
        for path in (*package.files, *package.links):
            reason = unsafe_path_reason(path)
            if reason is not None:
                raise UnsafePath(package.name, path, reason)
        for point in package.entry_points:
            why = entry_point_problem(point)
            if why is not None:
                raise UnsafePath(package.name, point, why)
        for path, target in package.links.items():
            links[_normal(confinement.target(package, path))] = target
    resolver = _Resolver(confinement, links)
    check = resolver.check
    for package in packages:
        name, moved = package.name, package.noarch_python  # only noarch: python paths land elsewhere
        for path in package.files:
            check(name, path, _normal(confinement.target(package, path) if moved else path), True)
        for path in package.links:
            check(name, path, _normal(confinement.target(package, path) if moved else path), False)
        for point in package.entry_points:
            resolver.check(package.name, point, f"{confinement.scripts}/{point}", follow_last=True)


def _walk(root: Path) -> tuple[set[str], set[str], dict[str, str]]:
    """Regular files, directories and symbolic links (path → target) under ``root`` (a prefix),
    relative POSIX paths; links are not followed. One ``scandir`` per directory."""
    files: set[str] = set()
    directories: set[str] = set()
    links: dict[str, str] = {}
    pending = [("", str(root))]
    while pending:
        relative, directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            name = f"{relative}/{entry.name}" if relative else entry.name
            try:
                if entry.is_symlink():
                    links[name] = str(Path(entry.path).readlink())
                elif entry.is_dir(follow_symlinks=False):
                    directories.add(name)
                    pending.append((name, entry.path))
                elif entry.is_file(follow_symlinks=False):
                    files.add(name)
            except OSError:
                continue
    return files, directories, links


def _normal(path: str) -> str:
    """``path`` with ``/`` separators, normalised as :func:`posixpath.normpath` does."""
    if path and "\\" not in path and "//" not in path and "/." not in path and path[0] != "." and path[-1] != "/":
        return path  # nothing normpath would change (most paths: tens of thousands per install)
    return posixpath.normpath(path.replace("\\", "/"))


class _Resolver:
    """Resolves prefix-relative paths through the links of this install and of the prefix on disk."""

    def __init__(self, confinement: Confinement, links: Mapping[str, str]) -> None:
        self.prefix = confinement.prefix
        self.removed = confinement.removed
        self.links = links
        self.on_disk: dict[str, str | None] = {}
        self.directories: dict[str, tuple[str, str] | None] = {}
        self.disk_links = _walk(self.prefix)[2]

    def _link_target(self, relative: str) -> str | None:
        if relative in self.links:
            return self.links[relative]
        if relative not in self.on_disk:
            self.on_disk[relative] = self._read_link(relative)
        return self.on_disk[relative]

    def _read_link(self, relative: str) -> str | None:
        if relative in self.removed:
            return None
        return self.disk_links.get(relative)

    def check(self, package: str, shown: str, path: str, follow_last: bool) -> None:
        parent = path.rpartition("/")[0]
        leaves = self._directory_leaves(parent) if parent else None
        if leaves is None and follow_last and (path in self.links or path in self.disk_links):
            leaves = self._leaves(PurePosixPath(path).parts, True, 0)
        if leaves is not None:
            link, target = leaves
            raise UnsafePath(
                package, shown, f"it goes through the symbolic link {link} -> {target}, which leaves the prefix"
            )

    def _directory_leaves(self, directory: str) -> tuple[str, str] | None:
        """:meth:`_leaves` for a directory, once per directory (a package has far fewer than files)."""
        if directory not in self.directories:
            self.directories[directory] = self._leaves(PurePosixPath(directory).parts, True, 0)
        return self.directories[directory]

    def _leaves(self, parts: Iterable[str], follow_last: bool, hops: int) -> tuple[str, str] | None:  # noqa: PLR0911
        """The (link, target) through which ``parts`` leaves the prefix, or None when it stays inside."""
        parts = list(parts)
        current: list[str] = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            current.append(part)
            if last and not follow_last:
                return None
            relative = "/".join(current)
            target = self._link_target(relative)
            if target is None:
                continue
            if hops >= _MAX_LINK_HOPS:
                return relative, target
            if target.startswith(("/", "\\")) or _DRIVE.match(target):
                absolute = Path(target)
                try:
                    inside = absolute.resolve().is_relative_to(self.prefix)
                except OSError:
                    inside = False
                if not inside:
                    return relative, target
                resolved = absolute.resolve().relative_to(self.prefix).parts
            else:
                joined = posixpath.normpath(posixpath.join(posixpath.dirname(relative), target.replace("\\", "/")))
                if joined == ".." or joined.startswith("../") or joined.startswith("/"):
                    return relative, target
                resolved = () if joined == "." else PurePosixPath(joined).parts
            rest = parts[index + 1 :]
            inner = self._leaves([*resolved, *rest], follow_last, hops + 1)
            if inner is not None:
                return (relative, target) if inner[0] in ("", relative) else inner
            return None
        return None
