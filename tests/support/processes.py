"""Processes a test started: whether one still runs, waiting for it to end, and ending it by its id."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not count). Reads /proc."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ends(pid: int, within: float = 10) -> bool:
    """Whether process ``pid`` is gone within ``within`` seconds (a killed process may take a moment to be
    reaped). A generous bound that a passing run never waits out: it only keeps a failing run finite."""
    stop = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > stop:
            return False
        time.sleep(0.05)
    return True


def kill_left(pid_file: Path) -> None:
    """Kill the process whose id ``pid_file`` holds, if it still runs: one this test started, by its id."""
    if pid_file.is_file() and pid_file.read_text() and alive(int(pid_file.read_text())):
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
