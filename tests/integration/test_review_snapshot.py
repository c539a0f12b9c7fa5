"""Reviewing a lock change on the offline snapshot (issue: the review side tells the truth at a glance).

The scenario: python=3.11, numpy>=2.0, pytorch>=2.0, matplotlib>=3.7 locked with --exclude-newer
2026-09-01 and committed; then ``tensorboard>=2.15`` is added and the locks remade, which moves
pytorch 2.12.0 → 2.4.0 on osx-64 (tensorboard's protobuf needs an older libprotobuf than pytorch
2.12's). Skips when ../shared is absent.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SHARED_CHANNELS
from tests.support.cli import invoke_lockgen

BASE_ENV = """\
name: dl
channels:
  - conda-forge
dependencies:
  - python=3.11
  - numpy>=2.0
  - pytorch>=2.0
  - matplotlib>=3.7
"""
TENSORBOARD = "  - tensorboard>=2.15\n"
MIRROR = ("--mirror", f"https://conda.anaconda.org={SHARED_CHANNELS}")
PINNED = ("--exclude-newer", "2026-09-01")


def _git(root: Path, *args: str) -> None:
    base = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*base, *args], cwd=root, check=True, capture_output=True)


def _lock(root: Path, *extra: str | Path) -> subprocess.CompletedProcess[str]:
    result = invoke_lockgen("lock", *MIRROR, *PINNED, "--cache-dir", root.parent / "cache", *extra, cwd=root)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The project, committed without tensorboard, with tensorboard added and locked in the working tree;
    and the summary the second `lockgen lock` printed."""
    if not (SHARED_CHANNELS / "conda-forge" / "linux-64" / "repodata.json").is_file():
        pytest.skip(f"{SHARED_CHANNELS} is absent (the offline channel snapshot lives beside the project)")
    root = tmp_path_factory.mktemp("review") / "project"
    (root / "src").mkdir(parents=True)
    (root / "environment.yml").write_text(BASE_ENV)
    _git(root, "init", "-q")
    _lock(root)
    _git(root, "add", "environment.yml", "locks")
    _git(root, "commit", "-qm", "base")
    (root / "environment.yml").write_text(BASE_ENV + TENSORBOARD)
    summary = _lock(root).stdout
    return root, summary


def test_the_scenario_downgrades_pytorch_on_osx(scenario: tuple[Path, str]) -> None:
    root, _ = scenario
    osx = (root / "locks" / "osx-64.txt").read_text()
    assert "/pytorch-2.4.0-" in osx
    show = ["git", "show", "HEAD:locks/osx-64.txt"]
    base = subprocess.run(show, cwd=root, capture_output=True, text=True, check=True)
    assert "/pytorch-2.12.0-" in base.stdout


# --- 1. the project is found from any folder; no "no changes" without locks -------------------------------


def test_diff_from_a_subfolder_reads_the_projects_locks(scenario: tuple[Path, str]) -> None:
    root, _ = scenario
    at_root = invoke_lockgen("diff", cwd=root)
    for folder in (root / "src", root / "locks"):
        inside = invoke_lockgen("diff", cwd=folder)
        assert inside.returncode == 6, inside.stderr
        assert inside.stdout == at_root.stdout
    assert "3 of 3 locks changed" in at_root.stdout


def test_diff_without_locks_on_either_side_is_an_error(scenario: tuple[Path, str]) -> None:
    root, _ = scenario
    result = invoke_lockgen("diff", "-o", "lcoks", cwd=root)
    assert result.returncode == 2
    assert "no changes" not in result.stdout + result.stderr
    assert f"none in {root.resolve() / 'lcoks'} at HEAD" in result.stderr


def test_check_and_explain_from_a_subfolder(scenario: tuple[Path, str]) -> None:
    root, _ = scenario
    check = invoke_lockgen("check", *PINNED, cwd=root / "src")
    assert check.returncode == 0, check.stderr
    explain = invoke_lockgen("explain", "pytorch", "-p", "osx-64", *MIRROR, "--offline", "--cache-dir",
                          root.parent / "cache", cwd=root / "src")  # fmt: skip
    assert explain.returncode == 0, explain.stderr
    assert "pytorch 2.4.0" in explain.stdout


# --- 2. the headline names every change to a named package and every downgrade, before any table ----------


