"""Several environments with pip sections: a group agrees on the pip packages its environments share.

``train`` asks for ``tool``, which needs ``helper <2``; ``serve`` asks for ``helper`` alone and,
alone, takes helper 2.0. In group ``main`` serve takes helper 1.0, whichever is listed first;
``lone`` (no group) asks for helper and keeps 2.0. A conda channel (python) and a PyPI-like index
are built by the test and served on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from lockgen.lockfiles.requirements import parse_requirements_lock
from lockgen.pypi.targets import pins_by_platform
from tests.support.channel import ChannelBuilder, Server, serve_directory
from tests.support.cli import invoke_lockgen, mapping_env, mirror_options
from tests.support.pypi_index import SimpleIndex, serve_index

PYPROJECT = """\
[tool.lockgen.environments]
train = { file = ["environment.yml", "train.yml"], group = "main" }
serve = { file = "environment.yml", group = "main" }
lone = { file = "environment.yml" }
"""


@contextmanager
def _served(
    root: Path, index: SimpleIndex, subdirs: tuple[str, ...] = ("linux-64",)
) -> Iterator[tuple[Path, Server, Server, Server]]:
    """A conda channel with python for ``subdirs`` (and pip), ``index`` and the name mapping, served on 127.0.0.1."""
    conda = ChannelBuilder(root / "channels" / "testchan", subdirs=("noarch", *subdirs))
    for subdir in subdirs:
        conda.add("python", "3.11.9", build="h0_cpython", subdir=subdir)
    conda.add("pip", "24.2", build="pyh0_0", noarch="python", depends=["python >=3.8"])  # added for pip sections
    conda.write()
    index.write()
    mapping = root / "mapping"
    mapping.mkdir()
    (mapping / "testchan.json").write_text(json.dumps({"python": None}))
    with (
        serve_directory(root / "channels") as channels,
        serve_index(index.root) as pypi,
        serve_directory(mapping) as mapping_server,
    ):
        yield root, channels, pypi, mapping_server


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, Server, Server, Server]]:
    index = SimpleIndex(tmp_path / "index")
    index.add("helper", "1.0")
    index.add("helper", "2.0")
    index.add("tool", "1.0", requires=["helper<2"])
    with _served(tmp_path, index) as served:
        yield served


def _pins(path: Path) -> dict[str, str]:
    return {p.name: p.version for p in parse_requirements_lock(path.read_text()).pins()}


def _project(
    world: tuple[Path, Server, Server, Server], pyproject: str, folder: str = "project"
) -> Callable[..., CompletedProcess[str]]:
    root, channels, pypi, mapping = world
    project = root / folder
    project.mkdir()
    (project / "pyproject.toml").write_text(pyproject)
    head = "channels:\n  - testchan\nplatforms:\n  - linux-64\ndependencies:\n  - python=3.11\n  - pip:\n"
    (project / "environment.yml").write_text(head + f"    - --index-url {pypi.url}/simple\n    - helper\n")
    (project / "train.yml").write_text("channels:\n  - testchan\ndependencies:\n  - pip:\n    - tool\n")

    def lock(*args: str) -> CompletedProcess[str]:
        options = mirror_options(channels.url, root / "cache")
        return invoke_lockgen("lock", *options, *args, cwd=project, env=mapping_env(mapping.url))

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
    done = invoke_lockgen("check", cwd=project)
    assert done.returncode == 6
    assert "group main: pip: helper: train has 1.0; serve has 2.0 (linux-64); run `lockgen lock`" in done.stderr
    lock()
    assert _pins(locks / "serve" / "requirements.txt") == {"helper": "1.0"}
    assert invoke_lockgen("check", cwd=project).returncode == 0


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_tables_order_does_not_change_the_locks(world: tuple[Path, Server, Server, Server]) -> None:
    """serve listed first or train listed first: the same locks. Alone, serve takes helper 2.0 and
    train 1.0 (tool needs helper <2); together both take 1.0, whichever is written first."""
    swapped = PYPROJECT.replace('train = { file = ["environment.yml", "train.yml"], group = "main" }\n', "")
    swapped = swapped.replace("lone =", 'train = { file = ["environment.yml", "train.yml"], group = "main" }\nlone =')
    assert swapped != PYPROJECT and swapped.index("serve =") < swapped.index("train =")
    for folder, table in (("in-order", PYPROJECT), ("swapped", swapped)):
        done = _project(world, table, folder)()
        assert done.returncode == 0, done.stderr
    root = world[0]
    assert _pins(root / "swapped" / "locks" / "serve" / "requirements.txt") == {"helper": "1.0"}
    assert _files(root / "in-order" / "locks") == _files(root / "swapped" / "locks")
    assert invoke_lockgen("check", cwd=root / "swapped").returncode == 0


def test_a_group_whose_pip_sections_cannot_agree_is_named(world: tuple[Path, Server, Server, Server]) -> None:
    table = PYPROJECT.replace('serve = { file = "environment.yml"', 'serve = { file = ["environment.yml", "serve.yml"]')
    run = _project(world, table)
    project = world[0] / "project"
    (project / "serve.yml").write_text("channels:\n  - testchan\ndependencies:\n  - pip:\n    - helper==2.0\n")
    done = run()
    assert done.returncode == 7, done.stderr
    assert "group main: the pip sections of serve, train disagree when each is resolved alone" in done.stderr
    assert "(helper: serve has 2.0; train has 1.0 (linux-64))" in done.stderr
    assert "helper: serve `helper==2.0` (serve.yml:5), train `helper` (environment.yml:9)" in done.stderr
    assert not (project / "locks").exists() or not any((project / "locks").rglob("*.txt"))


def test_a_pip_failure_in_a_later_environment_leaves_every_old_lock(
    world: tuple[Path, Server, Server, Server],
) -> None:
    """One commit for all environments: ``a``'s new locks are computed first, then ``b``'s pip
    section fails; ``a``'s previous files stay byte for byte, and no journal is left."""
    table = '[tool.lockgen.environments]\na = { file = "a.yml" }\nb = { file = "b.yml" }\n'
    run = _project(world, table)
    project = world[0] / "project"
    pypi = world[2]
    head = "channels:\n  - testchan\nplatforms:\n  - linux-64\ndependencies:\n  - python=3.11\n  - pip:\n"
    head += f"    - --index-url {pypi.url}/simple\n"
    (project / "a.yml").write_text(head + "    - helper\n")
    (project / "b.yml").write_text(head + "    - tool\n")
    first = run()
    assert first.returncode == 0, first.stderr
    before = _files(project / "locks")
    assert _pins(project / "locks" / "a" / "requirements.txt") == {"helper": "2.0"}
    (project / "a.yml").write_text(head + "    - helper==1.0\n")  # a's locks would change
    (project / "b.yml").write_text(head + "    - tool\n    - no-such-package\n")  # b's pip step fails
    done = run()
    assert done.returncode == 7, done.stderr
    assert "no-such-package" in done.stderr
    assert _files(project / "locks") == before
    (project / "b.yml").write_text(head + "    - tool\n")
    assert run().returncode == 0
    assert _pins(project / "locks" / "a" / "requirements.txt") == {"helper": "1.0"}


