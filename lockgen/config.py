"""Settings, resolved once: command line over ``[tool.lockgen]`` (pyproject.toml beside the first
environment file) over the environment (``LOCKGEN_*``) over defaults.

The CLI passes a typed :class:`Flags` (what the user set; unset fields are None or empty);
:func:`build_options` merges it with ``[tool.lockgen]`` and the environment and returns one frozen
:class:`LockOptions` for every command. This is the only module that reads lockgen's settings
from ``os.environ``; backends take the values as constructor arguments.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lockgen.channels import Mirror, parse_mirror
from lockgen.errors import ConfigError, InputError, Problem
from lockgen.platforms import KNOWN_PLATFORMS, VirtualPackage, lock_file_name, parse_virtual_package_override

__all__ = [
    "Flags",
    "Limits",
    "LockFlags",
    "LockOptions",
    "SolveFlags",
    "build_options",
    "check_lock_folder",
    "default_cache_dir",
    "ensure_cache_dir",
    "ensure_project",
    "env_int",
    "find_project_root",
    "lock_location",
    "parse_date",
    "parse_tool_text",
    "project_roots",
    "read_limits",
    "read_tool_config",
    "tool_mirrors",
    "validate_filename_template",
]

CHANNEL_PRIORITIES = ("strict", "flexible", "disabled")
HASH_KINDS = ("md5", "sha256")
_TOOL_KEYS = {
    "platforms", "mirrors", "cuda", "virtual-packages", "channel-priority", "exclude-newer", "hash",
    "output-dir", "cache-dir", "filename-template", "pypi-mapping", "strict", "jobs", "conda-lock-file",
    "allow-includes", "only-binary", "environments",
}  # fmt: skip


CACHE_DIR_ENV = "LOCKGEN_CACHE_DIR"
JOBS_ENV = "LOCKGEN_JOBS"
HTTP_TIMEOUT_ENV = "LOCKGEN_HTTP_TIMEOUT"
HTTP_RETRIES_ENV = "LOCKGEN_HTTP_RETRIES"
MEMORY_ENV = "LOCKGEN_REPODATA_MEMORY_MB"
UV_TIMEOUT_ENV = "LOCKGEN_UV_TIMEOUT"
DEADLINE_ENV = "LOCKGEN_DOWNLOAD_DEADLINE"
MAPPING_URL_ENV = "LOCKGEN_PYPI_MAPPING_URL"
ALLOW_PROJECT_MIRROR_ENV = "LOCKGEN_ALLOW_PROJECT_MIRROR"
DEFAULT_HTTP_TIMEOUT_S = 60
DEFAULT_HTTP_RETRIES = 3
DEFAULT_REPODATA_MEMORY_MB = 320
"""Flat repodata mapped at once when platforms are solved concurrently (see lockgen.scheduling)."""
DEFAULT_UV_TIMEOUT_S = 600
REPODATA_MAX_ENV = "LOCKGEN_REPODATA_MAX_MB"
DEFAULT_REPODATA_MAX_MB = 1024
"""conda-forge's largest flat platform repodata (linux-64) is ~250 MB decompressed: 4x headroom."""
DEFAULT_DOWNLOAD_DEADLINE_S = 1800
MIN_RATE_ENV = "LOCKGEN_DOWNLOAD_MIN_RATE"
MIN_RATE_WINDOW_ENV = "LOCKGEN_DOWNLOAD_MIN_RATE_WINDOW"
DEFAULT_MIN_RATE = 1024
"""Bytes per second below which a download is abandoned (0: no rule), averaged over the window."""
DEFAULT_MIN_RATE_WINDOW_S = 30
PIP_DEADLINE_ENV = "LOCKGEN_PIP_DEADLINE"
DEFAULT_PIP_DEADLINE_S = 3600
"""The whole pip step of ``install`` (both installer runs): a dripping index or a hung build ends there."""


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("lockgen", appauthor=False))


