"""Options: command line over ``[tool.lockgen]`` (pyproject.toml beside the environment file) over defaults.

The CLI passes only the options the user set; :func:`build_options` fills the rest and returns
one frozen :class:`LockOptions` that the core uses.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockgen.channels import Mirror, parse_mirror
from lockgen.errors import ConfigError
from lockgen.platforms import KNOWN_PLATFORMS, VirtualPackage, parse_virtual_package_override

__all__ = [
    "LockOptions",
    "build_options",
    "default_cache_dir",
    "ensure_cache_dir",
    "env_int",
    "parse_date",
    "read_tool_config",
    "tool_mirrors",
    "validate_filename_template",
]

CHANNEL_PRIORITIES = ("strict", "flexible", "disabled")
HASH_KINDS = ("md5", "sha256")
_TOOL_KEYS = {
    "platforms", "mirrors", "cuda", "virtual-packages", "channel-priority", "exclude-newer", "hash",
    "output-dir", "cache-dir", "filename-template", "pypi-mapping", "strict", "jobs", "conda-lock-file",
    "allow-includes", "only-binary",
}  # fmt: skip


def default_cache_dir() -> Path:
    env = os.environ.get("LOCKGEN_CACHE_DIR")
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
    """A lock file name template: exactly the ``{platform}`` field, no path separators; else ConfigError."""
    import string

    problem = "{platform}" not in template or "/" in template or "\\" in template or ".." in template
    if not problem:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
            problem = any(f != "platform" for f in fields) or template.format(platform="linux-64") == ""
        except ValueError:
            problem = True
    if problem or "\0" in template:
        raise ConfigError(f"{where} must contain {{platform}} and no path separators, got {template!r}")
    return template


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

    def lock_name(self, platform: str) -> str:
        return self.filename_template.format(platform=platform)


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
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{pyproject}: cannot read: {exc}") from exc
    section = data.get("tool", {}).get("lockgen", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{pyproject}: [tool.lockgen] must be a table")
    unknown = sorted(set(section) - _TOOL_KEYS)
    if unknown:
        raise ConfigError(f"{pyproject}: unknown [tool.lockgen] keys: {', '.join(unknown)}")
    return section, pyproject


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


def build_options(files: Sequence[Path], cli: Mapping[str, Any]) -> LockOptions:
    """Merge command-line values (``cli``, only those the user set) with ``[tool.lockgen]``."""
    if not files:
        files = [Path("environment.yml")]
    tool, pyproject = read_tool_config(files[0])
    where = f"{pyproject}: [tool.lockgen]" if pyproject else "[tool.lockgen]"
    tool_dir = pyproject.parent if pyproject else Path.cwd()

    def pick(cli_key: str, tool_key: str, default: Any) -> Any:
        if cli.get(cli_key) not in (None, (), []):
            return cli[cli_key]
        return tool.get(tool_key, default)

    platforms = cli.get("platforms") or tool.get("platforms")
    if platforms is not None:
        platforms = tuple(_string_list(list(platforms), f"{where} platforms"))
        bad = [p for p in platforms if p not in KNOWN_PLATFORMS]
        if bad:
            raise ConfigError(f"unknown platform(s): {', '.join(bad)} (for example: linux-64, osx-arm64, win-64)")

    mirrors = [parse_mirror(m) for m in cli.get("mirrors") or ()]
    if not mirrors and "mirrors" in tool:
        mirrors = tool_mirrors(tool["mirrors"], tool_dir, where)

    overrides_raw = list(cli.get("virtual_packages") or ()) or _string_list(
        tool.get("virtual-packages", []), f"{where} virtual-packages"
    )
    try:
        overrides = tuple(parse_virtual_package_override(v) for v in overrides_raw)
    except ValueError as exc:
        raise ConfigError(f"--virtual-package: {exc}") from exc

    priority = str(pick("channel_priority", "channel-priority", "strict"))
    if priority not in CHANNEL_PRIORITIES:
        raise ConfigError(f"channel priority must be one of {', '.join(CHANNEL_PRIORITIES)}, got {priority!r}")
    hash_kind = str(pick("hash_kind", "hash", "md5"))
    if hash_kind not in HASH_KINDS:
        raise ConfigError(f"--hash must be md5 or sha256, got {hash_kind!r}")
    exclude_newer_raw = pick("exclude_newer", "exclude-newer", None)
    if isinstance(exclude_newer_raw, dt.date) and not isinstance(exclude_newer_raw, dt.datetime):
        exclude_newer_raw = exclude_newer_raw.isoformat()
    exclude_newer = (
        exclude_newer_raw
        if isinstance(exclude_newer_raw, dt.datetime) or exclude_newer_raw is None
        else parse_date(str(exclude_newer_raw))
    )
    if isinstance(exclude_newer, dt.datetime) and exclude_newer.tzinfo is None:
        exclude_newer = exclude_newer.replace(tzinfo=dt.timezone.utc)
    template = validate_filename_template(str(pick("filename_template", "filename-template", "{platform}.txt")))
    cuda = pick("cuda", "cuda", None)
    output_dir = Path(pick("output_dir", "output-dir", "locks"))
    cache_dir = pick("cache_dir", "cache-dir", None)
    mapping = pick("pypi_mapping", "pypi-mapping", None)
    if cli.get("jobs") is not None:
        jobs = parse_jobs(cli["jobs"], "--jobs")
    elif "jobs" in tool:
        jobs = parse_jobs(tool["jobs"], f"{where} jobs")
    else:
        jobs = parse_jobs(os.environ.get(JOBS_ENV, "").strip() or "auto", JOBS_ENV)
    conda_lock_file = _conda_lock_file(cli.get("conda_lock_file"), tool.get("conda-lock-file"), where)
    if cli.get("allow_includes"):
        allow_includes = [Path(p) for p in cli["allow_includes"]]
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
        offline=bool(cli.get("offline", False)),
        update=tuple(cli.get("update") or ()),
        update_all=bool(cli.get("update_all", False)),
        strict=bool(pick("strict", "strict", False)),
        only_binary=bool(pick("only_binary", "only-binary", False)),
        pypi_mapping=Path(mapping) if mapping else None,
        jobs=jobs,
        from_lock=Path(cli["from_lock"]) if cli.get("from_lock") else None,
        conda_lock_file=conda_lock_file,
        allow_includes=tuple(allow_includes),
    )


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


JOBS_ENV = "LOCKGEN_JOBS"


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
