"""`diff` compares the pip lock per platform: dropping a platform is one note, not marker churn.

Offline: the conda channel and PyPI-like index of tests/integration/test_pip_local_index.py.
`native` has 1.1 wheels for linux-64 and win-64 and only 1.0 for osx-64, so the three-platform
lock pins it twice with markers; dropping win-64 rewrites those markers without changing what any
remaining platform installs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_pip_local_index import World, build_conda, build_index
from tests.support.channel import serve_directory
from tests.support.cli import invoke_lockgen
from tests.support.pypi_index import serve_index


@pytest.fixture
def pipworld(tmp_path: Path) -> Iterator[World]:
    conda = build_conda(tmp_path / "channels")
    index = build_index(tmp_path / "index")
    (tmp_path / "mapping").mkdir()
    (tmp_path / "mapping" / "testchan.json").write_text(json.dumps({"numpy": ["numpy"], "py-appc": ["appc"]}))
    with (
        serve_directory(tmp_path / "channels") as channel_server,
        serve_index(tmp_path / "index") as index_server,
        serve_directory(tmp_path / "mapping") as mapping_server,
    ):
        yield World(tmp_path, index, conda, channel_server, index_server, mapping_server)


def test_a_dropped_platform_is_one_note_not_marker_churn(pipworld: World) -> None:
    env = pipworld.write_env(["native", "colorama"])
    result = pipworld.lock()
    assert result.returncode == 0, result.stderr
    assert 'native==1.1 ; sys_platform == "linux" or sys_platform == "win32"' in pipworld.requirements()
    shutil.copytree(pipworld.root / "locks", pipworld.root / "before")
    env.write_text(env.read_text().replace("dependencies:", "platforms: [linux-64, osx-64]\ndependencies:"))
    result = pipworld.lock()
    assert result.returncode == 0, result.stderr
    assert 'native==1.1 ; sys_platform == "linux"' in pipworld.requirements()  # the marker changed

    diff = invoke_lockgen("diff", "before", "locks", "--format", "json", cwd=pipworld.root)
    assert diff.returncode == 6, diff.stderr
    (pip,) = [lock for lock in json.loads(diff.stdout)["locks"] if lock["target"] == "pip"]
    assert pip["changes"] == []  # linux-64 and osx-64 install exactly what they did
    assert pip["notes"] == ["win-64 no longer resolved (its 2 packages gone)"]
    text = invoke_lockgen("diff", "before", "locks", cwd=pipworld.root).stdout
    assert "  pip: win-64 no longer resolved (its 2 packages gone) (" in text
