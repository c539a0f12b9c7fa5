"""Pip requirement lines of the common shapes, read without importing packaging.

Importing ``packaging.requirements`` or ``packaging.markers`` costs 10-17 ms (they import
``packaging.utils``, which imports ``packaging.tags`` and with it ``logging``, ``subprocess`` and
``sysconfig``): more than ``check`` and a no-op ``lock`` spend on anything else of theirs
(docs/performance.md, "Round 4"). This module reads the shapes users mostly write and lockgen itself
writes in ``requirements.txt`` (``name==version ; sys_platform == "linux"``); the plain requirement
lines of an environment file are :func:`lockgen.spec.pipentry.plain_requirement_name`'s, with the
markers read here. Every function answers
``None`` for anything else, and its caller asks packaging as before: nothing here widens what is
accepted, and every answer it gives is packaging's (tests/unit/test_pipsyntax.py compares them on real
lines and on generated ones).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

__all__ = ["canonical_name", "marker_applies", "plain_marker", "plain_pin", "plain_release"]

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"

_PIN = re.compile(
    rf"(?P<name>{_NAME})==(?P<version>(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?"
    r"(?:\.dev[0-9]+)?(?:\+[a-z0-9]+(?:\.[a-z0-9]+)*)?)(?: ; (?P<marker>.+))?"
)
"""A pin as lockgen writes it: ``name==version`` (a PEP 440 version in its usual spelling), then maybe
`` ; <marker>``."""

_VARIABLES = (
    "implementation_name",
    "implementation_version",
    "os_name",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_full_version",
    "python_version",
    "sys_platform",
)
"""Marker variables read here; ``extra`` is not (packaging normalises its values), nor the dotted
aliases (``os.name``), nor a value on the left."""
_MARKER_TOKEN = re.compile(
    r"[ \t]*(?:(?P<paren>[()])|(?P<bool>and|or)(?=[ \t(])|(?P<var>[a-z_]+)(?![\w.])"
    r"|(?P<op>==|!=|<=|>=|<|>)|\"(?P<dq>[^\"\\\n]*)\"|'(?P<sq>[^'\\\n]*)')"
)
_STRING_VALUE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
"""A value that can never make a version specifier with the operator (packaging then compares the
strings): what :func:`marker_applies` evaluates itself."""
_VERSION_VARIABLES = ("implementation_version", "platform_release", "python_full_version", "python_version")
"""Compared as versions by packaging: evaluated there."""
_VERSIONISH = re.compile(r"v?[0-9]", re.IGNORECASE)

_Item = tuple[str, str, str]
_Marker = list["_Item | str | _Marker"]


def canonical_name(name: str) -> str:
    """A distribution name normalised as PEP 503 says (packaging's ``canonicalize_name``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=512)  # a lock's few distinct markers, read once per pin and per platform: never changed
def _marker(text: str) -> _Marker | None:
    """``text`` as packaging's tree of a marker (``[item, "and", [item, "or", item]]``), or None when it
    is not of the shapes read here: ``variable op "value"`` items, ``and``/``or``, and parentheses
    around at least two items."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _MARKER_TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip(" \t"):
                return None
            break
        kind = match.lastgroup or ""
        tokens.append(("str", match.group(kind)) if kind in ("dq", "sq") else (kind, match.group(kind)))
        position = match.end()
    tree, rest = _expression(tokens, 0)
    return tree if tree is not None and rest == len(tokens) else None


def _expression(tokens: list[tuple[str, str]], at: int, depth: int = 0) -> tuple[_Marker | None, int]:
    found: _Marker = []
    while True:
        atom, at = _atom(tokens, at, depth)
        if atom is None:
            return None, at
        found.append(atom)
        if at < len(tokens) and tokens[at][0] == "bool":
            found.append(tokens[at][1])
            at += 1
            continue
        return found, at


def _atom(tokens: list[tuple[str, str]], at: int, depth: int) -> tuple[_Item | _Marker | None, int]:
    if at < len(tokens) and tokens[at] == ("paren", "("):
        if depth >= 8:
            return None, at
        inner, at = _expression(tokens, at + 1, depth + 1)
        if inner is None or len(inner) < 3 or at >= len(tokens) or tokens[at] != ("paren", ")"):
            return None, at  # a group of one item: packaging's versions print it differently
        return inner, at + 1
    if at + 3 > len(tokens):
        return None, at
    (kind_var, var), (kind_op, op), (kind_value, value) = tokens[at : at + 3]
    if kind_var != "var" or var not in _VARIABLES or kind_op != "op" or kind_value != "str":
        return None, at
    return (var, op, value), at + 3


def _format(marker: _Item | str | _Marker, first: bool = True) -> str:
    """What packaging prints for a tree of the shapes :func:`_marker` reads."""
    if isinstance(marker, tuple):
        var, op, value = marker
        return f'{var} {op} "{value}"'
    if isinstance(marker, str):
        return marker
    if len(marker) == 1 and isinstance(marker[0], list):  # `(a or b)` alone: printed without the parentheses
        return _format(marker[0], first=first)
    inner = " ".join(_format(m, first=False) for m in marker)
    return inner if first else f"({inner})"


def plain_marker(text: str) -> bool:
    """Whether ``text`` is a marker of the shapes read here (which packaging accepts)."""
    return bool(text.strip(" \t")) and _marker(text) is not None


def plain_pin(spec: str) -> tuple[str, str, str | None] | None:
    """(canonical name, version, marker) of a pin written as lockgen writes it, each exactly as
    packaging reads it (the marker as ``str(Marker)`` prints it); None for any other line."""
    found = _PIN.fullmatch(spec)
    if found is None:
        return None
    marker = found.group("marker")
    if marker is not None:
        tree = _marker(marker)
        if tree is None or _format(tree) != marker:
            return None
    return canonical_name(found.group("name")), found.group("version"), marker


def marker_applies(marker: str, environment: Mapping[str, str]) -> bool | None:
    """Whether ``marker`` holds in ``environment``, as packaging evaluates it, for markers that only
    compare names (``sys_platform == "linux" or platform_machine != "arm64"``); None for any other
    marker (a version comparison, a variable ``environment`` lacks), which packaging evaluates."""
    tree = _marker(marker)
    if tree is None:
        return None
    return _evaluate(tree, environment)


def _evaluate(marker: _Marker, environment: Mapping[str, str]) -> bool | None:
    groups: list[list[bool]] = [[]]  # "and" binds tighter than "or", as in packaging
    for item in marker:
        if isinstance(item, str):
            if item == "or":
                groups.append([])
            continue
        value = _evaluate(item, environment) if isinstance(item, list) else _compare(item, environment)
        if value is None:
            return None
        groups[-1].append(value)
    return any(all(group) for group in groups)


def _compare(item: _Item, environment: Mapping[str, str]) -> bool | None:
    var, op, value = item
    if op not in ("==", "!=") or var in _VERSION_VARIABLES or var not in environment:
        return None
    if not _STRING_VALUE.fullmatch(value):
        return None
    if _VERSIONISH.match(value):
        return None
    return (environment[var] == value) is (op == "==")


def plain_release(version: str) -> tuple[int, ...] | None:
    """``1.26.4`` → ``(1, 26, 4)``: packaging's ``Version(version).release`` for a version of ASCII
    digits and dots only, which has nothing but a release (the versions of conda's pythons and of most
    pins); None for any other text."""
    parts = version.split(".")
    if not all(p.isascii() and p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)
