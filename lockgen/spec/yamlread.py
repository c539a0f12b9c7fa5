"""Reading a composed YAML document with line numbers: :class:`Reader` collects ``file:line`` problems.

PyYAML's composer keeps each node's marks; :func:`compose` turns its errors into problems at the
line where they start, :class:`Reader` checks a node's kind (a string, a list) and reads an
entry's ``# [selector]``, :func:`folded_item` catches a list item YAML folded into the one above.
"""

from __future__ import annotations

import re

import yaml

from lockgen.errors import Problem, Severity
from lockgen.platforms import evaluate_selector
from lockgen.spec.model import Location

__all__ = ["MAX_ITEMS", "MAX_PROBLEM_CHARS", "MAX_VALUE_CHARS", "Reader", "compose", "describe", "folded_item"]

MAX_ITEMS = 20_000
MAX_VALUE_CHARS = 4096  # longer entries are refused: YAML aliases could repeat them 20,000 times
MAX_PROBLEM_CHARS = 500
_SELECTOR = re.compile(r"#\s*\[(?P<expr>[^\]]+)\]\s*$")


class Reader:
    """Walks one composed YAML document and collects entries and problems."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.problems: list[Problem] = []
        self.notes: list[Problem] = []

    def problem(self, message: str, node: yaml.Node | None = None) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        if len(message) > MAX_PROBLEM_CHARS:
            message = message[: MAX_PROBLEM_CHARS - 3] + "..."
        self.problems.append(Problem(message, self.file, line))

    def note(self, message: str, node: yaml.Node, severity: Severity = "note") -> None:
        self.notes.append(Problem(message, self.file, node.start_mark.line + 1, severity))

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
            kind = describe(node)
            self.problem(f"{what} must be a string, got {kind}{_colon_hint(node)}{_number_hint(node)}", node)
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
            self.problem(f"{what} must be a list, got {describe(node)}", node)
            return []
        if node.tag != "tag:yaml.org,2002:seq":
            self.problem(f"{what}: YAML tag {str(node.tag)[:60]!r} is not allowed", node)
            return []
        if len(node.value) > MAX_ITEMS:
            self.problem(f"{what} has {len(node.value)} entries (at most {MAX_ITEMS})", node)
            return []
        return list(node.value)


_FOLDED_ITEM = re.compile(r"(?:^|\s)-\s+\S")


def folded_item(reader: Reader, node: yaml.Node, value: str, what: str) -> bool:
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


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = str(node.tag).rsplit(":", 1)[-1]
    return {"null": "nothing", "int": "a number", "float": "a number", "bool": "true/false"}.get(
        tag, f"{tag} {str(node.value)[:60]!r}"
    )


def compose(reader: Reader, text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        reader.problems.append(_yaml_problem(exc, reader))
    except yaml.YAMLError as exc:
        reader.problems.append(Problem(f"malformed YAML: {exc}", reader.file))
    except RecursionError:
        reader.problems.append(Problem("malformed YAML: nesting too deep", reader.file))
    return None


def _yaml_problem(exc: yaml.MarkedYAMLError, reader: Reader) -> Problem:
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


def _number_hint(node: yaml.Node) -> str:
    """For a number where text is meant (``- 3.10`` reads as 3.1): quote it, as written."""
    if not (isinstance(node, yaml.ScalarNode) and node.tag in (_INT, _FLOAT)) or len(node.value) > 60:
        return ""
    return f' (YAML reads {node.value} as a number: quote it, "{node.value}")'


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


def _colon_hint(node: yaml.Node) -> str:
    """For a line YAML read as a mapping because it ends with a colon (``- --only-binary :all:``): quote it."""
    if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
        return ""
    key, value = node.value[0]
    empty = isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null" and not value.value
    if not (isinstance(key, yaml.ScalarNode) and empty and (" " in key.value or key.value.startswith("-"))):
        return ""
    return f" (YAML reads a line ending with `:` as a mapping: quote it, `- '{key.value}:'`)"
