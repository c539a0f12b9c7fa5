"""A command run from a folder that was removed meanwhile (a checkout deleted under an open shell, a
temporary folder cleaned): one line saying so and exit 2, not an internal error from ``Path.cwd()``."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.skipif(sys.platform == "win32", reason="a folder in use cannot be removed on Windows")
@pytest.mark.parametrize("command", ["check", "lock --offline"])
def test_a_removed_working_folder_is_an_error_not_a_bug(tmp_path: Path, command: str) -> None:
    env = tmp_path / "project" / "environment.yml"
    env.parent.mkdir()
    env.write_text("channels: [conda-forge]\ndependencies:\n  - python=3.11\n")
    gone = tmp_path / "gone"
    gone.mkdir()
    lockgen = f"{shlex.quote(sys.executable)} -m lockgen {command} -f {shlex.quote(str(env))}"
    script = f"cd {shlex.quote(str(gone))} && rmdir {shlex.quote(str(gone))} && exec {lockgen}"
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "internal error" not in done.stderr
    assert "the folder lockgen runs in no longer exists" in done.stderr
