"""One environment file's text → :class:`~lockgen.spec.model.EnvSpec`, with PyYAML.

Composes the document with line numbers kept (:mod:`lockgen.spec.yamlread`), checks every entry
(:mod:`lockgen.spec.condaspec`, :mod:`lockgen.spec.pipentry`), and reports all problems at once as an
:class:`~lockgen.errors.InputError` whose lines read ``file:line: message``. Reading the files and
merging them is :mod:`lockgen.spec.envfile`'s, which imports this module only for a text its memo
does not hold (:mod:`lockgen.spec.memo`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field

import yaml

from lockgen.errors import InputError, Problem
from lockgen.models import bad_channel_name
from lockgen.platforms import KNOWN_PLATFORMS
from lockgen.records import dataclass
from lockgen.secrets import redact
from lockgen.spec.condaspec import channel_url_problem, conda_dependency
from lockgen.spec.model import CondaDependency, EnvSpec, Location, PipEntry
from lockgen.spec.pipentry import check_pip_entry
from lockgen.spec.yamlread import Reader, compose, describe, folded_item

__all__ = ["MAX_EXPANDED_NODES", "MAX_PROBLEMS", "parse_env_text"]

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


def empty_pip_before_items(reader: Reader, node: yaml.MappingNode, after: Sequence[yaml.Node]) -> bool:
    """Report ``- pip:`` with nothing under it followed by more items at its own level: the pip
    requirements were written at the conda level (a common slip), so conda would get them and the
    pip section would be empty. Returns True when reported."""
    pip = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == "pip"]
    empty = bool(pip) and isinstance(pip[0], yaml.ScalarNode) and pip[0].tag == "tag:yaml.org,2002:null"
    below = [n for n in after if isinstance(n, yaml.ScalarNode) and n.tag == "tag:yaml.org,2002:str"]
    if not empty or not below:
        return False
    shown = ", ".join(f"`- {n.value}`" for n in below[:3]) + (f" and {len(below) - 3} more" if len(below) > 3 else "")
    pip_line = node.start_mark.line + 1
    reader.problem(
        f"`- pip:` (line {pip_line}) has nothing indented under it, and the items after it ({shown}) are at"
        " the conda level, so they would be locked as conda packages and the pip section left empty; indent"
        " them under `- pip:` (two more spaces), or move the conda ones above `- pip:`",
        below[0],
    )
    return True


def parse_pip_block(reader: Reader, node: yaml.MappingNode, pip: list[PipEntry] | None) -> list[PipEntry] | None:
    """``pip`` (the entries read so far, None: no ``pip:`` yet) with those of a ``- pip:`` mapping added."""
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key != "pip":
            reader.problem(f"a mapping in dependencies must be `pip:`, got {key!r}", key_node)
            continue
        is_null = isinstance(value_node, yaml.ScalarNode) and value_node.tag == "tag:yaml.org,2002:null"
        if not isinstance(value_node, yaml.SequenceNode) and not is_null:
            reader.problem(f"`pip:` must be a list, got {describe(value_node)}", value_node)
            continue
        entries = pip if pip is not None else []
        for item in reader.sequence(value_node, "pip"):
            text = reader.string(item, "a pip requirement")
            if text is None or folded_item(reader, item, text, "pip entry"):
                continue
            problem = check_pip_entry(text)
            if problem:
                reader.problem(problem, item)
                continue
            entries.append(PipEntry(text=text, selector=reader.selector(item), location=reader.location(item)))
        pip = entries
    return pip
