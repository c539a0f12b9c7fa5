"""Several environments with pip sections: a group agrees on the pip packages its environments share.

``train`` (listed first) asks for ``tool``, which needs ``helper <2``; ``serve`` asks for
``helper`` alone and, alone, takes helper 2.0. In group ``main`` serve takes train's helper 1.0;
``lone`` (no group) asks for helper and keeps 2.0. A conda channel (python) and a PyPI-like index
are built by the test and served on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from lockgen.lockfiles.requirements import parse_requirements_lock
from tests.support.channel import ChannelBuilder, Server, serve_directory
from tests.support.cli import run_lockgen
from tests.support.pypi_index import SimpleIndex, serve_index

PYPROJECT = """\
[tool.lockgen.environments]
train = { file = ["environment.yml", "train.yml"], group = "main" }
serve = { file = "environment.yml", group = "main" }
lone = { file = "environment.yml" }
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, Server, Server, Server]]:
    conda = ChannelBuilder(tmp_path / "channels" / "testchan", subdirs=("noarch", "linux-64"))
    conda.add("python", "3.11.9", build="h0_cpython", subdir="linux-64")
    conda.add("pip", "24.2", build="pyh0_0", noarch="python", depends=["python >=3.8"])  # added for pip sections
    conda.write()
    index = SimpleIndex(tmp_path / "index")
    index.add("helper", "1.0")
    index.add("helper", "2.0")
    index.add("tool", "1.0", requires=["helper<2"])
    index.write()
    mapping = tmp_path / "mapping"
    mapping.mkdir()
    (mapping / "testchan.json").write_text(json.dumps({"python": None}))
    with (
        serve_directory(tmp_path / "channels") as channels,
        serve_index(tmp_path / "index") as pypi,
        serve_directory(mapping) as mapping_server,
    ):
        yield tmp_path, channels, pypi, mapping_server


def _pins(path: Path) -> dict[str, str]:
    return {p.name: p.version for p in parse_requirements_lock(path.read_text()).pins()}


def _project(world: tuple[Path, Server, Server, Server], pyproject: str) -> Callable[..., CompletedProcess[str]]:
    root, channels, pypi, mapping = world
    project = root / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(pyproject)
    head = "channels:\n  - testchan\nplatforms:\n  - linux-64\ndependencies:\n  - python=3.11\n  - pip:\n"
    (project / "environment.yml").write_text(head + f"    - --index-url {pypi.url}/simple\n    - helper\n")
    (project / "train.yml").write_text("channels:\n  - testchan\ndependencies:\n  - pip:\n    - tool\n")

    def lock(*args: str) -> CompletedProcess[str]:
        return run_lockgen(
            "lock",
            "--mirror",
            f"https://conda.anaconda.org={channels.url}",
            "--cache-dir",
            root / "cache",
            *args,
            cwd=project,
            env={"LOCKGEN_PYPI_MAPPING_URL": mapping.url + "/{channel}.json"},
        )

    return lock


def test_a_group_agrees_on_shared_pip_packages(world: tuple[Path, Server, Server, Server]) -> None:
    run = _project(world, PYPROJECT)
    project = world[0] / "project"

    def lock(*args: str) -> None:
        done = run(*args)
        assert done.returncode == 0, done.stderr

    lock()
    locks = project / "locks"
    assert _pins(locks / "train" / "requirements.txt") == {"helper": "1.0", "tool": "1.0"}
    assert _pins(locks / "serve" / "requirements.txt") == {"helper": "1.0"}  # alone: 2.0, as lone shows
    assert _pins(locks / "lone" / "requirements.txt") == {"helper": "2.0"}
    # serve locked alone in the group's folder drifts to 2.0; the next lock brings it back
    (project / "pyproject.toml").write_text(
        PYPROJECT.replace(
            'serve = { file = "environment.yml", group = "main" }', 'serve = { file = "environment.yml" }'
        )
    )
    lock("-e", "serve", "--update", "helper")
    assert _pins(locks / "serve" / "requirements.txt") == {"helper": "2.0"}
    (project / "pyproject.toml").write_text(PYPROJECT)
    done = run_lockgen("check", cwd=project)
    assert done.returncode == 6
    assert "group main: pip: helper: train has 1.0; serve has 2.0; run `lockgen lock`" in done.stderr
    lock()
    assert _pins(locks / "serve" / "requirements.txt") == {"helper": "1.0"}
    assert run_lockgen("check", cwd=project).returncode == 0


def test_a_later_environment_that_cannot_use_the_groups_pins_is_named(
    world: tuple[Path, Server, Server, Server],
) -> None:
    """serve is listed first: it leads with helper 2.0, which train's tool cannot use."""
    first = PYPROJECT.replace('train = { file = ["environment.yml", "train.yml"], group = "main" }\n', "")
    run = _project(
        world, first.replace("lone =", 'train = { file = ["environment.yml", "train.yml"], group = "main" }\nlone =')
    )
    done = run()
    assert done.returncode == 7, done.stderr
    assert (
        "environment train: its pip section cannot use the versions group main's environments locked before"
        in done.stderr
    )
    assert "(serve)" in done.stderr and "list train first" in done.stderr
