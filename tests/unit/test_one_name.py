"""One name, one import path (issue 24): each name is imported from the module that defines it,
under the name it has there.

Rejected, at module level of any lockgen module: ``from lockgen.x import a as b`` and ``b = a`` of a
name imported from another lockgen module when ``b`` is public (a second exported name for one
thing; a private alias such as ``_conda_compare: Compare = conda_version_order`` is the module's
own business); and importing a name
through a module that only imports it itself. A package's ``__init__`` may export its own modules'
names unchanged (``lockgen.conda.SolveRequest`` is :mod:`lockgen.conda.request`'s): that is the
package's face, not a second owner.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lockgen"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    """Statements run at import, including those under ``if TYPE_CHECKING:`` and ``try:``."""
    found: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.If):
            found += [*node.body, *node.orelse]
        elif isinstance(node, ast.Try):
            found += [*node.body, *(s for h in node.handlers for s in h.body)]
        else:
            found.append(node)
    return found


def problems(root: Path) -> list[str]:
    """Every renaming re-export and every import through a module that does not own the name."""
    package = root.name
    paths = {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    imported: dict[str, dict[str, tuple[str, str, int]]] = {}  # module -> local name -> (source, name, line)
    found: list[str] = []
    for module, path in paths.items():
        names: dict[str, tuple[str, str, int]] = {}
        here = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in _top_level(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                if source.split(".")[0] != package:
                    continue
                for alias in node.names:
                    if f"{source}.{alias.name}" in paths:
                        continue  # a module, not a name
                    names[alias.asname or alias.name] = (source, alias.name, node.lineno)
                    if alias.asname and alias.asname != alias.name and not alias.asname.startswith("_"):
                        found.append(f"{module}:{node.lineno}: {source}.{alias.name} renamed {alias.asname}")
            elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Name):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if node.value.id in names:
                    for target in targets:
                        if isinstance(target, ast.Name) and not target.id.startswith("_"):
                            source, name, _ = names[node.value.id]
                            found.append(f"{module}:{node.lineno}: {source}.{name} renamed {target.id}")
        imported[module] = names
    for module, names in imported.items():
        for source, name, line in names.values():
            if source not in imported or name not in imported[source]:
                continue  # defined where it is imported from
            owner = imported[source][name][0]
            if paths[source].name == "__init__.py" and owner.startswith(f"{source}."):
                continue  # a package's face exporting its own module's name
            found.append(f"{module}:{line}: imports {name} from {source}; import it from {owner}")
    return sorted(found)


def test_each_name_is_imported_from_its_owner_under_its_own_name() -> None:
    assert problems(PACKAGE) == []


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (
            {"gateway.py": "from fake.config import HTTP_TIMEOUT_ENV as TIMEOUT_ENV\n__all__ = ['TIMEOUT_ENV']\n"},
            "fake.gateway:1: fake.config.HTTP_TIMEOUT_ENV renamed TIMEOUT_ENV",
        ),
        (
            {"gateway.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .config import A as B\n"},
            "fake.gateway:3: fake.config.A renamed B",
        ),
        (
            {"gateway.py": "from fake.config import HTTP_TIMEOUT_ENV\nTIMEOUT_ENV = HTTP_TIMEOUT_ENV\n"},
            "fake.gateway:2: fake.config.HTTP_TIMEOUT_ENV renamed TIMEOUT_ENV",
        ),
        (
            {"gateway.py": "from fake.config import HTTP_TIMEOUT_ENV\nTIMEOUT_ENV: str = HTTP_TIMEOUT_ENV\n"},
            "fake.gateway:2: fake.config.HTTP_TIMEOUT_ENV renamed TIMEOUT_ENV",
        ),
        (
            {
                "gateway.py": "from fake.config import HTTP_TIMEOUT_ENV\n__all__ = ['HTTP_TIMEOUT_ENV']\n",
                "solve.py": "from fake.gateway import HTTP_TIMEOUT_ENV\n",
            },
            "fake.solve:1: imports HTTP_TIMEOUT_ENV from fake.gateway; import it from fake.config",
        ),
        (
            {
                "sub/__init__.py": "from fake.config import HTTP_TIMEOUT_ENV\n",
                "solve.py": "from fake.sub import HTTP_TIMEOUT_ENV\n",
            },
            "fake.solve:1: imports HTTP_TIMEOUT_ENV from fake.sub; import it from fake.config",
        ),
    ],
)
def test_a_second_name_or_path_is_caught(tmp_path: Path, files: dict[str, str], problem: str) -> None:
    """The checker itself: each form is reported; importing from the owner, or from a package face
    that exports its own module's name, is not."""
    root = tmp_path / "fake"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "config.py").write_text("HTTP_TIMEOUT_ENV = 'X'\nA = 1\n")
    (root / "sub" / "__init__.py").write_text("from fake.sub.request import Request\n__all__ = ['Request']\n")
    (root / "sub" / "request.py").write_text("class Request: ...\n")
    (root / "lock.py").write_text(
        "from fake.sub import Request\nfrom fake.config import A\nfrom fake.config import A as _a\n_b: int = A\n"
    )
    for name, text in files.items():
        (root / name).write_text(text)
    assert problems(root) == [problem]
    for name in files:
        (root / name).write_text("from fake.config import HTTP_TIMEOUT_ENV\n")
    assert problems(root) == []


