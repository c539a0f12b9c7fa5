"""The pip forms real environment files carry: sdist-only packages, VCS URLs, local projects.

All offline: a conda channel and a PyPI-like index on 127.0.0.1 (see test_pip_local_index), a git
repository and project folders made in the test's tmp dir (tests.support.projects).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgen.lockfiles.requirements import logical_lines
from tests.integration.test_pip_local_index import (
    PLATFORMS,
    World,
    pins_for,
    served_world,
)
from tests.support.channel import serve_directory
from tests.support.cli import invoke_lockgen
from tests.support.projects import make_git_repo, make_project, sdist_bytes

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

UNHASHED = "requirements-unhashed.txt"


@pytest.fixture
def forms(tmp_path: Path) -> Iterator[World]:
    with served_world(tmp_path) as served:
        yield served


def _add_sources(world: World) -> str:
    """An sdist-only package on the index, a git repo and a local project; returns the repo's commit."""
    data = sdist_bytes("onlysdist", "0.5", ["colorama"])
    world.index.add_sdist("onlysdist", "0.5", data)
    world.index.add("vcsdep", "1.0")
    world.index.add("localdep", "2.0")
    world.index.write()
    commit = make_git_repo(world.root / "repo", "vcspkg", "1.0", ["vcsdep>=1"])
    make_project(world.root / "localproj", "localproj", "0.1.0", ["localdep"])
    return commit


def _body(text: str) -> list[str]:
    return [line for _, line in logical_lines(text) if not line.startswith("--")]


def test_each_form_locks_on_three_platforms(forms: World) -> None:
    world = forms
    commit = _add_sources(world)
    repo = (world.root / "repo").as_uri()
    world.write_env(["onlysdist", f"vcspkg @ git+{repo}@main", "-e ./localproj", "appa"])
    result = world.lock()
    assert result.returncode == 0, result.stderr
    text = world.requirements()
    sdist_hash = hashlib.sha256(world.index.sdists["onlysdist-0.5.tar.gz"]).hexdigest()
    for platform in PLATFORMS:
        chosen = pins_for(text, platform)
        # the sdist (its dependency only known from a build), the VCS and local projects' dependencies
        assert set(chosen) == {"onlysdist", "colorama", "vcsdep", "localdep", "appa"}, text
        assert chosen["onlysdist"] == ("0.5", [sdist_hash])
        assert all(hashes for _, hashes in chosen.values())
    unhashed = (world.root / "locks" / UNHASHED).read_text()
    assert _body(unhashed) == ["-e ./localproj", f"vcspkg @ git+{repo}@{commit}"]
    assert "# paths-base: .." in unhashed
    same = re.search(r"^# input-hash: (.*?)( body=\w+)?$", text, re.M).group(1)  # type: ignore[union-attr]
    assert f"\n# input-hash: {same} body=" in unhashed  # the same run; each file has its own body=
    assert f"pip install --no-deps -r {UNHASHED}" in text
    for line in _body(text):
        assert "git+" not in line and "localproj" not in line, line


