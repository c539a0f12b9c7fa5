"""Install ``requirements.txt`` into a conda environment with the environment's own Python.

uv (a lockgen dependency) is preferred: ``uv pip install --python <env python> --no-deps
--require-hashes -r requirements.txt``; without it, ``<env python> -m pip install --no-deps
--require-hashes -r requirements.txt``. When every pinned requirement is already installed (by
its ``*.dist-info``), nothing runs.

Then ``requirements-unhashed.txt`` (VCS URLs pinned to a commit, local projects, ``-e`` kept),
with ``--no-deps`` and without ``--require-hashes`` (pip has no hash for either): its relative
paths are made absolute from the file's ``paths-base``, and must stay inside that project folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lockgen.errors import InstallError
from lockgen.lockfiles.requirements import (
    EXPANSION_FIX,
    expandable_lines,
    input_hash_of,
    logical_lines,
    read_unhashed,
)
from lockgen.secrets import SecretRegistry

__all__ = [
    "PipCommand",
    "marker_environment",
    "pinned_requirements",
    "pip_command",
    "refuse_expansions",
    "refuse_foreign_options",
    "requirements_satisfied",
    "run_pip",
    "unhashed_requirements",
]

_DIST_INFO = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+)\.dist-info$")


@dataclass(frozen=True, slots=True)
class PipCommand:
    tool: str
    """``uv`` or ``pip``."""
    argv: tuple[str, ...]


def _find_uv() -> str | None:
    try:
        from uv import find_uv_bin
    except ImportError:  # pragma: no cover - uv is a dependency
        return shutil.which("uv")
    try:
        return str(find_uv_bin())
    except FileNotFoundError:  # pragma: no cover
        return shutil.which("uv")


def pip_command(
    python: Path, requirements: Path, installer: str = "auto", *, require_hashes: bool = True
) -> PipCommand:
    """The argument list that installs ``requirements`` into ``python``'s environment."""
    uv = _find_uv() if installer in ("auto", "uv") else None
    if installer == "uv" and uv is None:
        raise InstallError("--pip-installer uv: uv was not found")
    tail = ("--no-deps", *(("--require-hashes",) if require_hashes else ()), "-r", str(requirements))
    if uv is not None:
        return PipCommand("uv", (uv, "pip", "install", "--python", str(python), *tail))
    return PipCommand("pip", (str(python), "-m", "pip", "install", "--no-input", *tail))


def marker_environment(platform: str, python_version: str | None) -> dict[str, str] | None:
    """PEP 508 marker values of a conda environment, as the pip lock wrote its markers (None: unknown)."""
    from lockgen.errors import PypiResolutionError
    from lockgen.pypi.targets import pip_target

    if not python_version:
        return None
    try:
        return pip_target(platform, [("python", python_version)], ()).marker_environment()
    except PypiResolutionError:
        return None


