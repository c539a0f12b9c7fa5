"""Values shared by the pipeline stages: locked packages and per-platform results."""

from __future__ import annotations

import functools
import heapq
import re

from lockgen.records import dataclass

__all__ = [
    "PACKAGE_EXTENSIONS",
    "PACKAGE_NAME",
    "PLAIN_OPERATOR",
    "PLAIN_SPEC",
    "PLAIN_VERSION",
    "LockedPackage",
    "PackageUrl",
    "bad_channel_name",
    "build_python",
    "conda_version_order",
    "dependency_name",
    "package_count",
    "sort_dependency_order",
    "url_problem",
]

PACKAGE_EXTENSIONS = (".conda", ".tar.bz2")
"""The archive kinds a conda package URL ends with."""

PACKAGE_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
"""A conda package name, as a regular-expression fragment: the one pattern every reader of names uses."""
PLAIN_VERSION = r"[0-9]{1,9}(?:\.[0-9]{1,9})*"
"""A version of plain numbers (``3.11``, ``2``), as a regular-expression fragment."""
PLAIN_OPERATOR = r"(?:>=|<=|>|<|!=|==)"
"""The comparison of a plain bound (``>=1.10``), as a regular-expression fragment."""
PLAIN_SPEC = (
    rf"(?:{PACKAGE_NAME}::)?(?P<name>{PACKAGE_NAME})"
    rf"(?: *=(?P<prefix>{PLAIN_VERSION})(?:\.\*)?| *(?P<ranges>{PLAIN_OPERATOR}{PLAIN_VERSION}"
    rf"(?:,{PLAIN_OPERATOR}{PLAIN_VERSION})*))?"
)
"""The common conda spec shapes (``numpy``, ``python=3.11.*``, ``scipy>=1.10,<1.14``), the one pattern
of them, compiled when first used (re's cache): the environment file's reader
(:mod:`lockgen.spec.condaspec`) takes a spec of these shapes without asking rattler, which always
accepts them (tests/unit/test_spec_plain.py checks that on generated examples), and
:mod:`lockgen.matchspec` holds a package to one without rattler when its version is plain numbers
too (tests/unit/test_matchspec.py holds the two to the same answers)."""

_DEP_NAME = re.compile(rf"^\s*(?:[^\s:]+::)?(?P<name>{PACKAGE_NAME})")


@functools.lru_cache(maxsize=8192)
def dependency_name(spec: str) -> str:
    """The package name a dependency string refers to (``numpy >=1.2`` → ``numpy``); remembered per
    string: a lock's platforms share most of their packages' dependency strings."""
    match = _DEP_NAME.match(spec)
    return match.group("name").lower() if match else spec.strip().lower()


def conda_version_order(a: str, b: str) -> int:
    """-1, 0 or 1 as conda orders versions ``a`` and ``b`` (``1.9 < 1.10``, ``2.0rc1 < 2.0``); text
    order for a version conda cannot read."""
    from rattler import Version

    try:
        left, right = Version(a), Version(b)
    except Exception:  # rattler raises its own InvalidVersionError
        return (a > b) - (a < b)
    return (left > right) - (left < right)


def bad_channel_name(name: str) -> bool:
    """A channel as written (name, URL or path) that no channel can be: empty, white space in it, or
    a name (not a URL, not a ./path) with a ``..`` segment. The one check of a channel's name, for
    environment.yml, ``channel::spec`` heads and every channel resolved."""
    if not name or any(ch.isspace() for ch in name):
        return True
    return "://" not in name and not name.startswith((".", "/", "~")) and ".." in name.split("/")


def url_problem(url: str) -> str | None:
    """Why ``url``'s host or port cannot be read (``http://[::1x]/``), or None."""
    from urllib.parse import urlsplit

    try:
        urlsplit(url).port  # noqa: B018 - reading the port validates host and port
    except ValueError as exc:
        return str(exc)
    return None


