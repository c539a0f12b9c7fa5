"""Our docs never tell CI to install lockgen by name from PyPI (issue 18, item 8).

No PyPI project named ``lockgen`` is ours: whoever registers it would run in every CI that
followed a ``pip install lockgen`` recipe. Every install command in README, docs/ and any
workflow or action file must name a pinned source: the repository at a full commit (or a
``<... commit>`` placeholder for one), a wheel or a local checkout.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_INSTALL = re.compile(r"\b(?:pip3?|pipx|uv pip|uv tool|python3? -m pip)\s+install\b(?P<args>[^\n`]*)")
_FENCE = re.compile(r"^\s*```.*?^\s*```", re.DOTALL | re.MULTILINE)
_INLINE = re.compile(r"`([^`]+)`")
_BY_NAME = re.compile(r"^lockgen(\[[^\]]*\])?([=<>!~]=?.*)?$", re.IGNORECASE)
_PINNED_REF = re.compile(r"@(?:[0-9a-f]{40}|<[^>]*commit[^>]*>)(?:#.*)?$")
_YAML_VAR = re.compile(r"^\s*(?P<name>[A-Z][A-Z0-9_]*):\s*(?P<value>\S+)\s*$", re.MULTILINE)


def _documents() -> list[Path]:
    found = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for pattern in (".github/**/*.yml", ".github/**/*.yaml", "action.yml", "action.yaml"):
        found += sorted(ROOT.glob(pattern))
    return [p for p in found if p.is_file()]


def _commands(text: str, yaml: bool = False) -> list[tuple[str, dict[str, str]]]:
    """Every install command: (its arguments, the ``NAME: value`` variables of its block)."""
    found: list[tuple[str, dict[str, str]]] = []
    for block in _FENCE.findall(text):
        variables = {m.group("name"): m.group("value").strip("\"'") for m in _YAML_VAR.finditer(block)}
        found += [(m.group("args"), variables) for m in _INSTALL.finditer(block)]
    prose = _FENCE.sub("", text)
    for span in _INLINE.findall(prose):
        found += [(m.group("args"), {}) for m in _INSTALL.finditer(" ".join(span.split()))]
    if yaml:  # a workflow or action file: its run: lines
        variables = {m.group("name"): m.group("value").strip("\"'") for m in _YAML_VAR.finditer(text)}
        found += [(m.group("args"), variables) for m in _INSTALL.finditer(text)]
    return found


def unpinned(args: str, variables: dict[str, str]) -> str | None:
    """Why ``args`` installs lockgen from an unpinned source, or None."""
    try:
        tokens = shlex.split(args)
    except ValueError:
        tokens = args.split()
    for raw in tokens:
        if raw.startswith("-"):
            continue
        token = re.sub(r"\$\{?([A-Z][A-Z0-9_]*)\}?", lambda m: variables.get(m.group(1), m.group(0)), raw)
        if _BY_NAME.match(token):
            return f"{token!r} installs lockgen by name from the package index"
        url = token.split(" @ ", 1)[1].strip() if " @ " in token else token
        named = token.lower().startswith("lockgen @") or "lockgen" in url.lower()
        if named and "://" in url and not _PINNED_REF.search(url):
            return f"{url!r} is not pinned to a full commit"
    return None


@pytest.mark.parametrize(
    ("args", "bad"),
    [
        (" lockgen", True),
        (" lockgen==1.2   # pin the version your team uses", True),
        (" --upgrade 'lockgen[dev]>=1'", True),
        (' "lockgen @ git+https://github.com/o/lockgen@main"', True),
        (" git+https://github.com/o/lockgen", True),
        (' "lockgen @ $SRC"', False),
        (' "lockgen @ git+https://github.com/o/lockgen@0123456789abcdef0123456789abcdef01234567"', False),
        (' "lockgen @ git+https://<repository>@<40-hex commit>"', False),
        (" dist/lockgen-*.whl", False),
        (" -e .", False),
        (" --no-deps --require-hashes -r locks/requirements.txt", False),
    ],
)
def test_the_rule_itself(args: str, bad: bool) -> None:
    variables = {"SRC": "git+https://github.com/o/lockgen@0123456789abcdef0123456789abcdef01234567"}
    assert (unpinned(args, variables) is not None) is bad


def test_no_doc_installs_lockgen_from_an_unpinned_source() -> None:
    problems = []
    checked = 0
    for path in _documents():
        for args, variables in _commands(path.read_text(encoding="utf-8"), yaml=path.suffix in (".yml", ".yaml")):
            checked += 1
            why = unpinned(args, variables)
            if why is not None:
                problems.append(f"{path.relative_to(ROOT)}: install{args.rstrip()}: {why}")
    assert checked > 0  # the scan found the install commands it is meant to check
    assert problems == []


def test_ci_recipe_installs_a_pinned_commit() -> None:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    commands = [(a, v) for a, v in _commands(text) if "lockgen" in a]
    assert commands, "docs/ci.md no longer shows how to install lockgen"
    assert all(unpinned(a, v) is None for a, v in commands)