def pinned_requirements(text: str, environment: dict[str, str] | None = None) -> dict[str, str] | None:
    """``name → version`` for a file of ``name==version --hash=...`` lines; None if any line is another form.

    With ``environment`` (see :func:`marker_environment`), lines whose marker is false are left out;
    without it, every line counts.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for _, line in logical_lines(text):
        if line.startswith("-"):
            continue  # an option line (--index-url ...): no package
        spec = " ".join(token for token in line.split() if not token.startswith("--hash"))
        try:
            requirement = Requirement(spec)
        except InvalidRequirement:
            return None
        if environment is not None and requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        exact = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
        if requirement.url or len(exact) != 1:
            return None
        pins[canonicalize_name(requirement.name)] = exact[0]
    return pins


def _installed_distributions(prefix: Path) -> dict[str, str]:
    from packaging.utils import canonicalize_name

    found: dict[str, str] = {}
    for site in [*prefix.glob("lib/python*/site-packages"), prefix / "Lib" / "site-packages"]:
        for info in site.glob("*.dist-info"):
            match = _DIST_INFO.match(info.name)
            if match and (info / "METADATA").is_file():
                found[canonicalize_name(match.group("name"))] = match.group("version")
    return found


def refuse_expansions(path: Path, shown: Path | None = None) -> None:
    """Raise InstallError when ``path`` holds ``${`` on any line: pip and uv would replace ``${NAME}``
    with an environment variable's value (a secret, in CI) and send it wherever the line points. The
    file comes from the repository (a pull request can edit it), so it is refused, never expanded."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"cannot read {shown or path}: {exc}") from exc
    numbers = expandable_lines(text)
    if numbers:
        where = ", ".join(f"{shown or path}:{n}" for n in numbers[:5])
        raise InstallError(
            f"{where}: `${{...}}` in a pip lock line; pip and uv would expand it to an environment variable's"
            f" value and send it wherever the line points, so nothing was passed to them. Re-lock from a pip"
            f" section without it ({EXPANSION_FIX})"
        )


_ALLOWED_OPTIONS = {
    "--index-url": True, "-i": True, "--extra-index-url": True, "--find-links": True, "-f": True, "--no-index": False,
}  # fmt: skip
"""Option lines ``install`` passes on (value needed?): where files come from, which the hashes pin anyway."""


def refuse_foreign_options(path: Path) -> None:
    """Raise InstallError for an option line of ``requirements.txt`` other than where files come from.

    A pull request can add ``-r other.txt`` (whose pins no diff shows), ``-e``, ``--trusted-host``
    (no TLS check), ``--no-binary`` (builds from source) or any other installer switch to the lock;
    the installer would obey them. Only ``--index-url``, ``--extra-index-url``, ``--find-links``
    (the lines lockgen writes, which ``lockgen check`` compares with the pip section and ``lockgen
    diff`` shows as ``option: <line>``) and ``--no-index`` pass; every file is still pinned by hash.
    """
    text = path.read_text(encoding="utf-8")
    problems = []
    for number, line in logical_lines(text):
        if not line.startswith("-"):
            continue
        option, _, value = re.sub(r"^(-[if])(?=[^\s=])", r"\1 ", line).replace("=", " ", 1).partition(" ")
        needs_value = _ALLOWED_OPTIONS.get(option)
        if needs_value is None or needs_value != bool(value.strip()):
            problems.append(f"{path}:{number}: {line[:60]!r}: not an option `lockgen install` passes to pip")
    if problems:
        raise InstallError(
            "\n".join(problems) + "\nnothing was installed: only --index-url, --extra-index-url, --find-links and"
            " --no-index may appear in a pip lock (lockgen writes no other); re-lock with `lockgen lock`"
        )


def requirements_satisfied(prefix: Path, requirements: Path, environment: dict[str, str] | None = None) -> bool:
    """True when every pin in ``requirements`` (that applies) is installed in ``prefix`` at exactly that version."""
    from packaging.version import InvalidVersion, Version

    pins = pinned_requirements(requirements.read_text(encoding="utf-8"), environment)
    if not pins:
        return False
    installed = _installed_distributions(prefix)
    for name, version in pins.items():
        try:
            if name not in installed or Version(installed[name]) != Version(version):
                return False
        except InvalidVersion:
            return False
    return True


def run_pip(command: PipCommand, secrets: SecretRegistry, extra_env: Sequence[tuple[str, str]] = ()) -> str:
    """Run the installer; returns its combined output. Raises InstallError (output masked) on failure."""
    import os

    env = dict(os.environ)
    env.update(extra_env)
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    try:
        done = subprocess.run(command.argv, capture_output=True, text=True, check=True, env=env)
    except FileNotFoundError as exc:
        raise InstallError(f"cannot run {command.argv[0]}: {exc.strerror or exc}") from exc
    except subprocess.CalledProcessError as exc:
        output = secrets.redact(((exc.stdout or "") + (exc.stderr or "")).strip())
        raise InstallError(
            f"the conda packages are installed, but `{command.tool} install -r requirements.txt` failed "
            f"(exit {exc.returncode}):\n  " + output.replace("\n", "\n  ")
        ) from exc
    return secrets.redact((done.stdout + done.stderr).strip())


def unhashed_requirements(
    path: Path, lock_dir: Path, environment: dict[str, str] | None, requirements: Path | None = None
) -> str:
    """The lines of ``requirements-unhashed.txt`` that apply, local paths made absolute.

    Raises InstallError for a file that ``requirements`` (requirements.txt) does not vouch for (its
    input-hash line differs: not written by the same lock run, or by lockgen at all), lines edited
    after lockgen wrote them (``body=``), a line of another form, a VCS URL not pinned to a full
    commit, or a path (or ``paths-base``) that leaves the project folder: the file comes from the
    repository, so it may be hostile.
    """
    from packaging.markers import InvalidMarker, Marker

    try:
        lock = read_unhashed(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"cannot read {path}: {exc}") from exc
    if requirements is not None and (lock.input_hash is None or input_hash_of(requirements) != lock.input_hash):
        raise InstallError(
            f"{path} was not written with {requirements} (its input-hash line is missing or differs), so nothing"
            " vouches for the VCS URLs and local projects it would install without hashes; refusing it. If your"
            " pip: section lists VCS URLs or local projects, run `lockgen lock`; else delete the file"
        )
    if lock.body_edited:
        raise InstallError(f"{path}: its lines were edited after lockgen wrote them (body= differs); refusing it")
    problems = [f"{path}:{number}: {why}" for number, why in lock.problems]
    base_text = lock.paths_base or "."
    base = (lock_dir / base_text).resolve()
    if base_text not in (".", ".."):
        # the lock folder, or the folder holding it (locks/ next to environment.yml)
        problems.append(f"{path}: paths-base {base_text!r} must be `.` or `..` (lock next to, or in, the project)")
    out: list[str] = []
    for line in lock.lines:
        if line.marker and environment is not None:
            try:
                if not Marker(line.marker).evaluate(environment):
                    continue
            except InvalidMarker:
                problems.append(f"{path}:{line.number}: invalid marker {line.marker!r}")
                continue
        if line.url is not None:
            if not re.search(r"@[0-9a-f]{40}$", line.url):
                problems.append(f"{path}:{line.number}: {line.name} is not pinned to a full commit hash")
                continue
            out.append(f"{line.name} @ {line.url}")
            continue
        assert line.path is not None
        folder = (base / line.path).resolve()
        if folder != base and base not in folder.parents:
            problems.append(f"{path}:{line.number}: {line.path} is outside the project folder {base}")
            continue
        if not folder.is_dir():
            problems.append(f"{path}:{line.number}: {line.path} ({folder}) is not a folder")
            continue
        out.append(f"-e {folder}" if line.editable else str(folder))
    if problems:
        raise InstallError("\n".join(problems))
    return "".join(f"{line}\n" for line in out)
