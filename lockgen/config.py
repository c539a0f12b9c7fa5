"""Settings, resolved once: command line over ``[tool.lockgen]`` (pyproject.toml beside the first
environment file) over the environment (``LOCKGEN_*``) over defaults.

The CLI passes a typed :class:`Flags` (what the user set; unset fields are None or empty);
:func:`build_options` merges it with ``[tool.lockgen]`` and the environment and returns one frozen
:class:`LockOptions` for every command. This is the only module that reads the process environment
(``LOCKGEN_*``, ``XDG_STATE_HOME``, and :func:`read_environment` for ``install``); the CLI calls its
``read_*`` functions and everything below takes the values as parameters. The exceptions, each a child
process's environment or a C library's own variable, are listed in tests/unit/test_environment_reads.py.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import Any

from lockgen.channels import Mirror, parse_mirror
from lockgen.errors import ConfigError
from lockgen.filesize import SizeLimit, lock_folder_files, refuse_oversized
from lockgen.flags import Flags, LockFlags, SolveFlags
from lockgen.httpclient import HttpSettings
from lockgen.platforms import VirtualPackage, parse_virtual_package_override
from lockgen.project import (
    check_env_files,
    check_not_linked_out,
    find_project_root,
    from_root,
    lexical,
    project_files,
    refuse_lock_folder_file,
)
from lockgen.recorded import Recorded, read_recorded, reuse_recorded
from lockgen.records import dataclass
from lockgen.toolconfig import (
    check_platforms,
    conda_lock_path,
    exclude_newer_value,
    parse_jobs,
    read_tool_config,
    string_list,
    toml_where,
    tool_mirrors,
    tool_origin,
    tool_path,
    tool_value,
    validate_filename_template,
    version_not_number,
    with_line,
)

__all__ = [
    "Flags",
    "Limits",
    "LockFlags",
    "LockOptions",
    "SolveFlags",
    "build_options",
    "default_cache_dir",
    "env_int",
    "environments_table",
    "platform_cache_dir",
    "read_environment",
    "read_http_settings",
    "read_limits",
    "read_mapping_url",
    "read_state_dirs",
    "read_tool_settings",
]

CHANNEL_PRIORITIES = ("strict", "flexible", "disabled")
HASH_KINDS = ("md5", "sha256")


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
STATE_HOME_ENV = "XDG_STATE_HOME"
DEFAULT_PIP_DEADLINE_S = 3600
"""The whole pip step of ``install`` (both installer runs): a dripping index or a hung build ends there."""
INPUT_MAX_ENV = "LOCKGEN_INPUT_MAX_MB"
DEFAULT_INPUT_MAX_MB = 1
"""Environment files and pyproject.toml: a real environment.yml is a few KB (1 MiB of YAML reads in ~3 s)."""
LOCK_MAX_ENV = "LOCKGEN_LOCK_MAX_MB"
DEFAULT_LOCK_MAX_MB = 8
"""Each file in the locks folder: about 160 times our largest lock (requirements.txt, 51 KB)."""
INPUT_FILES = SizeLimit(DEFAULT_INPUT_MAX_MB * 2**20, INPUT_MAX_ENV, "an environment file or pyproject.toml")
LOCK_FILES = SizeLimit(DEFAULT_LOCK_MAX_MB * 2**20, LOCK_MAX_ENV, "a file in the locks folder")


def default_cache_dir() -> Path:
    """``LOCKGEN_CACHE_DIR``, else the platform's user cache folder (:func:`platform_cache_dir`)."""
    return _env_cache_dir() or platform_cache_dir()


