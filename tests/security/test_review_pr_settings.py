"""Issue 18 items 3 to 6, 9 and 10: a pull request's pyproject.toml, folders and lock lines must not
steer where check, diff, verify and install look, nor what the terminal or the PR comment shows.

Each test builds the hostile pull request itself (a channel folder committed in the project, a moved
output-dir, ``..`` paths, a ``locks`` symlink, package names with backticks and escape sequences)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lockgen.config import build_options
from lockgen.errors import ConfigError
from lockgen.lock import lock
from lockgen.review.check import check
from lockgen.review.diff import diff_locks
from lockgen.review.render import render_markdown
from lockgen.review.sources import read_files
from tests.faults.conftest import CHANNEL
from tests.faults.figures import count
from tests.security.conftest import options
from tests.support.channel import CANONICAL, ChannelBuilder
from tests.support.cli import invoke_lockgen
from tests.support.options import flags

OFFLINE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "LOCKGEN_HTTP_RETRIES": "0",
    "LOCKGEN_HTTP_TIMEOUT": "5",
}


def _git(root: Path, *args: str) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, *args], cwd=root, check=True, capture_output=True)


def _pr_channel(root: Path) -> Path:
    """The pull request's own channel folder: the same names and versions, other bytes."""
    builder = ChannelBuilder(root / CHANNEL, subdirs=("noarch", "linux-64", "osx-64"))
    for subdir in ("linux-64", "osx-64"):
        builder.add("libcore", "2.0", build="h1_0", subdir=subdir, files={"lib/core.txt": b"the PR's own bytes"})
        builder.add("app", "1.1", build="h2_0", subdir=subdir, depends=["libcore >=2", "pydata"])
    builder.add("pydata", "3.0", build="pyhd8ed1ab_0", files={"share/pydata.txt": b"data"})
    builder.add("pip", "24.2", build="pyh0_0")  # as build_channel(pip=True): the template lists pip
    builder.write()
    return root


# --- item 3: mirrors from pyproject.toml ---------------------------------------------------------------------


@pytest.fixture
def pr_mirror(project: Path) -> Path:
    """A project whose PR committed ``prchannel/``, pointed [tool.lockgen] mirrors at it, and re-locked."""
    _pr_channel(project / "prchannel")
    lock(options(project, project / "prchannel", update_all=True))
    (project / "pyproject.toml").write_text(f'[tool.lockgen]\nmirrors = {{ "{CANONICAL}" = "prchannel" }}\n')
    return project


def test_verify_ignores_mirrors_from_pyproject_and_says_so(pr_mirror: Path, channel_root: Path) -> None:
    env = {**OFFLINE, "LOCKGEN_CACHE_DIR": str(pr_mirror / "verify-cache")}
    result = invoke_lockgen("verify", "-p", "linux-64", cwd=pr_mirror, env=env)
    assert result.returncode != 0, result.stdout + result.stderr  # the real channel was not reachable
    assert "verify ignores [tool.lockgen] mirrors" in result.stderr, result.stderr
    count("hostile review inputs refused")
    # the real channel (served here from its folder) says the PR's hashes are not its own
    real = invoke_lockgen("verify", "-p", "linux-64", "--mirror", f"{CANONICAL}={channel_root}", cwd=pr_mirror, env=env)
    assert real.returncode == 8, real.stdout + real.stderr
    assert f"checking through a mirror: {CANONICAL} is read from {channel_root.as_uri()}" in real.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test channel is linux-64")
