"""environment.yml → :class:`EnvSpec`.

Reads one or more conda environment files with line numbers kept (PyYAML's composer), checks
every entry, and reports all problems at once as an :class:`~lockgen.errors.InputError` whose
lines read ``file:line: message``. Line selectors (``- pywin32  # [win]``) are kept with each entry
and applied per target platform by :meth:`EnvSpec.conda_dependencies` and :meth:`EnvSpec.pip_entries`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lockgen.channels import split_channel_spec
from lockgen.errors import InputError, Problem
from lockgen.models import PACKAGE_NAME, bad_channel_name, url_problem
from lockgen.platforms import KNOWN_PLATFORMS, evaluate_selector
from lockgen.secrets import redact

__all__ = [
    "CondaDependency",
    "EnvSpec",
    "Location",
    "PipEntry",
    "load_env_specs",
    "parse_env_text",
]

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ITEMS = 20_000
MAX_VALUE_CHARS = 4096  # longer entries are refused: YAML aliases could repeat them 20,000 times
MAX_PROBLEMS = 200
MAX_EXPANDED_NODES = 100_000
"""YAML nodes a document may hold once aliases (``*name``) are expanded: a real environment file
has a few thousand; aliases repeating a large block would otherwise make every command crawl."""
MAX_PROBLEM_CHARS = 500
_KNOWN_KEYS = {"name", "channels", "dependencies", "platforms"}
_IGNORED_KEYS = {"prefix", "variables"}
_SELECTOR = re.compile(r"#\s*\[(?P<expr>[^\]]+)\]\s*$")
_NAME = re.compile(rf"^\s*(?P<name>{PACKAGE_NAME})")
_VERSION = r"[0-9]{1,9}(?:\.[0-9]{1,9})*"
_OPERATOR = r"(?:>=|<=|>|<|!=|==)"
_PLAIN_CONDA_SPEC = re.compile(
    rf"(?:{PACKAGE_NAME}::)?{PACKAGE_NAME}"
    rf"(?: *={_VERSION}(?:\.\*)?| *{_OPERATOR}{_VERSION}(?:,{_OPERATOR}{_VERSION})*)?"
)
_PLAIN_PIP_REQUIREMENT = re.compile(
    rf"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?: *{_OPERATOR} *{_VERSION}(?: *, *{_OPERATOR} *{_VERSION})*)?"
)
"""The common shapes (``numpy``, ``python=3.11.*``, ``scipy>=1.10,<1.14``, ``wandb>=0.15``), which
rattler's MatchSpec and packaging's Requirement always accept (tests/unit/test_spec_plain.py checks
that on generated examples): they skip importing those libraries, so ``check`` and a no-op ``lock``
stay fast. Anything else is validated by the library as before."""


@dataclass(frozen=True, slots=True, order=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class CondaDependency:
    """One conda match spec as the user wrote it (``conda-forge::scipy>=1.11``)."""

    spec: str
    name: str
    channel: str | None
    selector: str | None
    location: Location


@dataclass(frozen=True, slots=True)
class PipEntry:
    """One line of the ``pip:`` list: a requirement, a URL, or an option such as ``--index-url``."""

    text: str
    selector: str | None
    location: Location


@dataclass(frozen=True, slots=True)
class EnvSpec:
    """What the environment file(s) ask for, before any platform is chosen."""

    files: tuple[str, ...]
    name: str | None
    channels: tuple[str, ...]
    nodefaults: bool
    dependencies: tuple[CondaDependency, ...]
    pip: tuple[PipEntry, ...] | None
    platforms: tuple[str, ...] | None
    notes: tuple[str, ...] = field(default=())
    channel_locations: tuple[tuple[str, Location], ...] = field(default=())
    """Where each channel (and ``defaults``) is listed: the first file and line that names it."""

    def channel_location(self, channel: str) -> Location | None:
        return next((where for name, where in self.channel_locations if name == channel), None)

    def conda_dependencies(self, platform: str) -> tuple[CondaDependency, ...]:
        return tuple(d for d in self.dependencies if _selected(d.selector, platform))

    def pip_entries(self, platform: str) -> tuple[PipEntry, ...]:
        return tuple(e for e in self.pip or () if _selected(e.selector, platform))

    @property
    def base_dir(self) -> Path:
        return Path(self.files[0]).parent if self.files else Path()


def _selected(selector: str | None, platform: str) -> bool:
    return selector is None or evaluate_selector(selector, platform)


class _Reader:
    """Walks one composed YAML document and collects entries and problems."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def problem(self, message: str, node: yaml.Node | None = None) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        if len(message) > MAX_PROBLEM_CHARS:
            message = message[: MAX_PROBLEM_CHARS - 3] + "..."
        self.problems.append(Problem(message, self.file, line))

    def location(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1)

    def selector(self, node: yaml.Node) -> str | None:
        index = node.start_mark.line
        if index >= len(self.lines):
            return None
        match = _SELECTOR.search(self.lines[index])
        if match is None:
            return None
        expr = match.group("expr").strip()
        try:
            evaluate_selector(expr, "linux-64")
        except ValueError as exc:
            self.problem(str(exc), node)
            return None
        return expr

    def string(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            kind = _describe(node)
            self.problem(f"{what} must be a string, got {kind}", node)
            return None
        value = str(node.value).strip()
        if not value:
            self.problem(f"{what} is empty", node)
            return None
        if len(value) > MAX_VALUE_CHARS:
            self.problem(f"{what} is too long ({len(value)} characters, at most {MAX_VALUE_CHARS})", node)
            return None
        return value

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(f"{what} must be a list, got {_describe(node)}", node)
            return []
        if node.tag != "tag:yaml.org,2002:seq":
            self.problem(f"{what}: YAML tag {str(node.tag)[:60]!r} is not allowed", node)
            return []
        if len(node.value) > MAX_ITEMS:
            self.problem(f"{what} has {len(node.value)} entries (at most {MAX_ITEMS})", node)
            return []
        return list(node.value)


_FOLDED_ITEM = re.compile(r"(?:^|\s)-\s+\S")


def _folded_item(reader: _Reader, node: yaml.Node, value: str, what: str) -> bool:
    """Report an entry that swallowed the next list item: ``   - numpy`` indented deeper than the
    ``- python=3.11`` above it is folded into that scalar (``python=3.11 - numpy``), which conda
    would read as a build string. Returns True when reported."""
    if not _FOLDED_ITEM.search(value):
        return False
    first, _, rest = value.partition(" - ")
    line = node.start_mark.line + 1
    for index in range(node.start_mark.line + 1, min(node.end_mark.line + 1, len(reader.lines))):
        if reader.lines[index].lstrip().startswith("-"):
            line = index + 1
            break
    shown = rest.split(" - ")[0] if rest else value
    message = (
        f"{what} {value!r} holds two list items: `- {shown}` is indented deeper than `- {first}` above it,"
        f" so YAML joined them; indent `- {shown}` like the other items"
    )
    if len(message) > MAX_PROBLEM_CHARS:
        message = message[: MAX_PROBLEM_CHARS - 3] + "..."
    reader.problems.append(Problem(message, reader.file, line))
    return True


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = str(node.tag).rsplit(":", 1)[-1]
    return {"null": "nothing", "int": "a number", "float": "a number", "bool": "true/false"}.get(
        tag, f"{tag} {str(node.value)[:60]!r}"
    )


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
    reader = _Reader(text, file)
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


def _compose(reader: _Reader, text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        reader.problems.append(_yaml_problem(exc, reader))
    except yaml.YAMLError as exc:
        reader.problems.append(Problem(f"malformed YAML: {exc}", reader.file))
    except RecursionError:
        reader.problems.append(Problem("malformed YAML: nesting too deep", reader.file))
    return None


def _yaml_problem(exc: yaml.MarkedYAMLError, reader: _Reader) -> Problem:
    """PyYAML's error at the line where the problem starts: a token it was scanning (a key that
    lacks its `:`, a quote never closed) starts at the context mark, not where PyYAML gave up."""
    scanning = bool(exc.context and str(exc.context).startswith("while scanning") and exc.context_mark)
    mark = exc.context_mark if scanning else exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    text = reader.lines[mark.line].strip() if mark is not None and mark.line < len(reader.lines) else ""
    problem = str(exc.problem or "")
    if scanning and "could not find expected ':'" in problem and text:
        key = text.split("#")[0].strip()
        return Problem(f"malformed YAML: `{key}` needs a `:` after it (write `{key}:`)", reader.file, line)
    if "'\\t'" in problem or "\\t" in problem:
        return Problem("malformed YAML: a tab character; YAML indents with spaces only", reader.file, line)
    what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
    if scanning and mark is not None and exc.problem_mark is not None and exc.problem_mark.line != mark.line:
        what += f" (PyYAML gave up at line {exc.problem_mark.line + 1})"
    return Problem(f"malformed YAML: {what}", reader.file, line)


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


def _parse(reader: _Reader, text: str) -> _Parsed:
    parsed = _Parsed()
    if not text.strip():
        reader.problems.append(Problem("the file is empty", reader.file))
        return parsed
    root = _compose(reader, text)
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
        reader.problem(f"top level must be a mapping (name:, channels:, dependencies:), got {_describe(root)}", root)
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
            reader.notes.append(f"{reader.location(key_node)}: note: `{key}:` is ignored by lockgen")
        else:
            reader.notes.append(f"{reader.location(key_node)}: warning: unknown top-level key `{key}` (ignored)")
    if "dependencies" not in seen:
        reader.problems.append(Problem("no `dependencies:` list", reader.file))
    return parsed


def _bad_url(value: str) -> str | None:
    """Why ``value``, when it is a URL, cannot be used (a malformed host or port, no host), else None."""
    if "://" not in value:
        return None
    from urllib.parse import urlsplit

    problem = url_problem(value)
    if problem:
        return problem
    parts = urlsplit(value)
    if not parts.scheme or (parts.scheme != "file" and not parts.hostname):
        return "no host name"
    return None


def _parse_channels(reader: _Reader, node: yaml.Node, parsed: _Parsed) -> None:
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
        bad_url = _bad_url(value)
        if bad_url:
            reader.problem(f"invalid channel URL {redact(value)!r}: {bad_url}", item)
            continue
        parsed.channel_locations.setdefault(value, reader.location(item))
        if value == "nodefaults":
            parsed.nodefaults = True
        elif value not in parsed.channels:
            parsed.channels.append(value)


def _parse_platforms(reader: _Reader, node: yaml.Node, parsed: _Parsed) -> None:
    parsed.platforms = []
    for item in reader.sequence(node, "platforms"):
        value = reader.string(item, "a platform")
        if value is None:
            continue
        if value not in KNOWN_PLATFORMS:
            reader.problem(f"unknown platform {value!r} (for example: linux-64, osx-arm64, win-64)", item)
        elif value not in parsed.platforms:
            parsed.platforms.append(value)


def _parse_dependencies(reader: _Reader, node: yaml.Node, parsed: _Parsed) -> None:
    items = reader.sequence(node, "dependencies")
    for index, item in enumerate(items):
        if isinstance(item, yaml.MappingNode):
            if _empty_pip_before_items(reader, item, items[index + 1 :]):
                return
            _parse_pip_block(reader, item, parsed)
            continue
        value = reader.string(item, "a dependency")
        if value is None or _folded_item(reader, item, value, "dependency"):
            continue
        dependency = _conda_dependency(reader, value, item)
        if dependency is not None:
            parsed.dependencies.append(dependency)


_BRACKET = re.compile(r"\[(?P<body>[^\[\]]*)\]")


def _without_bare_bracket_words(value: str) -> tuple[str, list[str]]:
    """``dask[complete]`` → (``dask``, [``complete``]): conda ignores bracket items that are not
    ``key=value`` (pip-style extras); the ``key=value`` items are kept."""
    dropped: list[str] = []

    def keep(match: re.Match[str]) -> str:
        items = [i.strip() for i in match.group("body").split(",") if i.strip()]
        kept = [i for i in items if "=" in i]
        dropped.extend(i for i in items if "=" not in i)
        return f"[{','.join(kept)}]" if kept else ""

    return _BRACKET.sub(keep, value).strip(), dropped


def _conda_dependency(reader: _Reader, value: str, node: yaml.Node) -> CondaDependency | None:
    if not _PLAIN_CONDA_SPEC.fullmatch(value):
        from rattler import MatchSpec

        try:
            MatchSpec(value, strict=False)
        except Exception as exc:  # rattler raises InvalidMatchSpecError and friends
            lenient, dropped = _without_bare_bracket_words(value)
            try:
                if not dropped or not lenient:
                    raise
                MatchSpec(lenient, strict=False)
            except Exception:  # conda refuses it too (only bare words were dropped)
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                reader.problem(f"invalid conda spec {value!r}: {_conda_pin_fix(value) or first}", node)
                return None
            words = ", ".join(f"`{w}`" for w in dropped)
            reader.notes.append(
                f"{reader.location(node)}: warning: `{value}`: conda ignores {words} in brackets (pip-style extras"
                f" are not conda's; conda packages have no extras), so lockgen locks `{lenient}`"
            )
            value = lenient
    head, sep, rest = value.partition("::")
    if not sep:
        head, rest = "", value
    channel = split_channel_spec(value)[0] if head else None
    if head and bad_channel_name(head):
        reader.problem(f"invalid channel {head!r} in spec {value!r}", node)
        return None
    bad_url = _bad_url(head) if head else None
    if bad_url:
        reader.problem(f"invalid channel URL in spec {redact(value)!r}: {bad_url}", node)
        return None
    match = _NAME.match(rest)
    if match is None:
        reader.problem(f"invalid conda spec {value!r}: no package name", node)
        return None
    name = match.group("name").lower()
    if name == "pip" and rest.strip().startswith("pip:"):
        reader.problem("`pip:` must be a mapping (`- pip:` followed by an indented list)", node)
        return None
    return CondaDependency(
        spec=value,
        name=name,
        channel=channel,
        selector=reader.selector(node),
        location=reader.location(node),
    )


def _empty_pip_before_items(reader: _Reader, node: yaml.MappingNode, after: Sequence[yaml.Node]) -> bool:
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


def _parse_pip_block(reader: _Reader, node: yaml.MappingNode, parsed: _Parsed) -> None:
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key != "pip":
            reader.problem(f"a mapping in dependencies must be `pip:`, got {key!r}", key_node)
            continue
        is_null = isinstance(value_node, yaml.ScalarNode) and value_node.tag == "tag:yaml.org,2002:null"
        if not isinstance(value_node, yaml.SequenceNode) and not is_null:
            reader.problem(f"`pip:` must be a list, got {_describe(value_node)}", value_node)
            continue
        entries = parsed.pip if parsed.pip is not None else []
        for item in reader.sequence(value_node, "pip"):
            text = reader.string(item, "a pip requirement")
            if text is None or _folded_item(reader, item, text, "pip entry"):
                continue
            problem = _check_pip_entry(text)
            if problem:
                reader.problem(problem, item)
                continue
            entries.append(PipEntry(text=text, selector=reader.selector(item), location=reader.location(item)))
        parsed.pip = entries


def _check_pip_entry(text: str) -> str | None:
    """Return a problem description for a pip line that cannot be valid, else None."""
    if text.startswith("-") or "://" in text or text.startswith((".", "/", "~")):
        return None
    text = text.split(" --", 1)[0].strip()  # per-requirement options (--hash=...): lockgen.pypi reads them
    if _PLAIN_PIP_REQUIREMENT.fullmatch(text):
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        fix = _pip_pin_fix(text)
        return f"invalid pip requirement {text!r}: {fix}" if fix else f"invalid pip requirement {text!r}: {first}"
    return None


_OTHER_SOURCES = "docs/from-conda-lock.md, \"Other sources\""


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


_CONDA_STYLE_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*(?:\[[^\]]*\])?)\s*=(?P<op>[<>]?)\s*(?P<rest>[^=<>!~].*)$"
)
_SWAPPED_OPERATOR = re.compile(rf"(?P<name>^{PACKAGE_NAME}(?:::)?[A-Za-z0-9_.\-]*)\s*=(?P<op>[<>])")


