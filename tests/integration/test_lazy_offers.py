"""A re-lock that keeps earlier files does not work out what the channels offer for them unless a
moved pin needs a reason (``lock --from``): ``PinnedOffers`` is computed on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_lock_small_channel import ENV
from tests.integration.test_lock_small_channel import channel as channel  # noqa: PLC0414 - the fixture
from tests.support.channel import ChannelBuilder, serve_directory
from tests.support.cli import run_lockgen

pytestmark = pytest.mark.slow

_RELOCK = """\
import os, sys
from pathlib import Path
import lockgen.conda.solve as solve
from lockgen.config import build_options
from lockgen.flags import Flags, LockFlags, SolveFlags
from lockgen.lock import lock

calls = []
real = solve._offers
solve._offers = lambda *args: calls.append(1) or real(*args)
root, mirror = Path(sys.argv[1]), sys.argv[2]
solve_flags = SolveFlags(mirrors=(mirror,), cache_dir=str(root / "cache"))
flags = Flags(root / "locks", (), solve_flags, LockFlags(update=("app",)))
solver = solve.RattlerSolver(root / "cache")
lock(build_options((root / "environment.yml",), flags), solver=solver)
before = len(calls)
first = next(iter(solver.offers.values()))
names = [name for name, _ in first.channels]
print(before, len(calls), len(solver.offers), "libcore" in names, flush=True)
os._exit(0)
"""


def test_offers_of_kept_files_are_computed_only_when_asked_for(tmp_path: Path, channel: ChannelBuilder) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    with serve_directory(tmp_path / "mirror") as server:
        mirror = f"https://conda.anaconda.org={server.url}"
        first = run_lockgen("lock", "--mirror", mirror, "--cache-dir", tmp_path / "cache", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        done = subprocess.run(
            [sys.executable, "-c", _RELOCK, str(tmp_path), mirror],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    before, after, platforms, found = done.stdout.split()
    assert (before, platforms) == ("0", "3")  # three solves kept earlier files; none worked out offers
    assert (after, found) == ("1", "True")  # asked for one platform's: computed then, and right
