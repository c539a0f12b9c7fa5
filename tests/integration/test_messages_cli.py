"""The messages for mistakes people make, through the real CLI: each names the place and the fix
and fits one screen (at most 25 lines of stderr)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.test_pip_local_index import PLATFORMS, World, world  # noqa: F401  (the fixture)
from tests.support.channel import ChannelBuilder
from tests.support.cli import invoke_lockgen

SCREEN = 25


def test_a_pypi_typo_gets_its_line_and_did_you_mean_said_once_for_every_platform(world: World) -> None:  # noqa: F811
    world.write_env(["appa", "appdd>=1.0"], ("python=3.11", "numpy", "py-appc", "pip"))
    result = world.lock()
    assert result.returncode == 7, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: environment.yml:12: no package named `appdd` on {world.index_url}; did you mean `appd`?"
    assert "linux-64, osx-64, win-64: the pip section cannot be resolved" in result.stderr
    assert result.stderr.count("the pip section cannot be resolved") == 1
    assert len(lines) <= SCREEN


def _lock_local(root: Path, env: str, *args: str) -> subprocess.CompletedProcess[str]:
    (root / "environment.yml").write_text(env)
    mirror = f"https://conda.anaconda.org={root / 'channels'}"
    return invoke_lockgen("lock", "--mirror", mirror, "--cache-dir", root / "cache", *args, cwd=root)


def test_a_package_missing_on_one_platform_says_where_it_exists_and_the_selector(tmp_path: Path) -> None:
    builder = ChannelBuilder(tmp_path / "channels" / "testchan", subdirs=("noarch", *PLATFORMS))
    for subdir in PLATFORMS:
        builder.add("python", "3.11.9", build="h0", subdir=subdir)
        if subdir != "osx-64":
            builder.add("cuda-nvcc", "12.4.131", build="h0", subdir=subdir)
    builder.write()
    env = "name: x\nchannels:\n  - testchan\ndependencies:\n  - python=3.11\n  - cuda-nvcc\n"
    result = _lock_local(tmp_path, env)
    assert result.returncode == 4, result.stderr
    assert result.stderr == (
        "error: osx-64: package not built for osx-64:\n"
        "  environment.yml:6: `cuda-nvcc` has no osx-64 build in testchan (it has builds for linux-64, win-64):"
        " add the selector `- cuda-nvcc  # [linux or win]`, or drop osx-64 from the target platforms\n"
    )
    assert _lock_local(tmp_path, env.replace("cuda-nvcc", "cuda-nvcc  # [linux or win]")).returncode == 0


def test_an_unsolvable_environment_fits_one_screen_and_names_the_file_with_the_whole_tree(tmp_path: Path) -> None:
    builder = ChannelBuilder(tmp_path / "channels" / "testchan", subdirs=("noarch", *PLATFORMS))
    for subdir in PLATFORMS:
        builder.add("python", "3.11.9", build="h0", subdir=subdir)
    for i in range(30):  # every version of app needs a dependency version nobody has: 30 branches
        builder.add(f"dep{i}", "1.0")
        builder.add("app", f"1.{i}", depends=[f"dep{i} >=2"])
    builder.write()
    env = "name: x\nchannels:\n  - testchan\ndependencies:\n  - python=3.11\n  - app\n"
    result = _lock_local(tmp_path, env)
    assert result.returncode == 4, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) <= SCREEN, result.stderr
    assert lines[0] == "error: linux-64, osx-64, win-64: no solution."  # the same reason, said once
    assert "  the shortest of 30 conflict chains the solver reports:" in lines
    assert any(line.strip().startswith("└─ dep") and "no candidates were found" in line for line in lines)
    footer = lines[-1]
    assert footer.startswith("the solver's whole explanation (") and footer.endswith(".txt (`-v` prints it)")
    kept = Path(footer.split(" is in ", 1)[1].removesuffix(" (`-v` prints it)"))
    assert kept.is_relative_to(tmp_path / "cache")  # lockgen's cache, never the project tree
    whole = kept.read_text()
    assert all(f"dep{i} >=2" in whole for i in range(30))
    verbose = _lock_local(tmp_path, env, "-v")
    assert all(f"dep{i} >=2" in verbose.stderr for i in range(30))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="installs the linux-64 lock here")
def test_install_from_a_mirror_without_package_files_is_one_line_naming_the_mirror_and_the_count(
    tmp_path: Path,
) -> None:
    builder = ChannelBuilder(tmp_path / "channels" / "testchan", subdirs=("noarch", "linux-64"))
    names = [f"pkg{i:02d}" for i in range(40)]
    for name in names:
        builder.add(name, "1.0")
    builder.write()
    env = "name: x\nchannels:\n  - testchan\ndependencies:\n" + "".join(f"  - {n}\n" for n in names)
    assert _lock_local(tmp_path, env, "-p", "linux-64").returncode == 0
    bare = tmp_path / "bare" / "testchan"  # the repodata only, as in a snapshot made for locking
    for subdir in ("noarch", "linux-64"):
        (bare / subdir).mkdir(parents=True)
        shutil.copy(builder.root / subdir / "repodata.json", bare / subdir / "repodata.json")
    result = invoke_lockgen(
        "install", "-p", "linux-64", "--prefix", tmp_path / "env", "--mirror",
        f"https://conda.anaconda.org={tmp_path / 'bare'}", "--cache-dir", tmp_path / "cache", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 9, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) <= SCREEN, result.stderr
    mirror = (tmp_path / "bare").as_uri()
    assert (
        f"  40 of 40 packages from the mirror {mirror} (for https://conda.anaconda.org): cannot read the file:"
        " No such file or directory (first: line " in result.stderr
    )
    assert "hint: a mirror that holds the repodata but not the package files can lock but not install" in result.stderr
    assert not (tmp_path / "env").exists()


def _readme_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## When something goes wrong", 1)[1].split("\n## ", 1)[0]
    return section.split("```\n")[1::2]


def test_readmes_unsolvable_example_is_what_lockgen_prints(shared_dir: Path, tmp_path: Path) -> None:
    shutil.copy(shared_dir / "environments" / "conflict-tf-torch.yml", tmp_path / "environment.yml")
    mirror = f"https://conda.anaconda.org={shared_dir / 'channels'}"
    result = invoke_lockgen("lock", "--mirror", mirror, "--cache-dir", tmp_path / "cache", cwd=tmp_path)
    assert result.returncode == 4
    shown = _readme_blocks()[0]
    kept = re.compile(r" is in \S+/explanations/")
    assert kept.sub(" is in …/explanations/", result.stderr) == kept.sub(" is in …/explanations/", shown)


def test_readmes_input_example_is_what_lockgen_prints(tmp_path: Path) -> None:
    env = "name: dl\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pandas=>2.0\n  - pip\n"
    (tmp_path / "environment.yml").write_text(env + "  - pip:\n    - einops=0.8.0\n    - transformers>=4.30\n")
    result = invoke_lockgen("lock", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr == _readme_blocks()[1]


def test_the_pip_versions_differ_block_is_said_when_requirements_change_not_on_every_run(
    world: World,  # noqa: F811
) -> None:
    world.write_env(["native"])  # 1.1 has no osx-64 wheel: osx-64 gets 1.0
    first = world.lock()
    assert first.returncode == 0, first.stderr
    assert "  versions differ between platforms:\n    native: 1.1 on linux-64, win-64; 1.0 on osx-64" in first.stdout
    again = world.lock()
    assert again.returncode == 0, again.stderr
    assert "versions differ between platforms" not in again.stdout
    assert "  1 pin differs between platforms (listed when requirements.txt changes)" in again.stdout
    assert len((again.stdout + again.stderr).splitlines()) <= SCREEN


def test_a_missing_package_with_no_index_names_no_index_and_suggests_no_pypi_name(world: World) -> None:  # noqa: F811
    """With `--no-index` and no `--find-links`, no package can be found: the message says so and where
    the option is, never a PyPI name (`six` is close to `silx`, a name of the conda→PyPI mapping)."""
    world.write_env(["--no-index", "six"], ("python=3.11", "numpy", "py-appc", "pip"))
    result = world.lock()
    assert result.returncode == 7, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "error: environment.yml:12: no package named `six`: `--no-index` (environment.yml:11) turns the package"
        " index off and the pip section names no --find-links location, so only what conda installs is there;"
        " add `--find-links DIR` with a wheel of six, or remove --no-index"
    ), result.stderr
    assert "did you mean" not in result.stderr and "silx" not in result.stderr
    assert "pypi.org" not in result.stderr and world.index_url not in result.stderr
    assert len(lines) <= SCREEN


def test_a_missing_package_with_no_index_names_the_find_links_folder_and_what_it_holds(world: World) -> None:  # noqa: F811
    wheels = world.root / "wheels"
    wheels.mkdir()
    appa = next(w for w in world.index.wheels if w.name == "appa")
    shutil.copy(world.index.path_of(appa), wheels)
    world.write_env(["--no-index", "--find-links wheels", "appaa"], ("python=3.11", "numpy", "py-appc", "pip"))
    result = world.lock()
    assert result.returncode == 7, result.stderr
    assert result.stderr.splitlines()[0] == (
        "error: environment.yml:13: no package named `appaa` in the --find-links location wheels: `--no-index`"
        " (environment.yml:11) turns the package index off; did you mean `appa`?"
    ), result.stderr
    assert "pypi.org" not in result.stderr and world.index_url not in result.stderr
