"""Lock an environment with a pip: section, then `lockgen install` both halves, all offline.

A conda channel (a working `python`, a `noarch: python` package) and a PyPI-like index are served
on 127.0.0.1; `lock` writes linux-64.txt and requirements.txt, `install` links the conda part and
installs the pip part with the environment's own Python through uv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.test_install_small_channel import served_pip_install
from tests.support.channel import Server
from tests.support.cli import mapping_env, mirror_options, run_lockgen
from tests.support.projects import make_git_repo, make_project

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test channel is linux-64")


@dataclass
class World:
    root: Path
    channel: Server
    index: Server
    mapping: Server

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        options = mirror_options(self.channel.url, self.root / "cache")
        return run_lockgen(*args, *options, cwd=self.root, env=mapping_env(self.mapping.url))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with served_pip_install(tmp_path) as (channel, index_server, mapping):
        (tmp_path / "environment.yml").write_text(
            "name: e\nchannels:\n  - testchan\ndependencies:\n  - python\n  - tinypy\n"
            f"  - pip:\n    - --index-url {index_server.url}/simple\n    - helper\n"
        )
        yield World(tmp_path, channel, index_server, mapping)


def _python(prefix: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(prefix / "bin" / "python"), "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def conda_part_installed(world: World) -> Path:
    """``install --no-pip`` of the locked project into ``world.root/env``; skips the test when the
    prefix's Python cannot run from its copy."""
    prefix = world.root / "env"
    first = world.run("install", "-p", "linux-64", "--prefix", str(prefix), "--no-pip")
    assert first.returncode == 0, first.stderr
    probe = _python(prefix, "import sys; print(sys.prefix)")
    if probe.returncode != 0 or Path(probe.stdout.strip()).resolve() != prefix.resolve():
        pytest.skip("this interpreter does not run from a copy (needs a shared libpython with an absolute runpath)")
    return prefix


def test_lock_then_install_conda_and_pip_parts(world: World) -> None:
    locked = world.run("lock", "-p", "linux-64")
    assert locked.returncode == 0, locked.stderr
    assert "helper==1.0" in (world.root / "locks" / "requirements.txt").read_text()
    prefix = conda_part_installed(world)
    second = world.run("install", "-p", "linux-64", "--prefix", str(prefix))
    assert second.returncode == 0, second.stderr
    assert "installed locks/requirements.txt with uv" in second.stdout
    imported = _python(prefix, "import helper, tinypy; print(helper.__file__)")
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).resolve().is_relative_to(prefix.resolve())
    third = world.run("install", "-p", "linux-64", "--prefix", str(prefix))
    assert third.returncode == 0, third.stderr
    assert "is up to date" in third.stdout
    assert "locks/requirements.txt: already installed" in third.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_install_brings_vcs_and_editable_projects(world: World) -> None:
    commit = make_git_repo(world.root / "repo", "vcspkg", "1.0", ["helper"])
    make_project(world.root / "localproj", "localproj", "0.1.0", ["helper"])
    env = world.root / "environment.yml"
    env.write_text(
        env.read_text().replace(
            "    - helper\n", f"    - vcspkg @ git+{(world.root / 'repo').as_uri()}\n    - -e ./localproj\n"
        )
    )
    locked = world.run("lock", "-p", "linux-64")
    assert locked.returncode == 0, locked.stderr
    assert "helper==1.0" in (world.root / "locks" / "requirements.txt").read_text()
    unhashed = (world.root / "locks" / "requirements-unhashed.txt").read_text()
    assert f"@{commit}" in unhashed and "-e ./localproj" in unhashed
    prefix = conda_part_installed(world)
    second = world.run("install", "-p", "linux-64", "--prefix", str(prefix))
    assert second.returncode == 0, second.stderr
    imported = _python(prefix, "import helper, vcspkg, localproj; print(localproj.__file__)")
    assert imported.returncode == 0, imported.stderr
    # editable: the module is imported from the project folder, not copied into the prefix
    assert Path(imported.stdout.strip()).resolve() == (world.root / "localproj" / "localproj" / "__init__.py").resolve()


def test_install_refuses_an_unhashed_lock_that_leaves_the_project(tmp_path: Path) -> None:
    from lockgen.errors import InstallError
    from lockgen.install.pip import unhashed_requirements

    lock_dir = tmp_path / "project" / "locks"
    lock_dir.mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "project" / "inside").mkdir()
    path = lock_dir / "requirements-unhashed.txt"
    head = "# Generated by lockgen\n# paths-base: ..\n"
    path.write_text(head + "-e ./inside\n./inside ; sys_platform == \"win32\"\nx @ git+https://h/x@" + "a" * 40 + "\n")
    text = unhashed_requirements(path, lock_dir, {"sys_platform": "linux"})
    assert text == f"-e {tmp_path / 'project' / 'inside'}\nx @ git+https://h/x@{'a' * 40}\n"
    path.write_text(head + "-e ../outside\ny @ git+https://h/y@main\n")
    with pytest.raises(InstallError) as info:
        unhashed_requirements(path, lock_dir, None)
    assert "../outside is outside the project folder" in info.value.message
    assert "y is not pinned to a full commit hash" in info.value.message
    path.write_text("# paths-base: ../..\n-e ./outside\n")
    with pytest.raises(InstallError) as info:
        unhashed_requirements(path, lock_dir, None)
    assert "paths-base '../..' must be `.` or `..`" in info.value.message


def test_an_environments_unhashed_lock_leads_two_folders_up(tmp_path: Path) -> None:
    """With [tool.lockgen.environments] the locks are in locks/<name>/ and `paths-base` is `../..`: install
    takes it when it leads to the environment file's folder, and refuses any other base there."""
    from lockgen.errors import InstallError
    from lockgen.install.pip import unhashed_requirements

    project = tmp_path / "project"
    lock_dir = project / "locks" / "gpu"
    lock_dir.mkdir(parents=True)
    (project / "inside").mkdir()
    path = lock_dir / "requirements-unhashed.txt"
    path.write_text("# Generated by lockgen\n# paths-base: ../..\n-e ./inside\n")
    text = unhashed_requirements(path, lock_dir, None, project_dir=project)
    assert text == f"-e {project / 'inside'}\n"
    for base in ("..", "../../..", "sub"):
        path.write_text(f"# Generated by lockgen\n# paths-base: {base}\n-e ./inside\n")
        with pytest.raises(InstallError):
            unhashed_requirements(path, lock_dir, None, project_dir=project)
