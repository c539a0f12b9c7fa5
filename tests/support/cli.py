"""Run the lockgen CLI as users do: in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_lockgen(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (lockgen leaves through os._exit, so never in-process)."""
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