def ensure_cache_dir(path: Path, what: str = "cache directory") -> Path:
    """Create ``path`` if needed; a path that cannot be a directory raises ConfigError (exit 2)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise ConfigError(
            f"{what} {path} exists and is not a directory (check --cache-dir / LOCKGEN_CACHE_DIR)"
        ) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot create {what} {path}: {reason} (check --cache-dir / LOCKGEN_CACHE_DIR)") from exc
    if not path.is_dir():
        raise ConfigError(f"{what} {path} is not a directory (check --cache-dir / LOCKGEN_CACHE_DIR)")
    return path


def validate_filename_template(template: str, where: str = "--filename-template") -> str:
    """A lock file name template (:func:`lockgen.platforms.lock_file_name` says what is valid); else
    ConfigError naming ``where`` the template came from."""
    try:
        lock_file_name(template, "linux-64")
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return template


@dataclass(frozen=True, slots=True)
class Limits:
    """How long and how hard to try, and how much memory to spend: from ``LOCKGEN_*`` variables."""

    http_timeout_s: int = DEFAULT_HTTP_TIMEOUT_S
    http_retries: int = DEFAULT_HTTP_RETRIES
    repodata_budget: int = DEFAULT_REPODATA_MEMORY_MB * 2**20
    """Bytes of flat repodata mapped at once when ``jobs`` is auto."""
    uv_timeout_s: int = DEFAULT_UV_TIMEOUT_S
    download_deadline_s: int = DEFAULT_DOWNLOAD_DEADLINE_S
    download_min_rate: int = DEFAULT_MIN_RATE
    """Bytes per second a package download must average over ``download_min_rate_window_s`` (0: no rule)."""
    download_min_rate_window_s: int = DEFAULT_MIN_RATE_WINDOW_S
    pip_deadline_s: int = DEFAULT_PIP_DEADLINE_S
    """Longest ``install``'s pip step may take (uv or pip, every run together)."""
    repodata_max_bytes: int = DEFAULT_REPODATA_MAX_MB * 2**20
    """Largest a channel's flat repodata may expand to (a decompression bomb is refused)."""


def read_limits() -> Limits:
    """:class:`Limits` from the environment; a bad value raises ConfigError naming the variable."""
    return Limits(
        http_timeout_s=env_int(HTTP_TIMEOUT_ENV, DEFAULT_HTTP_TIMEOUT_S, 1),
        http_retries=env_int(HTTP_RETRIES_ENV, DEFAULT_HTTP_RETRIES, 0),
        repodata_budget=env_int(MEMORY_ENV, DEFAULT_REPODATA_MEMORY_MB, 0) * 2**20,
        uv_timeout_s=env_int(UV_TIMEOUT_ENV, DEFAULT_UV_TIMEOUT_S, 1),
        download_deadline_s=env_int(DEADLINE_ENV, DEFAULT_DOWNLOAD_DEADLINE_S, 1),
        download_min_rate=env_int(MIN_RATE_ENV, DEFAULT_MIN_RATE, 0),
        download_min_rate_window_s=env_int(MIN_RATE_WINDOW_ENV, DEFAULT_MIN_RATE_WINDOW_S, 1),
        pip_deadline_s=env_int(PIP_DEADLINE_ENV, DEFAULT_PIP_DEADLINE_S, 1),
        repodata_max_bytes=env_int(REPODATA_MAX_ENV, DEFAULT_REPODATA_MAX_MB, 1) * 2**20,
    )


def read_mapping_url() -> str | None:
    """``LOCKGEN_PYPI_MAPPING_URL``: where parselmouth's tables are fetched from (None: the default)."""
    return os.environ.get(MAPPING_URL_ENV) or None


@dataclass(frozen=True, slots=True)
class SolveFlags:
    """The command-line options that change what is solved (they feed each lock's input hash)."""

    mirrors: tuple[str, ...] = ()
    cuda: str | None = None
    virtual_packages: tuple[str, ...] = ()
    channel_priority: str | None = None
    exclude_newer: str | None = None
    hash_kind: str | None = None
    allow_includes: tuple[Path, ...] = ()
    filename_template: str | None = None
    pypi_mapping: Path | None = None
    cache_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class LockFlags:
    """The command-line options of ``lock`` that say how to lock, not what."""

    update: tuple[str, ...] = ()
    update_all: bool = False
    from_lock: Path | None = None
    conda_lock_file: Path | None = None
    offline: bool = False
    jobs: str | None = None
    strict: bool = False
    only_binary: bool = False


@dataclass(frozen=True, slots=True)
class Flags:
    """What the command line said; None or empty where the user set nothing ([tool.lockgen] fills those)."""

    output_dir: Path | None = None
    platforms: tuple[str, ...] = ()
    solve: SolveFlags = SolveFlags()
    lock: LockFlags = LockFlags()