def _pip_pin_fix(text: str) -> str | None:
    """The fix for a conda-style pin written under ``pip:`` (``einops=0.8.0``, ``torch=2.*``, ``x=>1``)."""
    match = _CONDA_STYLE_PIN.match(text)
    if match is None:
        return None
    name, op, rest = match.group("name"), match.group("op"), match.group("rest").strip()
    rest = rest.split("=")[0].strip()  # `x=1.0=py311h0`: pip has no build strings
    if op:  # `x=>1`, `x=<2`: the two characters swapped
        return f"did you mean `{name}{op}={rest}`? (the comparison comes first: `>=`, `<=`)"
    return f"pip uses `==` for an exact version: write `{name}=={rest}` (a single `=` is conda's syntax)"


def _conda_pin_fix(value: str) -> str | None:
    """The fix for a comparison written backwards in a conda spec (``pandas=>2.0``, ``numpy=<2``)."""
    match = _SWAPPED_OPERATOR.match(value)
    if match is None:
        return None
    fixed = f"{match.group('name')}{match.group('op')}={value[match.end():].lstrip()}"
    return f"did you mean `{fixed}`? (the comparison comes first: `>=`, `<=`)"


def load_env_specs(paths: Sequence[Path | str]) -> EnvSpec:
    """Read and merge environment files in order; later files win for the same package name."""
    if not paths:
        raise InputError([Problem("no environment file given")])
    problems: list[Problem] = []
    specs: list[EnvSpec] = []
    for raw in paths:
        path = Path(raw)
        shown = str(raw)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                problems.append(Problem(f"file is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB", shown))
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
    notes: list[str] = []
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
                key = _pip_key(entry.text)
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


def _override_note(old: str, old_at: Location, new: str, new_at: Location, kind: str = "") -> str:
    return f"{new_at}: note: {kind}`{new}` replaces `{old}` from {old_at} (a later -f file wins for the same package)"


def _pip_key(text: str) -> str:
    match = _NAME.match(text)
    if text.startswith("-") or "://" in text or match is None:
        return text
    return re.sub(r"[-_.]+", "-", match.group("name")).lower()
