"""Several environments on a channel the test builds: diff, explain, install and verify per environment.

``base`` asks for ``app`` (which takes ``liba`` 2.0 alone), ``tools`` for ``app`` and ``tool`` (which
needs ``liba <2``): in group ``main`` both get liba 1.0. ``other`` (no group) asks for ``app`` and
keeps liba 2.0.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lockgen.lockfiles import parse_explicit
from tests.support.channel import ChannelBuilder
from tests.support.cli import invoke_lockgen, mirror_options

PYPROJECT = """\
[tool.lockgen.environments]
base = { file = "environment.yml", group = "main" }
tools = { file = ["environment.yml", "tools.yml"], group = "main" }
other = { file = "environment.yml" }
"""
BASE = "channels:\n  - testchan\nplatforms:\n  - linux-64\ndependencies:\n  - app\n"
TOOLS = "channels:\n  - testchan\ndependencies:\n  - tool\n"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="install runs on linux")


def _channel(root: Path) -> None:
    builder = ChannelBuilder(root / "testchan", subdirs=("noarch", "linux-64"))
    for version in ("1.0", "2.0"):
        builder.add("liba", version, files={"share/liba.txt": f"liba {version}\n".encode()})
    builder.add("app", "1.0", depends=["liba"], files={"share/app.txt": b"app\n"})
    builder.add("tool", "1.0", depends=["liba <2"], files={"share/tool.txt": b"tool\n"})
    builder.write()


def _run(root: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    mirror = mirror_options(root / "mirror", root / "cache")
    needs = args[0] in ("lock", "explain", "install", "verify")
    return invoke_lockgen(*args, *(mirror if needs else ()), cwd=root / "project")


def _liba(lock: Path) -> str:
    return next(e.version for e in parse_explicit(lock.read_text()).entries if e.name == "liba")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    _channel(tmp_path / "mirror")
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "environment.yml").write_text(BASE)
    (project / "tools.yml").write_text(TOOLS)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    done = _run(tmp_path, "lock")
    assert done.returncode == 0, done.stderr
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "locks"], cwd=project, check=True
    )
    return tmp_path


def test_group_agrees_other_environment_does_not_follow(project: Path) -> None:
    locks = project / "project" / "locks"
    assert _liba(locks / "base" / "linux-64.txt") == "1.0"  # alone it would be 2.0: `other` shows it
    assert _liba(locks / "tools" / "linux-64.txt") == "1.0"
    assert _liba(locks / "other" / "linux-64.txt") == "2.0"


def test_diff_is_one_report_with_a_section_per_environment(project: Path) -> None:
    (project / "project" / "environment.yml").write_text(BASE.replace("- app\n", "- app\n  - liba >=2\n"))
    (project / "project" / "tools.yml").write_text("channels:\n  - testchan\ndependencies: []\n")
    done = _run(project, "lock")
    assert done.returncode == 0, done.stderr
    done = _run(project, "diff", "--format", "markdown")
    assert done.returncode == 6, done.stderr
    text = done.stdout
    assert text.count("### Lock changes:") == 1
    assert "**base: 1 of 1 locks changed: 1 upgraded; tools: 1 of 1 locks changed: 1 removed, 1 upgraded" in text
    assert "(other unchanged)**" in text
    sections = [line for line in text.splitlines() if line.startswith("#### Environment")]
    assert sections == ["#### Environment `base`", "#### Environment `tools`", "#### Environment `other`"]
    data = json.loads(_run(project, "diff", "--format", "json", "-e", "other").stdout)
    assert list(data["environments"]) == ["other"] and data["changed"] is False


def test_explain_install_verify_per_environment(project: Path) -> None:
    done = _run(project, "explain", "liba", "-e", "tools")
    assert done.returncode == 0, done.stderr
    assert "liba 1.0" in done.stdout and str(Path("locks") / "tools" / "linux-64.txt") in done.stdout
    assert "`tool`" in done.stdout and "`liba <2`" in done.stdout
    done = _run(project, "explain", "liba")
    assert done.returncode == 2 and "choose one with -e NAME (base, tools, other)" in done.stderr
    prefix = project / "env"
    done = _run(project, "install", "-e", "other", "-p", "linux-64", "--prefix", prefix)
    assert done.returncode == 0, done.stderr
    assert (prefix / "share" / "liba.txt").read_text() == "liba 2.0\n"
    assert not (prefix / "share" / "tool.txt").exists()
    done = _run(project, "install", "-e", "tools", "-p", "linux-64", "--prefix", project / "env2")
    assert done.returncode == 0, done.stderr
    assert (project / "env2" / "share" / "liba.txt").read_text() == "liba 1.0\n"
    assert (project / "env2" / "share" / "tool.txt").is_file()
    done = _run(project, "verify")
    assert done.returncode == 0, done.stderr
    for name in ("base", "tools", "other"):
        assert f"{Path('locks') / name / 'linux-64.txt'}: ok" in done.stdout
    done = _run(project, "verify", "-e", "nope")
    assert done.returncode == 2 and "unknown environment(s) nope" in done.stderr


def test_update_moves_a_package_in_every_environment_of_its_group(project: Path) -> None:
    builder = ChannelBuilder(project / "mirror" / "testchan", subdirs=("noarch", "linux-64"))
    for version in ("1.0", "1.1", "2.0"):
        builder.add("liba", version, files={"share/liba.txt": f"liba {version}\n".encode()})
    builder.add("app", "1.0", depends=["liba"], files={"share/app.txt": b"app\n"})
    builder.add("tool", "1.0", depends=["liba <2"], files={"share/tool.txt": b"tool\n"})
    builder.write()
    locks = project / "project" / "locks"
    done = _run(project, "lock")
    assert done.returncode == 0, done.stderr
    assert _liba(locks / "base" / "linux-64.txt") == _liba(locks / "tools" / "linux-64.txt") == "1.0"  # kept
    done = _run(project, "lock", "-e", "base", "--update", "liba")
    assert done.returncode == 0, done.stderr
    assert _liba(locks / "base" / "linux-64.txt") == _liba(locks / "tools" / "linux-64.txt") == "1.1"
    assert _liba(locks / "other" / "linux-64.txt") == "2.0"


def test_a_member_that_cannot_take_the_groups_build_is_named(tmp_path: Path) -> None:
    """The group (gpu has CUDA) agrees on accel's CUDA build; cpu has no CUDA, so it cannot share accel."""
    builder = ChannelBuilder(tmp_path / "mirror" / "testchan", subdirs=("noarch", "linux-64"))
    builder.add("accel", "1.0", build="cuda_1", build_number=1, subdir="linux-64", depends=["__cuda >=12"])
    builder.add("accel", "1.0", build="cpu_0", build_number=0, subdir="linux-64")
    builder.write()
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        "[tool.lockgen.environments]\n"
        'cpu = { file = "environment.yml", group = "main" }\n'
        'gpu = { file = "environment.yml", group = "main", cuda = "12.4" }\n'
    )
    (project / "environment.yml").write_text(BASE.replace("- app\n", "- accel\n"))
    done = _run(tmp_path, "lock")
    assert done.returncode == 4, done.stderr
    assert "an environment cannot use the packages its group agreed on" in done.stderr
    assert "cpu/linux-64" in done.stderr and "__cuda" in done.stderr
    assert not (project / "locks").exists()
    # in separate groups each gets its own build
    (project / "pyproject.toml").write_text(
        "[tool.lockgen.environments]\n"
        'cpu = { file = "environment.yml" }\n'
        'gpu = { file = "environment.yml", cuda = "12.4" }\n'
    )
    done = _run(tmp_path, "lock")
    assert done.returncode == 0, done.stderr
    builds = {
        name: next(e.build for e in parse_explicit((project / "locks" / name / "linux-64.txt").read_text()).entries)
        for name in ("cpu", "gpu")
    }
    assert builds == {"cpu": "cpu_0", "gpu": "cuda_1"}
    # grouped again: the existing locks disagree, so the group is solved again though no input changed
    (project / "pyproject.toml").write_text(
        "[tool.lockgen.environments]\n"
        'cpu = { file = "environment.yml", group = "main" }\n'
        'gpu = { file = "environment.yml", group = "main", cuda = "12.4" }\n'
    )
    assert _run(tmp_path, "check").returncode == 6
    done = _run(tmp_path, "lock")
    assert done.returncode == 4 and "cpu/linux-64" in done.stderr, done.stderr


def test_a_journal_at_the_output_root_is_reported_and_never_applied_unsealed(project: Path) -> None:
    """Several environments commit through one journal at the output root: check reports one there,
    and lock refuses one this machine did not seal (a pull request can commit it) before reading any lock."""
    locks = project / "project" / "locks"
    before = {p: p.read_bytes() for p in locks.rglob("*") if p.is_file()}
    txn = locks / ".lockgen-txn"
    txn.mkdir()
    (txn / "base").mkdir()
    (txn / "base" / "linux-64.txt").write_text("# Generated by lockgen\n@EXPLICIT\n")
    (txn / "MANIFEST").write_text(json.dumps({"put": ["base/linux-64.txt"], "delete": []}))
    checked = _run(project, "check")
    assert checked.returncode == 6 and ".lockgen-txn is a lock-file journal" in checked.stderr, checked.stderr
    locked = _run(project, "lock")
    assert locked.returncode == 10, locked.stderr
    assert "lockgen applies only a journal it wrote on this machine" in locked.stderr
    after = {p: p.read_bytes() for p in locks.rglob("*") if p.is_file() and txn not in p.parents}
    assert after == before