@dataclass(frozen=True, slots=True)
class LockOptions:
    files: tuple[Path, ...]
    output_dir: Path
    platforms: tuple[str, ...] | None = None
    mirrors: tuple[Mirror, ...] = ()
    cuda: str | None = None
    virtual_overrides: tuple[tuple[str, VirtualPackage], ...] = ()
    channel_priority: str = "strict"
    exclude_newer: dt.datetime | None = None
    hash_kind: str = "md5"
    cache_dir: Path = field(default_factory=default_cache_dir)
    filename_template: str = "{platform}.txt"
    offline: bool = False
    update: tuple[str, ...] = ()
    update_all: bool = False
    strict: bool = False
    only_binary: bool = False
    """Refuse sdists: lock pip packages from wheels only (an sdist's metadata is otherwise built)."""
    pypi_mapping: Path | None = None
    allow_includes: tuple[Path, ...] = ()
    """Directories outside the project's tree that pip ``-r``/``-c`` files may be read from."""
    jobs: int | None = None
    """Platforms solved at once; None (``auto``): all, unless their flat repodata would not fit in memory."""
    from_lock: Path | None = None
    """``--from``: a conda-lock.yml or explicit lock(s) whose pins are the previous lock (docs/from-conda-lock.md)."""
    conda_lock_file: Path | None = None
    """Also write the solution as conda-lock's unified lock (format v1) at this path."""
    limits: Limits = field(default_factory=read_limits)
    """Timeouts, retries and the repodata memory budget (LOCKGEN_* variables)."""
    mapping_url: str | None = field(default_factory=read_mapping_url)
    """Where parselmouth's conda→PyPI tables are fetched from (None: their published location)."""
    environment_platforms: tuple[str, ...] | None = None
    """An environment's ``platforms`` in ``[tool.lockgen.environments]``: over the file's, under ``platforms``."""
    from_config: tuple[str, ...] = ()
    """The ``[tool.lockgen]`` keys that set a value here (no flag overrode them): pyproject.toml is part
    of a pull request, so ``verify`` ignores its ``mirrors`` and ``cache-dir``, and ``check`` and
    ``diff`` say when ``output-dir`` moved the locks."""
    allow_project_mirror: bool = False
    """``LOCKGEN_ALLOW_PROJECT_MIRROR=1`` (or ``install --allow-project-mirror``): let ``install`` take a
    mirror that is a folder inside the project, which a pull request could fill."""
    from_locks: tuple[str, ...] = ()
    """The options taken from the existing locks' headers (neither the command line nor [tool.lockgen]
    set them), as options: ``--exclude-newer 2026-09-01T00:00:00+00:00``, ``--virtual-package ...``."""

    def lock_name(self, platform: str) -> str:
        return self.filename_template.format(platform=platform)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the existing locks say they were made with (their ``# options:`` and ``# virtual-packages:`` lines)."""

    options: dict[str, str] = field(default_factory=dict)
    overrides: tuple[tuple[str, VirtualPackage], ...] = ()
    """Virtual packages that differ from the platform's defaults (what ``--cuda``/``--virtual-package`` did)."""


def read_recorded(output_dir: Path, template: str) -> Recorded:
    """The solve-shaping options recorded in the locks under ``output_dir`` (empty when there are none,
    or when the locks disagree: then nothing is reused). Best effort: a lock that does not read says nothing."""
    from lockgen.lockfiles.lockdir import read_lock_file
    from lockgen.platforms import default_virtual_packages

    options: list[dict[str, str]] = []
    overrides: list[tuple[str, VirtualPackage]] = []
    if not output_dir.is_dir():
        return Recorded()
    for platform in sorted(KNOWN_PLATFORMS):
        try:
            name = lock_file_name(template, platform)
        except ValueError:  # a bad template: build_options says so
            return Recorded()
        lock = read_lock_file(output_dir / name, platform).lock
        if lock is None:
            continue
        if lock.options is not None:
            options.append({k: v for k, v in lock.options if k in ("channel-priority", "exclude-newer", "hash")})
        defaults = default_virtual_packages(platform)
        for text in lock.virtual or ():
            name, _, rest = text.partition("=")
            version, _, build = rest.partition("=")
            package = VirtualPackage(name, version, build or "0")
            if defaults.get(name) != package:
                overrides.append((platform, package))
    agreed = options[0] if options and all(o == options[0] for o in options) else {}
    return Recorded(agreed, tuple(overrides))


def parse_date(text: str) -> dt.datetime:
    """``YYYY-MM-DD`` (end of that day is *not* implied: midnight UTC) or an ISO 8601 datetime."""
    value = text.strip()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"--exclude-newer expects a date like 2026-08-01 or 2026-08-01T12:00:00Z, got {text!r}"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def read_tool_config(env_file: Path) -> tuple[dict[str, Any], Path | None]:
    """``[tool.lockgen]`` from the pyproject.toml beside ``env_file`` (empty when absent)."""
    pyproject = env_file.resolve().parent / "pyproject.toml"
    if not pyproject.is_file():
        return {}, None
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{pyproject}: cannot read: {exc}") from exc
    return parse_tool_text(text, str(pyproject)), pyproject


def parse_tool_text(text: str, where: str) -> dict[str, Any]:
    """``[tool.lockgen]`` of a pyproject.toml's text (``where`` names it in errors)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from exc
    section = data.get("tool", {}).get("lockgen", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: [tool.lockgen] must be a table")
    unknown = sorted(set(section) - _TOOL_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown [tool.lockgen] keys: {', '.join(unknown)}")
    return section


def lock_location(tool: Mapping[str, Any], where: str) -> tuple[str, str]:
    """(lock folder relative to the project, filename template) that a [tool.lockgen] section sets
    (``locks`` and ``{platform}.txt`` by default), checked as :func:`build_options` checks them."""
    folder = tool.get("output-dir", "locks")
    path = Path(folder) if isinstance(folder, str) else Path("/")
    if not str(folder).strip() or path.is_absolute() or path.drive or ".." in path.parts or str(folder)[:1] == "~":
        raise ConfigError(
            f"{where}: [tool.lockgen] output-dir must be a relative path inside the project, got {folder!r}"
        )
    template = validate_filename_template(
        str(tool.get("filename-template", "{platform}.txt")), f"{where} filename-template"
    )
    return path.as_posix(), template


DEFAULT_ENV_FILE = "environment.yml"


def _has_tool_section(pyproject: Path) -> bool:
    """Whether ``pyproject`` has a ``[tool.lockgen]`` table (a file that does not parse has none)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "lockgen" in tool


def find_project_root(start: Path) -> Path | None:
    """The nearest folder, from ``start`` up, holding an environment.yml or a pyproject.toml with
    ``[tool.lockgen]`` (as git, uv and pixi find their project); None when there is none. The search
    stops at the root of the git repository it starts in: a file above the checkout is nobody's project."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / DEFAULT_ENV_FILE).is_file():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_tool_section(pyproject):
            return folder
        if (folder / ".git").exists():
            return None
    return None


def _from_root(root: Path, path: Path) -> Path:
    """``path`` (relative to the project root) as the user reads it: relative to the working folder."""
    if path.is_absolute():
        return path
    cwd = Path.cwd().resolve()
    if root == cwd:
        return path
    return Path(os.path.relpath(root / path, cwd))


def ensure_project(files: Sequence[Path]) -> None:
    """Without ``files``, InputError (exit 3) naming the folder searched when no project is found from
    the working folder up: for the commands that need an environment file (lock, check, explain)."""
    _project_files(files, require_project=True)


def _project_files(files: Sequence[Path], require_project: bool) -> tuple[Sequence[Path], Path | None]:
    """``files``, or the found project's environment file and the project root (None: files were given,
    or no project was found and none is required)."""
    if files:
        return files, None
    root = find_project_root(Path.cwd())
    if root is None:
        if require_project:
            why = (
                f"no such file in {Path.cwd().resolve()} or any folder above it (nor a pyproject.toml with"
                " [tool.lockgen]): run lockgen inside the project, or pass the file with -f FILE"
            )
            raise InputError([Problem(why, DEFAULT_ENV_FILE)])
        return [Path(DEFAULT_ENV_FILE)], None
    return [_from_root(root, Path(DEFAULT_ENV_FILE))], root


def env_int(name: str, default: int, minimum: int) -> int:
    """An integer setting from the environment; a bad value raises ConfigError naming the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, got {raw!r}")
    return value


