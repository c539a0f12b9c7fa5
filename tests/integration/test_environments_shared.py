"""Several environments on the offline snapshot: a two-group, three-environment project.

Group ``main`` holds ``cpu`` (environment.yml: python, numpy) and ``gpu`` (environment.yml plus
environment-gpu.yml: python=3.12, pytorch; linux-64 and win-64, CUDA 12.6). Group ``docs`` holds
``docs`` alone (python, pyyaml). Solved alone, cpu takes the snapshot's newest python (3.14); in
its group it must take gpu's 3.12, and numpy's build with it. docs must not follow.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lockgen.environments import disagreements
from lockgen.lockfiles import parse_explicit
from tests.conftest import SHARED, SHARED_CHANNELS
from tests.support.cli import invoke_lockgen

EXCLUDE_NEWER = "2026-06-01"

PYPROJECT = f"""\
[tool.lockgen]
exclude-newer = "{EXCLUDE_NEWER}"

[tool.lockgen.environments]
cpu = {{ file = "environment.yml", group = "main" }}
gpu = {{ file = ["environment.yml", "environment-gpu.yml"], group = "main", platforms = ["linux-64", "win-64"], \
cuda = "12.6" }}
docs = {{ file = "docs/environment.yml", group = "docs" }}
"""

CPU = "name: cpu\nchannels:\n  - conda-forge\ndependencies:\n  - python\n  - numpy\n"
GPU = "name: gpu\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.12\n  - pytorch\n"
DOCS = "name: docs\nchannels:\n  - conda-forge\ndependencies:\n  - python\n  - pyyaml\n"


def _project(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "environment.yml").write_text(CPU)
    (root / "environment-gpu.yml").write_text(GPU)
    (root / "docs" / "environment.yml").write_text(DOCS)
    return root


def _run(root: Path, shared: Path, *args: str) -> tuple[int, str, str]:
    mirror = ("--mirror", f"https://conda.anaconda.org={shared / 'channels'}")
    needs_mirror = args[0] in ("lock", "install", "verify", "explain")
    extra = (*mirror, "--cache-dir", str(root.parent / "cache")) if needs_mirror else ()
    result = invoke_lockgen(*args, *extra, cwd=root)
    return result.returncode, result.stdout, result.stderr


def _packages(lock_file: Path) -> dict[str, tuple[str, str]]:
    return {e.name: (e.version, e.build) for e in parse_explicit(lock_file.read_text()).entries}


@pytest.fixture(scope="module")
def shared(request: pytest.FixtureRequest) -> Path:
    if not (SHARED_CHANNELS / "conda-forge" / "linux-64" / "repodata.json").is_file():
        pytest.skip(f"{SHARED_CHANNELS} is absent (the offline channel snapshot lives beside the project)")
    return SHARED


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Path:
    root = _project(tmp_path_factory.mktemp("envs") / "project")
    code, out, err = _run(root, shared, "lock")
    assert code == 0, err
    assert "[cpu]" in out and "[gpu]" in out and "[docs]" in out
    return root


def test_each_environment_locks_in_its_own_folder(locked: Path) -> None:
    found = sorted(str(p.relative_to(locked / "locks")) for p in (locked / "locks").rglob("*") if p.is_file())
    assert found == [
        "cpu/linux-64.txt", "cpu/osx-64.txt", "cpu/win-64.txt",
        "docs/linux-64.txt", "docs/osx-64.txt", "docs/win-64.txt",
        "gpu/linux-64.txt", "gpu/win-64.txt",
    ]  # fmt: skip
    assert "__cuda" not in (locked / "locks" / "cpu" / "linux-64.txt").read_text()
    assert any(name == "pytorch" for name in _packages(locked / "locks" / "gpu" / "linux-64.txt"))


def test_a_group_agrees_on_every_package_it_shares(locked: Path, shared_dir: Path, tmp_path: Path) -> None:
    for platform in ("linux-64", "win-64"):
        cpu = _packages(locked / "locks" / "cpu" / f"{platform}.txt")
        gpu = _packages(locked / "locks" / "gpu" / f"{platform}.txt")
        assert cpu["python"][0].startswith("3.12."), cpu["python"]
        shared = set(cpu) & set(gpu)
        assert {"python", "numpy"} <= shared
        assert {n: cpu[n] for n in shared} == {n: gpu[n] for n in shared}
    # the same environment locked alone disagrees: the agreement above is the group's doing
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "environment.yml").write_text(CPU)
    code, _, err = _run(alone, shared_dir, "lock", "-p", "linux-64", "--exclude-newer", EXCLUDE_NEWER)
    assert code == 0, err
    solo = _packages(alone / "locks" / "linux-64.txt")
    grouped = _packages(locked / "locks" / "gpu" / "linux-64.txt")
    assert solo["python"] != grouped["python"]
    lonely = parse_explicit((alone / "locks" / "linux-64.txt").read_text()).entries
    assert disagreements(
        {"alone": lonely, "gpu": parse_explicit((locked / "locks" / "gpu" / "linux-64.txt").read_text()).entries}
    )


def test_another_group_is_independent(locked: Path, shared_dir: Path, tmp_path: Path) -> None:
    docs = _packages(locked / "locks" / "docs" / "linux-64.txt")
    assert not docs["python"][0].startswith("3.12.")  # not pulled down by group main
    # and its lock is byte for byte what a single-environment project writes for the same file
    single = tmp_path / "single"
    single.mkdir()
    (single / "environment.yml").write_text(DOCS)
    (single / "pyproject.toml").write_text(f'[tool.lockgen]\nexclude-newer = "{EXCLUDE_NEWER}"\n')
    code, _, err = _run(single, shared_dir, "lock")
    assert code == 0, err
    for platform in ("linux-64", "osx-64", "win-64"):
        assert (single / "locks" / f"{platform}.txt").read_bytes() == (
            locked / "locks" / "docs" / f"{platform}.txt"
        ).read_bytes()
    assert sorted(p.name for p in (single / "locks").iterdir()) == ["linux-64.txt", "osx-64.txt", "win-64.txt"]


def test_check_per_environment(locked: Path, shared_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(locked, root)
    code, out, err = _run(root, shared_dir, "check")
    assert code == 0, err
    assert "8 locks of cpu, gpu, docs" in out
    (root / "environment-gpu.yml").write_text(GPU.replace("python=3.12", "python=3.13"))
    code, _, err = _run(root, shared_dir, "check")
    assert code == 6
    assert "gpu/linux-64, gpu/win-64: spec changed" in err  # the same reason once, with its locks
    assert "cpu/" not in err and "docs/" not in err
    code, out, err = _run(root, shared_dir, "check", "-e", "docs", "-e", "cpu")
    assert code == 0, err
    # a lock of the group made alone (drifted from its group) is stale though its inputs did not change
    (root / "environment-gpu.yml").write_text(GPU)
    solo = tmp_path / "solo"
    solo.mkdir()
    (solo / "environment.yml").write_text(CPU)
    code, _, err = _run(
        solo, shared_dir, "lock", "-o", str(root / "locks" / "cpu"), "--exclude-newer", EXCLUDE_NEWER, "--update-all"
    )
    assert code == 0, err
    code, _, err = _run(root, shared_dir, "check")
    assert code == 6
    assert (
        "group main: linux-64: cpu, gpu do not agree: " in err
        and "run `lockgen lock` to lock the group together" in err
    )
    code, _, err = _run(root, shared_dir, "lock")  # no input changed, but the group is solved again
    assert code == 0, err
    code, _, err = _run(root, shared_dir, "check")
    assert code == 0, err
    # a lock left from the single-environment layout is no environment's: reported until deleted
    shutil.copy(root / "locks" / "docs" / "linux-64.txt", root / "locks" / "linux-64.txt")
    code, _, err = _run(root, shared_dir, "check")
    assert code == 6 and "stray: linux-64.txt is no environment's lock" in err, err


def test_relock_is_a_no_op_and_e_locks_the_whole_group(locked: Path, shared_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(locked, root)
    before = {p: p.read_bytes() for p in (root / "locks").rglob("*.txt")}
    code, out, err = _run(root, shared_dir, "lock", "-e", "gpu")
    assert code == 0, err
    assert "[cpu]" in out and "[gpu]" in out and "[docs]" not in out
    assert {p: p.read_bytes() for p in (root / "locks").rglob("*.txt")} == before
    # gpu's python moves: cpu moves with it, docs does not
    (root / "environment-gpu.yml").write_text(GPU.replace("python=3.12", "python=3.13"))
    code, out, err = _run(root, shared_dir, "lock", "-e", "gpu")
    assert code == 0, err
    assert _packages(root / "locks" / "cpu" / "linux-64.txt")["python"][0].startswith("3.13.")
    assert _packages(root / "locks" / "cpu" / "osx-64.txt") == _packages(locked / "locks" / "cpu" / "osx-64.txt")
    assert (root / "locks" / "docs" / "linux-64.txt").read_bytes() == before[root / "locks" / "docs" / "linux-64.txt"]


def test_a_group_that_cannot_agree_names_the_environments_and_lines(
    locked: Path, shared_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    shutil.copytree(locked, root)
    before = {p: p.read_bytes() for p in (root / "locks").rglob("*.txt")}
    (root / "environment.yml").write_text(CPU.replace("- python\n", "- python=3.13\n"))
    code, _, err = _run(root, shared_dir, "lock")
    assert code == 4, err
    assert "group main (cpu, gpu) cannot agree on linux-64; their specs that pull apart:" in err
    assert "python: cpu `python=3.13` (environment.yml:5); gpu `python=3.12` (environment-gpu.yml:5)" in err
    assert {p: p.read_bytes() for p in (root / "locks").rglob("*.txt")} == before
