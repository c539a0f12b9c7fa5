"""Run the lockgen CLI: in-process through click's test runner (:func:`invoke_lockgen`, the default), or
in a subprocess as users do (:func:`run_lockgen`) where a test needs a real process: a signal or a
kill, what happens at interpreter exit, several lockgen processes at once, or one end-to-end run of
each command through the console script.

Both return a :class:`subprocess.CompletedProcess`, so a test switches between them by name only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from lockgen.cli.app import cli
from lockgen.lockfiles import commit
from tests.support.channel import CANONICAL


def mirror_options(mirror: str | Path, cache: str | Path) -> tuple[str, ...]:
    """``--mirror`` sending https://conda.anaconda.org to ``mirror`` (a folder or a server's URL), so locks keep
    canonical URLs, and ``--cache-dir cache``."""
    return ("--mirror", f"{CANONICAL}={mirror}", "--cache-dir", str(cache))


def mapping_env(mapping_url: str) -> dict[str, str]:
    """The environment that makes lockgen read the conda→PyPI name mapping of channel ``C`` from
    ``mapping_url/C.json`` (a folder a test serves) instead of parselmouth's."""
    return {"LOCKGEN_PYPI_MAPPING_URL": mapping_url + "/{channel}.json"}


def invoke_lockgen(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``lockgen ARGS`` in this process: click's runner captures stdout and stderr apart, sets ``env``
    for the call only, and the working folder is ``cwd`` for the call only.

    What a run leaves in the process is undone: the working folder, the environment (click's runner),
    and the list of commits this process made (which only a Ctrl-C message reads). The console
    script's own exit path (``os._exit``) is never taken: ``lockgen.cli.app.main`` is not called."""
    argv = [str(arg) for arg in args]
    before = os.getcwd()
    commits = len(commit.committed())
    runner = CliRunner()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(cli, argv, input=input, env=env, prog_name="lockgen", catch_exceptions=False)
    finally:
        os.chdir(before)
        del commit._COMMITTED[commits:]  # the journal of the commits this process made: per run here
    return subprocess.CompletedProcess(["lockgen", *argv], result.exit_code, result.stdout, result.stderr)


def run_lockgen(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (``python -m lockgen``: the console script, leaving through
    ``os._exit``)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "lockgen", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