def tool_mirrors(values: Any, base_dir: Path, where: str = "[tool.lockgen]") -> list[Mirror]:
    """``mirrors`` from [tool.lockgen]: a table or a list of CANONICAL=REPLACEMENT, paths relative to ``base_dir``."""
    if isinstance(values, Mapping):
        values = [f"{k}={v}" for k, v in values.items()]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{where}: mirrors must be a table or a list of CANONICAL=REPLACEMENT strings")
    return [parse_mirror(v, base_dir) for v in values]


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return value


def build_options(files: Sequence[Path], cli: Flags = Flags(), *, require_project: bool = False) -> LockOptions:
    """The settings of every command (see :func:`_build_options`); a bad ``[tool.lockgen]`` value's
    error names the pyproject.toml line of its key."""
    try:
        return _build_options(files, cli, require_project=require_project)
    except ConfigError as exc:
        located = _with_line(exc.message)
        if type(exc) is not ConfigError or located == exc.message:
            raise
        raise ConfigError(located) from exc


def _with_line(message: str) -> str:
    """``…/pyproject.toml: [tool.lockgen] jobs must…`` with the key's line: ``…/pyproject.toml:7: …``."""
    head, sep, rest = message.partition(": [tool.lockgen] ")
    key = rest.split(" ", 1)[0].rstrip(":")
    if not sep or not head.endswith("pyproject.toml") or key not in _TOOL_KEYS:
        return message
    return f"{_toml_where(Path(head), key)}{sep}{rest}"


