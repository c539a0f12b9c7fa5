"""``[tool.lockgen]`` of the pyproject.toml beside the environment file: read, located (the line of a
key, for messages) and checked, with the checks its values share with the command-line flags.

pyproject.toml is part of a pull request: a path it gives must stay inside the project
(:func:`tool_path`); :mod:`lockgen.config` decides which keys a command honours.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lockgen.channels import Mirror, parse_mirror
from lockgen.errors import ConfigError
from lockgen.filesize import SizeLimit
from lockgen.platforms import KNOWN_PLATFORMS, lock_file_name
from lockgen.project import env_folder, inside, project_roots

__all__ = [
    "TOOL_KEYS",
    "check_platforms",
    "conda_lock_path",
    "exclude_newer_value",
    "lock_location",
    "parse_date",
    "parse_jobs",
    "parse_tool_text",
    "read_tool_config",
    "string_list",
    "toml_where",
    "tool_mirrors",
    "tool_origin",
    "tool_path",
    "tool_value",
    "validate_filename_template",
    "version_not_number",
    "with_line",
]

TOOL_KEYS = {
    "platforms", "mirrors", "cuda", "virtual-packages", "channel-priority", "exclude-newer", "hash",
    "output-dir", "cache-dir", "filename-template", "pypi-mapping", "strict", "jobs", "conda-lock-file",
    "allow-includes", "only-binary", "environments",
}  # fmt: skip


def validate_filename_template(template: str, where: str = "--filename-template") -> str:
    """A lock file name template (:func:`lockgen.platforms.lock_file_name` says what is valid); else
    ConfigError naming ``where`` the template came from."""
    try:
        lock_file_name(template, "linux-64")
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return template


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


def read_tool_config(env_file: Path, limit: SizeLimit) -> tuple[dict[str, Any], Path | None]:
    """``[tool.lockgen]`` from the pyproject.toml beside ``env_file`` (empty when absent); a file over
    ``limit`` is a ConfigError, unread."""
    pyproject = env_folder(env_file) / "pyproject.toml"
    if not pyproject.is_file():
        return {}, None
    if pyproject.is_symlink() and not inside(pyproject.resolve(), project_roots(env_file)):
        raise ConfigError(  # as an environment file linked out: a pull request can commit the link
            f"{pyproject}: a symbolic link (to {str(pyproject.readlink())!r}) that leads out of the project;"
            " lockgen reads [tool.lockgen] from the project only: replace the link by a copy of the file"
        )
    too_large = limit.problem(pyproject)
    if too_large:
        raise ConfigError(f"{pyproject}: {too_large}")
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{pyproject}: cannot read: {exc}") from exc
    return parse_tool_text(text, str(pyproject)), pyproject


def parse_tool_text(text: str, where: str) -> dict[str, Any]:
    """``[tool.lockgen]`` of a pyproject.toml's text (``where`` names it in errors). Each environment
    of ``[tool.lockgen.environments]`` builds its settings from the same text: it is parsed once."""
    return dict(_parse_tool_text(text, where))


@functools.lru_cache(maxsize=4)
def _parse_tool_text(text: str, where: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from exc
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError(f"{where}: cannot read: arrays or tables nested too deep") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{where}: `tool` must be a table")
    section = tool.get("lockgen", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: [tool.lockgen] must be a table")
    unknown = sorted(set(section) - TOOL_KEYS)
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


def tool_mirrors(values: Any, base_dir: Path, where: str = "[tool.lockgen]") -> list[Mirror]:
    """``mirrors`` from [tool.lockgen]: a table or a list of CANONICAL=REPLACEMENT, paths relative to ``base_dir``."""
    if isinstance(values, Mapping):
        values = [f"{k}={v}" for k, v in values.items()]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{where}: mirrors must be a table or a list of CANONICAL=REPLACEMENT strings")
    try:
        return [parse_mirror(v, base_dir) for v in values]
    except ConfigError as exc:  # parse_mirror speaks of --mirror: say the value came from here
        raise ConfigError(f"{where} mirrors: {exc.message.removeprefix('--mirror ')}") from None


def tool_value(tool: Mapping[str, Any], key: str, kinds: tuple[type, ...], what: str, where: str) -> Any:
    """``tool[key]`` (None when absent) when it is one of ``kinds`` (a bool is never a number), else
    ConfigError naming the key and ``what`` it must be."""
    value = tool.get(key)
    if value is None:
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ConfigError(f"{where} {key} must be {what}, got {value!r}")
    return value


def string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return value


def with_line(message: str) -> str:
    """``…/pyproject.toml: [tool.lockgen] jobs must…`` with the key's line: ``…/pyproject.toml:7: …``."""
    head, sep, rest = message.partition(": [tool.lockgen] ")
    key = rest.split(" ", 1)[0].rstrip(":")
    if not sep or not head.endswith("pyproject.toml") or key not in TOOL_KEYS:
        return message
    return f"{toml_where(Path(head), key)}{sep}{rest}"


