"""A project of environments over one package, ``liba`` 1.0 (2024-01-01) and 2.0 (2025-01-01), on
a channel built in tmp: what tests of several environments' options and adopted locks start from."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from lockgen.lockfiles import parse_explicit
from tests.support.channel import ChannelBuilder
from tests.support.cli import invoke_lockgen, mirror_options

ENV = "channels:\n  - testchan\nplatforms:\n  - linux-64\ndependencies:\n  - liba\n"
"""An environment file asking for liba (2.0 unless a cut-off or a pin holds it at 1.0)."""
APART = '[tool.lockgen.environments]\nold = { file = "old.yml" }\nnew = { file = "new.yml" }\n'


def make(root: Path, files: Mapping[str, str]) -> Path:
    """``root/mirror/testchan`` (liba 1.0 and 2.0, dated) and ``root/project`` (``files``, a git
    repository); returns ``root``."""
    builder = ChannelBuilder(root / "mirror" / "testchan", subdirs=("noarch", "linux-64"))
    builder.add("liba", "1.0", timestamp_ms=1_704_067_200_000)
    builder.add("liba", "2.0", timestamp_ms=1_735_689_600_000)
    builder.write()
    project = root / "project"
    project.mkdir()
    for name, text in files.items():
        (project / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    return root


def run(root: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """lockgen in ``root/project``; ``lock`` reads the channel through ``--mirror``."""
    mirror = mirror_options(root / "mirror", root / "cache")
    return invoke_lockgen(*args, *(mirror if args[0] == "lock" else ()), cwd=root / "project")


def lock_text(root: Path, env: str) -> str:
    return (root / "project" / "locks" / env / "linux-64.txt").read_text()


def liba(root: Path, env: str) -> str:
    """The liba version environment ``env`` locks on linux-64."""
    return next(e.version for e in parse_explicit(lock_text(root, env)).entries if e.name == "liba")


def options_line(root: Path, env: str) -> str:
    return next(line for line in lock_text(root, env).splitlines() if line.startswith("# options:"))