def _build_options(files: Sequence[Path], cli: Flags, *, require_project: bool) -> LockOptions:
    """The settings of every command: ``cli`` (what the user set) over ``[tool.lockgen]`` of the
    pyproject.toml beside the first environment file over the environment over defaults.

    Without ``files``, the project is found from the working folder up (:func:`find_project_root`):
    its environment.yml, and its locks folder unless ``-o`` says otherwise (``-o`` is relative to
    the working folder). No project found: ``require_project`` raises InputError (exit 3) naming the
    folder searched (see :func:`ensure_project`); otherwise the working folder stands in (install and
    verify need only locks)."""
    flags = cli
    solve, how = flags.solve, flags.lock
    files, root = _project_files(files, require_project)
    tool, pyproject = read_tool_config(files[0])
    where = f"{pyproject}: [tool.lockgen]" if pyproject else "[tool.lockgen]"
    tool_dir = pyproject.parent if pyproject else Path.cwd()

    def pick(value: Any, tool_key: str, default: Any) -> Any:
        return value if value not in (None, (), []) else tool.get(tool_key, default)

    def told(value: Any, tool_key: str) -> str | None:
        return _told(value, tool_key, tool, pyproject)

    platforms = _platforms(flags.platforms or tool.get("platforms"), told(flags.platforms, "platforms"))

    mirrors = [parse_mirror(m) for m in solve.mirrors]
    if not mirrors and "mirrors" in tool:
        mirrors = tool_mirrors(tool["mirrors"], tool_dir, where)

    overrides_raw = list(solve.virtual_packages) or _string_list(
        tool.get("virtual-packages", []), f"{where} virtual-packages"
    )
    try:
        overrides = tuple(parse_virtual_package_override(v) for v in overrides_raw)
    except ValueError as exc:
        raise ConfigError(f"{told(solve.virtual_packages, 'virtual-packages') or '--virtual-package'}: {exc}") from exc

    output_dir, cache_dir, from_config = _locations(flags, tool, pyproject, files[0], root)
    # What shapes the solution and neither the command line nor [tool.lockgen] sets: as the locks say
    template_now = solve.filename_template or str(tool.get("filename-template", "{platform}.txt"))
    recorded = read_recorded(output_dir, template_now)
    solve, reused_overrides, reused = _reuse_recorded(solve, tool, recorded, bool(overrides_raw))
    overrides = reused_overrides or overrides
    if solve.exclude_newer == "none":  # `--exclude-newer none`: no cut-off, whatever the locks or [tool.lockgen] say
        solve = replace(solve, exclude_newer=None)
        tool = {k: v for k, v in tool.items() if k != "exclude-newer"}

    priority, hash_kind, exclude_newer = _solve_choices(solve, tool, pyproject)
    if solve.filename_template is not None:
        template = validate_filename_template(solve.filename_template)
    else:
        template = validate_filename_template(
            str(tool.get("filename-template", "{platform}.txt")), f"{where} filename-template"
        )
    cuda = pick(solve.cuda, "cuda", None)
    mapping = pick(solve.pypi_mapping, "pypi-mapping", None)
    if how.jobs is not None:
        jobs = parse_jobs(how.jobs, "--jobs")
    elif "jobs" in tool:
        jobs = parse_jobs(tool["jobs"], f"{where} jobs")
    else:
        jobs = parse_jobs(os.environ.get(JOBS_ENV, "").strip() or "auto", JOBS_ENV)
    conda_lock_file = _conda_lock_file(how.conda_lock_file, tool.get("conda-lock-file"), where)
    if solve.allow_includes:
        allow_includes = [Path(p) for p in solve.allow_includes]
    else:
        allow_includes = [tool_dir / p for p in _string_list(tool.get("allow-includes", []), f"{where} allow-includes")]
    return LockOptions(
        files=tuple(Path(f) for f in files),
        output_dir=output_dir,
        platforms=platforms,
        mirrors=tuple(mirrors),
        cuda=str(cuda) if cuda is not None else None,
        virtual_overrides=overrides,
        channel_priority=priority,
        exclude_newer=exclude_newer,
        hash_kind=hash_kind,
        cache_dir=Path(cache_dir) if cache_dir else default_cache_dir(),
        filename_template=template,
        offline=how.offline,
        update=tuple(how.update),
        update_all=how.update_all,
        strict=bool(how.strict or tool.get("strict", False)),
        only_binary=bool(how.only_binary or tool.get("only-binary", False)),
        pypi_mapping=Path(mapping) if mapping else None,
        jobs=jobs,
        from_lock=how.from_lock,
        conda_lock_file=conda_lock_file,
        allow_includes=tuple(allow_includes),
        limits=read_limits(),
        mapping_url=read_mapping_url(),
        from_config=from_config,
        allow_project_mirror=os.environ.get(ALLOW_PROJECT_MIRROR_ENV, "").strip().lower() in ("1", "true", "yes"),
        from_locks=tuple(reused),
    )