def platform_cache_dir() -> Path:
    """The platform's user cache folder for lockgen: platformdirs' ``user_cache_dir("lockgen", appauthor=False)``.

    On Linux that is ``$XDG_CACHE_HOME/lockgen`` when the variable is an absolute path, else
    ``$HOME/.cache/lockgen``, in every platformdirs lockgen accepts (3.0 on): with both variables plain
    (``XDG_CACHE_HOME`` unset, empty or absolute; ``HOME`` absolute; not Android) the folder is made
    from them here, since platformdirs imports ``tempfile`` and ``shutil`` (7-8 ms), which ``check``
    with no cache folder chosen (a pre-commit hook, the bench) paid for its environment file's memo
    (docs/performance.md, "Round 9: what every command pays before it works"). Anything else asks
    platformdirs (tests/unit/test_platform_cache_dir.py holds the two to each other)."""
    xdg, home = os.environ.get("XDG_CACHE_HOME", ""), os.environ.get("HOME", "")
    plain = (xdg == "" or xdg.startswith("/")) and home.startswith("/")
    if sys.platform == "linux" and plain and not {"ANDROID_DATA", "ANDROID_ROOT"} & os.environ.keys():
        return Path(os.path.join(xdg or os.path.expanduser("~/.cache"), "lockgen"))  # noqa: PTH111, PTH118 - platformdirs' own calls
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("lockgen", appauthor=False))


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
    http: HttpSettings = field(default_factory=lambda: HttpSettings(DEFAULT_HTTP_TIMEOUT_S))
    """What lockgen's own HTTP clients honour (:mod:`lockgen.httpclient`): timeout, proxies, .netrc."""
    input_files: SizeLimit = INPUT_FILES
    """Largest environment file or pyproject.toml read (``LOCKGEN_INPUT_MAX_MB``)."""
    lock_files: SizeLimit = LOCK_FILES
    """Largest file in the locks folder read (``LOCKGEN_LOCK_MAX_MB``)."""


def read_http_settings(timeout_s: int) -> HttpSettings:
    """Proxies (``http_proxy``/``HTTP_PROXY``, ``https_proxy``/``HTTPS_PROXY``, ``all_proxy``/``ALL_PROXY``,
    ``no_proxy``/``NO_PROXY``; lower case first, as curl and Python's urllib), the ``.netrc`` file
    (``NETRC``, else ``~/.netrc``) and CA certificates (``SSL_CERT_FILE``, ``SSL_CERT_DIR``)."""

    def var(name: str) -> str:
        return (os.environ.get(name.lower()) or os.environ.get(name) or "").strip()

    proxies = []
    for scheme in ("http", "https", "all"):
        url = var(f"{scheme.upper()}_PROXY")
        if url:
            proxies.append((scheme, url if "://" in url else f"http://{url}"))
    no_proxy = tuple(h.strip() for h in var("NO_PROXY").split(",") if h.strip())
    netrc: Path | None = Path(os.environ["NETRC"]) if os.environ.get("NETRC") else None
    if netrc is None:
        try:
            netrc = Path.home() / ".netrc"
        except RuntimeError:  # no home directory to look in
            netrc = None
    ca_file, ca_dir = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    return HttpSettings(
        timeout_s=timeout_s,
        proxies=tuple(proxies),
        no_proxy=no_proxy,
        netrc=netrc,
        ca_file=Path(ca_file) if ca_file else None,
        ca_dir=Path(ca_dir) if ca_dir else None,
    )


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
        http=read_http_settings(env_int(HTTP_TIMEOUT_ENV, DEFAULT_HTTP_TIMEOUT_S, 1)),
        input_files=_size_limit(INPUT_FILES),
        lock_files=_size_limit(LOCK_FILES),
    )


