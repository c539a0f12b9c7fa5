"""SIGKILL at random points: the output directory is always the old complete set or the new one.

Two harnesses:
- end to end: ``lockgen lock`` in a subprocess, killed after a random delay spread over a whole run;
- the journal alone: a child process runs :func:`lockgen.lockfiles.commit.commit_files` with each step slowed
  by a few milliseconds (so random kills land inside the commit, the only window that matters),
  killed after a random delay.

After each kill the test records what a plain reader (``cat``) would see before any lockgen command
runs (per file always complete; the set may be mixed if the kill fell between two renames), then runs
lockgen's recovery (what every command does first) and asserts old-or-new.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lockgen.lockfiles.commit import journal_manifest, output_lock, recover
from lockgen.lockfiles.lockdir import TXN_DIR
from tests.faults.conftest import ENV, FAST_NET, Project, snapshot
from tests.faults.figures import count

CLI_TRIALS = 24
JOURNAL_TRIALS = 60
PLATFORMS = ("linux-64", "osx-64")


def _classify(files: dict[str, bytes], old: dict[str, bytes], new: dict[str, bytes]) -> str:
    visible = {k: v for k, v in files.items() if not k.startswith(TXN_DIR)}
    if visible == old:
        return "old"
    if visible == new:
        return "new"
    return "mixed"


def _restore(out: Path, old: dict[str, bytes]) -> None:
    for path in list(out.iterdir()):
        if path.is_file() and path.name != ".lockgen.lock":
            path.unlink()
    for name, data in old.items():
        (out / name).write_bytes(data)


def _lock_args(project: Project, mirror: str) -> list[str]:
    args = ["lock", "-p", PLATFORMS[0], "-p", PLATFORMS[1], "--mirror", f"https://conda.anaconda.org={mirror}"]
    return [sys.executable, "-m", "lockgen", *args, "--cache-dir", str(project.cache)]


def test_sigkill_during_lock_leaves_old_or_new(
    project: Project, channel_root: Path, state_dirs: tuple[Path, ...]
) -> None:
    rng = random.Random(20261123)
    env_file = project.root / "environment.yml"
    run = _lock_args(project, channel_root.as_uri())
    first = subprocess.run(run, cwd=project.root, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    old = snapshot(project.locks)
    env_file.write_text(ENV.replace("app >=1.0", "app >=1.0\n  - pydata"))  # the new set differs
    started = time.monotonic()
    second = subprocess.run(run, cwd=project.root, capture_output=True, text=True, timeout=120, check=False)
    duration = time.monotonic() - started
    assert second.returncode == 0, second.stderr
    new = snapshot(project.locks)
    assert new != old and sorted(new) == sorted(old)
    seen = {"old": 0, "new": 0, "mixed": 0}
    for _ in range(CLI_TRIALS):
        _restore(project.locks, old)
        proc = subprocess.Popen(run, cwd=project.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        seen[_classify(snapshot(project.locks), old, new)] += 1
        recover(project.locks, state_dirs=state_dirs)
        after = _classify(snapshot(project.locks), old, new)
        count("lost or mixed after recovery", after == "mixed")
        assert after in ("old", "new"), snapshot(project.locks).keys()
        assert not (project.locks / TXN_DIR).exists()
        count("kill trials (CLI)")
    count("kills that left the new set (CLI)", seen["new"])
    count("SIGKILL seen mixed by a plain reader before recovery (CLI)", seen["mixed"])
    # the kills did not damage the cache or the directory: a normal run still works
    final = subprocess.run(run, cwd=project.root, capture_output=True, text=True, timeout=120, check=False)
    assert final.returncode == 0, final.stderr
    assert snapshot(project.locks) == new


def _ctrl_c_trials(
    run: list[str],
    project: Project,
    sets: tuple[dict[str, bytes], dict[str, bytes]],
    latest: float,
    rng: random.Random,
    restore: Callable[[Path, dict[str, bytes]], None],
    label: str,
) -> list[tuple[int, str]]:
    """12 runs of ``run`` from the ``old`` set (``sets``: old, new), each sent SIGINT at a random moment
    up to ``latest`` seconds: every one leaves the old or the new set, no journal, and an
    "interrupted" message that names the set on disk. Each run's exit code and stderr."""
    old, new = sets
    trials = []
    for _ in range(12):
        restore(project.locks, old)
        proc = subprocess.Popen(run, cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0, latest))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        state = _classify(snapshot(project.locks), old, new)
        count(label)
        count("lost or mixed after recovery", state == "mixed")
        assert state in ("old", "new"), err
        assert not (project.locks / TXN_DIR).exists()
        if err.startswith("interrupted"):  # the message says which set is on disk
            said = "new" if "holds the whole new set" in err else "old" if "no lock file was written" in err else "?"
            assert said == state, (state, err)
        trials.append((proc.returncode, err))
    return trials


