"""This repository's own pyproject.toml, as the tests read it."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def dependency(name: str) -> Requirement:
    """The entry of pyproject.toml's ``[project] dependencies`` that names ``name`` (exactly one)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = [Requirement(d) for d in data["project"]["dependencies"] if Requirement(d).name == name]
    assert len(found) == 1, found
    return found[0]
