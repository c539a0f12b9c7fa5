"""conda-lock's options ported to lockgen are answered with lockgen's equivalent, in lockgen's words
(its exit codes as `lockgen --help` lists them)."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import invoke_lockgen

ENV = "channels: [conda-forge]\ndependencies:\n  - python=3.11\n"


def test_check_input_hash_points_at_check_with_its_own_exit_code(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    result = invoke_lockgen("lock", "--check-input-hash", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "`lockgen check` tells without locking (exit 6 when out of date)" in result.stderr
    help_text = invoke_lockgen("--help").stdout
    assert "6  `check`: a lock is missing, malformed or stale" in help_text
    assert not (tmp_path / "locks").exists()
