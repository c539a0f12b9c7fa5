"""A conda platform as the pip resolver sees it: uv's ``--python-platform``, Python version, markers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from lockgen.errors import PypiResolutionError
from lockgen.lockfiles.requirements import Pin, parse_compiled, parse_requirements_lock
from lockgen.pipsyntax import plain_release
from lockgen.platforms import PIP_MARKER_TERMS, VirtualPackage, marker_terms
from lockgen.records import dataclass

if TYPE_CHECKING:  # packaging.markers (with packaging.tags: ~10 ms) only with several environments' pins
    from packaging.markers import Marker

__all__ = ["PipTarget", "pins_by_platform", "pins_on", "pip_target", "platform_marker"]

# conda subdir → uv's triple (None: manylinux, from __glibc); sys_platform and platform_machine:
# lockgen.platforms.PIP_MARKER_TERMS
_TRIPLES: dict[str, str | None] = {
    "linux-64": None,
    "linux-aarch64": None,
    "osx-64": "x86_64-apple-darwin",
    "osx-arm64": "aarch64-apple-darwin",
    "win-64": "x86_64-pc-windows-msvc",
    "win-arm64": "aarch64-pc-windows-msvc",
    "win-32": "i686-pc-windows-msvc",
}
_MANYLINUX_ARCH = {"linux-64": "x86_64", "linux-aarch64": "aarch64"}
# glibc minor versions uv knows as `<arch>-manylinux_2_<minor>` targets (uv 0.5 and later).
_UV_GLIBC_MINORS = (17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)
_OS_NAMES = {"linux": "posix", "darwin": "posix", "win32": "nt"}
_SYSTEMS = {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}


@dataclass(frozen=True, slots=True)
class PipTarget:
    """What ``uv pip compile`` is told about one conda platform."""

    platform: str
    python_platform: str
    python_version: str
    sys_platform: str
    platform_machine: str
    macos_target: str | None = None
    notes: tuple[str, ...] = ()

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values for this target (to pick earlier pins that apply to it)."""
        short = ".".join(self.python_version.split(".")[:2])
        return {
            "sys_platform": self.sys_platform,
            "platform_machine": self.platform_machine,
            "platform_system": _SYSTEMS[self.sys_platform],
            "os_name": _OS_NAMES[self.sys_platform],
            "python_version": short,
            "python_full_version": self.python_version,
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_version": "",
            "implementation_version": self.python_version,
        }

    def hash_payload(self) -> dict[str, object]:
        return {
            "python-platform": self.python_platform,
            "python-version": self.python_version,
            "macos-target": self.macos_target,
        }


def _virtual(virtual: Iterable[VirtualPackage], name: str) -> str | None:
    return next((v.version for v in virtual if v.name == name), None)


def _manylinux(platform: str, glibc: str | None) -> tuple[str, tuple[str, ...]]:
    arch = _MANYLINUX_ARCH[platform]
    try:
        major, minor = (int(p) for p in (glibc or "2.17").split(".")[:2])
    except ValueError:
        major, minor = 2, 17
    if major != 2 or minor < 17:
        raise PypiResolutionError(f"{platform}: __glibc={glibc} is older than any manylinux target (2.17)")
    usable = max(m for m in _UV_GLIBC_MINORS if m <= minor)
    notes = () if usable == minor else (f"{platform}: pip wheels chosen for manylinux_2_{usable} (__glibc={glibc})",)
    return f"{arch}-manylinux_2_{usable}", notes


def python_version_of(conda: Sequence[tuple[str, str]], platform: str) -> str:
    """``X.Y.Z`` of the conda ``python`` package in a solution; an error when there is none."""
    found = next((version for name, version in conda if name == "python"), None)
    if found is None:
        raise PypiResolutionError(
            f"{platform}: the pip section needs Python, but the conda solution has no `python` package"
            " (add `- python` to dependencies)"
        )
    release = _release(found.split("+")[0])
    if release is None:
        raise PypiResolutionError(f"{platform}: conda python version {found!r} is not a Python version")
    return ".".join(str(p) for p in (*release, 0, 0)[:3])


