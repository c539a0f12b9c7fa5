"""``-p`` names a conda subdir for every command: an unknown one (``-p ../../etc``) is a bad option
(exit 2, the same words everywhere), never an "invalid environment file" (exit 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import invoke_lockgen

ENV = "channels: [conda-forge]\ndependencies:\n  - python=3.11\n"


@pytest.mark.parametrize(
    "command", [("check",), ("lock", "--check"), ("explain", "python"), ("explain", "python", "--no-why-not-newer")]
)
def test_an_unknown_platform_is_a_bad_option(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    result = invoke_lockgen(*command, "-p", "../../etc", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unknown platform(s): ../../etc (for example: linux-64, osx-arm64, win-64)" in result.stderr
    assert "invalid input" not in result.stderr