def tool_origin(value: Any, key: str, tool: Mapping[str, Any], pyproject: Path | None) -> str | None:
    """Where a value that [tool.lockgen] gave was written (``pyproject.toml:7: [tool.lockgen] hash``);
    None when the command line (or the locks) gave it: its errors name the flag."""
    if value not in (None, (), []) or key not in tool:
        return None
    return f"{toml_where(pyproject, key)}: [tool.lockgen] {key}"


def toml_where(pyproject: Path | None, key: str) -> str:
    """``pyproject.toml:LINE`` of ``key`` in [tool.lockgen] (the file alone when it cannot be found)."""
    if pyproject is None:
        return "[tool.lockgen]"
    found = _key_line(pyproject, key)
    return f"{pyproject}:{found[0]}" if found else f"{pyproject}"


def _key_line(pyproject: Path, key: str) -> tuple[int, str] | None:
    """(number, text) of the line that sets ``key`` in [tool.lockgen]; None when it cannot be found."""
    try:
        lines = pyproject.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return None
    section = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.replace(" ", "") == "[tool.lockgen]"
        elif section and stripped.split("=", 1)[0].strip().strip("\"'") == key:
            return number, line
    return None


def version_not_number(value: Any, key: str, where: str, pyproject: Path | None, line: int | None = None) -> None:
    """ConfigError when the version ``key`` was written as a TOML float: tomllib reads ``11.10`` as
    11.1, another version, so no float is taken for one. The message quotes the number as written
    (from the key's line in [tool.lockgen], or ``line`` for an inline table's entry)."""
    if not isinstance(value, float):
        return
    text = None
    if pyproject is not None and line is None:
        found = _key_line(pyproject, key)
        text = found[1] if found else None
    elif pyproject is not None and line is not None:
        try:
            text = pyproject.read_text(encoding="utf-8").splitlines()[line - 1]
        except (OSError, ValueError, IndexError):
            text = None
    match = re.search(rf"(?<![\w-]){re.escape(key)}\s*=\s*([-+\d._eE]+)", text or "")
    written = match.group(1) if match else repr(value)
    raise ConfigError(
        f"{where} {key} = {written} is a TOML number, read as {value!r}, not as the version {written}:"
        f' quote it, {key} = "{written}"'
    )


def tool_path(value: Any, key: str, pyproject: Path | None, project: Path) -> Path:
    """``output-dir`` or ``cache-dir`` from [tool.lockgen]: pyproject.toml comes with a pull request, so
    only a relative path inside the project (no ``..``, not absolute, no ``~``), which does not leave it
    through a symbolic link; else ConfigError (exit 2) naming the line. Relative to the project folder."""
    where = toml_where(pyproject, key)
    text = value if isinstance(value, str) else ""
    path = Path(text)
    if not text.strip() or path.is_absolute() or path.drive or ".." in path.parts or text.startswith("~"):
        raise ConfigError(
            f"{where}: [tool.lockgen] {key} must be a relative path inside the project, got {value!r}"
            f" (a path elsewhere can be given on the command line: --{key} DIR)"
        )
    full = project / path
    real = full.resolve()
    if not inside(real, project_roots(project / "environment.yml")):
        raise ConfigError(
            f"{where}: [tool.lockgen] {key} = {text!r} resolves to {real}, outside the project, through a symbolic"
            f" link; replace the link by a folder (or give the path on the command line: --{key} DIR)"
        )
    return full if Path.cwd() != project else path


def check_platforms(value: Any, origin: str | None) -> tuple[str, ...] | None:
    """``-p`` values, or [tool.lockgen] platforms written at ``origin``, checked."""
    if value is None:
        return None
    listed = list(value) if isinstance(value, (list, tuple)) else value  # a number or a text is no list
    platforms = tuple(string_list(listed, origin or "-p/--platform"))
    bad = [p for p in platforms if p not in KNOWN_PLATFORMS]
    if bad:
        raise ConfigError(
            f"{f'{origin}: ' if origin else ''}unknown platform(s): {', '.join(bad)}"
            " (for example: linux-64, osx-arm64, win-64)"
        )
    return platforms


def exclude_newer_value(value: Any) -> dt.datetime | None:
    """``exclude-newer`` from the command line (text) or [tool.lockgen] (text, TOML date or datetime)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = value.isoformat()
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else parse_date(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.timezone.utc)


def conda_lock_path(cli_value: Any, tool_value: Any, where: str) -> Path | None:
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
        origin = "--conda-lock-file" if cli_value else f"{where} conda-lock-file"
        raise ConfigError(
            f"{origin}: the conda-lock file must end in .yml or .yaml (conda-lock's unified format), got {str(path)!r}"
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