def _told(value: Any, key: str, tool: Mapping[str, Any], pyproject: Path | None) -> str | None:
    """Where a value that [tool.lockgen] gave was written (``pyproject.toml:7: [tool.lockgen] hash``);
    None when the command line (or the locks) gave it: its errors name the flag."""
    if value not in (None, (), []) or key not in tool:
        return None
    return f"{_toml_where(pyproject, key)}: [tool.lockgen] {key}"


def _solve_choices(
    solve: SolveFlags, tool: Mapping[str, Any], pyproject: Path | None
) -> tuple[str, str, dt.datetime | None]:
    """Channel priority, hash kind and exclude-newer cut-off, checked; an error names the flag, or
    the pyproject.toml line of the [tool.lockgen] key that gave the value."""
    priority = str(
        solve.channel_priority if solve.channel_priority is not None else tool.get("channel-priority", "strict")
    )
    if priority not in CHANNEL_PRIORITIES:
        origin = _told(solve.channel_priority, "channel-priority", tool, pyproject)
        raise ConfigError(
            f"{f'{origin}: ' if origin else ''}channel priority must be one of {', '.join(CHANNEL_PRIORITIES)},"
            f" got {priority!r}"
        )
    hash_kind = str(solve.hash_kind if solve.hash_kind is not None else tool.get("hash", "md5"))
    if hash_kind not in HASH_KINDS:
        origin = _told(solve.hash_kind, "hash", tool, pyproject)
        raise ConfigError(f"{origin or '--hash'} must be md5 or sha256, got {hash_kind!r}")
    try:
        exclude_newer = _exclude_newer(
            solve.exclude_newer if solve.exclude_newer is not None else tool.get("exclude-newer")
        )
    except ConfigError as exc:
        origin = _told(solve.exclude_newer, "exclude-newer", tool, pyproject)
        if origin is None:
            raise
        raise ConfigError(exc.message.replace("--exclude-newer", origin, 1)) from None
    return priority, hash_kind, exclude_newer


