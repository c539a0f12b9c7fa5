"""Several environments in one project: ``[tool.lockgen.environments]`` of pyproject.toml.

Each entry names an environment (its lock files go to ``<output-dir>/<name>/``), the environment
file(s) it is made of, and optionally a ``group``, its ``platforms`` and a ``cuda`` version::

    [tool.lockgen.environments]
    cpu = { file = "environment.yml", group = "main" }
    gpu = { file = ["environment.yml", "environment-gpu.yml"], group = "main", platforms = ["linux-64"], cuda = "12.6" }
    docs = { file = "docs/environment.yml" }

Environments of one group agree on the version and build of every conda package they share, on
each platform they share (:mod:`lockgen.grouplock` solves them so). A project without the table
is one environment, exactly as before: this module only reads the table and turns each entry into
the :class:`~lockgen.config.LockOptions` the existing per-environment code runs with.

The table is as untrusted as the rest of ``[tool.lockgen]``: its paths are relative paths inside
the project (no absolute path, no ``..``, no symlink leading out), and every mistake is a
:class:`~lockgen.errors.ConfigError` (exit 2) naming the pyproject.toml line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Protocol

from lockgen.config import LockOptions, build_options, environments_table
from lockgen.errors import ConfigError
from lockgen.flags import Flags
from lockgen.platforms import KNOWN_PLATFORMS
from lockgen.project import check_lock_folder
from lockgen.recorded import Recorded, read_recorded
from lockgen.records import dataclass
from lockgen.toolconfig import toml_where, version_not_number

__all__ = [
    "TABLE",
    "EnvTarget",
    "Environment",
    "adopting",
    "check_group_options",
    "declared_environments",
    "disagreements",
    "environment_targets",
    "parse_environments",
    "pip_disagreements",
    "recorded_options",
    "select",
]

TABLE = "[tool.lockgen.environments]"
# A pattern, compiled when first used (re's cache): an up-to-date check or no-op lock never uses it.
_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,63}"
_KEYS = ("file", "group", "platforms", "cuda")


@dataclass(frozen=True, slots=True)
class Environment:
    """One entry of the table."""

    name: str
    files: tuple[Path, ...]
    """Relative to the project (pyproject.toml's folder); merged in order, later wins."""
    group: str | None = None
    """Environments of one group agree on every package they share (None: a group of its own)."""
    platforms: tuple[str, ...] | None = None
    """Over the file's ``platforms:``; None: the file's or the defaults."""
    cuda: str | None = None
    line: int | None = None
    """Its line in pyproject.toml, for messages."""
    pyproject: Path | None = None

    @property
    def where(self) -> str:
        if self.pyproject is None:
            return TABLE
        return f"{self.pyproject}:{self.line}" if self.line else str(self.pyproject)

    @property
    def solve_group(self) -> str:
        """The group it is solved with: its own name when it has none."""
        return f"group {self.group}" if self.group else f"environment {self.name}"


@dataclass(frozen=True, slots=True)
class EnvTarget:
    """An environment and the settings it is locked and checked with."""

    environment: Environment
    options: LockOptions

    @property
    def name(self) -> str:
        return self.environment.name


def _entry_lines(text: str) -> dict[str, int]:
    """Line of each environment's entry: ``name = {...}`` under the table, or its own ``[...name]`` table."""
    lines: dict[str, int] = {}
    section = ""
    header = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    key = re.compile(r"""\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*=""")
    prefix = "tool.lockgen.environments"
    for number, line in enumerate(text.splitlines(), start=1):
        found = header.match(line)
        if found:
            section = re.sub(r"\s*\.\s*", ".", found.group(1)).replace('"', "").replace("'", "")
            if section.startswith(prefix + "."):
                lines.setdefault(section[len(prefix) + 1 :].split(".")[0], number)
            continue
        if section == prefix and (k := key.match(line)):
            lines.setdefault(next(g for g in k.groups() if g), number)
        elif section == "tool.lockgen" and line.lstrip().startswith("environments."):
            name = line.lstrip()[len("environments.") :].split("=")[0].split(".")[0].strip().strip("\"'")
            lines.setdefault(name, number)
    return lines


def _relative_inside(value: str, root: Path, where: str, what: str) -> Path:
    """A path from the (PR-editable) table: relative, no ``..``, and not leading out of ``root`` through a symlink."""
    if not value.strip() or "\x00" in value:
        raise ConfigError(f"{where}: {what} must be a relative path inside the project, got {value!r}")
    for pure in (PurePosixPath(value), PureWindowsPath(value)):
        if pure.is_absolute() or pure.drive or pure.root or ".." in pure.parts:
            raise ConfigError(f"{where}: {what} must be a relative path inside the project, got {value!r}")
    path = root / value
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        raise ConfigError(f"{where}: {what} {value!r} leads out of the project (a symlink?)") from None
    try:  # messages name `environment.yml:5` as with -f, when run from the project
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _string_list(value: Any, where: str, what: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{where}: {what} must be a string or a non-empty list of strings")
    return values


def _environment(name: str, entry: Any, root: Path, pyproject: Path, line: int | None) -> Environment:
    where = f"{pyproject}:{line}" if line else f"{pyproject}: {TABLE}"
    if not re.fullmatch(_NAME, name):
        raise ConfigError(
            f"{where}: environment name {name!r} is not a plain identifier (letters, digits, `_`, `-`;"
            " starting with a letter)"
        )
    if not isinstance(entry, Mapping):
        raise ConfigError(f'{where}: environment {name} must be a table such as {{ file = "environment.yml" }}')
    unknown = sorted(set(entry) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{where}: environment {name}: unknown keys {', '.join(unknown)} (known: {', '.join(_KEYS)})")
    if "file" not in entry:
        raise ConfigError(f"{where}: environment {name} needs `file` (an environment file or a list of them)")
    files: list[Path] = []
    seen: dict[Path, str] = {}
    for text in _string_list(entry["file"], where, f"environment {name}: file"):
        path = _relative_inside(text, root, where, f"environment {name}: file")
        key = path.resolve()
        if key in seen:
            raise ConfigError(f"{where}: environment {name} lists {text!r} twice (as {seen[key]!r} before)")
        seen[key] = text
        files.append(path)
    group = entry.get("group")
    if group is not None and not (isinstance(group, str) and re.fullmatch(_NAME, group)):
        raise ConfigError(f"{where}: environment {name}: group must be a plain identifier, got {group!r}")
    platforms = None
    if "platforms" in entry:
        platforms = tuple(_string_list(entry["platforms"], where, f"environment {name}: platforms"))
        bad = [p for p in platforms if p not in KNOWN_PLATFORMS]
        if bad:
            raise ConfigError(f"{where}: environment {name}: unknown platform(s) {', '.join(bad)}")
    cuda = entry.get("cuda")
    version_not_number(cuda, "cuda", f"{where}: environment {name}:", pyproject if line else None, line)
    if cuda is not None and not (isinstance(cuda, str) and re.fullmatch(r"\d+(\.\d+)*", cuda)):
        raise ConfigError(f'{where}: environment {name}: cuda must be a version string such as "12.6", got {cuda!r}')
    return Environment(name, tuple(files), group, platforms, cuda, line, pyproject)


def parse_environments(table: Any, pyproject: Path) -> tuple[Environment, ...]:
    """The table's environments, in the order written; ConfigError (exit 2) with the line of any mistake."""
    if not isinstance(table, Mapping) or not table:
        raise ConfigError(f"{pyproject}: {TABLE} must be a table with at least one environment")
    try:
        lines = _entry_lines(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        lines = {}
    root = pyproject.parent
    found = [_environment(str(name), entry, root, pyproject, lines.get(str(name))) for name, entry in table.items()]
    folded: dict[str, Environment] = {}
    for env in found:
        other = folded.setdefault(env.name.lower(), env)
        if other is not env:
            raise ConfigError(
                f"{env.where}: environments {other.name} and {env.name} would write the same path"
                " (names differ only in case)"
            )
    _check_groups(found)
    return tuple(found)


def _check_groups(found: Sequence[Environment]) -> None:
    """In a group whose platforms are all written in the table, each member shares one with another."""
    groups: dict[str, list[Environment]] = {}
    for env in found:
        if env.group:
            groups.setdefault(env.group, []).append(env)
    for group, members in groups.items():
        if len(members) > 1 and all(m.platforms is not None for m in members):
            check_group_platforms(group, [(m, set(m.platforms or ())) for m in members])


def check_group_platforms(group: str, members: Sequence[tuple[Environment, set[str]]]) -> None:
    """ConfigError naming the member of ``group`` that shares no platform with any other member."""
    for env, platforms in members:
        others = set().union(*(p for e, p in members if e is not env))
        if not platforms & others:
            raise ConfigError(
                f"{env.where}: environment {env.name} shares no platform with the rest of group {group}"
                f" ({', '.join(sorted(platforms)) or 'none'} vs {', '.join(sorted(others)) or 'none'});"
                " give them a common platform or separate groups"
            )


def declared_environments(files: Sequence[Path]) -> tuple[Environment, ...] | None:
    """The project's environments, or None when pyproject.toml (beside the first file) has no table."""
    found = environments_table(files)
    return None if found is None else parse_environments(*found)


def select(environments: Sequence[Environment], names: Sequence[str]) -> tuple[Environment, ...]:
    """Those named (all when ``names`` is empty), in the table's order; an unknown name is a ConfigError."""
    if not names:
        return tuple(environments)
    known = {e.name: e for e in environments}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown environment(s) {', '.join(unknown)}; {TABLE} declares {', '.join(known)}")
    return tuple(e for e in environments if e.name in set(names))


def with_groups(environments: Sequence[Environment], chosen: Sequence[Environment]) -> tuple[Environment, ...]:
    """``chosen`` and every other member of their groups (a group is locked together), in table order."""
    groups = {e.group for e in chosen if e.group}
    names = {e.name for e in chosen}
    return tuple(e for e in environments if e.name in names or (e.group and e.group in groups))


def environment_targets(
    files: Sequence[Path], flags: Flags, names: Sequence[str], *, whole_groups: bool = False
) -> tuple[EnvTarget, ...] | None:
    """Each chosen environment with its settings (``flags`` over ``[tool.lockgen]``, the entry over
    both for its files, platforms and cuda, locks in ``<output-dir>/<name>/``); None without the
    table. ``-e`` without the table, or ``-f`` with it, is a ConfigError."""
    environments = declared_environments(files)
    if environments is None:
        if names:
            raise ConfigError(f"-e/--environment needs {TABLE} in pyproject.toml (see README, Several environments)")
        return None
    if files:
        raise ConfigError(
            f"pyproject.toml declares {TABLE}: choose environments with -e NAME instead of -f"
            f" ({', '.join(e.name for e in environments)})"
        )
    chosen = select(environments, names)
    if whole_groups:
        chosen = with_groups(environments, chosen)
    base = build_options(files, flags, recorded=Recorded())  # the locks straight in locks/ are no environment's
    recorded = recorded_options(environments, chosen, base.output_dir, base.filename_template)
    targets = []
    for env in chosen:
        platforms = base.platforms
        if env.platforms is not None:  # the entry's platforms win over [tool.lockgen]'s; -p picks among them
            platforms = tuple(p for p in flags.platforms if p in env.platforms) if flags.platforms else None
            if platforms == ():
                continue
        output_dir = base.output_dir / env.name
        check_lock_folder(output_dir, env.pyproject.parent if env.pyproject is not None else Path.cwd())
        # the entry's cuda wins over --cuda and [tool.lockgen]; the options its own locks record fill the rest
        own = base
        if recorded[env.name].reusable:
            solve = flags.solve if env.cuda is None else replace(flags.solve, cuda=env.cuda)
            own = build_options(files, replace(flags, solve=solve), recorded=recorded[env.name])
        options = replace(
            own,
            cuda=env.cuda if env.cuda is not None else own.cuda,
            files=env.files,
            output_dir=output_dir,
            platforms=platforms,
            environment_platforms=env.platforms,
        )
        targets.append(EnvTarget(env, options))
    return tuple(targets)


_SHARED = ("channel-priority", "exclude-newer", "hash")
"""Recorded options a group member without locks of its own takes from the rest of its group."""


def recorded_options(
    environments: Sequence[Environment], chosen: Sequence[Environment], root: Path, template: str
) -> dict[str, Recorded]:
    """What each of ``chosen``'s locks (``root/<name>/``) say they were made with, as a single
    environment's locks say it (:func:`lockgen.recorded.read_recorded`). An environment whose locks
    say nothing (none yet) takes, in this order: what the rest of its group's locks agree on for
    channel priority, exclude-newer and hash (not cuda or virtual packages, which differ by
    environment); else what the locks straight in ``root`` say (a project moving to the table)."""
    wanted = {e.group for e in chosen if e.group}
    reading = [e for e in environments if e in chosen or (e.group and e.group in wanted)]
    own = {e.name: read_recorded(root / e.name, template) for e in reading}
    before: Recorded | None = None
    found: dict[str, Recorded] = {}
    for env in chosen:
        mine = own[env.name]
        others = [own[e.name].options for e in reading if e.group and e.group == env.group and own[e.name].options]
        if not mine.options and others:
            first = others[0]
            agreed = {k: first[k] for k in _SHARED if k in first and all(o.get(k) == first[k] for o in others)}
            mine = Recorded(agreed, mine.overrides)
        elif not mine.options:
            before = read_recorded(root, template) if before is None else before
            mine = before
        found[env.name] = mine
    return found


def check_group_options(targets: Sequence[EnvTarget]) -> None:
    """A group is solved as one: its members must agree on channel priority and exclude-newer. They
    do unless their locks record different ones (locked apart, or edited); ConfigError (exit 2)
    naming each member's value and the option that settles it."""
    groups: dict[str, list[EnvTarget]] = {}
    for target in targets:
        if target.environment.group:
            groups.setdefault(target.environment.group, []).append(target)
    for group, members in groups.items():
        for option in ("--channel-priority", "--exclude-newer"):
            values = {m.name: _solve_option(m.options, option) for m in members}
            if len(set(values.values())) > 1:
                told = "; ".join(f"{name} {v}" for name, v in values.items())
                choices = " or ".join(f"`{option} {v}`" for v in dict.fromkeys(values.values()))
                key = option.removeprefix("--")
                raise ConfigError(
                    f"{members[0].environment.where}: group {group} is solved as one, but its environments' locks"
                    f" record different {option} ({told}); lock the group with one: {choices}"
                    f" (or set {key} in [tool.lockgen])"
                )


class _Held(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def build(self) -> str: ...


class _Pinned(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...


def disagreements(solutions: Mapping[str, Sequence[_Held]]) -> list[str]:
    """Packages two of ``solutions`` (environment name → packages of one platform) hold in different
    versions or builds: ``numpy: cpu has 2.1.0 (py312_0); gpu has 1.26.4 (py312_0)``."""
    held: dict[str, dict[tuple[str, str], list[str]]] = {}
    for name, packages in solutions.items():
        for p in packages:
            held.setdefault(p.name, {}).setdefault((p.version, p.build), []).append(name)
    lines = []
    for package, states in sorted(held.items()):
        if len(states) > 1:
            shown = "; ".join(
                f"{', '.join(names)} {'have' if len(names) > 1 else 'has'} {version} ({build})"
                for (version, build), names in states.items()
            )
            lines.append(f"{package}: {shown}")
    return lines


def pip_disagreements(pins: Mapping[str, Mapping[str, Sequence[_Pinned]]]) -> list[str]:
    """Pip packages two of ``pins`` (environment name → platform → its requirements.txt pins that
    apply there) pin at different versions on a platform both lock for, as ``lock`` resolves a
    group's pip sections: platform by platform. ``helper: train has 1.0; serve has 2.0 (win-64)``,
    the platforms where the same difference holds named together."""
    found: dict[str, list[str]] = {}
    for platform in sorted({p for by_platform in pins.values() for p in by_platform}):
        held: dict[str, dict[str, set[str]]] = {}
        for env, by_platform in pins.items():
            for pin in by_platform.get(platform, ()):
                held.setdefault(pin.name, {}).setdefault(env, set()).add(pin.version)
        for name, by_env in sorted(held.items()):
            if len({frozenset(v) for v in by_env.values()}) > 1:
                line = f"{name}: " + "; ".join(f"{env} has {', '.join(sorted(v))}" for env, v in by_env.items())
                found.setdefault(line, []).append(platform)
    return [f"{line} ({', '.join(platforms)})" for line, platforms in sorted(found.items())]


def one_environment_options(files: Sequence[Path], flags: Flags, name: str | None) -> LockOptions:
    """The settings of one environment, for commands that read one (``explain``, ``install``): ``-e
    NAME``'s with the table, as before without it. With the table and no ``-e``, the only environment
    declared, or a ConfigError listing them."""
    targets = environment_targets(files, flags, (name,) if name else ())
    if targets is None:
        return build_options(files, flags)
    if len(targets) != 1:
        raise ConfigError(
            f"pyproject.toml declares several environments: choose one with -e NAME"
            f" ({', '.join(t.name for t in targets)})"
        )
    return targets[0].options


def environment_options(files: Sequence[Path], flags: Flags, names: Sequence[str]) -> tuple[LockOptions, ...]:
    """The settings of each chosen environment (all without ``-e``), or the one set of settings
    without the table: for commands that go over every lock folder (``verify``)."""
    targets = environment_targets(files, flags, names)
    return (build_options(files, flags),) if targets is None else tuple(t.options for t in targets)


def adopting(targets: Sequence[EnvTarget], flags: Flags, names: Sequence[str]) -> EnvTarget | None:
    """The environment ``lock --from``/``--conda-lock-file`` are for, locked on its own as one
    environment into ``<output-dir>/<name>/`` (None: neither option is given). They concern one
    environment's lock: without exactly one ``-e NAME``, for a member of a group (locked together),
    or from ``[tool.lockgen] conda-lock-file`` (one path for every environment), a ConfigError
    (exit 2) says so and how to do it; never is one environment locked silently instead of all."""
    lock = flags.lock
    given = [o for o, v in (("--from", lock.from_lock), ("--conda-lock-file", lock.conda_lock_file)) if v]
    tool_file = [t for t in targets if t.options.conda_lock_file is not None] if not lock.conda_lock_file else []
    if tool_file:
        env = tool_file[0].environment
        where = toml_where(env.pyproject, "conda-lock-file") if env.pyproject else "[tool.lockgen]"
        raise ConfigError(
            f"{where}: conda-lock-file names one file, and {TABLE} declares several environments; remove it"
            f" and write each environment's with `lockgen lock -e NAME --conda-lock-file PATH`"
        )
    if not given:
        return None
    options = " and ".join(given)
    concern = f"{options} {'are' if len(given) > 1 else 'is'} for one environment's lock"
    if len(set(names)) != 1:
        known = ", ".join(dict.fromkeys(t.name for t in targets)) or "none"
        raise ConfigError(
            f"{concern}, and {TABLE} declares the project's environments: name the one it is for with"
            f" -e NAME (one of {known}); the others keep their locks"
        )
    name = names[0]
    found = [t for t in targets if t.name == name]
    if not found:
        raise ConfigError(f"-e {name} {options}: -p chose none of environment {name}'s platforms")
    target = found[0]
    if len(targets) > 1:  # -e NAME brought the rest of its group
        env = target.environment
        others = ", ".join(t.name for t in targets)
        raise ConfigError(
            f"-e {name} {options}: {name} is locked together with its group {env.group} ({others}), and {concern}:"
            f" remove `group` from {name}'s entry ({env.where}) for one"
            f" `lockgen lock -e {name} {' '.join(f'{o} PATH' for o in given)}`, then put it back;"
            " `lockgen lock` keeps the pins the group allows"
        )
    return target


def _solve_option(options: LockOptions, option: str) -> str:
    """The value of ``--channel-priority`` or ``--exclude-newer`` in ``options``, as the locks record it."""
    if option == "--channel-priority":
        return options.channel_priority
    return options.exclude_newer.isoformat() if options.exclude_newer else "none"
