"""The layering rule (docs/architecture.md), checked on every module's imports with ``ast``.

channels → spec → conda/repodata → pypi → lock → review → cli: a module imports only its own
layer or lower ones, never a higher one, not even inside a function or under ``TYPE_CHECKING``.
The base (models, errors, secrets, reporting, platforms, lockfiles) imports no stage; config and
plan sit right above what they need (config: channels' mirrors; plan: the conda request type).
On top of the ranks: review never imports conda, verify never imports install, and only the
CLI imports click. Within a layer, no two modules import each other, directly or through others:
the import graph (every import, wherever it is written) has no cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lockgen"

RANKS: dict[str, int] = {
    "lockgen": 0,  # the package itself (__version__)
    "models": 0,
    "errors": 0,
    "secrets": 0,
    "httpclient": 0,  # the one HTTP client factory (httpx, imported inside its functions)
    "reporting": 0,
    "progress": 0,  # the progress events (apart from reporting: check reports none)
    "pipprogress": 0,  # the pip lock's progress events (a no-op lock reports two)
    "platforms": 0,
    "printable": 0,  # escaping what is shown (terminal, Markdown)
    "pipsyntax": 0,  # pip lines of the common shapes, read without packaging (lockfiles reads pins with it)
    "filesize": 0,  # size limits on files a pull request can commit, checked before reading
    "matchspec": 0,  # whether a package satisfies a conda spec (check holds locks to specs)
    "lockfiles": 0,  # the lock formats (explicit, requirements, condalock, header, commit, lockdir)
    "digest": 0,  # sha256 for small digests, without loading OpenSSL
    "memofile": 0,  # a memo file in lockgen's cache, read and written safely (spec's memo, the mapping's)
    "records": 0,  # dataclass, with fewer methods compiled at import (every layer's records)
    "recordinit": 0,  # a record class's __init__, made at first use (for records)
    "channels": 1,  # channel names and ``channel::spec``, which spec reads
    "spec": 2,
    "config": 3,
    "cachedir": 3,  # the cache directory made ready (gateway and mapping write into it)
    "flags": 3,  # what the command line said (config fills the rest)
    "project": 3,  # where the project is (config, environments, pypi and the CLI find it)
    "toolconfig": 3,  # [tool.lockgen] read and checked
    "recorded": 3,  # the options the existing locks record
    "environments": 3,
    "solverequest": 3,  # the conda request type, below the solver so plan need not import it
    "conda": 4,
    "repodata": 4,
    "scheduling": 4,
    "plan": 5,
    "lockspecs": 5,  # a platform lock held to its inputs beyond the hashes (check, and lock before it keeps one)
    "pypi": 6,
    "lock": 7,
    "changes": 7,  # what a re-lock moved per platform (lock's summary)
    "lockpip": 7,  # lock's pip step: begun beside the conda solve, finished with its solutions
    "grouplock": 7,
    "pipagreement": 7,  # a group's pip sections agreeing (grouplock's pip side)
    "export": 7,
    "condalockhash": 7,  # conda-lock's content_hash, written by export
    "condalockcheck": 7,  # conda-lock.yml held to the locks it is written with (check; lock keeps only such a file)
    "migrate": 7,
    "frompins": 7,  # --from: the pins of a lock lockgen did not write, read for migrate
    "holdback": 7,  # "why not newer?": solves again (so above conda); review shows its answer
    "review": 8,
    "install": 8,
    "verify": 8,
    "cli": 9,
    "__main__": 10,
}
"""Layer of each top-level module or package of lockgen: an import may only go to an equal or lower rank."""

FORBIDDEN: dict[tuple[str, str], str] = {
    ("review", "conda"): "review reads repodata through lockgen.repodata, never the solver",
    ("verify", "install"): "verify checks locks against repodata; it shares lockgen.repodata with install",
}
"""Edges the ranks alone would allow but the rule forbids."""

KNOWN_BACK_EDGES: dict[tuple[str, str], str] = {}
"""Violations tolerated while a restructure moves code (none since issue 13's landed). An entry
that no longer occurs fails :func:`test_known_back_edges_still_exist`: delete it then."""


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path) -> Iterator[tuple[str, str, int]]:
    """(importing module, imported module, line) for every import of ``root``'s package, anywhere in a file."""
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield module, alias.name, node.lineno
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                yield module, target, node.lineno
                for alias in node.names:  # `from lockgen import lock` imports the module lockgen.lock
                    yield module, f"{target}.{alias.name}", node.lineno


def _layer(module: str, package: str) -> str | None:
    parts = module.split(".")
    if parts[0] != package:
        return None
    return parts[1] if len(parts) > 1 else package


def violations(root: Path, ranks: dict[str, int] = RANKS) -> dict[tuple[str, str], list[str]]:
    """Every import that breaks the rule, grouped by (importing layer, imported layer)."""
    package = root.name
    found: dict[tuple[str, str], list[str]] = {}
    for module, target, line in imports(root):
        source = _layer(module, package)
        assert source is not None
        where = f"{module}:{line} imports {'.'.join(target.split('.')[:2])}"
        if target.split(".")[0] == "click" and source not in ("cli", "__main__"):
            found.setdefault((source, "click"), []).append(where)
        dest = _layer(target, package)
        if dest is None or dest == source or (package == target and source != package):
            continue
        if dest not in ranks:
            if (root / dest).is_dir() or (root / f"{dest}.py").is_file():
                found.setdefault((source, dest), []).append(f"{where} (layer {dest!r} has no rank: add it)")
            continue  # a name imported from a module (`from lockgen.x import name`), not a module
        if source not in ranks:
            found.setdefault((source, dest), []).append(f"{where} (layer {source!r} has no rank: add it)")
        elif ranks[dest] > ranks[source] or (source, dest) in FORBIDDEN:
            found.setdefault((source, dest), []).append(where)
    return {edge: sorted(set(lines)) for edge, lines in found.items()}


def _modules(root: Path) -> set[str]:
    return {_module_name(path, root) for path in root.rglob("*.py")}


def cycles(root: Path) -> list[list[str]]:
    """Every import cycle among ``root``'s modules (each a strongly connected group of two or more
    modules, or a module importing itself), sorted; imports inside functions and under
    ``TYPE_CHECKING`` count. An import of ``a.b.c`` is an edge to ``a.b.c`` only, not to the
    packages ``a`` and ``a.b`` that Python runs first: a package face importing its own modules is
    no cycle, a module importing its package's face is one when that face imports it back."""
    known = _modules(root)
    graph: dict[str, set[str]] = {module: set() for module in known}
    for module, target, _ in imports(root):
        if target in known:
            graph[module].add(target)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        order[module] = low[module] = len(order)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in order:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], order[target])
        if low[module] == order[module]:
            group = [stack.pop()]
            while group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1 or module in graph[module]:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return sorted(found)


