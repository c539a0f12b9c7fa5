"""The ``pip:`` list of an environment file: :func:`parse_pip_block` reads it into :class:`PipEntry`s.

Each line is checked as pip would read it (:func:`check_pip_entry`: options, URLs and paths pass
to :mod:`lockgen.pypi`; a requirement must parse, a conda-style pin gets its fix); an empty
``- pip:`` followed by items at the conda level is reported; :func:`pip_key` is the name later
files override an entry by.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

from lockgen.models import PLAIN_OPERATOR, PLAIN_VERSION
from lockgen.pipsyntax import plain_marker
from lockgen.spec.condaspec import LEADING_NAME
from lockgen.spec.model import PipEntry
from lockgen.spec.yamlread import Reader, describe, folded_item

__all__ = ["check_pip_entry", "empty_pip_before_items", "parse_pip_block", "pip_key", "plain_requirement_name"]

_PLAIN_PIP_REQUIREMENT = re.compile(
    rf"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    rf"(?: *{PLAIN_OPERATOR} *{PLAIN_VERSION}(?: *, *{PLAIN_OPERATOR} *{PLAIN_VERSION})*)?"
)
"""The common shapes of a pip requirement (``numpy``, ``wandb>=0.15``, ``scipy>=1.10,<1.14``), which
packaging's Requirement always accepts (tests/unit/test_spec_plain.py checks that on generated
examples): they skip importing packaging, so ``check`` and a no-op ``lock`` stay fast. Anything
else is validated by packaging."""


def plain_requirement_name(text: str) -> str | None:
    """The name (as written) of a requirement of the plain shapes (:data:`_PLAIN_PIP_REQUIREMENT`, then
    maybe ``; <marker>`` of the shapes :func:`lockgen.pipsyntax.plain_marker` reads), which packaging
    accepts; None for any other line (packaging reads it)."""
    head, semicolon, marker = text.partition(";")
    found = _PLAIN_PIP_REQUIREMENT.fullmatch(head.rstrip(" \t") if semicolon else head)
    if found is None or (semicolon and not plain_marker(marker)):
        return None
    return found.group("name")


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


def check_pip_entry(text: str) -> str | None:
    """Return a problem description for a pip line that cannot be valid, else None."""
    if text.startswith("-") or "://" in text or text.startswith((".", "/", "~")) or "${" in text:
        return None  # ${VAR}: refused where pip lines are read, saying why (pip and uv would expand it)
    text = text.split(" --", 1)[0].strip()  # per-requirement options (--hash=...): lockgen.pypi reads them
    if plain_requirement_name(text) is not None:
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        fix = _pip_pin_fix(text)
        return f"invalid pip requirement {text!r}: {fix}" if fix else f"invalid pip requirement {text!r}: {first}"
    return None


# A pattern, compiled when first used (re's cache): an up-to-date check or no-op lock never uses it.
_CONDA_STYLE_PIN = (
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*(?:\[[^\]]*\])?)\s*=(?P<op>[<>]?)\s*(?P<rest>[^=<>!~].*)$"
)


def _pip_pin_fix(text: str) -> str | None:
    """The fix for a conda-style pin written under ``pip:`` (``einops=0.8.0``, ``torch=2.*``, ``x=>1``)."""
    match = re.match(_CONDA_STYLE_PIN, text)
    if match is None:
        return None
    name, op, rest = match.group("name"), match.group("op"), match.group("rest").strip()
    rest = rest.split("=")[0].strip()  # `x=1.0=py311h0`: pip has no build strings
    if op:  # `x=>1`, `x=<2`: the two characters swapped
        return f"did you mean `{name}{op}={rest}`? (the comparison comes first: `>=`, `<=`)"
    return f"pip uses `==` for an exact version: write `{name}=={rest}` (a single `=` is conda's syntax)"


def pip_key(text: str) -> str:
    match = LEADING_NAME.match(text)
    if text.startswith("-") or "://" in text or match is None:
        return text
    return re.sub(r"[-_.]+", "-", match.group("name")).lower()