def _size_limit(default: SizeLimit) -> SizeLimit:
    return replace(default, max_bytes=env_int(default.setting, default.max_bytes // 2**20, 1) * 2**20)


def read_tool_settings(env_file: Path) -> tuple[dict[str, Any], Path | None]:
    """``[tool.lockgen]`` beside ``env_file`` (:func:`read_tool_config`) within ``LOCKGEN_INPUT_MAX_MB``,
    for a reader that has no :class:`LockOptions` yet (the environments table)."""
    return read_tool_config(env_file, _size_limit(INPUT_FILES))


def environments_table(files: Sequence[Path]) -> tuple[Any, Path] | None:
    """``[tool.lockgen.environments]`` and the pyproject.toml holding it, beside the first of ``files`` (none
    given: the project found from the working folder up, as :func:`build_options` finds it); None without
    the table (a command then needs nothing of :mod:`lockgen.environments`)."""
    if files:
        env_file = Path(files[0])
    else:
        root = find_project_root(Path.cwd())
        env_file = root / "environment.yml" if root is not None else Path("environment.yml")
    tool, pyproject = read_tool_settings(env_file)
    if pyproject is None or "environments" not in tool:
        return None
    return tool["environments"], pyproject


def read_state_dirs() -> tuple[Path, ...]:
    """Where lockgen may keep state, best first: ``$XDG_STATE_HOME`` when it is absolute (the XDG rule: a
    relative one would resolve inside whatever folder lockgen runs in), then ``~/.local/state``.
    :func:`lockgen.lockfiles.commit.key_path` takes the first that lies outside the project."""
    base = os.environ.get(STATE_HOME_ENV, "")
    absolute = [Path(base)] if base and Path(base).is_absolute() else []
    return (*absolute, Path.home() / ".local" / "state")


def read_environment() -> dict[str, str]:
    """A copy of the process environment for ``install``, which follows other tools' variables: conda's
    and mamba's folders (``CONDA_ENVS_PATH``, ``CONDARC``, ``MAMBA_ROOT_PREFIX``, ``$VAR`` in a .condarc),
    pip's and uv's index URLs (masked in messages) and which activation command to suggest."""
    return dict(os.environ)


def read_mapping_url() -> str | None:
    """``LOCKGEN_PYPI_MAPPING_URL``: where parselmouth's tables are fetched from (None: the default)."""
    return os.environ.get(MAPPING_URL_ENV) or None


NO_FLAGS = Flags()
"""A command line that set nothing."""


@dataclass(frozen=True, slots=True)
class LockOptions:
    files: tuple[Path, ...]
    output_dir: Path
    chosen_cache_dir: Path | None
    """``--cache-dir``, ``[tool.lockgen] cache-dir`` or ``LOCKGEN_CACHE_DIR``; None: the platform's user cache
    folder, which :attr:`cache_dir` looks up when a command first needs it."""
    platforms: tuple[str, ...] | None = None
    """``-p``: a subset of the targets (the other targets' locks are kept); None: every target."""
    config_platforms: tuple[str, ...] | None = None
    """``[tool.lockgen] platforms``: the targets, as environment.yml's ``platforms:`` (over it, under an
    environment's own); a platform taken out is stale and its lock removed."""
    mirrors: tuple[Mirror, ...] = ()
    cuda: str | None = None
    virtual_overrides: tuple[tuple[str, VirtualPackage], ...] = ()
    channel_priority: str = "strict"
    exclude_newer: dt.datetime | None = None
    hash_kind: str = "md5"
    filename_template: str = "{platform}.txt"
    offline: bool = False
    update: tuple[str, ...] = ()
    update_all: bool = False
    strict: bool = False
    only_binary: bool = False
    """Refuse sdists: lock pip packages from wheels only (an sdist's metadata is otherwise built)."""
    pypi_mapping: Path | None = None
    allow_includes: tuple[Path, ...] = ()
    """Directories outside the project's tree that pip ``-r``/``-c`` files may be read from: ``--allow-include``,
    else (``lock`` only, :attr:`Flags.writes_locks`) ``[tool.lockgen] allow-includes``."""
    withheld_includes: tuple[tuple[Path, str], ...] = ()
    """``[tool.lockgen] allow-includes`` this command does not honour (it only reads), each with the
    pyproject.toml line that lists it: named when a ``-r`` file there is refused."""
    jobs: int | None = None
    """Platforms solved at once; None (``auto``): all, unless their flat repodata would not fit in memory."""
    from_lock: Path | None = None
    """``--from``: a conda-lock.yml or explicit lock(s) whose pins are the previous lock (docs/from-conda-lock.md)."""
    conda_lock_file: Path | None = None
    """Also write the solution as conda-lock's unified lock (format v1) at this path."""
    limits: Limits = Limits()
    """Timeouts, retries and the repodata memory budget (:func:`build_options`: LOCKGEN_* variables)."""
    mapping_url: str | None = None
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
    state_dirs: tuple[Path, ...] = ()
    """Where lockgen may keep its state (the journal key), best first (:func:`read_state_dirs`); empty:
    journals are left unsealed, so an interrupted commit is never finished by a later run."""
    """The options taken from the existing locks' headers (neither the command line nor [tool.lockgen]
    set them), as options: ``--exclude-newer 2026-09-01T00:00:00+00:00``, ``--virtual-package ...``."""

    def lock_name(self, platform: str) -> str:
        return self.filename_template.format(platform=platform)

    @property
    def cache_dir(self) -> Path:
        """Where repodata, the conda→PyPI mapping and packages are cached."""
        return self.chosen_cache_dir if self.chosen_cache_dir is not None else platform_cache_dir()


def _env_cache_dir() -> Path | None:
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env) if env else None


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


def _beside(tool_dir: Path | None, value: str | Path | None) -> Path | None:
    """A file [tool.lockgen] names, relative to its pyproject.toml (as ``output-dir``): the same file from
    any folder of the project; kept as written when lockgen runs beside it (``tool_dir`` None: a path the
    command line gave, relative to the working folder)."""
    if value is None:
        return None
    return Path(value) if tool_dir is None or Path.cwd() == tool_dir else tool_dir / value


def build_options(
    files: Sequence[Path], cli: Flags = NO_FLAGS, *, require_project: bool = False, recorded: Recorded | None = None
) -> LockOptions:
    """The settings of every command (see :func:`_build_options`); a bad ``[tool.lockgen]`` value's
    error names the pyproject.toml line of its key. ``recorded``: what the locks say they were made
    with, when they are not those in the output folder (an environment's, :mod:`lockgen.environments`)."""
    try:
        return _build_options(files, cli, require_project=require_project, recorded=recorded)
    except ConfigError as exc:
        located = with_line(exc.message)
        if type(exc) is not ConfigError or located == exc.message:
            raise
        raise ConfigError(located) from exc


def _build_options(
    files: Sequence[Path], cli: Flags, *, require_project: bool, recorded: Recorded | None
) -> LockOptions:
    """The settings of every command: ``cli`` (what the user set) over ``[tool.lockgen]`` of the
    pyproject.toml beside the first environment file over the environment over defaults.

    Without ``files``, the project is found from the working folder up (:func:`find_project_root`):
    its environment.yml, and its locks folder unless ``-o`` says otherwise (``-o`` is relative to
    the working folder). No project found: ``require_project`` raises InputError (exit 3) naming the
    folder searched (see :func:`ensure_project`); otherwise the working folder stands in (install and
    verify need only locks)."""
    flags = cli
    solve, how = flags.solve, flags.lock
    files, root = project_files(files, require_project)
    check_env_files(files)
    limits = read_limits()
    tool, pyproject = read_tool_config(files[0], limits.input_files)
    where = f"{pyproject}: [tool.lockgen]" if pyproject else "[tool.lockgen]"
    tool_dir = pyproject.parent if pyproject else Path.cwd()

    def told(value: Any, tool_key: str) -> str | None:
        return tool_origin(value, tool_key, tool, pyproject)

    platforms, config_platforms = _platforms(flags.platforms, tool, told(None, "platforms"))

    mirrors = [parse_mirror(m) for m in solve.mirrors]
    if not mirrors and "mirrors" in tool:
        mirrors = tool_mirrors(tool["mirrors"], tool_dir, where)

    overrides_raw = list(solve.virtual_packages) or string_list(
        tool.get("virtual-packages", []), f"{where} virtual-packages"
    )
    try:
        overrides = tuple(parse_virtual_package_override(v) for v in overrides_raw)
    except ValueError as exc:
        raise ConfigError(f"{told(solve.virtual_packages, 'virtual-packages') or '--virtual-package'}: {exc}") from exc

    output_dir, cache_dir, from_config = _locations(flags, tool, pyproject, files[0], root)
    refuse_oversized(files, limits.input_files, lock_folder_files(output_dir), limits.lock_files)
    # What shapes the solution and neither the command line nor [tool.lockgen] sets: as the locks say
    template_now = solve.filename_template or str(tool.get("filename-template", "{platform}.txt"))
    if recorded is None:
        recorded = read_recorded(output_dir, template_now)
    solve, reused_overrides, reused = reuse_recorded(solve, tool, recorded, bool(overrides_raw))
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
    cuda = _cuda(solve.cuda, flags.solve.cuda, tool, where, pyproject)
    mapping = solve.pypi_mapping or _beside(
        tool_dir, tool_value(tool, "pypi-mapping", (str,), "the path of a JSON file", where)
    )
    if how.jobs is not None:
        jobs = parse_jobs(how.jobs, "--jobs")
    elif "jobs" in tool:
        jobs = parse_jobs(tool["jobs"], f"{where} jobs")
    else:
        jobs = parse_jobs(os.environ.get(JOBS_ENV, "").strip() or "auto", JOBS_ENV)
    conda_lock_file = _beside(
        None if how.conda_lock_file else tool_dir,  # --conda-lock-file: relative to the working folder
        conda_lock_path(how.conda_lock_file, tool.get("conda-lock-file"), where),
    )
    listed = [tool_dir / p for p in string_list(tool.get("allow-includes", []), f"{where} allow-includes")]
    if solve.allow_includes:
        allow_includes = [Path(p) for p in solve.allow_includes]
    else:
        allow_includes = listed if flags.writes_locks else []
    withheld = () if flags.writes_locks else tuple((d, toml_where(pyproject, "allow-includes")) for d in listed)
    return LockOptions(
        files=tuple(Path(f) for f in files),
        output_dir=output_dir,
        platforms=platforms,
        config_platforms=config_platforms,
        mirrors=tuple(mirrors),
        cuda=str(cuda) if cuda is not None else None,
        virtual_overrides=overrides,
        channel_priority=priority,
        exclude_newer=exclude_newer,
        hash_kind=hash_kind,
        chosen_cache_dir=Path(cache_dir) if cache_dir else _env_cache_dir(),
        filename_template=template,
        offline=how.offline,
        update=tuple(how.update),
        update_all=how.update_all,
        strict=how.strict or bool(tool_value(tool, "strict", (bool,), "true or false", where)),
        only_binary=how.only_binary or bool(tool_value(tool, "only-binary", (bool,), "true or false", where)),
        pypi_mapping=Path(mapping) if mapping else None,
        jobs=jobs,
        from_lock=how.from_lock,
        conda_lock_file=conda_lock_file,
        allow_includes=tuple(allow_includes),
        withheld_includes=withheld,
        limits=limits,
        mapping_url=read_mapping_url(),
        from_config=from_config,
        allow_project_mirror=os.environ.get(ALLOW_PROJECT_MIRROR_ENV, "").strip().lower() in ("1", "true", "yes"),
        from_locks=tuple(reused),
        state_dirs=read_state_dirs(),
    )


def _solve_choices(
    solve: SolveFlags, tool: Mapping[str, Any], pyproject: Path | None
) -> tuple[str, str, dt.datetime | None]:
    """Channel priority, hash kind and exclude-newer cut-off, checked; an error names the flag, or
    the pyproject.toml line of the [tool.lockgen] key that gave the value."""
    priority = str(
        solve.channel_priority if solve.channel_priority is not None else tool.get("channel-priority", "strict")
    )
    if priority not in CHANNEL_PRIORITIES:
        origin = tool_origin(solve.channel_priority, "channel-priority", tool, pyproject)
        raise ConfigError(
            f"{f'{origin}: ' if origin else ''}channel priority must be one of {', '.join(CHANNEL_PRIORITIES)},"
            f" got {priority!r}"
        )
    hash_kind = str(solve.hash_kind if solve.hash_kind is not None else tool.get("hash", "md5"))
    if hash_kind not in HASH_KINDS:
        origin = tool_origin(solve.hash_kind, "hash", tool, pyproject)
        raise ConfigError(f"{origin or '--hash'} must be md5 or sha256, got {hash_kind!r}")
    try:
        exclude_newer = exclude_newer_value(
            solve.exclude_newer if solve.exclude_newer is not None else tool.get("exclude-newer")
        )
    except ConfigError as exc:
        origin = tool_origin(solve.exclude_newer, "exclude-newer", tool, pyproject)
        if origin is None:
            raise
        raise ConfigError(exc.message.replace("--exclude-newer", origin, 1)) from None
    return priority, hash_kind, exclude_newer


def _platforms(
    cli: tuple[str, ...], tool: Mapping[str, Any], origin: str | None
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """``-p`` (a subset of the targets) and ``[tool.lockgen] platforms`` (the targets), each checked."""
    return check_platforms(cli or None, None), check_platforms(tool.get("platforms"), origin)


def _cuda(
    chosen: str | None, cli: str | None, tool: Mapping[str, Any], where: str, pyproject: Path | None
) -> str | int | None:
    """The ``__cuda`` version: ``chosen`` (the command line's, or the one the locks record), else the
    ``[tool.lockgen] cuda`` setting. ConfigError when the command line's or the setting's is not a
    version as conda's ``__cuda`` holds it (``12``, ``12.6``, ``11.8.0``); a TOML float (``11.10``,
    read as 11.1) is refused: a whole number (``12``) is exact, a dotted version must be quoted."""
    value: str | int | None = chosen
    given = "--cuda"
    if chosen is None:
        version_not_number(tool.get("cuda"), "cuda", where, pyproject)
        value = tool_value(tool, "cuda", (str, int), 'a version such as "12.6"', where)
        given = f"{where} cuda"
    if value is None or (chosen is not None and cli in (None, "none")):  # none, or the locks' own
        return value
    text = str(value)
    if not (text.isascii() and all(part.isdigit() for part in text.split("."))):
        raise ConfigError(
            f"{given} {text!r} is not a version: give the CUDA version the machines' driver supports, as"
            ' conda\'s __cuda virtual package has it (for example --cuda 12.6, or cuda = "12.6")'
        )
    return value


def _locations(
    flags: Flags, tool: Mapping[str, Any], pyproject: Path | None, env_file: Path, root: Path | None = None
) -> tuple[Path, Path | None, tuple[str, ...]]:
    """The lock folder, the cache folder (None: the default) and which [tool.lockgen] keys were used.
    ``root``: the project found from the working folder up (its ``locks``, wherever lockgen runs in it)."""
    solve = flags.solve
    used = (("mirrors", solve.mirrors), ("output-dir", flags.output_dir), ("cache-dir", solve.cache_dir))
    from_config = tuple(key for key, flag in used if key in tool and flag in (None, ()))
    project = lexical(env_file).parent
    output_dir = Path(flags.output_dir) if flags.output_dir is not None else Path("locks")
    if root is not None and flags.output_dir is None:
        output_dir = from_root(root, output_dir)
    if "output-dir" in from_config:
        output_dir = tool_path(tool["output-dir"], "output-dir", pyproject, project)
    check_not_linked_out(output_dir, project)
    origin = "-o" if flags.output_dir is not None else "the default"
    if "output-dir" in from_config:
        origin = f"[tool.lockgen] output-dir in {pyproject}"
    refuse_lock_folder_file(output_dir, origin)
    cache_dir = Path(solve.cache_dir) if solve.cache_dir else None
    if "cache-dir" in from_config:
        cache_dir = tool_path(tool["cache-dir"], "cache-dir", pyproject, project)
    return output_dir, cache_dir, from_config
