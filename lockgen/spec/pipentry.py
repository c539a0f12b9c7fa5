"""One line of an environment file's ``pip:`` list, checked as pip would read it, without PyYAML.

:func:`check_pip_entry`: options, URLs and paths pass to :mod:`lockgen.pypi`; a requirement must
parse, and a conda-style pin gets its fix. :func:`plain_requirement_name` reads the common shapes
without packaging (``check`` and the pip lock reader use it too). The ``pip:`` list itself is read
from the YAML document by :mod:`lockgen.spec.document`.
"""

from __future__ import annotations

import re

from lockgen.models import PLAIN_OPERATOR, PLAIN_VERSION
from lockgen.pipsyntax import plain_marker

__all__ = ["check_pip_entry", "plain_requirement_name"]

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
_CONDA_STYLE_PIN = r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*(?:\[[^\]]*\])?)\s*=(?P<op>[<>]?)\s*(?P<rest>[^=<>!~].*)$"


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