@dataclass(frozen=True, slots=True)
class PackageUrl:
    """A conda package URL split once: ``<channel>/<subdir>/<name>-<version>-<build><ext>``.

    The one place that knows how a package URL and its file name are laid out; everything else asks
    it. ``channel`` is the URL up to the subdir (no trailing slash). A file name that is not
    ``name-version-build.ext`` leaves ``version`` and ``build`` empty rather than guessing.
    """

    channel: str
    subdir: str
    filename: str
    name: str
    version: str
    build: str
    ext: str

    @classmethod
    def parse(cls, url: str) -> PackageUrl:
        head, _, filename = url.rpartition("/")
        channel, _, subdir = head.rpartition("/")
        name, version, build, ext = split_filename(filename)
        return cls(channel, subdir, filename, name, version, build, ext)

    @property
    def url(self) -> str:
        return f"{self.channel}/{self.subdir}/{self.filename}"

    @property
    def stem(self) -> str:
        """``name-version-build``: the file name without its archive extension."""
        return self.filename.removesuffix(self.ext) if self.ext else self.filename

    def with_channel(self, channel: str) -> str:
        """This package's URL under another channel URL (a mirror, say)."""
        return f"{channel.rstrip('/')}/{self.subdir}/{self.filename}"


def split_filename(filename: str) -> tuple[str, str, str, str]:
    """``numpy-1.26.4-py311h_0.conda`` → (``numpy``, ``1.26.4``, ``py311h_0``, ``.conda``)."""
    for ext in PACKAGE_EXTENSIONS:  # a loop, not next() over a generator: twice per lock line (Round 6)
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            break
    else:
        ext, stem = "", filename
    parts = stem.rsplit("-", 2)
    if len(parts) != 3:
        return stem, "", "", ext
    return parts[0], parts[1], parts[2], ext


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One conda package of a solved platform. ``url`` is canonical and credential-free."""

    name: str
    version: str
    build: str
    subdir: str
    url: str
    md5: str | None = None
    sha256: str | None = None
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    build_number: int = 0
    timestamp_ms: int | None = None
    size: int | None = None

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def channel_url(self) -> str:
        """The channel part of the URL (without subdir and file name)."""
        return self.url.rsplit("/", 2)[0]


def sort_dependency_order(packages: list[LockedPackage] | tuple[LockedPackage, ...]) -> list[LockedPackage]:
    """Dependencies before dependents; among packages ready at the same time, by name.

    Cycles (rare, but they exist in real repodata) are broken deterministically by taking the
    alphabetically first remaining package.
    """
    by_name = {p.name: p for p in packages}
    deps: dict[str, set[str]] = {
        p.name: {d for d in map(dependency_name, p.depends) if d in by_name and d != p.name} for p in packages
    }
    dependents: dict[str, set[str]] = {name: set() for name in by_name}
    for name, ds in deps.items():
        for d in ds:
            dependents[d].add(name)
    remaining = {name: len(ds) for name, ds in deps.items()}
    ordered: list[str] = []
    ready = [n for n, count in remaining.items() if count == 0]  # a heap: the first name ready is taken first
    heapq.heapify(ready)
    while remaining:
        if not ready:  # a cycle: release the first remaining name
            ready = [min(remaining)]
        name = heapq.heappop(ready)
        if name not in remaining:
            continue
        del remaining[name]
        ordered.append(name)
        for dependent in dependents[name]:
            if dependent in remaining:
                remaining[dependent] -= 1
                if remaining[dependent] == 0:
                    heapq.heappush(ready, dependent)
    return [by_name[n] for n in ordered]


_PY_TAG = r"py(3)(\d\d?)(?!\d)"
"""Compiled when first used (``re``'s cache): ``check`` and a no-op ``lock`` never ask a build's python."""


def build_python(build: str) -> str | None:
    """The python a build string says it is for (``py312h8a5da7c_0``, ``np2py312h...`` → ``3.12``), or None."""
    found = re.search(_PY_TAG, build)
    return f"{found[1]}.{found[2]}" if found else None


def package_count(count: int) -> str:
    """``1 package``, ``25 packages``: how every summary counts packages."""
    return f"{count} package" if count == 1 else f"{count} packages"
