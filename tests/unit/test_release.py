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
