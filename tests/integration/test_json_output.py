"""``check --format json`` and ``diff --format json``: the documents docs/json.md describes, key for key,
on a project built in tmp (a ``file://`` channel, no network)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.ci import ROOT, environment_text, make_channel, make_project
from tests.support.cli import invoke_lockgen


def _documented(command: str) -> Any:
    """The example document under docs/json.md's heading for ``command``."""
    text = (ROOT / "docs" / "json.md").read_text()
    section = text.split(f"## `lockgen {command} --format json`", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, flags=re.S)
    assert block, f"docs/json.md shows no example for {command}"
    return json.loads(block[1])


def _shape(value: Any) -> Any:
    """The keys of a document, recursively; a list's shape is its first item's."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


@pytest.fixture
def project(tmp_path: Path) -> Path:
    channel = make_channel(tmp_path / "channel" / "testchan", ("1.0", "1.1"))
    root = make_project(tmp_path / "proj", channel, tmp_path / "cache", ("app <1.1",))
    (root / "environment.yml").write_text(environment_text(channel, ("app <1.1", "extra")))
    return root


def test_check_json_up_to_date_and_stale(project: Path) -> None:
    stale = invoke_lockgen("check", "--format", "json", cwd=project)
    assert stale.returncode == 6, stale.stderr
    data = json.loads(stale.stdout)
    assert data["format"] == 1 and data["ok"] is False
    assert data["checked"] == ["linux-64.txt", "osx-64.txt", "win-64.txt"]
    assert {s["target"] for s in data["stale"]} == {"linux-64", "osx-64", "win-64"}
    first = data["stale"][0]
    assert first["reason"] == "specs"
    assert first["places"] == [{"file": "environment.yml", "line": 6}]
    documented = _documented("check")
    assert set(data) == set(documented)
    assert set(first) == set(documented["stale"][0])
    assert data["reused_options"] == []  # nothing recorded in the locks differs from the defaults

    relocked = invoke_lockgen("lock", "--cache-dir", project.parent / "cache", "--quiet", cwd=project)
    assert relocked.returncode == 0, relocked.stderr
    fresh = invoke_lockgen("check", "--format", "json", cwd=project)
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout) == {
        "format": 1,
        "ok": True,
        "output_dir": "locks",
        "checked": ["linux-64.txt", "osx-64.txt", "win-64.txt"],
        "reused_options": [],
        "stale": [],
    }


def test_check_json_error_leaves_stdout_empty(tmp_path: Path) -> None:
    """An error is not a verdict: exit 3 on stderr, no JSON that a tool could take for one."""
    (tmp_path / "environment.yml").write_text("dependencies:\n  - app\n - bad\n")
    done = invoke_lockgen("check", "--format", "json", cwd=tmp_path)
    assert done.returncode not in (0, 6)
    assert done.stdout == ""
    assert done.stderr.startswith("error:")


def test_diff_json_matches_the_documented_shape(project: Path) -> None:
    relocked = invoke_lockgen("lock", "--cache-dir", project.parent / "cache", "--quiet", cwd=project)
    assert relocked.returncode == 0, relocked.stderr
    done = invoke_lockgen("diff", "--format", "json", cwd=project)
    assert done.returncode == 6, done.stderr
    data = json.loads(done.stdout)
    assert data["format"] == 1 and data["changed"] is True
    assert data["common"]["changes"][0]["name"] == "extra"
    documented = _shape(_documented("diff"))
    actual = _shape(data)
    missing = {k for k in documented if k not in actual}
    assert not missing, f"documented fields gone from the output: {missing}"
    for key in ("common", "direct", "totals"):
        assert set(documented[key]) <= set(actual[key]), key
    assert set(documented["locks"][0]) <= set(actual["locks"][0])
    assert set(documented["locks"][0]["changes"][0]) <= set(actual["locks"][0]["changes"][0])


def test_check_names_the_options_it_took_from_the_locks(project: Path) -> None:
    """A lock made with --cuda: a plain check reuses it and says so, on stderr and in the JSON."""
    made = invoke_lockgen("lock", "--cuda", "12.6", "--cache-dir", project.parent / "cache", "--quiet", cwd=project)
    assert made.returncode == 0, made.stderr
    plain = invoke_lockgen("check", cwd=project)
    assert plain.returncode == 0, plain.stderr
    assert "with the options the locks record: --cuda 12.6" in plain.stderr
    data = json.loads(invoke_lockgen("check", "--format", "json", cwd=project).stdout)
    assert data["reused_options"] == ["--cuda 12.6"]
