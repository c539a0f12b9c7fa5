"""A group's pip sections agree platform by platform, in ``lock`` and in ``check`` alike.

``a`` asks for ``helper`` and was locked at helper 1.0 (keeping its pin after 2.0 appears);
``b`` joins its group asking for helper <2 on linux and >=2 on Windows. Alone they agree on
linux-64 (1.0) and differ on win-64 (1.0 and 2.0): the group's pip sections resolved together
take 2.0 on win-64, so ``a`` must be resolved again there, although 2.0 is a version the
agreement has (on another platform). Then ``check`` finds them agreeing. A conda channel (python
for both platforms) and a PyPI-like index are built by the test and served on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgen.pypi.targets import pins_by_platform
from tests.support.channel import ChannelBuilder, Server, serve_directory
from tests.support.cli import run_lockgen
from tests.support.pypi_index import SimpleIndex, serve_index

HEAD = "channels:\n  - testchan\nplatforms:\n  - linux-64\n  - win-64\ndependencies:\n  - python=3.11\n  - pip:\n"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, Server, Server, Server, SimpleIndex]]:
    conda = ChannelBuilder(tmp_path / "channels" / "testchan", subdirs=("noarch", "linux-64", "win-64"))
    for subdir in ("linux-64", "win-64"):
        conda.add("python", "3.11.9", build="h0_cpython", subdir=subdir)
    conda.add("pip", "24.2", build="pyh0_0", noarch="python", depends=["python >=3.8"])
    conda.write()
    index = SimpleIndex(tmp_path / "index")
    index.add("helper", "1.0")
    index.write()
    mapping = tmp_path / "mapping"
    mapping.mkdir()
    (mapping / "testchan.json").write_text(json.dumps({"python": None}))
    with (
        serve_directory(tmp_path / "channels") as channels,
        serve_index(tmp_path / "index") as pypi,
        serve_directory(mapping) as mapping_server,
    ):
        yield tmp_path, channels, pypi, mapping_server, index


def _helper(path: Path) -> dict[str, set[str]]:
    by_platform = pins_by_platform(path.read_text())
    return {p: {pin.version for pin in pins if pin.name == "helper"} for p, pins in by_platform.items()}


def test_a_member_differing_on_one_platform_is_resolved_again_and_check_agrees(
    world: tuple[Path, Server, Server, Server, SimpleIndex],
) -> None:
    root, channels, pypi, mapping, index = world
    project = root / "project"
    project.mkdir()
    index_line = f"    - --index-url {pypi.url}/simple\n"
    (project / "a.yml").write_text(HEAD + index_line + "    - helper\n")
    (project / "b.yml").write_text(
        HEAD + index_line + "    - helper<2 ; sys_platform == 'linux'\n    - helper>=2 ; sys_platform == 'win32'\n"
    )

    def lock() -> None:
        done = run_lockgen(
            "lock", "--mirror", f"https://conda.anaconda.org={channels.url}", "--cache-dir", root / "cache",
            cwd=project, env={"LOCKGEN_PYPI_MAPPING_URL": mapping.url + "/{channel}.json"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    (project / "pyproject.toml").write_text('[tool.lockgen.environments]\na = { file = "a.yml", group = "g" }\n')
    lock()
    a, b = project / "locks" / "a" / "requirements.txt", project / "locks" / "b" / "requirements.txt"
    assert _helper(a) == {"linux-64": {"1.0"}, "win-64": {"1.0"}}
    index.add("helper", "2.0")
    index.write()
    (project / "pyproject.toml").write_text(
        '[tool.lockgen.environments]\na = { file = "a.yml", group = "g" }\nb = { file = "b.yml", group = "g" }\n'
    )
    lock()
    assert _helper(b) == {"linux-64": {"1.0"}, "win-64": {"2.0"}}
    assert _helper(a) == {"linux-64": {"1.0"}, "win-64": {"2.0"}}  # before: 1.0 kept on win-64
    checked = run_lockgen("check", cwd=project)
    assert checked.returncode == 0, checked.stderr
