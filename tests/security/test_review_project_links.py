"""Audit findings 6 and 12: links a pull request commits must not move the project.

An ``environment.yml`` linked to a file outside the project made that file's folder the project (its
pyproject.toml, its locks); ``check`` followed ``-e ./link`` out of the project, read the folder
there and printed where the link led (``/etc``, ``/proc/<pid>``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.figures import count
from tests.integration.test_install_with_pip import World, world  # noqa: F401  (the fixture)
from tests.support.cli import run_lockgen


def test_an_environment_file_linked_out_of_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "environment.yml").write_text((project / "environment.yml").read_text())
    (outside / "pyproject.toml").write_text('[tool.lockgen]\noutput-dir = "elsewhere"\n')  # must not be read
    (project / "environment.yml").unlink()
    (project / "environment.yml").symlink_to(outside / "environment.yml")
    for args in (("check",), ("check", "-f", "./environment.yml"), ("diff", "-o", "locks", "locks")):
        result = run_lockgen(*args, cwd=project)
        assert result.returncode == 3, (args, result.stdout + result.stderr)
        assert "environment.yml: a symbolic link (to " in result.stderr
        assert "that leads out of the project folder" in result.stderr and "elsewhere" not in result.stderr
    count("hostile review inputs refused")
    # the fix the message offers works
    fix = result.stderr.split("e.g. `", 1)[1].split("`", 1)[0]
    subprocess.run(["sh", "-c", fix], cwd=project, check=True)
    assert not (project / "environment.yml").is_symlink()
    fixed = run_lockgen("check", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_a_link_inside_the_project_keeps_the_project_where_the_link_is(project: Path) -> None:
    """``environment.yml -> envs/main.yml``: the project (pyproject.toml, locks/) is the link's folder."""
    (project / "envs").mkdir()
    (project / "environment.yml").rename(project / "envs" / "main.yml")
    (project / "environment.yml").symlink_to(Path("envs") / "main.yml")
    result = run_lockgen("check", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test channel is linux-64")
def test_check_does_not_follow_a_local_project_link_out_of_the_project(world: World) -> None:  # noqa: F811
    locked = world.run("lock", "-p", "linux-64")  # a pip section, locked
    assert locked.returncode == 0, locked.stderr
    outside = world.root.parent / f"{world.root.name}-elsewhere"
    outside.mkdir()
    (outside / "notes.txt").write_text("not a project\n")
    (world.root / "sub").symlink_to(outside)
    env = world.root / "environment.yml"
    env.write_text(env.read_text() + "    - -e ./sub\n")
    result = world.run("check", "-p", "linux-64")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "`-e ./sub`: outside the environment file's folder (a symbolic link is followed)" in out, out
    assert outside.name not in out, out
    count("hostile review inputs refused")
    relocked = world.run("lock", "-p", "linux-64")  # lock refuses it the same way, before reading it
    assert relocked.returncode == 3, relocked.stdout + relocked.stderr
    assert "`-e ./sub`: outside the environment file's folder" in relocked.stderr
    assert outside.name not in relocked.stdout + relocked.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test channel is linux-64")
def test_explain_does_not_read_a_linked_pip_lock(world: World) -> None:  # noqa: F811
    locked = world.run("lock", "-p", "linux-64")
    assert locked.returncode == 0, locked.stderr
    requirements = world.root / "locks" / "requirements.txt"
    outside = world.root.parent / f"{world.root.name}-requirements.txt"
    outside.write_text(requirements.read_text().replace("helper==1.0", "helper==9.9.9"))
    requirements.unlink()
    requirements.symlink_to(outside)
    result = world.run("explain", "helper", "-p", "linux-64")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "requirements.txt is a symbolic link, not a file lockgen wrote" in result.stderr
    assert "9.9.9" not in result.stdout + result.stderr
    count("hostile review inputs refused")
