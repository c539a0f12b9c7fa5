"""pip sections as real environment files write them (issue 20): options among the packages, `-r`
files that carry `-e .` and VCS URLs, per-requirement `--hash` options. Offline: the conda channel
and index of test_pip_local_index (conda provides python, pip, setuptools and wheel), a second
index, a find-links folder, a git repository and a project made in the test's tmp dir."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgen.lockfiles.requirements import logical_lines
from tests.integration.test_pip_local_index import World, pins, served_world
from tests.support.projects import make_git_repo, make_project
from tests.support.pypi_index import SimpleIndex, build_wheel, serve_index

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture
def real(tmp_path: Path) -> Iterator[World]:
    with served_world(tmp_path) as served:
        yield served


def test_index_and_find_links_lines_among_the_packages(real: World) -> None:
    """`--extra-index-url` and `--find-links` written between packages apply to the whole section, as in pip."""
    second = SimpleIndex(real.root / "second")
    second.add("secondonly", "1.0")
    second.write()
    (real.root / "wheels").mkdir()
    linked = SimpleIndex(real.root / "unused").add("linkedpkg", "3.0")
    (real.root / "wheels" / linked.file_name).write_bytes(build_wheel(linked))
    with serve_index(real.root / "second") as second_server:
        extra = f"--extra-index-url {second_server.url}/simple"
        real.write_env(["appa", extra, "secondonly", "--find-links ./wheels", "linkedpkg"])
        result = real.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    text = real.requirements()
    assert {(n, v) for n, v, *_ in pins(text)} == {("appa", "1.0"), ("secondonly", "1.0"), ("linkedpkg", "3.0")}
    options = [line for _, line in logical_lines(text) if line.startswith("--")]
    assert options == [f"--index-url {real.index_url}", f"--extra-index-url {second_server.url}/simple"]
    linked_hash = hashlib.sha256((real.root / "wheels" / linked.file_name).read_bytes()).hexdigest()
    assert [h for n, _, _, h in pins(text) if n == "linkedpkg"] == [[linked_hash]]


def test_requirements_file_with_an_editable_project_and_a_vcs_url(real: World) -> None:
    """`-r requirements.txt` whose file has `-e .` and `pkg @ git+...`: both locked as if in the pip list."""
    real.index.add("vcsdep", "1.0")
    real.index.add("localdep", "2.0")
    real.index.write()
    commit = make_git_repo(real.root / "repo", "vcspkg", "1.0", ["vcsdep>=1"])
    make_project(real.root, "rootproj", "0.1.0", ["localdep"])
    (real.root / "requirements.txt").write_text(
        f"# the project itself, editable\n-e .\nvcspkg @ git+{(real.root / 'repo').as_uri()}@main\nhelper<2\n"
    )
    real.write_env(["-r requirements.txt"])
    result = real.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    expected = {("vcsdep", "1.0"), ("localdep", "2.0"), ("helper", "1.0")}
    assert {(n, v) for n, v, *_ in pins(real.requirements())} == expected
    unhashed = (real.root / "locks" / "requirements-unhashed.txt").read_text()
    assert "\n-e .\n" in unhashed
    assert f"vcspkg @ git+{(real.root / 'repo').as_uri()}@{commit}\n" in unhashed


def test_per_requirement_hashes_are_checked_against_the_index(real: World) -> None:
    appa = next(w for w in real.index.wheels if w.name == "appa")
    good = real.index.sha256(appa)
    real.write_env([f"appa==1.0 --hash=sha256:{good} --hash=sha256:{'0' * 64}"])
    result = real.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert [(n, v, h) for n, v, _, h in pins(real.requirements())] == [("appa", "1.0", [good])]
    real.write_env([f"appa==1.0 --hash=sha256:{'0' * 64}"])
    result = real.lock("-p", "linux-64")
    assert result.returncode == 3, result.stderr
    assert "environment.yml:10: --hash for appa: no file of appa 1.0 locked for linux-64 has the hash" in result.stderr
    assert f"the index lists sha256:{good[:12]}" in result.stderr


def test_local_paths_in_a_nested_requirements_file_are_relative_to_where_pip_runs(real: World) -> None:
    """pip reads `-e .` in `-r requirements/dev.txt` from its working directory, which conda sets to
    the environment file's folder; a nested `-r` is relative to the file that names it."""
    real.index.add("localdep", "2.0")
    real.index.write()
    make_project(real.root, "rootproj", "0.1.0", ["localdep"])
    (real.root / "requirements").mkdir()
    (real.root / "requirements" / "base.txt").write_text("helper<2\n")
    (real.root / "requirements" / "dev.txt").write_text("-r base.txt\n-e .\n")
    real.write_env(["-r requirements/dev.txt"])
    result = real.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert {(n, v) for n, v, *_ in pins(real.requirements())} == {("localdep", "2.0"), ("helper", "1.0")}
    assert "\n-e .\n" in (real.root / "locks" / "requirements-unhashed.txt").read_text()
