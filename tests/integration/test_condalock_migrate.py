"""Migrating from conda-lock files of the shapes conda-lock really writes (issue 20 items 3-4).

conda-lock 2.5.8–3.0.3 write a pip VCS dependency as ``url: git+https://…@<commit>`` with the
commit id in ``hash.sha256``; lockgen reads it as the VCS pin it is.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import yaml

from lockgen.lockfiles.condalock import parse_condalock, read_pins
from tests.integration.test_pip_forms import forms  # noqa: F401  (the fixture)
from tests.integration.test_pip_local_index import World
from tests.support.condalock import HEADER, conda_entry
from tests.support.projects import make_git_repo

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _vcs_condalock(world: World, url: str, commit: str, platforms: tuple[str, ...]) -> str:
    """conda-lock 2.5.8's file for python, numpy, py-appc and one pip VCS package."""
    packages: list[dict[str, object]] = []
    for platform in platforms:
        for package in world.conda.packages:
            if package.subdir in (platform, "noarch"):
                packages.append(conda_entry(world.conda, "testchan", platform, package))
        packages.append(
            {
                "name": "vcspkg",
                "version": "1.0",
                "manager": "pip",
                "platform": platform,
                "dependencies": {"vcsdep": ">=1"},
                "url": f"{url}@{commit}",
                "hash": {"sha256": commit},  # what conda-lock 2.5.8–3.0.3 write for a VCS pin
                "category": "main",
                "optional": False,
            }
        )
    packages.sort(key=lambda p: (str(p["manager"]), str(p["name"]), str(p["platform"])))
    data = {
        "version": 1,
        "metadata": {
            "content_hash": dict.fromkeys(platforms, "0" * 64),
            "channels": [{"url": "testchan", "used_env_vars": []}],
            "platforms": list(platforms),
            "sources": ["environment.yml"],
        },
        "package": packages,
    }
    return HEADER + yaml.dump(data, sort_keys=False)


@pytest.fixture
def vcs_world(forms: World) -> Iterator[tuple[World, str, str]]:  # noqa: F811
    forms.index.add("vcsdep", "1.0")
    forms.index.write()
    commit = make_git_repo(forms.root / "repo", "vcspkg", "1.0", ["vcsdep>=1"])
    yield forms, f"git+{(forms.root / 'repo').as_uri()}", commit


@needs_git
def test_from_condalock_with_a_vcs_pip_pin_whose_commit_is_in_hash_sha256(vcs_world: tuple[World, str, str]) -> None:
    world, url, commit = vcs_world
    (world.root / "conda-lock.yml").write_text(_vcs_condalock(world, url, commit, ("linux-64",)))
    pins = read_pins(world.root / "conda-lock.yml")
    (pin,) = pins.pip["linux-64"]
    assert (pin.commit, pin.sha256, pin.vcs) == (commit, None, True)
    world.write_env([f"vcspkg @ {url}@main"])
    result = world.lock("--from", "conda-lock.yml", "-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert "64 hex digits" not in result.stderr
    assert "linux-64: 1 of 1 pip pins kept" in result.stdout
    assert f"vcspkg @ {url}@{commit}" in (world.root / "locks" / "requirements-unhashed.txt").read_text()


def test_a_vcs_commit_in_hash_sha256_parses_and_a_bad_file_hash_still_fails() -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"

    def text(url: str, sha: str) -> str:
        entry = {"name": "pkg", "version": "1.0", "manager": "pip", "platform": "linux-64", "url": url}
        entry["hash"] = {"sha256": sha}  # type: ignore[assignment]
        return yaml.dump({"version": 1, "metadata": {"platforms": ["linux-64"]}, "package": [entry]})

    parsed = parse_condalock(text(f"git+https://github.com/org/pkg.git@{commit}", commit))
    assert parsed.packages[0].commit == commit and parsed.packages[0].sha256 is None
    with pytest.raises(ValueError, match="64 hex digits"):  # a wheel's hash must still be a sha256
        parse_condalock(text("https://files.example/pkg-1.0-py3-none-any.whl", commit))
