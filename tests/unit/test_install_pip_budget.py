"""``run_pip`` under a :class:`PipBudget`: the installer and what it started end at the deadline;
``pip_hosts`` names where the step fetches from (no credentials)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from lockgen.errors import InstallError
from lockgen.install.pip import PipBudget, PipCommand, pip_hosts, run_pip
from lockgen.secrets import SecretRegistry
from tests.support.processes import ends, kill_left

SPAWNS_AND_SLEEPS = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1] + ".installer", "w").write(str(os.getpid()))
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_installer_and_its_children_are_stopped_at_the_deadline(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    command = PipCommand("pip", (sys.executable, "-c", SPAWNS_AND_SLEEPS, str(pid_file)))
    try:
        # The limit as the user set it (2 s, in the message) runs out after `wait` here: a fraction of a
        # second, longer only on a machine too slow to start the installer's child before it.
        for wait in (0.25, 0.5, 1, 2, 4, 8):
            budget = PipBudget(time.monotonic() + wait, 2, 60, ("index.example:8443",))
            with pytest.raises(InstallError) as caught:
                run_pip(command, SecretRegistry(), budget=budget, shown="locks/requirements.txt")
            if pid_file.is_file():
                break
        message = str(caught.value)
        assert "\n" not in message
        assert "`pip install -r locks/requirements.txt` did not finish within 2 s" in message
        assert "the package index index.example:8443 may be stalled" in message
        assert "LOCKGEN_PIP_DEADLINE" in message
        assert ends(int(pid_file.read_text())), "the installer's child outlived the deadline"
    finally:
        kill_left(pid_file)


def test_a_spent_budget_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = PipCommand("pip", (sys.executable, "-c", f"open({str(marker)!r}, 'w')"))
    spent = PipBudget(time.monotonic() - 1, 5)
    with pytest.raises(InstallError, match="did not finish within 5 s"):
        run_pip(command, SecretRegistry(), budget=spent)
    assert not marker.exists()


def test_the_read_timeout_is_passed_unless_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    show = "import os; print(os.environ.get('UV_HTTP_TIMEOUT'), os.environ.get('PIP_TIMEOUT'))"
    command = PipCommand("uv", (sys.executable, "-c", show))
    monkeypatch.delenv("UV_HTTP_TIMEOUT", raising=False)
    monkeypatch.delenv("UV_REQUEST_TIMEOUT", raising=False)
    monkeypatch.delenv("PIP_TIMEOUT", raising=False)
    monkeypatch.delenv("PIP_DEFAULT_TIMEOUT", raising=False)
    assert run_pip(command, SecretRegistry(), budget=PipBudget.starting_now(600, 45)) == "45 45"
    monkeypatch.setenv("UV_HTTP_TIMEOUT", "7")
    assert run_pip(command, SecretRegistry(), budget=PipBudget.starting_now(600, 45)) == "7 45"


def test_pip_hosts_names_indexes_find_links_and_vcs_hosts(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "--index-url https://user:secret@mirror.example/simple\n"
        "--extra-index-url=https://extra.example:8443/simple\n"
        "--find-links ./wheels\n"
        "helper==1.0 --hash=sha256:" + "0" * 64 + "\n"
    )
    unhashed = "vcspkg @ git+https://git.example/org/vcspkg@" + "a" * 40 + "\n-e /abs/localproj\n"
    hosts = pip_hosts(requirements, unhashed, {"PIP_EXTRA_INDEX_URL": "https://env.example/simple"})
    assert hosts == ("mirror.example", "extra.example:8443", "env.example", "git.example")
    requirements.write_text("helper==1.0 --hash=sha256:" + "0" * 64 + "\n")
    assert pip_hosts(requirements, "", {}) == ("pypi.org",)


RUNS_PIP = """
import sys
from lockgen.install.pip import PipBudget, PipCommand, run_pip
from lockgen.secrets import SecretRegistry
command = PipCommand("pip", (sys.executable, "-c", sys.argv[1], sys.argv[2]))
run_pip(command, SecretRegistry(), budget=PipBudget.starting_now(600, 60))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_to_lockgen_stops_the_installer_group_too(tmp_path: Path) -> None:
    """The installer has its own process group, so a cancelled CI job's SIGTERM reaches only lockgen:
    lockgen stops the group, then ends as SIGTERM would have ended it."""
    import signal
    import subprocess

    pid_file = tmp_path / "child.pid"
    runner = subprocess.Popen([sys.executable, "-c", RUNS_PIP, SPAWNS_AND_SLEEPS, str(pid_file)])
    try:
        for _ in range(300):
            if pid_file.is_file() and pid_file.read_text():
                break
            time.sleep(0.1)
        child = int(pid_file.read_text())
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=60) == -signal.SIGTERM
        assert ends(child), "the installer's child outlived lockgen"
    finally:
        if runner.poll() is None:
            runner.kill()
        for left in (pid_file, pid_file.with_name(pid_file.name + ".installer")):
            kill_left(left)