TWO_PLATFORMS = (
    "channels:\n  - testchan\nplatforms:\n  - linux-64\n  - win-64\ndependencies:\n  - python=3.11\n  - pip:\n"
)


def _helper(path: Path) -> dict[str, set[str]]:
    by_platform = pins_by_platform(path.read_text())
    return {p: {pin.version for pin in pins if pin.name == "helper"} for p, pins in by_platform.items()}


def test_a_member_differing_on_one_platform_is_resolved_again_and_check_agrees(tmp_path: Path) -> None:
    """``a`` asks for ``helper`` and was locked at helper 1.0 (keeping its pin after 2.0 appears);
    ``b`` joins its group asking for helper <2 on linux and >=2 on Windows. Alone they agree on
    linux-64 (1.0) and differ on win-64 (1.0 and 2.0): the group's pip sections resolved together
    take 2.0 on win-64, so ``a`` is resolved again there, although 2.0 is a version the agreement
    has (on another platform). Then ``check`` finds them agreeing, platform by platform."""
    index = SimpleIndex(tmp_path / "index")
    index.add("helper", "1.0")
    project = tmp_path / "project"
    project.mkdir()
    with _served(tmp_path, index, ("linux-64", "win-64")) as (root, channels, pypi, mapping):
        head = TWO_PLATFORMS + f"    - --index-url {pypi.url}/simple\n"
        (project / "a.yml").write_text(head + "    - helper\n")
        (project / "b.yml").write_text(head + "    - helper<2 ; sys_platform == 'linux'\n")
        with (project / "b.yml").open("a") as b_file:
            b_file.write("    - helper>=2 ; sys_platform == 'win32'\n")

        def lock() -> None:
            options = mirror_options(channels.url, root / "cache")
            done = invoke_lockgen("lock", *options, cwd=project, env=mapping_env(mapping.url))
            assert done.returncode == 0, done.stderr

        (project / "pyproject.toml").write_text('[tool.lockgen.environments]\na = { file = "a.yml", group = "g" }\n')
        lock()
        a, b = project / "locks" / "a" / "requirements.txt", project / "locks" / "b" / "requirements.txt"
        assert _helper(a) == {"linux-64": {"1.0"}, "win-64": {"1.0"}}
        index.add("helper", "2.0")
        index.write()
        with (project / "pyproject.toml").open("a") as table:
            table.write('b = { file = "b.yml", group = "g" }\n')
        lock()
        assert _helper(b) == {"linux-64": {"1.0"}, "win-64": {"2.0"}}
        assert _helper(a) == {"linux-64": {"1.0"}, "win-64": {"2.0"}}  # before: 1.0 kept on win-64
        checked = invoke_lockgen("check", cwd=project)
        assert checked.returncode == 0, checked.stderr
