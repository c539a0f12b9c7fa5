"""`--cuda` (and `[tool.lockgen] cuda`) is the version of conda's __cuda virtual package: anything
else is refused as a bad option (exit 2), naming it and showing a valid value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import invoke_lockgen

ENV = "name: x\nchannels: [conda-forge]\ndependencies:\n  - python\n"


@pytest.mark.parametrize("value", ["abc", "", "12.", "12.6 ", "cuda12", "12,6", "١٢"])
def test_a_cuda_value_that_is_not_a_version_is_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    result = invoke_lockgen("check", "--cuda", value, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"--cuda {value!r} is not a version" in result.stderr and "--cuda 12.6" in result.stderr


@pytest.mark.parametrize("value", ["12", "12.6", "11.8.0"])
def test_a_cuda_version_is_taken(tmp_path: Path, value: str) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    result = invoke_lockgen("check", "--cuda", value, cwd=tmp_path)
    assert result.returncode == 6, result.stderr  # no locks yet: the option itself was taken
    assert "is not a version" not in result.stderr


def test_the_setting_is_checked_too(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\ncuda = "latest"\n')
    result = invoke_lockgen("check", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "cuda 'latest' is not a version" in result.stderr and "pyproject.toml" in result.stderr


@pytest.mark.parametrize("written", ["11.10", "12.6", "12.0", "1e1"])
def test_a_cuda_setting_written_as_a_toml_float_is_refused_with_the_fix(tmp_path: Path, written: str) -> None:
    """tomllib reads `cuda = 11.10` as 11.1: another CUDA version, so no float is taken for one."""
    (tmp_path / "environment.yml").write_text(ENV)
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.lockgen]\ncuda = {written}\n')
    result = invoke_lockgen("check", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{tmp_path / 'pyproject.toml'}:5: [tool.lockgen] cuda = {written} is a TOML number" in result.stderr
    assert f'quote it, cuda = "{written}"' in result.stderr
    assert "Traceback" not in result.stderr


def test_a_whole_number_cuda_setting_is_exact_and_taken(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    (tmp_path / "pyproject.toml").write_text("[tool.lockgen]\ncuda = 12\n")
    result = invoke_lockgen("check", cwd=tmp_path)
    assert result.returncode == 6, result.stderr  # no locks yet: the setting itself was taken
    assert "cuda" not in result.stderr
