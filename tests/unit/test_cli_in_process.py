"""The CLI runs in-process under click's test runner (a command ends by raising click's ``Exit``); only the
console script (``lockgen.cli.main``, through ``lockgen.cli.app.main``) leaves through ``os._exit``, after flushing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lockgen.repodata import gateway
from tests.support.cli import invoke_lockgen


def test_a_command_returns_its_exit_code_and_output_to_the_caller(tmp_path: Path) -> None:
    result = invoke_lockgen("check", "-f", "missing.yml", cwd=tmp_path)
    # before: run_core left through os._exit, which ended this test process here
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == "error: invalid input (1 problem):\n  missing.yml: no such file\n"


def test_usage_errors_and_version_come_back_in_process() -> None:
    bad = invoke_lockgen("lock", "--no-such-option")
    assert bad.returncode == 2
    assert bad.stderr.startswith("Usage: lockgen lock [OPTIONS]\n")
    assert "No such option '--no-such-option'" in bad.stderr
    version = invoke_lockgen("--version")
    assert version.returncode == 0 and version.stdout.startswith("lockgen, version ")


def test_a_run_leaves_the_working_folder_and_the_environment_as_they_were(tmp_path: Path) -> None:
    before = (os.getcwd(), dict(os.environ))
    invoke_lockgen("check", cwd=tmp_path, env={"LOCKGEN_JOBS": "1"})
    assert (os.getcwd(), dict(os.environ)) == before
    assert not gateway._keep  # only the console script declares it leaves through os._exit


CONSOLE = textwrap.dedent(
    """
    import os, sys
    import lockgen.cli.app as app
    import lockgen.repodata.gateway as gateway

    def finish(code):
        sys.stdout.flush()
        print("finish", code, "keep", gateway._keep, file=sys.stderr, flush=True)
        os._exit(code)

    app.finish = finish
    sys.argv = ["lockgen", *sys.argv[1:]]
    app.main()
    print("main returned", file=sys.stderr)
    """
)


@pytest.mark.parametrize(("command", "keep"), [("lock", True), ("check", False)])
def test_the_console_script_flushes_and_leaves_through_os_exit(tmp_path: Path, command: str, keep: bool) -> None:
    """A command that may solve keeps its Gateways until ``os._exit``; ``check`` never solves, so it does
    not set the switch (nor load :mod:`lockgen.repodata.gateway` for it: docs/performance.md, "Round 8: check")."""
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE, command, "-f", "missing.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert done.stderr.endswith(f"  missing.yml: no such file\nfinish 3 keep {keep}\n"), done.stderr
