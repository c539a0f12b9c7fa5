"""`lockgen diff A B` on the scenario pairs in tests/golden/diff/, in every format, against golden files.

Set LOCKGEN_UPDATE_GOLDEN=1 to rewrite the expected files (then read them before committing).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.support.cli import invoke_lockgen

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "diff"
SCENARIOS = ("empty", "mixed", "platforms", "common")
FORMATS = {"text": "expected.txt", "markdown": "expected.md", "json": "expected.json"}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_diff_matches_golden(tmp_path: Path, scenario: str, fmt: str) -> None:
    shutil.copytree(GOLDEN / scenario / "old", tmp_path / "old")
    shutil.copytree(GOLDEN / scenario / "new", tmp_path / "new")
    if (GOLDEN / scenario / "environment.yml").is_file():  # beside both sides: its specs are marked
        shutil.copy(GOLDEN / scenario / "environment.yml", tmp_path / "environment.yml")
    result = invoke_lockgen("diff", "old", "new", "--format", fmt, cwd=tmp_path)
    assert result.stderr == ""
    assert result.returncode == (0 if scenario == "empty" else 6)
    expected = GOLDEN / scenario / FORMATS[fmt]
    if os.environ.get("LOCKGEN_UPDATE_GOLDEN"):
        expected.write_text(result.stdout)
    assert result.stdout == expected.read_text()


def test_json_golden_is_consistent() -> None:
    data = json.loads((GOLDEN / "mixed" / "expected.json").read_text())
    assert data["changed"] is True
    locks = {lock["target"]: lock for lock in data["locks"]}
    assert set(locks) == {"linux-64", "osx-64", "win-64", "pip"}
    common = {(c["name"], c["change"]) for c in data["common"]["changes"]}
    assert common == {("numpy", "upgraded"), ("six", "upgraded")}
    for platform in ("linux-64", "osx-64", "win-64"):
        assert common <= {(c["name"], c["change"]) for c in locks[platform]["changes"]}
    kinds = {c["name"]: c["change"] for c in locks["pip"]["changes"]}
    assert kinds == {"attrs": "removed", "pygments": "added", "rich": "upgraded"}
