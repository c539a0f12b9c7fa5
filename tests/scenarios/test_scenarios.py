"""Golden locks: each folder here is a scenario, locked end to end on a channel the test builds.

A scenario is ``environment.yml``, ``scenario.yml`` (the channels' packages, as
:class:`tests.support.channel.Package` fields, and the extra ``lockgen lock`` arguments) and
``expected/``: every file ``lockgen lock`` writes, byte for byte. Add a folder to add a scenario;
``LOCKGEN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/scenarios`` (re)writes ``expected/``;
read the diff before committing it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.channel import ChannelBuilder
from tests.support.cli import invoke_lockgen

HERE = Path(__file__).parent
SCENARIOS = sorted(p.name for p in HERE.iterdir() if (p / "scenario.yml").is_file())


def build_channels(root: Path, channels: dict[str, list[dict[str, Any]]]) -> None:
    for name, packages in channels.items():
        builder = ChannelBuilder(root / name)
        for fields in packages:
            builder.add(str(fields.pop("name")), str(fields.pop("version")), **fields)
        builder.write()


def lock_scenario(folder: Path, work: Path) -> Path:
    """Lock ``folder``'s scenario in ``work``; returns the output directory."""
    scenario = yaml.safe_load((folder / "scenario.yml").read_text())
    build_channels(work / "mirror", scenario["channels"])
    shutil.copy(folder / "environment.yml", work / "environment.yml")
    args = [str(a) for a in scenario.get("args", [])]
    mirror = f"https://conda.anaconda.org={work / 'mirror'}"
    result = invoke_lockgen(
        "lock",
        "-f",
        "environment.yml",
        "-o",
        "locks",
        "--cache-dir",
        work / "cache",
        "--mirror",
        mirror,
        *args,
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    return work / "locks"


def written(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) >= 3


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_locks_match_golden(name: str, tmp_path: Path) -> None:
    folder = HERE / name
    got = written(lock_scenario(folder, tmp_path))
    expected_dir = folder / "expected"
    if os.environ.get("LOCKGEN_UPDATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        expected_dir.mkdir()
        for file_name, data in got.items():
            (expected_dir / file_name).write_bytes(data)
    assert sorted(got) == sorted(written(expected_dir))
    for file_name, data in written(expected_dir).items():
        assert got[file_name].decode() == data.decode(), f"{name}/expected/{file_name} differs"