def test_ctrl_c_during_lock_leaves_old_or_new_without_recovery(project: Project, channel_root: Path) -> None:
    """SIGINT (Ctrl-C): lockgen itself finishes or discards its journal, so even a plain reader sees
    the old or the new set, with no journal left behind."""
    rng = random.Random(2)
    run = _lock_args(project, channel_root.as_uri())
    first = subprocess.run(run, cwd=project.root, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    old = snapshot(project.locks)
    (project.root / "environment.yml").write_text(ENV.replace("app >=1.0", "app >=1.0\n  - pydata"))
    started = time.monotonic()
    second = subprocess.run(run, cwd=project.root, capture_output=True, text=True, timeout=120, check=False)
    duration = time.monotonic() - started
    new = snapshot(project.locks)
    clean = 0
    trials = _ctrl_c_trials(run, project, (old, new), duration * 1.2, rng, _restore, "interrupt trials (SIGINT)")
    for returncode, err in trials:
        if err.startswith("interrupted"):
            clean += 1
            assert returncode == 130 and "Traceback" not in err
        elif returncode != 0:  # Python's own start-up (before its handler, or in site/imports)
            # click's own Ctrl-C handling while it parses options: a clean "aborted", exit 130
            clicks = returncode == 130 and err.strip() == "aborted"
            assert returncode == -signal.SIGINT or "KeyboardInterrupt" in err or clicks, (returncode, err)
            assert "lockgen/lock.py" not in err, err
            count("interrupts during interpreter start-up (SIGINT)")
    assert second.returncode == 0
    count("interrupts reported cleanly (SIGINT)", clean)


CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import lockgen.lockfiles.commit as lf
    from lockgen.config import read_state_dirs

    step = float(sys.argv[3])
    real_replace, real_write = lf.os.replace, lf._write_durable

    def slow_replace(src, dst):
        time.sleep(step)
        real_replace(src, dst)

    def slow_write(path, data):
        time.sleep(step)
        real_write(path, data)

    lf.os.replace = slow_replace
    lf._write_durable = slow_write
    files = {k: (v.encode() if v is not None else None) for k, v in json.loads(Path(sys.argv[2]).read_text()).items()}
    print("ready", flush=True)
    sys.stdin.readline()
    lf.commit_files(Path(sys.argv[1]), files, state_dirs=read_state_dirs())
    print("done", flush=True)
    """
)


def _start_child(command: list[str]) -> subprocess.Popen[str]:
    """Start the journal child and wait until it is ready (imports done, steps slowed)."""
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the child's own KeyboardInterrupt traceback
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _old_and_new(n: int) -> tuple[dict[str, bytes], dict[str, bytes | None]]:
    head = b"# Generated by lockgen (test)\n"  # lockgen replaces or deletes only files it wrote
    old = {f"p{i}.txt": head + f"old {i}\n".encode() * 50 for i in range(n)}
    old["gone.txt"] = head + b"removed by the new set\n"
    new: dict[str, bytes | None] = {f"p{i}.txt": head + f"new {i}\n".encode() * 50 for i in range(n)}
    new["added.txt"] = head + b"added by the new set\n"
    new["gone.txt"] = None
    return old, new


def _calibrated_window(child: list[str], out: Path, old: dict[str, bytes], new: dict[str, bytes]) -> float:
    """How long one whole commit takes here (fsync speed varies from disk to disk), with a margin: the
    window the trials send their signal in. The commit must end with the new set."""
    proc = _start_child(child)
    started = time.monotonic()
    assert proc.communicate("go\n", timeout=60)[0].strip().endswith("done")
    window = (time.monotonic() - started) * 1.3
    assert _classify(snapshot(out), old, new) == "new"
    return window


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["SIGKILL", "SIGINT", "SIGTERM"])
def test_signal_inside_the_commit_leaves_old_or_new(
    tmp_path: Path, sig: signal.Signals, state_dirs: tuple[Path, ...]
) -> None:
    """SIGKILL: old or new after recovery. SIGINT/SIGTERM: lockgen holds them until the commit is
    whole, so even before any recovery a reader sees old or new and no journal is left."""
    rng = random.Random(6)
    step = 0.002
    old, new_files = _old_and_new(6)
    new = {k: v for k, v in new_files.items() if v is not None}
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({k: (v.decode() if v is not None else None) for k, v in new_files.items()}))
    out = tmp_path / "out"
    out.mkdir()
    child = [sys.executable, "-c", CHILD, str(out), str(plan), str(step)]
    _restore(out, old)
    window = _calibrated_window(child, out, old, new)
    seen = {"old": 0, "new": 0, "mixed": 0}
    deferred = 0
    for _ in range(JOURNAL_TRIALS):
        _restore(out, old)
        proc = _start_child(child)
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(rng.uniform(0, window))
        proc.send_signal(sig)
        proc.wait(timeout=30)
        finished = "done" in proc.stdout.read()
        proc.stdin.close()
        proc.stdout.close()
        before_recovery = _classify(snapshot(out), old, new)
        seen[before_recovery] += 1
        if sig != signal.SIGKILL:
            assert before_recovery in ("old", "new") and not (out / TXN_DIR).exists()
            deferred += before_recovery == "new" and not finished  # the signal landed inside the commit
        recover(out, state_dirs=state_dirs)
        after = _classify(snapshot(out), old, new)
        count("lost or mixed after recovery", after == "mixed")
        assert after in ("old", "new")
        assert not (out / TXN_DIR).exists()
        count(f"{'kill' if sig == signal.SIGKILL else 'interrupt'} trials (journal)")
    count(f"{sig.name} seen mixed by a plain reader before recovery (journal)", seen["mixed"])
    # the random delays must actually reach inside the commit, or this test proves nothing
    if sig == signal.SIGKILL:
        assert seen["old"] > 0 and (seen["new"] + seen["mixed"]) > 0, seen
    else:
        count(f"{sig.name} held until the commit was whole (journal)", deferred)
        assert deferred > 0, seen


def test_recover_waits_for_a_live_writer(tmp_path: Path) -> None:
    """A reader's recovery must not apply or delete the journal of a writer still committing."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old\n")
    txn = out / TXN_DIR
    release = threading.Event()
    holding = threading.Event()

    def writer() -> None:
        with output_lock(out):
            txn.mkdir()
            (txn / "a.txt").write_text("new\n")
            (txn / "MANIFEST").write_text(json.dumps({"put": ["a.txt"], "delete": []}))
            holding.set()
            release.wait(30)
            os.replace(txn / "a.txt", out / "a.txt")  # the writer finishes its own commit
            (txn / "MANIFEST").unlink()
            txn.rmdir()

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(30)
    reader = threading.Thread(target=recover, args=(out,), kwargs={"state_dirs": ()})
    reader.start()
    reader.join(timeout=0.5)
    still_waiting = reader.is_alive()
    journal_intact = (txn / "a.txt").exists()
    release.set()
    thread.join(timeout=30)
    reader.join(timeout=30)
    assert still_waiting and journal_intact
    assert (out / "a.txt").read_text() == "new\n"
    assert not txn.exists()


def test_killed_lock_then_any_command_recovers(
    locked_project: Project, channel_root: Path, state_dirs: tuple[Path, ...]
) -> None:
    """A journal this machine left (killed after the commit point) is finished by the next `lockgen lock`."""
    out = locked_project.locks
    old = snapshot(out)
    txn = out / TXN_DIR
    txn.mkdir()
    staged = {"recovered.txt": b"# Generated by lockgen: a file of the interrupted commit\n"}
    (txn / "recovered.txt").write_bytes(staged["recovered.txt"])
    (txn / "MANIFEST").write_bytes(
        journal_manifest(out, staged, [], state_dirs=state_dirs)
    )  # sealed with this machine's key
    result = locked_project.lock(channel_root.as_uri(), env=FAST_NET)
    assert result.returncode == 0, result.stderr
    assert not txn.exists()
    # the committed journal was applied before the run, which then found its lock up to date
    assert snapshot(out)["recovered.txt"] == staged["recovered.txt"]
    assert snapshot(out)["linux-64.txt"] == old["linux-64.txt"]


def _restore_tree(out: Path, old: dict[str, bytes]) -> None:
    """``out`` holds exactly ``old`` (paths with sub-folders), no journal."""
    import shutil

    for path in list(out.iterdir()):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    for name, data in old.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_signal_inside_a_commit_of_several_environments_leaves_every_old_or_every_new(
    tmp_path: Path, sig: signal.Signals, state_dirs: tuple[Path, ...]
) -> None:
    """Several environments commit once, with one journal at the output root and names such as
    ``cpu/p0.txt``: a kill or Ctrl-C anywhere leaves every environment's old set or every new set
    (after recovery for SIGKILL), never cpu new and gpu old."""
    rng = random.Random(23)
    step = 0.002
    flat_old, flat_new = _old_and_new(3)
    old = {f"{env}/{name}": data for env in ("cpu", "gpu") for name, data in flat_old.items()}
    new_files = {f"{env}/{name}": data for env in ("cpu", "gpu") for name, data in flat_new.items()}
    new_files["docs/p0.txt"] = flat_new["p0.txt"]  # a folder the new set creates
    new = {k: v for k, v in new_files.items() if v is not None}
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({k: (v.decode() if v is not None else None) for k, v in new_files.items()}))
    out = tmp_path / "locks"
    out.mkdir()
    child = [sys.executable, "-c", CHILD, str(out), str(plan), str(step)]
    _restore_tree(out, old)
    window = _calibrated_window(child, out, old, new)
    seen = {"old": 0, "new": 0, "mixed": 0}
    for _ in range(JOURNAL_TRIALS // 2):
        _restore_tree(out, old)
        proc = _start_child(child)
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(rng.uniform(0, window))
        proc.send_signal(sig)
        proc.wait(timeout=30)
        proc.stdin.close()
        proc.stdout.close()
        before_recovery = _classify(snapshot(out), old, new)
        seen[before_recovery] += 1
        if sig != signal.SIGKILL:
            assert before_recovery in ("old", "new") and not (out / TXN_DIR).exists()
        recover(out, state_dirs=state_dirs)
        after = _classify(snapshot(out), old, new)
        count("lost or mixed after recovery", after == "mixed")
        assert after in ("old", "new"), sorted(snapshot(out))
        assert not (out / TXN_DIR).exists()
        count(f"{'kill' if sig == signal.SIGKILL else 'interrupt'} trials (journal, several environments)")
    if sig == signal.SIGKILL:  # the random delays must reach inside the commit, or this proves nothing
        assert seen["old"] > 0 and (seen["new"] + seen["mixed"]) > 0, seen


def test_ctrl_c_during_a_lock_of_several_environments_leaves_every_old_or_every_new(
    project: Project, channel_root: Path
) -> None:
    """With [tool.lockgen.environments] one commit writes every environment's folder: Ctrl-C at any
    point of a real run leaves all of them old or all of them new, and says which."""
    (project.root / "pyproject.toml").write_text(
        '[tool.lockgen.environments]\na = { file = "environment.yml" }\nb = { file = ["environment.yml", "b.yml"] }\n'
    )
    (project.root / "b.yml").write_text("channels:\n  - testchan\ndependencies:\n  - libcore\n")
    rng = random.Random(23)
    run = _lock_args(project, channel_root.as_uri())
    first = subprocess.run(run, cwd=project.root, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    old = snapshot(project.locks)
    assert {name.split("/")[0] for name in old} == {"a", "b"}
    (project.root / "environment.yml").write_text(ENV.replace("app >=1.0", "app >=1.0\n  - pydata"))
    started = time.monotonic()
    second = subprocess.run(run, cwd=project.root, capture_output=True, text=True, timeout=120, check=False)
    duration = time.monotonic() - started
    assert second.returncode == 0, second.stderr
    new = snapshot(project.locks)
    assert {k for k in new if new[k] != old.get(k)} >= {"a/linux-64.txt", "b/linux-64.txt"}
    label = "interrupt trials (SIGINT, several environments)"
    _ctrl_c_trials(run, project, (old, new), duration * 1.2, rng, _restore_tree, label)
