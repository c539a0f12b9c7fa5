"""An unsolvable platform on one screen: the summary lines and the shortest conflict chain of the
solver's explanation; the whole explanation kept aside (a file the message names, ``-v``).

rattler explains a failed solve as a tree (``├─``/``└─``, three columns per level): a root for
each spec that cannot be installed, a child per group of candidate versions, down to a leaf that
says why (``..., for which no candidates were found.``, ``..., which conflicts with the versions
reported above.``) or names a version that could be installed (one side of a conflict). For a real
environment the tree runs to hundreds or thousands of lines; the path from a root to its nearest
leaf that says why is the shortest complete reason, and enough to act on; a conflict is drawn
beside the branch it conflicts with, so both sides show. Pure functions on text, tested on rattler's
recorded trees (tests/unit/test_rattler_output.py, tests/unit/test_messages.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import field
from pathlib import Path

from lockgen.errors import SolveError
from lockgen.records import dataclass

__all__ = [
    "KEEP_EXPLANATIONS",
    "KEEP_EXPLANATION_DAYS",
    "SCREEN_LINES",
    "NoSolution",
    "conflicting_branch",
    "fit_screen",
    "keep_explanation",
    "shortest_chain",
]

SCREEN_LINES = 25
"""What an unsolvable lock prints at most (every platform together), the footer included."""
_WHOLE_TREE_LINES = 8
"""A tree this short is shown whole."""
_LIMITS = ((3, 6, True), (2, 4, True), (1, 3, True), (1, 3, False))
"""(summary lines, lines a chain, whether a conflict's other side is drawn beside its chain) per
platform, tried in order until every platform fits the screen."""


@dataclass(slots=True)
class _Node:
    text: str
    children: list[_Node] = field(default_factory=list)


def _parse(tree: str) -> list[_Node]:
    roots: list[_Node] = []
    stack: list[tuple[int, _Node]] = []
    for raw in tree.splitlines():
        if not raw.strip():
            continue
        marker = min((i for i in (raw.find("├─"), raw.find("└─")) if i >= 0), default=-1)
        depth = marker // 3 + 1 if marker >= 0 else 0
        node = _Node(raw[marker + 2 :].strip() if marker >= 0 else raw.strip())
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((depth, node))
    return roots


def _paths(node: _Node) -> list[list[str]]:
    if not node.children:
        return [[node.text]]
    return [[node.text, *rest] for child in node.children for rest in _paths(child)]


_WHY = (
    "for which no candidates were found",  # nothing matches the requirement
    "No candidates were found for",  # ... a requested spec
    "there are no viable options",  # its options are drawn elsewhere in the tree (shown once)
    "conflicts with",  # another branch installs another version (or constrains it): "reported above"
    "is excluded because",  # strict channel priority, exclude_newer
    "is locked, but",
    "cannot be fulfilled",  # a constraint (a group's agreement) no candidate meets: ``the constraint lib <1.2 ...``
)
"""What a leaf of the tree says when it is why the request fails; any other leaf is a version the
solver could install (``lib 1.0`` under ``..., which can be installed with any of the following options:``)."""
_CONSTRAINT = "the constraint "


def _conflicting_package(leaf: str) -> str | None:
    """The package a leaf says is in conflict with something drawn above it, if it says so."""
    if leaf.startswith(_CONSTRAINT) and "cannot be fulfilled" in leaf:
        return leaf.removeprefix(_CONSTRAINT).split(maxsplit=1)[0]
    return leaf.split(maxsplit=1)[0] if "conflicts with" in leaf else None


def _failing(path: Sequence[str]) -> bool:
    return any(why in path[-1] for why in _WHY)


def shortest_chain(tree: str) -> tuple[list[str], int]:
    """The shortest root-to-leaf path of a rattler explanation that ends where the solver says why
    (a leaf in :data:`_WHY`; the first one found among equals), and how many such conflict chains
    the tree has. A path ending at a version that can be installed is one side of a conflict, not
    its reason: it is shown only beside the chain whose leaf conflicts with it (:func:`conflicting_branch`).
    A tree without such a leaf (wording rattler does not use yet): the shortest of all its paths."""
    paths = [p for root in _parse(tree) for p in _paths(root)]
    failing = [p for p in paths if _failing(p)] or paths
    if not failing:
        return [], 0
    return min(failing, key=len), len(failing)


def conflicting_branch(tree: str, chain: Sequence[str]) -> list[str]:
    """When ``chain`` (a root-to-leaf path of the tree) ends saying that its version ``conflicts with``
    versions reported above (or that ``the constraint ...`` on a package ``cannot be fulfilled``),
    the path of the tree it conflicts with: one with a step on the same package (``lib 1.5, which
    conflicts ...`` → ``lib <1.2, which can be installed ...``), drawn before it, a branch that can
    be installed rather than another failure, the shortest among equals; else empty."""
    name = _conflicting_package(chain[-1]) if chain else None
    if name is None:
        return []
    paths = [p for root in _parse(tree) for p in _paths(root)]
    at = next((i for i, p in enumerate(paths) if p == list(chain)), len(paths))
    same = [
        (i > at, _failing(p), len(p), i)
        for i, p in enumerate(paths)
        if i != at and any(step.split()[:1] == [name] for step in p)
    ]
    return paths[min(same)[3]] if same else []


def _elide(chain: Sequence[str], most: int) -> list[str]:
    """``chain`` in at most ``most`` steps: its middle replaced by ``… N more steps``."""
    if len(chain) <= most:
        return list(chain)
    head = max(1, most // 2 - 1)
    tail = most - head - 1
    return [*chain[:head], f"… {len(chain) - head - tail} more steps", *chain[len(chain) - tail :]]


def _render_chain(chain: Sequence[str], most: int) -> list[str]:
    """``chain`` drawn as the tree draws it, one node a line; longer than ``most`` lines: the middle elided."""
    shown = _elide(chain, most)
    return [f"{'   ' * (position - 1)}└─ {text}" if position else text for position, text in enumerate(shown)]


def _render_fork(other: Sequence[str], chain: Sequence[str], most: int) -> list[str]:
    """Two root-to-leaf paths drawn as the tree draws them: their common first steps once, then
    ``other`` (above, as in the tree) and ``chain``, each elided to ``most`` lines; paths from
    different roots are drawn one after the other."""
    shared = 0
    while shared < min(len(other), len(chain)) - 1 and other[shared] == chain[shared]:
        shared += 1
    if not shared:
        return [*_render_chain(other, most), *_render_chain(chain, most)]
    trunk = _render_chain(chain[:shared], most)
    indent = "   " * (shared - 1)
    lines = [*trunk]
    for steps, fork, bar in ((other[shared:], "├─", "│  "), (chain[shared:], "└─", "   ")):
        for depth, text in enumerate(_elide(steps, most)):
            lines.append(f"{indent}{fork} {text}" if not depth else f"{indent}{bar}{'   ' * (depth - 1)}└─ {text}")
    return lines


@dataclass(frozen=True, slots=True)
class _Unsolvable:
    platform: str
    hints: tuple[str, ...]
    tree: str


class NoSolution(SolveError):
    """One platform's unsolvable request: summary lines (``hints``) and rattler's whole ``tree``;
    its message is the short form (:func:`render`), ``details`` the whole explanation."""

    def __init__(self, platform: str, hints: Sequence[str], tree: str) -> None:
        self.parts = (_Unsolvable(platform, tuple(hints), tree.rstrip()),)
        super().__init__(render(self.parts[0], *_LIMITS[0]), (platform,))
        self.details = "\n".join([f"{platform}: no solution.", *(f"  {h}" for h in hints), _indent(tree)])


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.rstrip().splitlines())


def render(part: _Unsolvable, most_hints: int, most_chain: int, both_sides: bool) -> str:
    """One platform's short form: headline, at most ``most_hints`` summary lines, the tree itself
    when short, else its shortest conflict chain in at most ``most_chain`` lines, and (``both_sides``)
    when that chain ends in a conflict, the branch it conflicts with drawn beside it, as long."""
    lines = [f"{part.platform}: no solution."]
    hints = list(part.hints)
    lines += [f"  {h}" for h in hints[:most_hints]]
    if len(hints) > most_hints:
        lines.append(f"  … and {len(hints) - most_hints} more lines like these in the whole explanation")
    tree_lines = part.tree.splitlines()
    if len(tree_lines) <= _WHOLE_TREE_LINES:
        return "\n".join([*lines, _indent(part.tree)])
    chain, count = shortest_chain(part.tree)
    if not chain:
        return "\n".join([*lines, _indent("\n".join(tree_lines[:most_chain]))])
    other = conflicting_branch(part.tree, chain) if both_sides else []
    beside = ", beside what it conflicts with" if other else ""
    lines.append(f"  the shortest of {count} conflict chains the solver reports{beside}:" if count > 1 else "  why:")
    drawn = _render_fork(other, chain, most_chain) if other else _render_chain(chain, most_chain)
    lines += [f"    {line}" for line in drawn]
    return "\n".join(lines)


def _platform_words(platform: str) -> re.Pattern[str]:
    """``platform`` as a word of its own: not the tail of a package name such as ``gcc_linux-64``."""
    return re.compile(rf"(?<![\w.-]){re.escape(platform)}(?![\w.-])")


def fit_screen(parts: Sequence[_Unsolvable], others: Sequence[tuple[str, str]]) -> str:
    """Every unsolvable platform's short form, the same text said once for the platforms it
    concerns, tightened until the whole fits :data:`SCREEN_LINES` (one line left for the footer);
    ``others``: (platform, message) of platforms that failed otherwise (unknown names)."""
    text = ""
    for most_hints, most_chain, both_sides in _LIMITS:
        bodies: dict[str, list[str]] = {}  # the platform's name in a body stands for every platform sharing it
        for part in parts:
            body = render(part, most_hints, most_chain, both_sides).removeprefix(f"{part.platform}: ")
            bodies.setdefault(_platform_words(part.platform).sub("\0", body), []).append(part.platform)
        for platform, message in others:
            body = message.removeprefix(f"{platform}: ")
            bodies.setdefault(_platform_words(platform).sub("\0", body), []).append(platform)
        text = "\n\n".join(f"{', '.join(ps)}: {body.replace(chr(0), ', '.join(ps))}" for body, ps in bodies.items())
        if len(text.splitlines()) < SCREEN_LINES:
            break
    return text


def keep_explanation(details: str, cache_dir: Path) -> Path | None:
    """Write the whole explanation under ``cache_dir/explanations/`` (named by its content, so a
    re-run finds the same file, and counts as new); None when that is not possible (the message
    then points to ``-v``). The folder stays bounded: see :func:`_prune`."""
    import os

    folder = cache_dir / "explanations"
    path = folder / f"solve-{hashlib.sha256(details.encode()).hexdigest()[:16]}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not path.is_file():
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(details + "\n", encoding="utf-8")
            tmp.replace(path)
        else:
            os.utime(path)
    except OSError:
        return None
    _prune(folder, path)
    return path


KEEP_EXPLANATIONS = 20
"""How many explanations ``<cache>/explanations/`` keeps (the newest)."""
KEEP_EXPLANATION_DAYS = 30
"""An explanation older than this is removed whatever the count."""
_WRITTEN = re.compile(r"solve-[0-9a-f]{16}\.txt")
_PARTIAL = re.compile(r"\.solve-[0-9a-f]{16}\.txt\.tmp")


def _prune(folder: Path, kept: Path) -> None:
    """Keep the newest :data:`KEEP_EXPLANATIONS` explanations younger than
    :data:`KEEP_EXPLANATION_DAYS` days (``kept``, just written, always), and drop a partial write
    older than a day. Only regular files named as lockgen names them are touched: anything else
    there (another name, a link, a folder), and a folder that is itself a link, is left alone."""
    import os
    import stat
    import time

    if folder.is_symlink():
        return
    now = time.time()
    ours: list[tuple[float, str]] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        written, partial = _WRITTEN.fullmatch(entry.name), _PARTIAL.fullmatch(entry.name)
        if not (written or partial) or entry.name == kept.name:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        if written:
            ours.append((info.st_mtime, entry.path))
        elif now - info.st_mtime > 86400:
            _remove(entry.path)
    ours.sort(reverse=True)
    for index, (mtime, name) in enumerate(ours):
        if index >= KEEP_EXPLANATIONS - 1 or now - mtime > KEEP_EXPLANATION_DAYS * 86400:
            _remove(name)


def _remove(path: str) -> None:
    import contextlib

    with contextlib.suppress(OSError):  # gone already (another run pruning it)
        Path(path).unlink()
