"""Install ``requirements.txt`` into a conda environment with the environment's own Python.

uv (a lockgen dependency) is preferred: ``uv pip install --python <env python> --no-deps
--require-hashes -r requirements.txt``; without it, ``<env python> -m pip install --no-deps
--require-hashes -r requirements.txt``. When every pinned requirement is already installed (by
its ``*.dist-info``), nothing runs.

Then ``requirements-unhashed.txt`` (VCS URLs pinned to a commit, local projects, ``-e`` kept),
with ``--no-deps`` and without ``--require-hashes`` (pip has no hash for either): its relative
paths are made absolute from the file's ``paths-base``, and must stay inside that project folder.

Each installer run is bounded (:class:`PipBudget`): the whole step by ``LOCKGEN_PIP_DEADLINE``
(:mod:`lockgen.install.bounded` stops the installer's process group), each host by the minimum
rate through a loopback proxy (:mod:`lockgen.install.pipguard`).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InstallError
from lockgen.install.bounded import Late, Stopped, run_bounded
from lockgen.lockfiles.lockdir import UNHASHED_NAME
from lockgen.lockfiles.requirements import EXPANSION_FIX, expandable_lines, input_hash_of, logical_lines
from lockgen.lockfiles.unhashed import read_unhashed
from lockgen.records import dataclass
from lockgen.secrets import SecretRegistry

if TYPE_CHECKING:
    from lockgen.install.pipguard import SlowHost

__all__ = [
    "PipBudget",
    "PipCommand",
    "marker_environment",
    "pinned_requirements",
    "pip_command",
    "pip_hosts",
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
    # absolute: the installer runs in an empty folder of its own (see run_pip)
    tail = ("--no-deps", *(("--require-hashes",) if require_hashes else ()), "-r", str(requirements.absolute()))
    if uv is not None:
        return PipCommand("uv", (uv, "pip", "install", "--python", str(python.absolute()), *tail))
    return PipCommand("pip", (str(python.absolute()), "-m", "pip", "install", "--no-input", *tail))


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


@dataclass(frozen=True, slots=True)
class PipBudget:
    """How long the whole pip step may still take, and what to name when it runs out."""

    deadline: float
    """A :func:`time.monotonic` value: every installer run of the step ends by then."""
    seconds: int
    """The step's limit as the user set it (``LOCKGEN_PIP_DEADLINE``), for the message."""
    http_timeout_s: int = 60
    """Passed to uv (``UV_HTTP_TIMEOUT``) and pip (``PIP_TIMEOUT``) as their per-read timeout, unless set."""
    hosts: tuple[str, ...] = ()
    """``host[:port]`` of every index and find-links location the step may contact."""
    min_rate: int = 0
    """Bytes per second a host must send while answering, over ``min_rate_window_s`` (0: no rule;
    ``LOCKGEN_DOWNLOAD_MIN_RATE``, measured by :class:`~lockgen.install.pipguard.PipGuard`)."""
    min_rate_window_s: float = 30

    @classmethod
    def starting_now(
        cls,
        seconds: int,
        http_timeout_s: int,
        hosts: Sequence[str] = (),
        *,
        min_rate: int = 0,
        min_rate_window_s: float = 30,
    ) -> PipBudget:
        import time

        return cls(time.monotonic() + seconds, seconds, http_timeout_s, tuple(hosts), min_rate, min_rate_window_s)


def _host(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.removeprefix("git+"))
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.scheme == "file":
        return None
    return f"{host}:{port}" if port else host


