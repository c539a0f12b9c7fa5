"""A pull request can commit ``pyproject.toml`` as a symbolic link: one leading out of the project must
not choose the settings a command reads (as an environment file linked out is refused)."""

from __future__ import annotations

from pathlib import Path

from tests.faults.figures import count
from tests.support.cli import invoke_lockgen

ENV = "channels: [conda-forge]\ndependencies:\n  - python=3.11\n"


def _project(tmp_path: Path) -> tuple[Path, Path]:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "environment.yml").write_text(ENV)
    (outside / "pyproject.toml").write_text('[tool.lockgen]\nhash = "sha256"\n')
    return project, outside


def test_a_pyproject_linked_out_of_the_project_is_refused(tmp_path: Path) -> None:
    project, outside = _project(tmp_path)
    (project / "pyproject.toml").symlink_to(outside / "pyproject.toml")
    for args in (("check",), ("lock", "--check"), ("explain", "python", "--no-why-not-newer")):
        result = invoke_lockgen(*args, cwd=project)
        assert result.returncode == 2, (args, result.stdout + result.stderr)
        assert "pyproject.toml: a symbolic link" in result.stderr and "leads out of the project" in result.stderr
        assert "sha256" not in result.stdout + result.stderr
    count("hostile review inputs refused")


def test_a_pyproject_linked_inside_the_project_is_read(tmp_path: Path) -> None:
    project, outside = _project(tmp_path)
    (project / "config").mkdir()
    (outside / "pyproject.toml").rename(project / "config" / "pyproject.toml")
    (project / "pyproject.toml").symlink_to(Path("config") / "pyproject.toml")
    result = invoke_lockgen("check", "--format", "json", cwd=project)
    assert result.returncode == 6, result.stdout + result.stderr  # no locks yet: stale, settings read
    assert "symbolic link" not in result.stderr