def _release(text: str) -> tuple[int, ...] | None:
    """packaging's ``Version(text).release`` (None: not a version); a plain ``3.11.9`` without importing it."""
    release = plain_release(text)
    if release is not None:
        return release
    from packaging.version import InvalidVersion, Version  # here: conda's pythons are plain X.Y.Z (Round 8)

    try:
        return Version(text).release
    except InvalidVersion:
        return None


def pip_target(platform: str, conda: Sequence[tuple[str, str]], virtual: Sequence[VirtualPackage]) -> PipTarget:
    """The resolver target for ``platform``, from its conda solution and virtual packages."""
    if platform not in _TRIPLES:
        supported = ", ".join(sorted(_TRIPLES))
        raise PypiResolutionError(f"{platform}: pip packages cannot be locked for this platform (only {supported})")
    sys_platform, machine = PIP_MARKER_TERMS[platform]
    triple = _TRIPLES[platform]
    python = python_version_of(conda, platform)
    notes: tuple[str, ...] = ()
    macos = None
    if triple is None:
        triple, notes = _manylinux(platform, _virtual(virtual, "__glibc"))
    elif sys_platform == "darwin":
        macos = _virtual(virtual, "__osx") or "11.0"
    return PipTarget(platform, triple, python, sys_platform, machine, macos, notes)


def _term(platform: str) -> tuple[str, str]:
    return PIP_MARKER_TERMS[platform]


def platform_marker(chosen: Iterable[str], targets: Iterable[str]) -> str | None:
    """A marker true on exactly the ``chosen`` platforms among ``targets`` (None: all of them).

    ``sys_platform`` alone when every targeted platform of that OS is chosen, else
    ``sys_platform`` and ``platform_machine``.
    """
    chosen_set, target_set = set(chosen), set(targets)
    if chosen_set >= target_set:
        return None
    by_os: dict[str, list[str]] = {}
    for platform in sorted(chosen_set):
        sys_platform, machine = _term(platform)
        by_os.setdefault(sys_platform, []).append(machine)
    terms = []
    for sys_platform, machines in sorted(by_os.items()):
        all_of_os = {_term(p)[1] for p in target_set if _term(p)[0] == sys_platform}
        if set(machines) >= all_of_os:
            terms.append(f'sys_platform == "{sys_platform}"')
        else:
            for machine in sorted(machines):
                terms.append(f'(sys_platform == "{sys_platform}" and platform_machine == "{machine}")')
    if len(terms) == 1 and terms[0].startswith("("):
        return terms[0][1:-1]
    return " or ".join(terms)


def pins_by_platform(text: str, platforms: Sequence[str] = ()) -> dict[str, tuple[Pin, ...]]:
    """The pins of a pip lock (``requirements.txt``'s text) that apply on each platform it was
    resolved for (its ``# platforms:`` line, else ``platforms``; see :func:`pins_on`). Empty for a
    file lockgen did not write."""
    lock = parse_requirements_lock(text)
    if not lock.generated:
        return {}
    return pins_on(parse_compiled(text), lock.platforms or platforms)


def pins_on(pins: Sequence[Pin], platforms: Iterable[str]) -> dict[str, tuple[Pin, ...]]:
    """Per platform, the ``pins`` whose marker, as :func:`platform_marker` writes it, holds there (a
    marker that cannot be evaluated counts everywhere)."""
    from packaging.markers import default_environment

    markers = {pin.marker: _marker(pin.marker) for pin in pins if pin.marker}
    found: dict[str, tuple[Pin, ...]] = {}
    for platform in platforms:
        environment = {key: str(value) for key, value in default_environment().items()} | marker_terms(platform)
        found[platform] = tuple(pin for pin in pins if not pin.marker or _holds(markers[pin.marker], environment))
    return found


def _marker(text: str) -> Marker | None:
    from packaging.markers import InvalidMarker, Marker

    try:
        return Marker(text)
    except InvalidMarker:
        return None


def _holds(marker: Marker | None, environment: dict[str, str]) -> bool:
    if marker is None:
        return True
    from packaging.markers import UndefinedEnvironmentName

    try:
        return marker.evaluate(environment)
    except UndefinedEnvironmentName:
        return True
