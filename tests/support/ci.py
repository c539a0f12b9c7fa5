"""Projects as teams keep them, for the CI integrations' tests: a git repository with an
``environment.yml`` on a channel built in tmp (a ``file://`` URL, so locking needs no flag), its locks,
an ``origin`` it was cloned from; and lockgen's own tree as a clean git repository, the way
pre-commit and the Action get it at a ref."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.support.channel import ChannelBuilder
from tests.support.cli import run_lockgen
from tests.support.projects import git

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER_REPO = "https://github.com/OWNER/lockgen"
PLACEHOLDER_ACTION = "OWNER/lockgen"


def lockgen_snapshot(target: Path) -> tuple[Path, str]:
    """lockgen's working tree (tracked and untracked files git does not ignore) committed in a new
    repository at ``target``; returns it and the commit: what a user's ``rev:``/``@ref`` names."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "snapshot")
    return target, git(target, "rev-parse", "HEAD").strip()


def make_channel(root: Path, app_versions: tuple[str, ...] = ("1.0",)) -> ChannelBuilder:
    builder = ChannelBuilder(root)
    for subdir in ("linux-64", "osx-64", "win-64"):
        builder.add("libcore", "2.0", build="h1_0", subdir=subdir)
        for version in app_versions:
            builder.add("app", version, build="h0_0", subdir=subdir, depends=["libcore"])
    builder.add("extra", "1.0", build="0")
    builder.write()
    return builder


def environment_text(channel: ChannelBuilder, specs: tuple[str, ...] = ("app",)) -> str:
    lines = ["name: proj", "channels:", f"  - {channel.url}", "dependencies:"]
    return "\n".join([*lines, *(f"  - {s}" for s in specs)]) + "\n"


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", message)


def make_project(root: Path, channel: ChannelBuilder, cache: Path, specs: tuple[str, ...] = ("app",)) -> Path:
    """A repository with environment.yml and its locks, committed on main."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "environment.yml").write_text(environment_text(channel, specs))
    locked = run_lockgen("lock", "--cache-dir", cache, "--quiet", cwd=root)
    assert locked.returncode == 0, locked.stderr
    commit_all(root, "environment and locks")
    return root


def readme_snippet(first_line: str) -> str:
    """The fenced block of README.md whose first line is ``first_line`` (a ``# file`` comment)."""
    text = (ROOT / "README.md").read_text()
    for block in re.findall(r"```(?:yaml|yml)\n(.*?)```", text, flags=re.S):
        if block.splitlines()[0].strip() == first_line:
            return str(block)
    raise AssertionError(f"README.md has no yaml block starting with {first_line!r}")
