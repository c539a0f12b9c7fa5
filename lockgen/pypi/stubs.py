"""Stand-ins for conda-installed Python packages, so the pip resolver sees them as installed.

Each conda package that maps to PyPI name(s) becomes a metadata-only wheel
``name-<version>+conda-py3-none-any.whl`` (METADATA, WHEEL, RECORD; no dependencies: those are
conda's business) in a find-links directory, plus the constraint ``name==<version>+conda``. The
resolver then neither installs the package again nor picks another version of it.

A stub holds no code, so it must never be installed into the isolated environment uv builds an
sdist in (a ``setup.py`` importing setuptools would find an empty ``setuptools``). uv searches the
same find-links for build requirements, and ``X+conda`` sorts above ``X``, so the stub would win
whenever conda has the newest release. Every stub therefore also gets the *build* constraint
``name!=<version>+conda``: builds take real distributions from the index, the main resolution
still sees the stubs.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from lockgen.records import dataclass

__all__ = ["LOCAL_LABEL", "ProvidedPackage", "StubFiles", "conda_to_pep440", "provided_packages", "write_stubs"]

LOCAL_LABEL = "conda"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_NUMBER = "(?:0|[1-9][0-9]*)"
_NORMAL = re.compile(
    rf"(?:[1-9][0-9]*!)?{_NUMBER}(?:\.{_NUMBER})*(?:(?:a|b|rc){_NUMBER})?(?:\.post{_NUMBER})?(?:\.dev{_NUMBER})?"
)
"""A PEP 440 public version already in its normal form (what ``packaging``'s ``Version(text).public``
gives back unchanged): no leading zeros, no zero epoch, ``a``/``b``/``rc``, ``.post``, ``.dev``."""
_BUILDING = threading.Lock()
"""Held while stubs are built: platforms solved at the same moment share most of their packages,
and each stub is built once (the next platform waits for it) instead of by every thread at once."""


@dataclass(frozen=True, slots=True, order=True)
class ProvidedPackage:
    """A PyPI distribution that conda installs on one platform."""

    name: str
    """Canonical PyPI name."""
    version: str
    """PEP 440 public version (``2.1.0.post1``), without the ``+conda`` label."""
    conda_name: str
    conda_version: str

    @property
    def stub_version(self) -> str:
        return f"{self.version}+{LOCAL_LABEL}"

    @property
    def constraint(self) -> str:
        return f"{self.name}=={self.stub_version}"

    @property
    def build_constraint(self) -> str:
        """Keeps the stub out of sdist build environments (a local version is excluded exactly)."""
        return f"{self.name}!={self.stub_version}"

    @property
    def wheel_name(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.stub_version}-py3-none-any.whl"


@functools.lru_cache(maxsize=4096)
def conda_to_pep440(version: str) -> str | None:
    """The PEP 440 public version a conda version stands for, or None when there is no sensible one.

    conda accepts ``_`` as a separator and a ``!`` epoch like PEP 440; a local part (``+cpu``) is
    dropped because the stub adds its own. ``1.26.4`` → ``1.26.4``; ``2.1.0.post1`` →
    ``2.1.0.post1``; ``1_2_3`` → ``1.2.3``; ``9e`` → None. Remembered per version: the platforms
    of a lock share most of their packages, and each asks for every one.
    """
    text = version.strip().split("+", 1)[0].replace("_", ".")
    if not text or not text[0].isdigit():
        return None
    if _NORMAL.fullmatch(text):  # most conda versions: packaging would give them back as they are
        return text
    from packaging.version import InvalidVersion, Version  # here: a no-op's versions are all normal (Round 8)

    try:
        parsed = Version(text)
    except InvalidVersion:
        return None
    return parsed.public


def provided_packages(
    conda: Iterable[tuple[str, str]], pypi_names: Mapping[str, tuple[str, ...]]
) -> tuple[tuple[ProvidedPackage, ...], tuple[str, ...]]:
    """Which PyPI distributions a conda solution provides, and notes for packages that were skipped.

    ``pypi_names`` maps conda names to PyPI names (only entries with names). When two conda
    packages claim one PyPI name, the one whose own name is that PyPI name wins, else the first
    by conda name.
    """
    chosen: dict[str, ProvidedPackage] = {}
    notes: list[str] = []
    for conda_name, conda_version in sorted(conda):
        names = pypi_names.get(conda_name, ())
        if not names:
            continue
        version = conda_to_pep440(conda_version)
        if version is None:
            notes.append(
                f"conda {conda_name} {conda_version}: not a PEP 440 version, so pip is not told it is installed"
            )
            continue
        for name in names:
            current = chosen.get(name)
            if current is None:
                chosen[name] = ProvidedPackage(name, version, conda_name, conda_version)
                continue
            own = re.sub(r"[-_.]+", "-", conda_name).lower() == name
            if own and re.sub(r"[-_.]+", "-", current.conda_name).lower() != name:
                chosen[name] = ProvidedPackage(name, version, conda_name, conda_version)
    # one package per PyPI name: ordered by name is ordered as the records compare
    return tuple(chosen[name] for name in sorted(chosen)), tuple(notes)


def _record_hash(data: bytes) -> str:
    import base64
    import hashlib

    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


@functools.lru_cache(maxsize=4096)
def stub_wheel_bytes(package: ProvidedPackage) -> bytes:
    """A valid, metadata-only wheel (byte-identical for the same package). Made once per package and
    process: the platforms of a lock share most of their conda packages, and building the zip is
    most of what writing a stub costs. Stored, not deflated: three small text files gain nothing
    from compression, and deflating them was three quarters of the cost (docs/performance.md)."""
    import io
    import zipfile  # here: a lock whose pip section is up to date writes no stub

    dist_info = f"{package.name.replace('-', '_')}-{package.stub_version}.dist-info"
    summary = f"Installed by conda as {package.conda_name} {package.conda_version} (lockgen stand-in)"
    files = {
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {package.name}\nVersion: {package.stub_version}\nSummary: {summary}\n"
        ).encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: lockgen\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class StubFiles:
    """What :func:`write_stubs` wrote: uv takes them as ``--find-links``, ``--constraints`` and
    ``--build-constraints``."""

    folder: Path
    constraints: Path
    """``name==X+conda`` for each stub: the main resolution takes conda's version."""
    build_constraints: Path
    """``name!=X+conda`` for each stub: no sdist build environment ever installs a stub."""


def write_stubs(directory: Path, packages: Iterable[ProvidedPackage]) -> StubFiles:
    """Write the stub wheels into ``directory`` and the two constraints files beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    chosen = list(packages)
    with _BUILDING:
        wheels = [(package.wheel_name, stub_wheel_bytes(package)) for package in chosen]
    for name, data in wheels:
        (directory / name).write_bytes(data)
    constraints = directory.parent / f"{directory.name}-constraints.txt"
    constraints.write_text("".join(f"{p.constraint}\n" for p in chosen), encoding="utf-8")
    build_constraints = directory.parent / f"{directory.name}-build-constraints.txt"
    build_constraints.write_text("".join(f"{p.build_constraint}\n" for p in chosen), encoding="utf-8")
    return StubFiles(directory, constraints, build_constraints)