def test_no_import_cycle() -> None:
    assert cycles(PACKAGE) == [], "modules that import each other (move what both need to a module of its own)"


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        (
            {"conda/solve.py": "from fake.conda.diagnose import x\n", "conda/diagnose.py": "from .solve import y\n"},
            ["fake.conda.diagnose", "fake.conda.solve"],
        ),
        (
            {
                "conda/solve.py": "from fake.conda.diagnose import x\n",
                "conda/diagnose.py": (
                    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from fake.conda.solve import y\n"
                ),
            },
            ["fake.conda.diagnose", "fake.conda.solve"],
        ),
        (
            {
                "lock.py": "def run():\n    from fake import plan\n",
                "plan.py": "import fake.spec\n",
                "spec.py": "from fake.lock import z\n",
            },
            ["fake.lock", "fake.plan", "fake.spec"],
        ),
        (
            {"conda/__init__.py": "from fake.conda.solve import x\n", "conda/solve.py": "from fake.conda import y\n"},
            ["fake.conda", "fake.conda.solve"],
        ),
    ],
)
def test_a_cycle_is_caught(tmp_path: Path, files: dict[str, str], cycle: list[str]) -> None:
    """The checker itself: a cycle through a module-level, a ``TYPE_CHECKING``, a function-level or
    a package-face import is reported; the same modules without the closing import are not."""
    root = tmp_path / "fake"
    (root / "conda").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "conda" / "__init__.py").write_text("")
    for name, text in files.items():
        (root / name).write_text(text)
    assert cycles(root) == [cycle]
    first = sorted(files)[0]
    (root / first).write_text("import json\n")
    assert cycles(root) == []