def pip_hosts(
    requirements: Path | None, unhashed: str = "", environ: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """``host[:port]`` of every place the pip step may fetch from (no credentials, no paths): the
    lock's index and find-links lines, the index variables of the environment (PyPI when none names
    an index), and the hosts of ``unhashed``'s VCS URLs."""
    hosts: list[str] = []
    named_index = False
    text = requirements.read_text(encoding="utf-8") if requirements is not None and requirements.is_file() else ""
    for _, line in logical_lines(text):
        option, _, value = re.sub(r"^(-[if])(?=[^\s=])", r"\1 ", line).replace("=", " ", 1).partition(" ")
        if option in ("--index-url", "-i", "--extra-index-url", "--find-links", "-f"):
            named_index = named_index or option in ("--index-url", "-i")
            hosts.append(_host(value.strip()) or "")
    for key in ("UV_INDEX_URL", "PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        for url in ((environ or {}).get(key) or "").split():
            named_index = named_index or key in ("UV_INDEX_URL", "PIP_INDEX_URL", "UV_DEFAULT_INDEX")
            hosts.append(_host(url) or "")
    if text and not named_index:
        hosts.insert(0, "pypi.org")
    for line in unhashed.splitlines():
        url = line.partition(" @ ")[2]
        hosts.append(_host(url) or "" if url else "")
    return tuple(dict.fromkeys(h for h in hosts if h))


def run_pip(
    command: PipCommand,
    secrets: SecretRegistry,
    extra_env: Sequence[tuple[str, str]] = (),
    budget: PipBudget | None = None,
    shown: str = "requirements.txt",
) -> str:
    """Run the installer; returns its combined output. Raises InstallError (output masked) on failure,
    when ``budget`` runs out, and when a host sends slower than its minimum rate (the installer and
    all it started are stopped first).

    The installer reads no configuration file lockgen did not choose: it runs in an empty folder of
    its own (not the project, where a pull request could commit a ``pyproject.toml`` with
    ``[tool.uv]``, a ``uv.toml``, or a ``pip`` package that ``python -m pip`` would import first),
    with ``UV_NO_CONFIG=1`` and ``PIP_CONFIG_FILE`` set to the null device unless the user set it.
    Where it fetches from is the lock's option lines plus the user's own environment variables.
    """
    import contextlib
    import os
    import tempfile
    import time

    from lockgen.config import PIP_DEADLINE_ENV
    from lockgen.install.pipguard import PipGuard, proxy_configured

    shown_command = f"{'uv pip' if command.tool == 'uv' else 'pip'} install -r {shown}"
    env = dict(os.environ)
    env.update(extra_env)
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    env["UV_NO_CONFIG"] = "1"  # no pyproject.toml / uv.toml found by looking around (UV_CONFIG_FILE still counts)
    env.setdefault("PIP_CONFIG_FILE", os.devnull)  # pip then reads no pip.conf at all
    timeout = None
    if budget is not None:
        read_timeout = str(max(1, min(budget.http_timeout_s, budget.seconds)))
        if "UV_HTTP_TIMEOUT" not in env and "UV_REQUEST_TIMEOUT" not in env:
            env["UV_HTTP_TIMEOUT"] = read_timeout  # a server that stops answering fails in uv, with uv's words
        if "PIP_TIMEOUT" not in env and "PIP_DEFAULT_TIMEOUT" not in env:
            env["PIP_TIMEOUT"] = read_timeout
        timeout = budget.deadline - time.monotonic()
    guarded = budget is not None and budget.min_rate > 0 and not proxy_configured(env)
    guard = PipGuard(budget.min_rate, budget.min_rate_window_s) if guarded and budget is not None else None
    if guard is not None:
        secrets.add(guard.secret)  # the installer may print its proxy URL
    try:
        if timeout is not None and timeout <= 0:
            raise Late
        with guard or contextlib.nullcontext(), tempfile.TemporaryDirectory(prefix="lockgen-pip-") as here:
            run_env = guard.environment(env) if guard is not None else env
            returncode, output = run_bounded(command.argv, run_env, timeout, guard.tripped if guard else None, here)
        if guard is not None and guard.slow is not None:  # the installer may have ended first, on the cut
            raise Stopped
    except FileNotFoundError as exc:
        raise InstallError(f"cannot run {command.argv[0]}: {exc.strerror or exc}") from exc
    except Late as exc:
        assert budget is not None
        hosts = budget.hosts or ("its package index",)
        where = f"{'the package index' if len(hosts) == 1 else 'one of'} {', '.join(hosts)}"
        if shown.endswith(UNHASHED_NAME):
            where += " or a local project's build"
        raise InstallError(
            f"`{shown_command}` did not finish within {budget.seconds} s, the limit for the whole"
            f" pip step ({PIP_DEADLINE_ENV}): {where} may be stalled or sending very slowly; it was stopped"
            f" with everything it started. The conda packages are installed; run the same command again,"
            f" or set {PIP_DEADLINE_ENV} to wait longer"
        ) from exc
    except Stopped as exc:
        assert guard is not None and guard.slow is not None
        raise InstallError(_too_slow(shown_command, guard.slow, budget)) from exc
    output = secrets.redact(output.strip())
    if returncode != 0:
        raise InstallError(
            f"the conda packages are installed, but `{shown_command}` failed "
            f"(exit {returncode}):\n  " + output.replace("\n", "\n  ")
        )
    return output


def _too_slow(shown_command: str, slow: SlowHost, budget: PipBudget | None) -> str:
    from lockgen.config import MIN_RATE_ENV, MIN_RATE_WINDOW_ENV

    assert budget is not None
    return (
        f"`{shown_command}` was stopped with everything it started: {slow.host} sent {slow.rate:.0f} bytes/s over"
        f" the last {slow.seconds:g} s, below the minimum of {budget.min_rate} bytes/s (a stalled or throttled"
        f" server; set {MIN_RATE_ENV} and {MIN_RATE_WINDOW_ENV} to allow slower servers, 0 to switch the rule"
        " off). The conda packages are installed; run the same command again"
    )


def unhashed_requirements(
    path: Path,
    lock_dir: Path,
    environment: dict[str, str] | None,
    requirements: Path | None = None,
    *,
    project_dir: Path | None = None,
) -> str:
    """The lines of ``requirements-unhashed.txt`` that apply, local paths made absolute.

    Raises InstallError for a file that ``requirements`` (requirements.txt) does not vouch for (its
    input-hash line differs: not written by the same lock run, or by lockgen at all), lines edited
    after lockgen wrote them (``body=``), a line of another form, a VCS URL not pinned to a full
    commit, or a path (or ``paths-base``) that leaves the project folder: the file comes from the
    repository, so it may be hostile. With ``project_dir`` (the environment file's folder, where
    ``lockgen lock`` starts local paths), ``paths-base`` must lead there: it is a header line that
    neither digest covers, and a pull request that moves it (``..`` to ``.``) would have ``install``
    build a project of its own from inside the lock folder.
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
    upward = base_text == "." or all(part == ".." for part in Path(base_text).parts)
    if project_dir is None and base_text not in (".", ".."):
        # the lock folder, or the folder holding it (locks/ next to environment.yml)
        problems.append(f"{path}: paths-base {base_text!r} must be `.` or `..` (lock next to, or in, the project)")
    elif project_dir is not None and not upward:
        problems.append(f"{path}: paths-base {base_text!r} must lead up from the lock folder (`..`, `../..`)")
    elif project_dir is not None and base != project_dir.resolve():  # `../..`: locks/<environment>/
        problems.append(
            f"{path}: `# paths-base: {base_text}` leads to {base}, not the environment file's folder"
            f" {project_dir.resolve()} (where `lockgen lock` starts local paths); refusing it. Re-lock with"
            " `lockgen lock`, or install from that folder"
        )
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