def test_unchanged_inputs_keep_both_files_and_an_edited_project_relocks(forms: World) -> None:
    world = forms
    _add_sources(world)
    world.write_env(["-e ./localproj"])
    assert world.lock("-p", "linux-64").returncode == 0
    first = world.requirements()
    again = world.lock("-p", "linux-64")
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stdout + again.stderr
    check = world.lock("-p", "linux-64", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    pyproject = world.root / "localproj" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"localdep"', '"localdep", "appa"'))
    stale = world.lock("-p", "linux-64", "--check")
    assert stale.returncode != 0, stale.stdout + stale.stderr
    assert world.lock("-p", "linux-64").returncode == 0
    assert set(pins_for(world.requirements(), "linux-64")) == {"localdep", "appa"} != set(pins_for(first, "linux-64"))


def test_only_binary_refuses_the_sdist(forms: World) -> None:
    world = forms
    _add_sources(world)
    world.write_env(["onlysdist"])
    result = world.lock("-p", "linux-64", "--only-binary")
    assert result.returncode == 7, result.stderr
    assert "onlysdist" in result.stderr and "--only-binary refuses its sdist" in result.stderr


def test_wheels_first_sdists_only_where_no_wheel_fits(forms: World) -> None:
    """A package whose newest version has wheels, but none for one platform, keeps the newest
    version with a fitting wheel there (pip's --prefer-binary: no build on a user's machine when a
    wheel version fits); a package whose newest release has only an sdist gets that release, as
    pip (without --prefer-binary) installs it (pip 26.3 picks oldwheel 2.0 here and builds it); a
    package without any wheel locks from its sdist."""
    world = forms
    index = world.index
    index.add("oldwheel", "1.0")
    index.add_sdist("oldwheel", "2.0", sdist_bytes("oldwheel", "2.0"))
    index.add("platwheel", "1.0")  # like wandb: the newest version has no wheel for macOS only
    index.add("platwheel", "2.0", tag="py3-none-manylinux_2_17_x86_64")
    index.add("platwheel", "2.0", tag="py3-none-win_amd64")
    index.add_sdist("platwheel", "2.0", sdist_bytes("platwheel", "2.0"))
    index.add_sdist("onlysdist", "0.5", sdist_bytes("onlysdist", "0.5", ["colorama"]))
    index.write()
    world.write_env(["oldwheel", "platwheel", "onlysdist"])
    result = world.lock()
    assert result.returncode == 0, result.stderr
    text = world.requirements()

    def sha(name: str, version: str, tag: str = "py3-none-any") -> str:
        return index.sha256(next(w for w in index.wheels if (w.name, w.version, w.tag) == (name, version, tag)))

    sdist_hash = hashlib.sha256(index.sdists["onlysdist-0.5.tar.gz"]).hexdigest()
    oldwheel_sdist = hashlib.sha256(index.sdists["oldwheel-2.0.tar.gz"]).hexdigest()
    platwheel = {
        "linux-64": ("2.0", [sha("platwheel", "2.0", "py3-none-manylinux_2_17_x86_64")]),
        "win-64": ("2.0", [sha("platwheel", "2.0", "py3-none-win_amd64")]),
        "osx-64": ("1.0", [sha("platwheel", "1.0")]),
    }
    for platform in PLATFORMS:
        chosen = pins_for(text, platform)
        assert chosen["oldwheel"] == ("2.0", [oldwheel_sdist]), text
        assert (
            f"note: {platform}: oldwheel 2.0 has only an sdist (older 1.0 has wheels): locked 2.0 from its sdist"
            in result.stderr
        )
        assert chosen["onlysdist"] == ("0.5", [sdist_hash]), text
        assert "colorama" in chosen  # known only from building the sdist's metadata
        version, hashes = chosen["platwheel"]
        assert version == platwheel[platform][0], text
        assert set(platwheel[platform][1]) <= set(hashes), text
        # the lock says what it cannot promise: the sdist's dependencies were built here, not on the target
        warning = next(line for line in result.stderr.splitlines() if f"warning: {platform}:" in line)
        assert "`onlysdist`, `oldwheel` locked from sdist" in warning and "metadata built on this machine" in warning
        assert "platwheel" not in warning
    # `<2` keeps the wheel; and a pin of an earlier lock stays until --update names it
    world.write_env(["oldwheel<2", "platwheel", "onlysdist"])
    assert world.lock().returncode == 0
    assert pins_for(world.requirements(), "linux-64")["oldwheel"] == ("1.0", [sha("oldwheel", "1.0")])
    world.write_env(["oldwheel", "platwheel", "onlysdist"])
    result = world.lock()
    assert result.returncode == 0, result.stderr
    assert pins_for(world.requirements(), "linux-64")["oldwheel"][0] == "1.0"
    assert world.lock("--update", "oldwheel").returncode == 0
    assert pins_for(world.requirements(), "linux-64")["oldwheel"][0] == "2.0"


def test_a_package_with_neither_a_fitting_wheel_nor_an_sdist_is_named(forms: World) -> None:
    world = forms
    world.index.add("linuxonly", "1.0", tag="py3-none-manylinux_2_17_x86_64")
    world.index.write()
    world.write_env(["linuxonly"])
    result = world.lock("-p", "osx-64")
    assert result.returncode == 7, result.stderr
    assert "linuxonly==1.0 has no wheel for osx-64" in result.stderr, result.stderr
    assert "it has no sdist to build from" in result.stderr, result.stderr


def test_check_and_diff_read_the_unhashed_file(forms: World) -> None:
    world = forms
    commit = _add_sources(world)
    repo = (world.root / "repo").as_uri()
    world.write_env([f"vcspkg @ git+{repo}", "-e ./localproj"])
    assert world.lock("-p", "linux-64").returncode == 0
    locks = world.root / "locks"
    unhashed = locks / UNHASHED
    assert world.lock("-p", "linux-64", "--check").returncode == 0
    saved = world.root / "saved"
    shutil.copytree(locks, saved)
    # a hand edit that moves the VCS package off its commit: check refuses, diff shows it
    unhashed.write_text(unhashed.read_text().replace(f"@{commit}", "@main"))
    stale = world.lock("-p", "linux-64", "--check")
    assert stale.returncode != 0
    assert "vcspkg is not pinned to a full commit hash" in stale.stdout + stale.stderr
    diff = invoke_lockgen("diff", saved, locks, cwd=world.root)
    assert diff.returncode == 6, diff.stderr  # 6: the locks differ
    assert "vcspkg" in diff.stdout and commit[:12] in diff.stdout, diff.stdout
    # removed while the environment still lists a VCS URL: missing
    unhashed.unlink()
    missing = world.lock("-p", "linux-64", "--check")
    assert missing.returncode != 0 and f"{UNHASHED} is missing" in missing.stdout + missing.stderr
    # written by another run than requirements.txt
    shutil.copy(saved / UNHASHED, unhashed)
    unhashed.write_text(unhashed.read_text().replace("# input-hash: sha256:", "# input-hash: sha256:0"))
    other = world.lock("-p", "linux-64", "--check")
    assert other.returncode != 0 and "input-hash lines differ" in other.stdout + other.stderr


def test_verify_reports_the_unhashed_file(tmp_path: Path) -> None:
    from lockgen.verify import _unhashed_report

    (tmp_path / "requirements.txt").write_text("# Generated by lockgen\n# input-hash: sha256:ab pip=cd\n")
    head = "# Generated by lockgen\n# input-hash: sha256:ab pip=cd\n# paths-base: ..\n"
    (tmp_path / UNHASHED).write_text(head + f"-e ./proj\nx @ git+https://h/x@{'a' * 40}\n")
    (report,) = _unhashed_report(tmp_path)
    assert report.packages == 2 and report.findings == ()
    (tmp_path / UNHASHED).write_text(head + "-e ../../etc\nx @ git+https://u:p@h/x@main\nnot a line\n")
    (report,) = _unhashed_report(tmp_path)
    problems = sorted(f"{f.line}: {f.problem}" for f in report.findings)
    assert problems == [
        "4: ../../etc leaves the project folder",
        "5: x is not pinned to a full commit hash",
        "5: x: the URL carries a login",
        "6: `not a line` is neither `name @ VCS-URL@commit` nor a ./path",
    ]


def test_explain_answers_for_pip_packages(forms: World) -> None:
    world = forms
    commit = _add_sources(world)
    repo = (world.root / "repo").as_uri()
    world.write_env([f"vcspkg @ git+{repo}", "native", "appa"])
    assert world.lock("-p", "linux-64", "-p", "osx-64").returncode == 0
    text = world.requirements()
    assert "vcsdep==1.0 \\\n" in text and "    # via vcspkg\n" in text and "    # via pip: section\n" in text
    dep = invoke_lockgen("explain", "vcsdep", cwd=world.root)
    assert dep.returncode == 0, dep.stderr
    assert dep.stdout == (
        "vcsdep==1.0 is in locks/requirements.txt (pip), on linux-64, osx-64\n  required by: vcspkg\n"
    )
    native = invoke_lockgen("explain", "native", cwd=world.root)
    assert native.returncode == 0, native.stderr
    expected = "native==1.0 is in locks/requirements.txt (pip), on osx-64\n  required by: the pip: section\n"
    assert expected in native.stdout
    assert "native==1.1 is in locks/requirements.txt (pip), on linux-64\n" in native.stdout
    assert "  listed at: environment.yml:11" in native.stdout
    vcs = invoke_lockgen("explain", "vcspkg", cwd=world.root)
    assert vcs.returncode == 0, vcs.stderr
    assert f"vcspkg @ git+{repo}@{commit} is in locks/{UNHASHED} (pip), on linux-64, osx-64" in vcs.stdout
    assert invoke_lockgen("explain", "nosuchpkg", cwd=world.root).returncode == 2


def test_explain_answers_for_a_local_project(forms: World) -> None:
    """`-e .`-style lines are in requirements-unhashed.txt without a name: explain finds them by the
    project's static name (or its folder's name) and says what they are and why they are unhashed."""
    world = forms
    _add_sources(world)
    make_project(world.root / "code", "My_Tool", "0.2.0", ["localdep"])
    world.write_env(["-e ./code", "appa"])
    assert world.lock("-p", "linux-64").returncode == 0
    for asked in ("my-tool", "code"):
        found = invoke_lockgen("explain", asked, cwd=world.root)
        assert found.returncode == 0, found.stdout + found.stderr
        assert found.stdout.startswith(
            f"my-tool (the local project `-e ./code`) is in locks/{UNHASHED} (pip), on linux-64\n"
            "  unhashed: a local folder has no file to hash"
        ), found.stdout
        assert "  listed at: environment.yml:" in found.stdout
    assert invoke_lockgen("explain", "localproj", cwd=world.root).returncode == 2  # not in this lock


def test_explain_answers_for_the_project_itself(forms: World) -> None:
    """`-e .`: the environment file's own folder is the project."""
    world = forms
    _add_sources(world)
    make_project(world.root, "rootproj", "1.0", ["localdep"])
    world.write_env(["-e ."])
    assert world.lock("-p", "linux-64").returncode == 0
    found = invoke_lockgen("explain", "RootProj", cwd=world.root)
    assert found.returncode == 0, found.stdout + found.stderr
    assert found.stdout.startswith(f"rootproj (the local project `-e .`) is in locks/{UNHASHED} (pip), on linux-64\n")


def test_pip_installs_the_hashed_file_with_require_hashes(forms: World) -> None:
    world = forms
    _add_sources(world)
    world.write_env(["onlysdist", f"vcspkg @ git+{(world.root / 'repo').as_uri()}", "-e ./localproj", "appa"])
    assert world.lock("-p", "linux-64").returncode == 0
    target = world.root / "target"
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--require-hashes", "--no-input"]
    command += ["--disable-pip-version-check", "--target", str(target), "-r", "locks/requirements.txt"]
    done = subprocess.run(command, cwd=world.root, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    installed = {p.name.split("-")[0] for p in target.glob("*.dist-info")}
    assert installed == {"onlysdist", "colorama", "vcsdep", "localdep", "appa"}


def test_unhashed_file_goes_when_no_longer_needed_but_never_a_foreign_one(forms: World) -> None:
    world = forms
    _add_sources(world)
    world.write_env(["-e ./localproj"])
    assert world.lock("-p", "linux-64").returncode == 0
    unhashed = world.root / "locks" / UNHASHED
    assert unhashed.is_file()
    world.write_env(["appa"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert not unhashed.exists()
    unhashed.write_text("my own notes\n")
    world.write_env(["appa", "colorama"])
    assert world.lock("-p", "linux-64").returncode == 0
    assert unhashed.read_text() == "my own notes\n"
    # but `lockgen install` would install it without hashes: check reports it whoever wrote it
    check = world.lock("-p", "linux-64", "--check")
    assert check.returncode == 6, check.stdout + check.stderr
    assert "lists no VCS URL or local project" in check.stderr


def test_prefer_binary_keeps_the_older_wheel_over_a_newer_sdist_only_release(forms: World) -> None:
    """pip's `--prefer-binary` in the pip section: the newest release with a wheel wins over a newer
    sdist-only one (without it lockgen locks oldwheel 2.0 from its sdist, as pip would install it)."""
    world = forms
    index = world.index
    wheel = index.add("oldwheel", "1.0")
    index.add_sdist("oldwheel", "2.0", sdist_bytes("oldwheel", "2.0"))
    index.write()
    world.write_env(["--prefer-binary", "oldwheel"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert pins_for(world.requirements(), "linux-64")["oldwheel"] == ("1.0", [index.sha256(wheel)])
    assert "has only an sdist" not in result.stderr
    options = [line for _, line in logical_lines(world.requirements()) if line.startswith("--")]
    assert not any(o.startswith("--prefer-binary") for o in options), options  # the pins need no more
    check = invoke_lockgen("check", "-p", "linux-64", cwd=world.root)
    assert check.returncode == 0, check.stdout + check.stderr
    world.write_env(["oldwheel"])  # the option taken out: the lock is stale (the input hash covers it)
    assert invoke_lockgen("check", "-p", "linux-64", cwd=world.root).returncode == 6


@pytest.mark.parametrize("case", ["ref", "repository"])
def test_a_git_url_that_cannot_be_fetched_names_its_line_and_the_url_without_login(
    forms: World, tmp_path: Path, case: str
) -> None:
    """uv's clone failure is tied back to the pip line that asked for it (here in a `-r` file):
    file:line, the URL with its login left out, and what is wrong (the ref, or the repository)."""
    world = forms
    _add_sources(world)
    served = tmp_path / "git"
    subprocess.run(["git", "clone", "-q", "--bare", str(world.root / "repo"), str(served / "repo.git")], check=True)
    subprocess.run(["git", "update-server-info"], cwd=served / "repo.git", check=True)  # git's plain http
    with serve_directory(served) as server:
        login = server.url.replace("http://", "http://someone:s3cretpw@")
        url, fix = {
            "ref": (f"{login}/repo.git@nosuchref", "the repository has no branch, tag or commit `nosuchref`"),
            "repository": (f"{login}/missing.git@main", "git could not fetch the repository"),
        }[case]
        (world.root / "requirements-git.txt").write_text(f"# from git\nvcspkg @ git+{url}\n")
        world.write_env(["appa", "-r requirements-git.txt"])
        result = world.lock()  # every platform: said once
    assert result.returncode == 7, result.stderr
    shown = url.replace("someone:s3cretpw@", "")
    first = next(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert first.startswith(f"error: requirements-git.txt:2: `git+{shown}`: {fix}"), result.stderr
    assert "building its sdist" not in result.stderr, result.stderr  # nothing was built: the fetch failed
    assert result.stderr.count(first.removeprefix("error: ")) == 1, result.stderr
    assert result.stderr.count("linux-64, osx-64, win-64: the pip section cannot be resolved") == 1, result.stderr
    assert "s3cretpw" not in result.stderr
