"""One version, written once (lockgen/__init__.py), and a CHANGELOG entry for it; the files a release
and its users rely on exist (LICENSE, the hooks manifest, action.yml)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import lockgen

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]


def test_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "lockgen.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", lockgen.__version__)


def test_changelog_has_an_entry_for_this_version() -> None:
    headings = re.findall(r"^## (\d+\.\d+\.\d+) — (\d{4}-\d{2}-\d{2})$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert headings, "CHANGELOG.md has no '## X.Y.Z — YYYY-MM-DD' entries"
    assert headings[0][0] == lockgen.__version__, "the newest CHANGELOG entry is not this version"


def test_readme_pins_this_version() -> None:
    """README's snippets pin `v<this version>`, so a copied snippet names a release that has them."""
    pins = set(re.findall(r"(?:rev: |OWNER/lockgen@)v(\d+\.\d+\.\d+)", (ROOT / "README.md").read_text()))
    assert pins == {lockgen.__version__}


def test_license_file_matches_the_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "BSD-3-Clause"
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")


def _third_party_imports() -> dict[str, list[str]]:
    """Top-level modules lockgen imports that are neither its own nor the standard library's, with where
    (file:line): at module level, inside functions and under version checks alike."""
    import ast
    import sys

    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "lockgen").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                # `_name`: the interpreter's own modules (``_sha2`` on 3.12+, ``_sha256`` before), never a distribution
                if top != "lockgen" and top not in sys.stdlib_module_names and not top.startswith("_"):
                    found.setdefault(top, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_module_lockgen_imports_is_a_declared_dependency() -> None:
    """A user's ``pip install lockgen`` gets only [project] dependencies (not the dev extras, which
    bring tomli on Python 3.10 through pytest and mypy): each third-party import must be one of them,
    with the marker of the Pythons that import it (``tomli`` on 3.10, where there is no ``tomllib``)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    declared = {canonicalize_name(r.name): r for r in map(Requirement, tomllib.loads(
        (ROOT / "pyproject.toml").read_text())["project"]["dependencies"])}  # fmt: skip
    distribution = {"rattler": "py-rattler", "yaml": "pyyaml"}  # import name → distribution name
    missing = {
        module: where
        for module, where in _third_party_imports().items()
        if canonicalize_name(distribution.get(module, module)) not in declared
    }
    assert not missing, f"imported but not in [project] dependencies: {missing}"
    tomli = declared[canonicalize_name("tomli")]
    assert tomli.marker is not None
    assert tomli.marker.evaluate({"python_version": "3.10"})
    assert not tomli.marker.evaluate({"python_version": "3.11"})