def test_install_refuses_a_pyproject_mirror_inside_the_project(pr_mirror: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    env = {"LOCKGEN_CACHE_DIR": str(tmp_path / "install-cache")}
    refused = invoke_lockgen("install", "-p", "linux-64", "--prefix", prefix, cwd=pr_mirror, env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "a folder inside the project, where a pull request could put its own" in refused.stderr
    assert not prefix.exists()
    count("hostile inputs refused")
    allowed = invoke_lockgen(
        "install", "-p", "linux-64", "--prefix", prefix, cwd=pr_mirror, env={**env, "LOCKGEN_ALLOW_PROJECT_MIRROR": "1"}
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


# --- item 4: output-dir moved to a pristine copy --------------------------------------------------------------


def _move_output_dir(project: Path) -> None:
    shutil.copytree(project / "locks", project / "locks-reviewed")  # the pristine copy
    text = (project / "locks" / "linux-64.txt").read_text()
    (project / "locks" / "linux-64.txt").write_text(text.replace("app-1.1-h2_0", "app-6.6-h2_0"))
    (project / "pyproject.toml").write_text('[tool.lockgen]\noutput-dir = "locks-reviewed"\n')


def test_check_reports_locks_left_in_the_default_folder(
    project: Path, channel_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)  # as CI runs it
    _move_output_dir(project)
    settings = build_options(
        [project / "environment.yml"],
        flags(cache_dir=project / "cache", mirrors=(f"{CANONICAL}={channel_root.as_uri()}",)),
    )
    assert settings.output_dir.name == "locks-reviewed"
    stale = check(settings).stale
    assert [s.reason for s in stale] == ["moved"], stale
    assert "still holds lock files (linux-64.txt, osx-64.txt)" in stale[0].detail
    count("hostile review inputs refused")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_reads_each_side_where_its_own_settings_put_the_locks(project: Path) -> None:
    _git(project, "init", "-q")
    _git(project, "add", "environment.yml", "locks")
    _git(project, "commit", "-qm", "main")
    _move_output_dir(project)
    result = invoke_lockgen("diff", "HEAD", cwd=project)
    assert result.returncode == 6, result.stdout + result.stderr
    assert "warning: the locks moved from locks/{platform}.txt to locks-reviewed/{platform}.txt" in result.stdout
    assert "new lock" not in result.stdout, result.stdout  # each side read from its own folder
    count("hostile review inputs refused")
    markdown = invoke_lockgen("diff", "HEAD", "--format", "markdown", cwd=project)
    assert "> **Warning**: the locks moved" in markdown.stdout
    # -o names the folder for both sides: the user chose it
    chosen = invoke_lockgen("diff", "HEAD", "-o", "locks", cwd=project)
    assert chosen.returncode == 6 and "moved" not in chosen.stdout and "6.6" in chosen.stdout, chosen.stdout


# --- items 5 and 6: folders outside the project ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [("output-dir", "../outside"), ("output-dir", "/tmp/elsewhere"), ("cache-dir", "../cache"), ("output-dir", "~/x")],
)
def test_pyproject_folders_must_be_relative_and_inside_the_project(project: Path, key: str, value: str) -> None:
    (project / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.lockgen]\n{key} = "{value}"\n')
    with pytest.raises(ConfigError) as info:
        build_options([project / "environment.yml"])
    assert f"pyproject.toml:5: [tool.lockgen] {key} must be a relative path inside the project" in info.value.message
    assert info.value.exit_code == 2
    count("hostile review inputs refused")


def test_a_pyproject_folder_that_leaves_through_a_link_is_refused(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    (project / "cachelink").symlink_to(tmp_path_factory.mktemp("outside"))
    (project / "pyproject.toml").write_text('[tool.lockgen]\ncache-dir = "cachelink/c"\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml:2: .*cache-dir = 'cachelink/c' resolves to .*outside"):
        build_options([project / "environment.yml"])


def test_a_locks_folder_linked_out_of_the_project_is_refused(
    project: Path, channel_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "outside"
    shutil.move(project / "locks", outside)
    (project / "locks").symlink_to(outside)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    (project / "environment.yml").write_text((project / "environment.yml").read_text() + "  - pydata\n")
    with pytest.raises(ConfigError, match=r"resolves to .*outside, outside the project, through a symbolic link"):
        lock(options(project, channel_root))
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before
    count("hostile review inputs refused")
    for command in ("check", "diff"):  # read-only commands do not read through it either
        result = invoke_lockgen(command, cwd=project)
        assert result.returncode == 2 and "through a symbolic link" in result.stderr, (command, result.stderr)
    # the real folder, named on the command line, is the user's choice
    settings = build_options([project / "environment.yml"], flags(output_dir=outside))
    assert settings.output_dir == outside


# --- items 9 and 10: what the PR comment and the terminal show ------------------------------------------------

HOSTILE_NAMES = {
    "backtick": "x`<img src=x onerror=alert(1)>[click](javascript:alert(1))`y",
    "osc-title": "t\x1b]0;pwned\x07",
    "osc8-link": "l\x1b]8;;https://evil.example\x1b\\ok\x1b]8;;\x1b\\",
    "osc52-clipboard": "c\x1b]52;c;Y3VybCBldmlsfHNo\x07",
    "c1-csi": "k\x9b2J",
    "backspace": "r\x08\x08safe",
    "bidi": "b\u202eevil",
}


def _lock_text(names: list[str]) -> str:
    lines = ["# platform: linux-64", "@EXPLICIT"]
    lines += [f"{CANONICAL}/{CHANNEL}/linux-64/{name}-1.0-h0_0.conda#{'a' * 32}" for name in names]
    return "\n".join(lines) + "\n"


def test_markdown_cannot_be_broken_out_of_by_a_package_name() -> None:
    old = read_files("old", {"linux-64.txt": _lock_text([])})
    new = read_files("new", {"linux-64.txt": _lock_text(list(HOSTILE_NAMES.values()))})
    text = render_markdown(diff_locks(old, new))
    assert "``x`<img src=x onerror=alert(1)>[click](javascript:alert(1))`y``" in text, text  # one code span
    outside_code = text.replace("``x`<img src=x onerror=alert(1)>[click](javascript:alert(1))`y``", "")
    assert "<img" not in outside_code and "](javascript" not in outside_code
    assert not any(c in text for c in "\x1b\x07\x9b\x08\u202e")
    count("hostile review inputs refused")


def test_no_command_passes_control_characters_to_the_terminal(tmp_path: Path) -> None:
    for side, names in (("old", []), ("new", list(HOSTILE_NAMES.values()))):
        (tmp_path / side).mkdir()
        (tmp_path / side / "linux-64.txt").write_text(_lock_text(names))
    for fmt in ("text", "markdown", "json"):
        result = invoke_lockgen("diff", tmp_path / "old", tmp_path / "new", "--format", fmt, cwd=tmp_path)
        assert result.returncode == 6, result.stderr
        assert not any(c in result.stdout + result.stderr for c in "\x1b\x07\x9b\x08\u202e"), (fmt, result.stdout)
        assert "\\u001b]0;pwned\\u0007" in result.stdout  # shown, inert
        count("hostile review inputs refused")
    # an environment file's spec quoted in an error (stderr)
    (tmp_path / "environment.yml").write_text('channels: [x]\ndependencies:\n  - "bad\\e]0;pwned\\a spec ==="\n')
    result = invoke_lockgen("check", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr, result.stderr
    assert "\\u001b" in result.stderr
    count("hostile review inputs refused")