def _locations(
    flags: Flags, tool: Mapping[str, Any], pyproject: Path | None, env_file: Path, root: Path | None = None
) -> tuple[Path, Path | None, tuple[str, ...]]:
    """The lock folder, the cache folder (None: the default) and which [tool.lockgen] keys were used.
    ``root``: the project found from the working folder up (its ``locks``, wherever lockgen runs in it)."""
    solve = flags.solve
    used = (("mirrors", solve.mirrors), ("output-dir", flags.output_dir), ("cache-dir", solve.cache_dir))
    from_config = tuple(key for key, flag in used if key in tool and flag in (None, ()))
    project = _lexical(env_file).parent
    output_dir = Path(flags.output_dir) if flags.output_dir is not None else Path("locks")
    if root is not None and flags.output_dir is None:
        output_dir = _from_root(root, output_dir)
    if "output-dir" in from_config:
        output_dir = _tool_path(tool["output-dir"], "output-dir", pyproject, project)
    _check_not_linked_out(output_dir, project)
    cache_dir = Path(solve.cache_dir) if solve.cache_dir else None
    if "cache-dir" in from_config:
        cache_dir = _tool_path(tool["cache-dir"], "cache-dir", pyproject, project)
    return output_dir, cache_dir, from_config


def _lexical(path: Path) -> Path:
    """``path`` made absolute and normalised without following links (``a/../b`` is ``b``)."""
    return Path(os.path.normpath(Path(path).absolute()))


def project_roots(env_file: Path) -> tuple[Path, ...]:
    """The project's tree, resolved: the environment file's folder and the git work tree holding it."""
    here = Path(env_file).resolve().parent
    roots = [here]
    for parent in (here, *here.parents):
        if (parent / ".git").exists():
            roots.append(parent)
            break
    return tuple(dict.fromkeys(roots))


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _toml_where(pyproject: Path | None, key: str) -> str:
    """``pyproject.toml:LINE`` of ``key`` in [tool.lockgen] (the file alone when it cannot be found)."""
    if pyproject is None:
        return "[tool.lockgen]"
    try:
        lines = pyproject.read_text(encoding="utf-8").splitlines()
    except OSError:
        return f"{pyproject}"
    section = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.replace(" ", "") == "[tool.lockgen]"
        elif section and stripped.split("=", 1)[0].strip().strip("\"'") == key:
            return f"{pyproject}:{number}"
    return f"{pyproject}"


def _tool_path(value: Any, key: str, pyproject: Path | None, project: Path) -> Path:
    """``output-dir`` or ``cache-dir`` from [tool.lockgen]: pyproject.toml comes with a pull request, so
    only a relative path inside the project (no ``..``, not absolute, no ``~``), which does not leave it
    through a symbolic link; else ConfigError (exit 2) naming the line. Relative to the project folder."""
    where = _toml_where(pyproject, key)
    text = value if isinstance(value, str) else ""
    path = Path(text)
    if not text.strip() or path.is_absolute() or path.drive or ".." in path.parts or text.startswith("~"):
        raise ConfigError(
            f"{where}: [tool.lockgen] {key} must be a relative path inside the project, got {value!r}"
            f" (a path elsewhere can be given on the command line: --{key} DIR)"
        )
    full = project / path
    real = full.resolve()
    if not _inside(real, project_roots(project / "environment.yml")):
        raise ConfigError(
            f"{where}: [tool.lockgen] {key} = {text!r} resolves to {real}, outside the project, through a symbolic"
            f" link; replace the link by a folder (or give the path on the command line: --{key} DIR)"
        )
    return full if Path.cwd() != project else path


def check_lock_folder(output_dir: Path, project: Path) -> None:
    """ConfigError (exit 2) when an environment's lock folder of [tool.lockgen.environments]
    (``OUTPUT_DIR/NAME``), inside ``project``, leaves it through a symbolic link (``locks/gpu -> ../x``)."""
    try:
        _check_not_linked_out(output_dir, project)
    except ConfigError:
        real = _lexical(output_dir).resolve()
        raise ConfigError(
            f"the lock folder {output_dir} resolves to {real}, outside the project, through a symbolic link;"
            " lockgen reads and writes locks inside the project only: replace the link by a folder, or pass"
            f" the folder holding it with -o {real.parent}"
        ) from None


def _check_not_linked_out(output_dir: Path, project: Path) -> None:
    """An output folder inside the project must stay inside it once links are followed: a committed
    ``locks -> ../outside`` link would make ``lock`` write, and ``check`` read, outside the project.
    A folder given outside the project (``-o /srv/locks``) is the user's own choice."""
    lexical = _lexical(output_dir)
    if lexical != project and project not in lexical.parents:
        return
    real = lexical.resolve()
    if not _inside(real, project_roots(project / "environment.yml")):
        raise ConfigError(
            f"the lock folder {output_dir} resolves to {real}, outside the project, through a symbolic link;"
            " lockgen reads and writes locks inside the project only: replace the link by a folder, or pass"
            f" the real folder with -o {real}"
        )