def test_no_module_imports_a_higher_layer() -> None:
    unexpected = {edge: where for edge, where in violations(PACKAGE).items() if edge not in KNOWN_BACK_EDGES}
    assert unexpected == {}, "layering rule broken (docs/architecture.md):\n" + "\n".join(
        line for lines in unexpected.values() for line in lines
    )


def test_known_back_edges_still_exist() -> None:
    """The allow-list shrinks as the restructure lands: an entry that no longer occurs is deleted."""
    gone = sorted(set(KNOWN_BACK_EDGES) - set(violations(PACKAGE)))
    assert gone == [], f"remove {gone} from KNOWN_BACK_EDGES: they no longer occur"


def test_every_layer_has_a_rank() -> None:
    layers = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or p.is_dir()}
    layers = {name for name in layers if not name.startswith(("_", ".")) or name == "__main__"} - {"data"}
    assert sorted(layers - set(RANKS)) == []


@pytest.mark.parametrize(
    ("source", "line", "edge"),
    [
        ("conda.py", "def solve():\n    from fake.pypi import uv\n", ("conda", "pypi")),
        (
            "pypi/__init__.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from fake.lock import X\n",
            ("pypi", "lock"),
        ),
        ("pypi/uv.py", "from ..lock import lock\n", ("pypi", "lock")),
        ("lockfiles.py", "import fake.spec\n", ("lockfiles", "spec")),
        ("review/check.py", "from fake import conda\n", ("review", "conda")),
        ("verify.py", "from fake.install.records import x\n", ("verify", "install")),
        ("plan.py", "import click\n", ("plan", "click")),
    ],
)
def test_a_back_edge_is_caught(tmp_path: Path, source: str, line: str, edge: tuple[str, str]) -> None:
    """The checker itself: each form of a forbidden import in a scratch package is reported."""
    root = tmp_path / "fake"
    for name in ("conda.py", "lock.py", "spec.py", "lockfiles.py", "verify.py", "plan.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    for package in ("pypi", "review", "install"):
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").write_text("")
    (root / source).write_text(line)
    assert edge in violations(root)
    (root / source).write_text("from fake.errors import x\nimport json\n")
    assert violations(root) == {}


def test_pypi_package_imports_no_uv_and_check_no_lock() -> None:
    """``check`` recomputes the pip digest from lockgen.pypi without loading uv's runner or the orchestrator."""
    code = (
        "import sys, lockgen.plan, lockgen.review.check;"
        "import lockgen.pypi.digests, lockgen.pypi.header, lockgen.pypi.direct;"  # what check imports of lockgen.pypi
        "print(sorted(m for m in ('lockgen.pypi.uv', 'lockgen.pypi.stage', 'lockgen.lock') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_architecture_names_only_modules_that_exist() -> None:
    """docs/architecture.md is the map: every ``x.py`` it names exists (under lockgen/, or from the
    repository root), every lockgen module is named in it, and its layer diagram lists every ranked layer."""
    import re

    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Za-z_/]+\.py)`", text))
    files = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    missing = sorted(
        n for n in named if not (PACKAGE.parent / n).is_file() and not any(f == n or f.endswith("/" + n) for f in files)
    )
    assert missing == [], f"docs/architecture.md names modules that do not exist: {missing}"
    basenames = {n.rsplit("/", 1)[-1] for n in named}
    unnamed = sorted(f for f in files if f.rsplit("/", 1)[-1] not in basenames and not f.endswith("__main__.py"))
    assert unnamed == [], f"docs/architecture.md does not say who owns: {unnamed}"
    diagram = text.split("## The layering rule", 1)[1].split("```")[1]
    words = set(re.findall(r"[a-z_]+", diagram))
    assert sorted(set(RANKS) - {"lockgen", "__main__"} - words) == []
