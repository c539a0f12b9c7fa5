"""A lock folder that is a regular file (`-o afile`, or a committed file named `locks`) is a bad
option or setting, said once with the path and a fix (exit 2): never the system's "Not a directory"
for each lock, nor "no such folder"."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import invoke_lockgen

ENV = "name: x\nchannels: [conda-forge]\ndependencies:\n  - python\n"


@pytest.mark.parametrize("command", [("check",), ("lock", "--offline"), ("diff",), ("explain", "python")])
@pytest.mark.parametrize("given", [True, False])
def test_a_lock_folder_that_is_a_file(tmp_path: Path, command: tuple[str, ...], given: bool) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    (tmp_path / ("afile" if given else "locks")).write_text("not a folder\n")
    result = invoke_lockgen(*command, *(("-o", "afile") if given else ()), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    where = "afile (-o)" if given else "locks (the default)"
    assert f"the lock folder {where} is a file, not a folder: name the folder" in result.stderr, result.stderr
    assert "Errno" not in result.stderr and "no such folder" not in result.stderr


def test_the_setting_is_named(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\noutput-dir = "afile"\n')
    (tmp_path / "afile").write_text("")
    result = invoke_lockgen("check", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "([tool.lockgen] output-dir in " in result.stderr and "pyproject.toml) is a file" in result.stderr


def test_verify_refuses_it_as_an_option(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    result = invoke_lockgen("verify", "-o", "afile", cwd=tmp_path)
    assert result.returncode == 2 and "'afile' is a file" in result.stderr, result.stderr