def _platforms(value: Any, origin: str | None) -> tuple[str, ...] | None:
    """``-p`` values, or [tool.lockgen] platforms written at ``origin``, checked."""
    if value is None:
        return None
    platforms = tuple(_string_list(list(value), origin or "-p/--platform"))
    bad = [p for p in platforms if p not in KNOWN_PLATFORMS]
    if bad:
        raise ConfigError(
            f"{f'{origin}: ' if origin else ''}unknown platform(s): {', '.join(bad)}"
            " (for example: linux-64, osx-arm64, win-64)"
        )
    return platforms


_DEFAULTS = ("none", "strict", "md5")
"""Recorded values that are the defaults anyway: nothing to reuse."""


def _reuse_recorded(
    solve: SolveFlags, tool: Mapping[str, Any], recorded: Recorded, overridden: bool
) -> tuple[SolveFlags, tuple[tuple[str, VirtualPackage], ...], list[str]]:
    """``solve`` with the locks' recorded options where neither it nor [tool.lockgen] sets one; the
    virtual-package overrides to reuse (empty: none); what was reused, as options."""
    reused: list[str] = []
    values: dict[str, Any] = {}
    for attr, key, option in (
        ("channel_priority", "channel-priority", "--channel-priority"),
        ("hash_kind", "hash", "--hash"),
        ("exclude_newer", "exclude-newer", "--exclude-newer"),
    ):
        if getattr(solve, attr) is None and key not in tool and recorded.options.get(key, "none") not in _DEFAULTS:
            values[attr] = recorded.options[key]
            reused.append(f"{option} {recorded.options[key]}")
    overrides: tuple[tuple[str, VirtualPackage], ...] = ()
    if solve.cuda is None and not overridden and "cuda" not in tool and recorded.overrides:
        cuda = {v.version for _, v in recorded.overrides if v.name == "__cuda" and v.build == "0"}
        if len(cuda) == 1:  # --cuda: for every linux and windows target, also one locked later
            values["cuda"] = cuda.pop()
            reused.append(f"--cuda {values['cuda']}")
        overrides = tuple((p, v) for p, v in recorded.overrides if "cuda" not in values or v.name != "__cuda")
        reused += [f"--virtual-package {p}:{v.name}={v.version}" for p, v in overrides]
    if solve.cuda == "none":  # `--cuda none`: no __cuda, whatever the locks say
        values["cuda"] = None
    return replace(solve, **values), overrides, reused


def _exclude_newer(value: Any) -> dt.datetime | None:
    """``exclude-newer`` from the command line (text) or [tool.lockgen] (text, TOML date or datetime)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = value.isoformat()
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else parse_date(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.timezone.utc)


def _conda_lock_file(cli_value: Any, tool_value: Any, where: str) -> Path | None:
    """``--conda-lock-file`` or ``[tool.lockgen] conda-lock-file``: a .yml path; from the (PR-editable)
    pyproject.toml only a relative path inside the project, no ``..``."""
    if cli_value:
        path = Path(cli_value)
    elif tool_value is None:
        return None
    elif not isinstance(tool_value, str) or not tool_value.strip():
        raise ConfigError(f"{where} conda-lock-file must be a path such as conda-lock.yml")
    else:
        path = Path(tool_value)
        if path.is_absolute() or ".." in path.parts or path.drive:
            raise ConfigError(f"{where} conda-lock-file must be a relative path inside the project, got {tool_value!r}")
    if path.suffix.lower() not in (".yml", ".yaml"):
        raise ConfigError(
            f"the conda-lock file must end in .yml or .yaml (conda-lock's unified format), got {str(path)!r}"
        )
    return path


def parse_jobs(value: Any, where: str) -> int | None:
    """``auto`` (None) or a whole number >= 1; ``where`` names the setting in the error message."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    try:
        jobs = int(str(value).strip()) if not isinstance(value, bool) else 0
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise ConfigError(f"{where} must be `auto` or a whole number >= 1, got {value!r}")
    return jobs