def test_lock_summary_names_the_pytorch_downgrade(scenario: tuple[Path, str]) -> None:
    _, summary = scenario
    lines = summary.splitlines()
    osx = lines.index(next(line for line in lines if line.startswith("osx-64:")))
    assert "4 downgraded" in lines[osx] and "changed" not in lines[osx]
    assert "  pytorch 2.12.0 → 2.4.0 (downgraded, in your specs)" in lines[osx + 1 : osx + 4]
    assert "  tensorboard 2.20.0 (added, in your specs)" in lines[osx + 1 : osx + 4]
    assert "  libprotobuf 6.33.5 → 4.25.3 (downgraded)" in summary


def test_diff_headline_names_the_downgrade_before_any_table(scenario: tuple[Path, str]) -> None:
    root, _ = scenario
    markdown = invoke_lockgen("diff", "--format", "markdown", cwd=root).stdout
    first_table = markdown.index("\n|")
    headline = markdown[:first_table]
    assert "- **`pytorch`** downgraded 2.12.0 → 2.4.0 on osx-64" in headline
    assert "- **`tensorboard`** added 2.20.0 on linux-64, osx-64, win-64" in headline
    assert "- `libprotobuf` downgraded 6.33.5 → 4.25.3 on osx-64" in headline
    text = invoke_lockgen("diff", cwd=root).stdout.splitlines()
    assert text[1] == "  pytorch* downgraded 2.12.0 → 2.4.0 on osx-64"


# --- 8. small untruths in the lock summary ------------------------------------------------------------------