def _literals(path: Path) -> set[object]:
    """Every string constant of a file except docstrings, and every tuple of string constants
    (``("git+", "hg+")``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    found: set[object] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.add(node.value)
        elif isinstance(node, ast.Tuple) and all(isinstance(e, ast.Constant) for e in node.elts):
            found.add(tuple(e.value for e in node.elts if isinstance(e, ast.Constant)))
    return found


def _writes(literals: set[object], rule: object) -> bool:
    """A tuple rule is written as that tuple; a text rule anywhere inside a string (a regex copied
    into a larger one)."""
    if isinstance(rule, str):
        return any(isinstance(text, str) and rule in text for text in literals)
    return rule in literals


RULES: dict[str, tuple[object, str, tuple[str, ...]]] = {
    "VCS URL prefixes": (("git+", "hg+", "svn+", "bzr+"), "lockfiles/requirements.py", ()),
    "a hg+ prefix written by hand": ("hg+", "lockfiles/requirements.py", ()),
    "conda package extensions": ((".conda", ".tar.bz2"), "models.py", ()),
    "conda package name pattern": (
        r"[A-Za-z0-9_][A-Za-z0-9_.\-]*",
        "models.py",
        ("lockfiles/commit.py",),  # a lock file's own name (``linux-64.txt``), not a package name
    ),
}
"""Rules written once, in their owner (issue 24, item 6): elsewhere the owner's name is imported.
Each entry: the literal, the owner, files where the same text means something else."""


@pytest.mark.parametrize("rule", sorted(RULES))
def test_a_rule_is_written_once(rule: str) -> None:
    literal, owner, other_meanings = RULES[rule]
    where = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if _writes(_literals(p), literal))
    assert [w for w in where if w not in other_meanings] == [owner], f"{rule} written outside {owner}: import it"


def test_a_copied_rule_is_caught(tmp_path: Path) -> None:
    """The checker itself: a copy in code is found, the same text in a docstring is not."""
    copy = tmp_path / "copy.py"
    doc = 'r"""Ends with (".conda", ".tar.bz2"), named [A-Za-z0-9_][A-Za-z0-9_.\\-]*, maybe hg+."""\n'
    copy.write_text(doc + 'def f(url: str) -> bool:\n    return url.endswith((".conda", ".tar.bz2"))\n')
    assert _writes(_literals(copy), (".conda", ".tar.bz2"))
    copy.write_text(doc + 'NAME = r"^\\s*(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\\-]*)$"\n')
    assert _writes(_literals(copy), r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
    copy.write_text(doc)
    assert not any(_writes(_literals(copy), literal) for literal, _, _ in RULES.values())
