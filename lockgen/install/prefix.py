"""What an environment prefix holds (its ``conda-meta`` records) compared with a lock.

A prefix is up to date when ``conda-meta`` has exactly the lock's packages, each with the lock's
canonical URL and hash; then ``install`` does nothing. Reading is plain JSON (fast, no rattler).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from lockgen.lockfiles import ExplicitEntry
from lockgen.records import dataclass

__all__ = [
    "InstalledPackage",
    "PrefixPlan",
    "activation_hint",
    "installed_files",
    "plan_prefix",
    "python_executable",
    "read_conda_meta",
    "remove_stray_probes",
]

# What rattler's installer writes into a prefix root to probe link support, and removes at once:
# a killed install can leave them. lockgen now passes its link options so no probe is made.
_SYMLINK_PROBE = re.compile(r"^symtest_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_REFLINK_PROBE = re.compile(r"^\.refprobe-[A-Za-z0-9]{6}$")
# The installer writes each conda-meta record through a temporary file; a kill can leave one.
_RECORD_TEMP = re.compile(r"^prefix_record_[A-Za-z0-9]{6}$")


@dataclass(frozen=True, slots=True)
class InstalledPackage:
    """One ``conda-meta/*.json`` record, reduced to what comparing with a lock needs."""

    name: str
    file_name: str
    url: str
    md5: str | None
    sha256: str | None
    noarch: str | None
    meta_path: Path

    def same_as(self, entry: ExplicitEntry) -> bool:
        if self.url != entry.url:
            return False
        if entry.sha256:
            return self.sha256 == entry.sha256
        return self.md5 == entry.md5


def read_conda_meta(prefix: Path) -> dict[str, InstalledPackage]:
    """Installed packages by name; an unreadable record counts as a package that must be replaced."""
    meta = prefix / "conda-meta"
    found: dict[str, InstalledPackage] = {}
    if not meta.is_dir():
        return found
    for path in sorted(meta.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        name = str(data.get("name") or path.stem.rsplit("-", 2)[0])
        noarch = data.get("noarch")
        found[name] = InstalledPackage(
            name=name,
            file_name=str(data.get("fn", "")),
            url=str(data.get("url", "")),
            md5=data.get("md5") if isinstance(data.get("md5"), str) else None,
            sha256=data.get("sha256") if isinstance(data.get("sha256"), str) else None,
            noarch=noarch if isinstance(noarch, str) else None,
            meta_path=path,
        )
    return found


@dataclass(frozen=True, slots=True)
class PrefixPlan:
    """How a prefix differs from a lock."""

    unchanged: tuple[ExplicitEntry, ...]
    to_install: tuple[ExplicitEntry, ...]
    """New packages and packages whose URL or hash differs from the lock."""
    to_remove: tuple[InstalledPackage, ...]
    installed: Mapping[str, InstalledPackage]
    """The prefix's records the plan was made from (:func:`read_conda_meta`: read once per install)."""

    @property
    def up_to_date(self) -> bool:
        return not self.to_install and not self.to_remove


def plan_prefix(entries: Sequence[ExplicitEntry], installed: Mapping[str, InstalledPackage]) -> PrefixPlan:
    """Compare lock entries with the installed records.

    When ``python`` itself changes, ``noarch: python`` packages are relinked by the installer, so
    they are fetched again too.
    """
    unchanged: list[ExplicitEntry] = []
    changed: list[ExplicitEntry] = []
    for entry in entries:
        current = installed.get(entry.name)
        (unchanged if current is not None and current.same_as(entry) else changed).append(entry)
    if any(e.name == "python" for e in changed):
        relink = [e for e in unchanged if installed[e.name].noarch == "python"]
        unchanged = [e for e in unchanged if e not in relink]
        changed += relink
    wanted = {e.name for e in entries}
    removed = tuple(p for name, p in sorted(installed.items()) if name not in wanted)
    return PrefixPlan(tuple(unchanged), tuple(sorted(changed, key=lambda e: e.line)), removed, installed)


def python_executable(prefix: Path, platform: str) -> Path:
    """Where a conda environment keeps its Python on ``platform``."""
    if platform.startswith("win-"):
        return prefix / "python.exe"
    return prefix / "bin" / "python"


def activation_hint(prefix: Path, environ: Mapping[str, str]) -> str:
    """The command that activates ``prefix`` with the conda-like tool the user has, else the path."""
    if environ.get("MAMBA_EXE") or environ.get("MAMBA_ROOT_PREFIX"):
        return f"micromamba activate {prefix}"
    if environ.get("CONDA_EXE"):
        return f"conda activate {prefix}"
    return f"conda activate {prefix}  (or: micromamba activate {prefix})"


def installed_files(meta_path: Path) -> list[str]:
    """The prefix-relative paths a ``conda-meta`` record says its package installed."""
    try:
        data = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    files = data.get("files") if isinstance(data, dict) else None
    return [str(f) for f in files if isinstance(f, str)] if isinstance(files, list) else []


def remove_stray_probes(prefix: Path) -> list[str]:
    """Remove link-support probes a killed installer left in the prefix root; their names.

    Only exact shapes are touched: a ``symtest_<uuid>`` symbolic link to ``./``, a
    ``.refprobe-XXXXXX`` directory holding nothing but the probe's ``src``/``dst`` files, and a
    ``conda-meta/prefix_record_XXXXXX`` temporary record (never read: records end in ``.json``).
    """
    removed: list[str] = []
    if not prefix.is_dir():
        return removed
    meta = prefix / "conda-meta"
    if meta.is_dir() and not meta.is_symlink():
        for path in meta.iterdir():
            if _RECORD_TEMP.match(path.name) and path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(f"conda-meta/{path.name}")
    for path in prefix.iterdir():
        try:
            if _SYMLINK_PROBE.match(path.name) and path.is_symlink() and str(path.readlink()) in ("./", "."):
                path.unlink()
                removed.append(path.name)
            elif _REFLINK_PROBE.match(path.name) and path.is_dir() and not path.is_symlink():
                inside = list(path.iterdir())
                if all(p.name in ("src", "dst") and p.is_file() and not p.is_symlink() for p in inside):
                    for member in inside:
                        member.unlink()
                    path.rmdir()
                    removed.append(path.name)
        except OSError:
            continue
    return removed
