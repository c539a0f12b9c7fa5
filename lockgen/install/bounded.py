"""Running an installer in its own process group, bounded in time and stopped with everything it started.

A cancelled job (Ctrl-C, SIGTERM, SIGHUP) stops the whole group before lockgen ends as the signal
would have ended it; so does a process that outlives the time it was given.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Late", "Stopped", "run_bounded"]


class Late(Exception):
    """The time given ran out; the process and its group were stopped."""


class Stopped(Exception):
    """The caller asked for the run to end (its ``stop`` event); the process and its group were stopped."""


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """End ``process`` and everything it started (its own session: build backends, git): SIGTERM,
    then SIGKILL for whatever is still there after a short grace."""
    import os
    import signal

    if os.name != "posix":  # pragma: no cover - one process, no group
        process.kill()
        return
    for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone; are others of its group left?
            os.killpg(process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return


class _Signalled(BaseException):
    """SIGTERM or SIGHUP arrived while the installer ran (a cancelled CI job)."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


def _raise_signalled(number: int, _frame: object) -> None:
    raise _Signalled(number)


def run_bounded(
    argv: Sequence[str],
    env: Mapping[str, str],
    timeout: float | None,
    stop: threading.Event | None = None,
    cwd: str | None = None,
) -> tuple[int, str]:
    """Run ``argv`` in its own process group (in ``cwd``, else here); (exit code, stdout + stderr). Raises Late when
    ``timeout`` passes first, Stopped when ``stop`` is set first; then, and on any interruption
    (Ctrl-C, SIGTERM, SIGHUP: the installer's group no longer gets the terminal's or the job's
    signals), the whole group is stopped."""
    import os
    import signal

    held: dict[int, Any] = {}
    if os.name == "posix" and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            held[int(sig)] = signal.signal(sig, _raise_signalled)
    process = None
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=os.name == "posix",
        )
        out, err = _wait(process, timeout, stop)
    except (Late, Stopped):
        assert process is not None
        _stop_group(process)
        _drain(process)
        raise
    except _Signalled as exc:
        if process is not None:
            _stop_group(process)
            _drain(process)
        for number, handler in held.items():
            signal.signal(number, handler)
        held.clear()
        os.kill(os.getpid(), exc.number)  # end as the signal would have, now that nothing is left running
        raise
    except BaseException:  # Ctrl-C reaches only lockgen now: stop the installer with it
        if process is not None:
            _stop_group(process)
            _drain(process)
        raise
    finally:
        for number, handler in held.items():
            signal.signal(number, handler)
    _stop_group(process)  # a process it left behind (a daemonised build step) does not outlive the step
    # Bytes, decoded here as UTF-8 (what uv and pip write) whatever the locale's encoding (cp1252 on
    # Windows): an undecodable byte is replaced, never an error that loses the message.
    return process.returncode, (out + err).decode("utf-8", "replace")


def _wait(process: subprocess.Popen[bytes], timeout: float | None, stop: threading.Event | None) -> tuple[bytes, bytes]:
    """``process.communicate()``, raising Late after ``timeout`` seconds and Stopped once ``stop`` is set."""
    import time

    end = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if end is None else max(0.0, end - time.monotonic())
        step = left if stop is None else (0.1 if left is None else min(left, 0.1))
        try:
            return process.communicate(timeout=step)  # retried after a timeout without losing output
        except subprocess.TimeoutExpired:
            if stop is not None and stop.is_set():
                raise Stopped from None
            if end is not None and time.monotonic() >= end:
                raise Late from None


def _drain(process: subprocess.Popen[bytes]) -> None:
    try:
        process.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError, OSError):  # a pipe held by a process outside the group
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
