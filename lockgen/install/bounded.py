"""Running an installer in its own process group, bounded in time and stopped with everything it started.

A cancelled job (Ctrl-C, SIGTERM, SIGHUP) stops the whole group before lockgen ends as the signal
would have ended it; so does a process that outlives the time it was given.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Late", "run_bounded"]


class Late(Exception):
    """The time given ran out; the process and its group were stopped."""


def _stop_group(process: subprocess.Popen[str]) -> None:
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


def run_bounded(argv: Sequence[str], env: Mapping[str, str], timeout: float | None) -> tuple[int, str]:
    """Run ``argv`` in its own process group; (exit code, stdout + stderr). Raises Late when
    ``timeout`` passes first; then, and on any interruption (Ctrl-C, SIGTERM, SIGHUP: the installer's
    group no longer gets the terminal's or the job's signals), the whole group is stopped."""
    import os
    import signal
    import threading

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
            text=True,
            env=dict(env),
            start_new_session=os.name == "posix",
        )
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        assert process is not None
        _stop_group(process)
        _drain(process)
        raise Late from exc
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
    return process.returncode, out + err


def _drain(process: subprocess.Popen[str]) -> None:
    try:
        process.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError, OSError):  # a pipe held by a process outside the group
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