def test_lock_summary_says_removed_not_wrote_for_a_dropped_platform(
    scenario: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = scenario
    copy = tmp_path / "project"
    shutil.copytree(root, copy)
    two = "platforms: [linux-64, osx-64]\ndependencies:"
    (copy / "environment.yml").write_text((copy / "environment.yml").read_text().replace("dependencies:", two))
    result = _lock(copy)
    assert result.stdout.splitlines()[-1] == "removed win-64.txt in locks"
    assert not (copy / "locks" / "win-64.txt").exists()


def test_lock_headers_say_lockgen_lock_in_a_project_without_a_makefile(scenario: tuple[Path, str]) -> None:
    root, _ = scenario
    assert not (root / "Makefile").exists()
    first = (root / "locks" / "osx-64.txt").read_text().splitlines()[0]
    assert first == "# Generated by lockgen from environment.yml. Do not edit; run `lockgen lock`."


# --- 7. the markdown comment fits ----------------------------------------------------------------------------


def test_markdown_is_summarised_under_max_chars_and_says_so(scenario: tuple[Path, str]) -> None:
    root, _ = scenario
    full = invoke_lockgen("diff", "--format", "markdown", "--max-chars", "0", cwd=root).stdout
    assert len(full) > 3000
    fitted = invoke_lockgen("diff", "--format", "markdown", "--max-chars", "3000", cwd=root)
    assert fitted.returncode == 6
    assert len(fitted.stdout) <= 3000
    assert "Summarised to fit 3,000 characters" in fitted.stdout
    assert "- **`pytorch`** downgraded 2.12.0 → 2.4.0 on osx-64" in fitted.stdout
    assert invoke_lockgen("diff", "--format", "markdown", cwd=root).stdout == full  # under the default limit


# --- 3. why not newer: the solver's answer, checked by a second solve ------------------------------------------

CAUSE = re.compile(
    r"^  `(?P<spec>[^`]+)` \(environment\.yml:(?P<line>\d+)\): without it, pytorch (?P<newer>\S+) solves$"
)


def test_explain_names_what_holds_pytorch_back_and_removing_it_lets_the_newer_version_in(
    scenario: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = scenario
    cache = ("--cache-dir", root.parent / "cache")
    explain = invoke_lockgen("explain", "pytorch", "-p", "osx-64", *MIRROR, *cache, cwd=root)
    assert explain.returncode == 0, explain.stderr
    lines = explain.stdout.splitlines()
    start = lines.index("why not newer than pytorch 2.4.0 on osx-64:")
    first = CAUSE.match(lines[start + 1])
    assert first is not None, explain.stdout
    assert first["spec"] == "tensorboard>=2.15" and first["line"] == "9"
    assert lines[start + 2].startswith("    tensorboard 2.20.0 → ") and "libabseil" in lines[start + 2]
    assert lines[start + 3].startswith("    but pytorch 2.12.0 ") and "needs `libabseil >=" in lines[start + 3]

    # the second solve: the same environment without the reported cause takes the newer pytorch
    copy = tmp_path / "without-cause"
    shutil.copytree(root, copy)
    env = (copy / "environment.yml").read_text().splitlines(keepends=True)
    del env[int(first["line"]) - 1]
    (copy / "environment.yml").write_text("".join(env))
    _lock(copy, "--update", "pytorch", "-p", "osx-64")
    assert f"/pytorch-{first['newer']}-" in (copy / "locks" / "osx-64.txt").read_text()
    assert first["newer"] == "2.12.0"
    # and with it, asking for a newer pytorch still ends at 2.4.0
    kept = tmp_path / "with-cause"
    shutil.copytree(root, kept)
    _lock(kept, "--update", "pytorch", "-p", "osx-64")
    assert "/pytorch-2.4.0-" in (kept / "locks" / "osx-64.txt").read_text()


def test_diff_shows_why_a_named_package_was_downgraded(scenario: tuple[Path, str]) -> None:
    root, _ = scenario
    args = ("diff", "--format", "markdown", "--why-not-newer", *MIRROR, "--cache-dir", root.parent / "cache")
    markdown = invoke_lockgen(*args, cwd=root).stdout
    headline = markdown[: markdown.index("\n|")]
    assert "**Why not newer than pytorch 2.4.0 on osx-64:**" in headline
    assert "- `tensorboard>=2.15` (environment.yml:9): without it, pytorch 2.12.0 solves" in headline
    assert "  - tensorboard 2.20.0 → " in headline


# --- 5. the options that shape the solution are in the lock, and reused -----------------------------------------


def test_a_plain_check_and_lock_reuse_the_gpu_options_of_the_lock(scenario: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = scenario
    (tmp_path / "environment.yml").write_text(
        "channels: [conda-forge]\nplatforms: [linux-64, osx-64]\ndependencies:\n  - python=3.11\n  - numpy\n"
    )
    _lock(tmp_path, "--cuda", "12.6")
    header = (tmp_path / "locks" / "linux-64.txt").read_text().splitlines()
    assert "# options: format=2 channel-priority=strict exclude-newer=2026-09-01T00:00:00+00:00 hash=md5" in header
    assert any(line.startswith("# virtual-packages: ") and " __cuda=12.6=0 " in line for line in header)
    check = invoke_lockgen("check", cwd=tmp_path)  # neither --cuda nor --exclude-newer: the lock's own
    assert check.returncode == 0, check.stderr
    plain = invoke_lockgen("lock", *MIRROR, "--cache-dir", root.parent / "cache", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines()[-1] == "nothing changed in locks"
    assert "as the locks were made: --exclude-newer 2026-09-01T00:00:00+00:00, --cuda 12.6" in plain.stderr
    other = invoke_lockgen("check", "--cuda", "12.4", cwd=tmp_path)
    assert other.returncode == 6
    assert "__cuda 12.6 in the lock, 12.4 now" in other.stderr


def test_the_comment_in_docs_review_md_is_what_the_tool_posts(scenario: tuple[Path, str]) -> None:
    from tests.conftest import ROOT

    root, _ = scenario
    args = ("diff", "--format", "markdown", "--why-not-newer", *MIRROR, "--cache-dir", root.parent / "cache")
    posted = invoke_lockgen(*args, cwd=root).stdout
    docs = (ROOT / "docs" / "review.md").read_text()
    shown = docs.split("````markdown\n", 1)[1].split("````\n", 1)[0]
    assert shown == posted


# --- 6. check after a pip edit names the line; [tool.*] tables of an -e . project are not its metadata -------


def test_check_names_pip_edits_and_ignores_tool_tables_of_the_local_project(
    scenario: tuple[Path, str], tmp_path: Path
) -> None:
    from tests.support.projects import make_project

    make_project(tmp_path, "mine", "0.1.0")  # `scenario`: skips without the snapshot
    env = "channels: [conda-forge]\nplatforms: [linux-64]\ndependencies:\n  - python=3.11\n  - pip\n"
    env += "  - pip:\n    - -e .\n"
    (tmp_path / "environment.yml").write_text(env)
    _lock(tmp_path, "--pypi-mapping", SHARED_CHANNELS.parent / "pypi-mapping" / "conda-forge.json")
    pyproject = (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(pyproject + '\n[tool.lockgen]\nexclude-newer = "2026-09-01"\n')
    check = invoke_lockgen("check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    (tmp_path / "pyproject.toml").write_text(pyproject.replace("dependencies = []", 'dependencies = ["rich"]'))
    check = invoke_lockgen("check", cwd=tmp_path)
    assert check.returncode == 6
    assert "pip: spec changed: `-e .`: its dependency metadata changed (environment.yml:7)" in check.stderr
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "environment.yml").write_text(env + "    - rich>=13\n")
    check = invoke_lockgen("check", cwd=tmp_path)
    assert "pip: spec changed: `rich>=13` added (environment.yml:8)" in check.stderr
