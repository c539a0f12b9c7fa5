"""The runner's exits: Ctrl-C ends with one line and 130, never a traceback from objects freed on the way out."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    from lockgen.cli.runner import run_core

    class HalfMade:  # like an asyncio loop interrupted while being built: its __del__ fails
        def __del__(self):
            raise AttributeError("'HalfMade' object has no attribute '_ssock'")

    def action():
        loop = HalfMade()
        raise KeyboardInterrupt

    run_core(VERBOSE, action)
    """
)


def _run(verbose: bool) -> subprocess.CompletedProcess[str]:
    code = SCRIPT.replace("VERBOSE", str(verbose))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_ctrl_c_exits_130_with_one_line_and_no_traceback() -> None:
    result = _run(verbose=False)
    assert result.returncode == 130
    assert result.stderr.startswith("interrupted; lock files are the old set"), result.stderr
    assert "Traceback" not in result.stderr and "_ssock" not in result.stderr, result.stderr


def test_ctrl_c_with_verbose_still_shows_what_failed() -> None:
    result = _run(verbose=True)
    assert result.returncode == 130
    assert "_ssock" in result.stderr  # -v hides nothing
