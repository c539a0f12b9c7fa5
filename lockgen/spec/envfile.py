"""environment.yml → :class:`~lockgen.spec.model.EnvSpec`.

Reads one or more conda environment files with line numbers kept (:mod:`lockgen.spec.yamlread`),
checks every entry (:mod:`lockgen.spec.condaspec`, :mod:`lockgen.spec.pipentry`), and reports all
problems at once as an :class:`~lockgen.errors.InputError` whose lines read ``file:line: message``.
Several files merge in order (:func:`merge_specs`: a later file wins for the same package).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import field
from pathlib import Path

import yaml

from lockgen.errors import InputError, Problem
from lockgen.filesize import SizeLimit
from lockgen.models import bad_channel_name
from lockgen.platforms import KNOWN_PLATFORMS
from lockgen.records import dataclass
from lockgen.secrets import redact
from lockgen.spec.condaspec import channel_url_problem, conda_dependency
from lockgen.spec.model import CondaDependency, EnvSpec, Location, PipEntry
from lockgen.spec.pipentry import empty_pip_before_items, parse_pip_block, pip_key
from lockgen.spec.yamlread import Reader, compose, describe, folded_item

__all__ = ["MAX_EXPANDED_NODES", "load_env_specs", "merge_specs", "other_format", "parse_env_text"]

MAX_PROBLEMS = 200
MAX_EXPANDED_NODES = 100_000
"""YAML nodes a document may hold once aliases (``*name``) are expanded: a real environment file
has a few thousand; aliases repeating a large block would otherwise make every command crawl."""
_KNOWN_KEYS = {"name", "channels", "dependencies", "platforms"}
_IGNORED_KEYS = {"prefix", "variables"}


@dataclass(slots=True)
class _Parsed:
    name: str | None = None
    channels: list[str] = field(default_factory=list)
    nodefaults: bool = False
    dependencies: list[CondaDependency] = field(default_factory=list)
    pip: list[PipEntry] | None = None
    platforms: list[str] | None = None
    channel_locations: dict[str, Location] = field(default_factory=dict)


def parse_env_text(text: str, file: str) -> EnvSpec:
    """Parse the text of one environment file. Raises InputError listing every problem."""
    reader = Reader(text, file)
    parsed = _parse(reader, text)
    if len(reader.problems) > MAX_PROBLEMS:
        more = len(reader.problems) - MAX_PROBLEMS
        reader.problems[MAX_PROBLEMS:] = [Problem(f"... and {more} more problems", file)]
    if reader.problems:
        raise InputError(reader.problems)
    return EnvSpec(
        files=(file,),
        name=parsed.name,
        channels=tuple(parsed.channels),
        nodefaults=parsed.nodefaults,
        dependencies=tuple(parsed.dependencies),
        pip=tuple(parsed.pip) if parsed.pip is not None else None,
        platforms=tuple(parsed.platforms) if parsed.platforms is not None else None,
        notes=tuple(reader.notes),
        channel_locations=tuple(parsed.channel_locations.items()),
    )


def _first_node_over_limit(root: yaml.Node) -> yaml.Node | None:
    """The node at which what lockgen reads of the document (the known top-level keys), aliases
    expanded, passes MAX_EXPANDED_NODES; None if it stays under. Stops counting there, so even a
    recursive alias costs at most that many steps. Keys lockgen ignores are never walked."""
    stack = [root]
    if isinstance(root, yaml.MappingNode):
        stack = [v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value in _KNOWN_KEYS]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_EXPANDED_NODES:
            return node
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack += (key, value)
    return None


def _parse(reader: Reader, text: str) -> _Parsed:
    parsed = _Parsed()
    if not text.strip():
        reader.problems.append(Problem("the file is empty", reader.file))
        return parsed
    root = compose(reader, text)
    if root is None:
        if not reader.problems:
            reader.problems.append(Problem("the file has no content (only comments?)", reader.file))
        return parsed
    too_big = _first_node_over_limit(root)
    if too_big is not None:
        reader.problem(
            f"the document expands to more than {MAX_EXPANDED_NODES:,} YAML nodes (aliases such as `*name`"
            " repeating a block?); write the entries out or split the file",
            too_big,
        )
        return parsed
    if not isinstance(root, yaml.MappingNode):
        reader.problem(f"top level must be a mapping (name:, channels:, dependencies:), got {describe(root)}", root)
        return parsed
    seen: set[str] = set()
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            reader.problem("top-level keys must be strings", key_node)
            continue
        if key in seen:
            reader.problem(f"duplicate top-level key {key!r}", key_node)
            continue
        seen.add(key)
        if key == "name":
            parsed.name = reader.string(value_node, "name")
        elif key == "channels":
            _parse_channels(reader, value_node, parsed)
        elif key == "dependencies":
            _parse_dependencies(reader, value_node, parsed)
        elif key == "platforms":
            _parse_platforms(reader, value_node, parsed)
        elif key in _IGNORED_KEYS:
            reader.note(f"`{key}:` is ignored by lockgen", key_node)
        else:
            reader.note(f"unknown top-level key `{key}` (ignored)", key_node, "warning")
    if "dependencies" not in seen:
        reader.problems.append(Problem("no `dependencies:` list", reader.file))
    return parsed


def _parse_channels(reader: Reader, node: yaml.Node, parsed: _Parsed) -> None:
    for item in reader.sequence(node, "channels"):
        value = reader.string(item, "a channel")
        if value is None:
            continue
        if any(ch.isspace() for ch in value):
            reader.problem(f"channel {value!r} contains white space", item)
            continue
        if bad_channel_name(value):
            reader.problem(f"invalid channel name {value!r} (a `..` segment; write a path as ./dir or /dir)", item)
            continue
        bad_url = channel_url_problem(value)
        if bad_url:
            reader.problem(f"invalid channel URL {redact(value)!r}: {bad_url}", item)
            continue
        parsed.channel_locations.setdefault(value, reader.location(item))
        if value == "nodefaults":
            parsed.nodefaults = True
        elif value not in parsed.channels:
            parsed.channels.append(value)


def _parse_platforms(reader: Reader, node: yaml.Node, parsed: _Parsed) -> None:
    parsed.platforms = []
    for item in reader.sequence(node, "platforms"):
        value = reader.string(item, "a platform")
        if value is None:
            continue
        if value not in KNOWN_PLATFORMS:
            reader.problem(f"unknown platform {value!r} (for example: linux-64, osx-arm64, win-64)", item)
        elif value not in parsed.platforms:
            parsed.platforms.append(value)


def _parse_dependencies(reader: Reader, node: yaml.Node, parsed: _Parsed) -> None:
    items = reader.sequence(node, "dependencies")
    for index, item in enumerate(items):
        if isinstance(item, yaml.MappingNode):
            if empty_pip_before_items(reader, item, items[index + 1 :]):
                return
            parsed.pip = parse_pip_block(reader, item, parsed.pip)
            continue
        value = reader.string(item, "a dependency")
        if value is None or folded_item(reader, item, value, "dependency"):
            continue
        dependency = conda_dependency(reader, value, item)
        if dependency is not None:
            parsed.dependencies.append(dependency)


_OTHER_SOURCES = 'docs/from-conda-lock.md, "Other sources"'


def other_format(path: Path, text: str) -> str | None:
    """Why a file conda-lock (or pixi) reads is not an environment file lockgen reads, with the way to
    move; None for a file that may be one (lockgen reads conda environment files only)."""
    name = path.name.lower()
    reads = "lockgen reads conda environment files (`channels:`, `dependencies:`, `pip:`) only"
    if name == "pixi.toml" or (name.endswith(".toml") and "[workspace]" in text and "pixi" in text):
        return (
            f"a pixi manifest, not an environment file: {reads}; write one with"
            f" `pixi project export conda-environment environment.yml` and lock that ({_OTHER_SOURCES})"
        )
    if name.endswith(".toml"):
        found = [k for k in ("[tool.conda-lock", "[tool.poetry", "[project]") if k in text]
        shown = f" (it has {', '.join(k.rstrip(']') + ']' for k in found)})" if found else ""
        return (
            f"a TOML file{shown}, not an environment file: {reads}. conda-lock's pyproject.toml sources"
            " (poetry, PEP 621 `[project] dependencies`, `[tool.conda-lock]`) are not read: list the conda"
            f" packages (and a `pip:` section) in an environment.yml and lock that ({_OTHER_SOURCES});"
            " lockgen's own settings go in `[tool.lockgen]`"
        )
    jinja = ("{%" in text or "{{" in text) and "package:" in text and "requirements:" in text
    if name in ("meta.yaml", "meta.yml", "recipe.yaml") or jinja:
        return (
            f"a conda-build recipe, not an environment file: {reads}; list the recipe's run requirements"
            f" under `dependencies:` of an environment.yml and lock that ({_OTHER_SOURCES})"
        )
    return None


def load_env_specs(paths: Sequence[Path | str], limit: SizeLimit | None = None) -> EnvSpec:
    """Read and merge environment files in order; later files win for the same package name. A file
    over ``limit`` (``LockOptions.limits.input_files``) is a problem, unread."""
    if not paths:
        raise InputError([Problem("no environment file given")])
    problems: list[Problem] = []
    specs: list[EnvSpec] = []
    for raw in paths:
        path = Path(raw)
        shown = str(raw)
        try:
            too_large = limit.problem(path) if limit is not None else None
            if too_large:
                problems.append(Problem(too_large, shown))
                continue
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(Problem("no such file", shown))
            continue
        except IsADirectoryError:
            problems.append(Problem("is a directory, not an environment file", shown))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(f"cannot read: {exc}", shown))
            continue
        other = other_format(path, text)
        if other is not None:
            problems.append(Problem(other, shown))
            continue
        try:
            specs.append(parse_env_text(text, shown))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return merge_specs(specs)


def merge_specs(specs: Iterable[EnvSpec]) -> EnvSpec:
    specs = list(specs)
    if len(specs) == 1:
        return specs[0]
    name: str | None = None
    channels: list[str] = []
    nodefaults = False
    deps: dict[str, CondaDependency] = {}
    pip: dict[str, PipEntry] | None = None
    platforms: tuple[str, ...] | None = None
    notes: list[Problem] = []
    locations: dict[str, Location] = {}
    for spec in specs:
        name = spec.name or name
        for channel, where in spec.channel_locations:
            locations.setdefault(channel, where)
        channels += [c for c in spec.channels if c not in channels]
        nodefaults = nodefaults or spec.nodefaults
        for dep in spec.dependencies:
            earlier = deps.pop(dep.name, None)  # later wins, and moves to the end
            if earlier is not None and earlier.location.file != dep.location.file and earlier.spec != dep.spec:
                notes.append(_override_note(earlier.spec, earlier.location, dep.spec, dep.location))
            deps[dep.name] = dep
        if spec.pip is not None:
            pip = {} if pip is None else pip
            for entry in spec.pip:
                key = pip_key(entry.text)
                old = pip.pop(key, None)
                if old is not None and old.location.file != entry.location.file and old.text != entry.text:
                    notes.append(_override_note(old.text, old.location, entry.text, entry.location, "pip "))
                pip[key] = entry
        platforms = spec.platforms if spec.platforms is not None else platforms
        notes += spec.notes
    return EnvSpec(
        files=tuple(f for s in specs for f in s.files),
        name=name,
        channels=tuple(channels),
        nodefaults=nodefaults,
        dependencies=tuple(deps.values()),
        pip=tuple(pip.values()) if pip is not None else None,
        platforms=platforms,
        notes=tuple(notes),
        channel_locations=tuple(locations.items()),
    )


def _override_note(old: str, old_at: Location, new: str, new_at: Location, kind: str = "") -> Problem:
    message = f"{kind}`{new}` replaces `{old}` from {old_at} (a later -f file wins for the same package)"
    return Problem(message, new_at.file, new_at.line, "note")
