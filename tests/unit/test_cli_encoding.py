"""Output to a stream whose encoding lacks lockgen's characters (``→``, ``—``): a Windows console
redirected to a file writes cp1252. The text goes out with those characters escaped, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_lockgen


@pytest.mark.parametrize("args", [("diff", "--help"), ("lock", "--help"), ("diff", "old", "new")])
def test_a_narrow_output_encoding_is_no_internal_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    for side in ("old", "new"):
        (tmp_path / side).mkdir()
    lock = "# platform: linux-64\n@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/noarch/a-1-0.conda#{}\n"
    (tmp_path / "old" / "linux-64.txt").write_text(lock.format("0" * 31 + "1"))
    (tmp_path / "new" / "linux-64.txt").write_text(lock.format("0" * 31 + "2"))
    result = run_lockgen(*args, cwd=tmp_path, env={"PYTHONIOENCODING": "cp1252", "PYTHONUTF8": "0"})
    assert result.returncode in (0, 6), result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "\\u2192" in result.stdout  # `→`, escaped
