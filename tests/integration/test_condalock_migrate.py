"""Migrating from conda-lock files of the shapes conda-lock really writes (issue 20 items 3-4).

conda-lock 2.5.8–3.0.3 write a pip VCS dependency as ``url: git+https://…@<commit>`` with the
commit id in ``hash.sha256``; lockgen reads it as the VCS pin it is.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockgen.frompins import read_pins
from lockgen.lockfiles.condalock import parse_condalock
from tests.integration import test_condalock as condalock_world
from tests.integration.test_condalock import PLATFORMS
from tests.integration.test_pip_forms import forms  # noqa: F401  (the fixture)
from tests.integration.test_pip_local_index import World
from tests.support.channel import ChannelBuilder, serve_directory
from tests.support.cli import invoke_lockgen
from tests.support.condalock import HEADER, conda_entry, condalock_text, explicit_text
from tests.support.projects import make_git_repo, make_project

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


@needs_git
def test_a_written_condalock_file_says_it_leaves_out_vcs_and_local_pip_packages(
    vcs_world: tuple[World, str, str],
) -> None:
    world, url, _ = vcs_world
    world.index.add("localdep", "2.0")
    world.index.write()
    make_project(world.root / "localproj", "localproj", "0.1.0", ["localdep"])
    world.write_env([f"vcspkg @ {url}@main", "-e ./localproj", "appa"])
    result = world.lock("--conda-lock-file", "conda-lock.yml", "-p", "linux-64")
    assert result.returncode == 0, result.stderr
    text = (world.root / "conda-lock.yml").read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    said = "Not here: ./localproj, vcspkg (VCS URLs and local projects: conda-lock's format cannot hold them)"
    assert any(said in line for line in header), header
    assert "requirements-unhashed.txt" in " ".join(header)
    assert "lacks pip packages ./localproj, vcspkg: conda-lock's format cannot hold" in result.stderr
    pip = {p.name for p in parse_condalock(text).for_platform("linux-64", "pip")}
    assert pip == {"appa", "localdep", "vcsdep"}  # their hashed dependencies are there


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


# ---------------------------------------------------------------------------------- moved pins' reasons
# Each reason is checked against a second solve: with the named cause taken away, the pin is kept.


@pytest.fixture
def chan(tmp_path: Path) -> Iterator[condalock_world.World]:
    (tmp_path / "environment.yml").write_text(condalock_world.ENV)
    builder, old = condalock_world.build_channel(tmp_path / "mirror")
    with serve_directory(tmp_path / "mirror") as server:
        yield condalock_world.World(tmp_path, builder, server, old)


def _lock(world: condalock_world.World, *args: str, run: str) -> subprocess.CompletedProcess[str]:
    """A lock with its own cache and output, so a second solve sees the channel as it is now."""
    return invoke_lockgen(
        "lock",
        "--mirror",
        f"https://conda.anaconda.org={world.server.url}",
        "--cache-dir",
        world.root / f"cache-{run}",
        "-o",
        f"locks-{run}",
        *args,
        cwd=world.root,
    )


def _edit_record(
    world: condalock_world.World, subdir: str, file_name: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> None:
    path = world.channel.root / subdir / "repodata.json"
    data = json.loads(path.read_text())
    for key in ("packages", "packages.conda"):
        if file_name in data[key]:
            changed = change(data[key][file_name])
            if changed is None:
                del data[key][file_name]
            else:
                data[key][file_name] = changed
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


def _write_lock(world: condalock_world.World) -> None:
    (world.root / "conda-lock.yml").write_text(condalock_text(world.channel, "testchan", world.old))


def test_a_patched_record_names_the_dependency_that_no_longer_fits(chan: condalock_world.World) -> None:
    """The channel's repodata patch of the pinned record (not the archive) now needs `libcore <2`."""
    _write_lock(chan)
    app = chan.find("app", "1.0", "linux-64")
    original = chan.channel.record(app)
    _edit_record(chan, "linux-64", app.file_name, lambda r: {**r, "depends": ["libcore <2", "pydata"]})
    result = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="patched")
    assert result.returncode == 0, result.stderr
    assert (
        "moved app 1.0 h2_0 -> 1.1 h2_0: the channel changed the metadata of app 1.0 h2_0: it now needs"
        " `libcore <2` (the lock recorded `libcore >=2`), which libcore 2.0 h1_0 does not fit"
    ) in result.stdout
    # the second solve: the record as conda-lock saw it, and the pin is kept
    _edit_record(chan, "linux-64", app.file_name, lambda r: {**r, "depends": original["depends"]})
    again = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="unpatched")
    assert again.returncode == 0, again.stderr
    assert "linux-64: 4 of 4 conda pins kept" in again.stdout


def test_a_file_the_channel_no_longer_offers_is_named(chan: condalock_world.World) -> None:
    _write_lock(chan)
    zlib = chan.find("zlib", "1.2.13", "linux-64")
    record = chan.channel.record(zlib)
    _edit_record(chan, "linux-64", zlib.file_name, lambda r: None)
    result = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="missing")
    assert result.returncode == 0, result.stderr
    assert (
        "moved zlib 1.2.13 h0_0 -> 1.3.1 h0_0: channel testchan no longer offers zlib-1.2.13-h0_0.tar.bz2"
        " (missing file)"
    ) in result.stdout
    assert "exclude-newer" not in result.stdout  # no blanket reason
    path = chan.channel.root / "linux-64" / "repodata.json"
    data = json.loads(path.read_text())
    data["packages"][zlib.file_name] = record
    path.write_text(json.dumps(data))
    again = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="offered")
    assert "linux-64: 4 of 4 conda pins kept" in again.stdout, again.stderr


def test_a_pin_newer_than_exclude_newer_says_so(chan: condalock_world.World) -> None:
    _write_lock(chan)
    zlib = chan.find("zlib", "1.2.13", "linux-64")
    _edit_record(chan, "linux-64", zlib.file_name, lambda r: {**r, "timestamp": 1_750_000_000_000})  # 2025-06-15
    result = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", "--exclude-newer", "2025-01-01", run="old")
    assert result.returncode == 0, result.stderr
    assert (
        "moved zlib 1.2.13 h0_0 -> 1.3.1 h0_0: zlib-1.2.13-h0_0.tar.bz2 was uploaded 2025-06-15 15:06Z,"
        " after --exclude-newer 2025-01-01 00:00Z"
    ) in result.stdout
    again = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", "--exclude-newer", "2025-07-01", run="later")
    assert "linux-64: 4 of 4 conda pins kept" in again.stdout, again.stderr


def test_a_pin_that_moves_down_is_flagged_as_a_downgrade(chan: condalock_world.World) -> None:
    newer = {p: [chan.find("zlib", "1.3.1", p) if x.name == "zlib" else x for x in chan.old[p]] for p in PLATFORMS}
    (chan.root / "conda-lock.yml").write_text(condalock_text(chan.channel, "testchan", newer))
    (chan.root / "environment.yml").write_text(condalock_world.ENV.replace("  - zlib\n", "  - zlib <1.3\n"))
    result = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="down")
    assert result.returncode == 0, result.stderr
    assert "linux-64: 3 of 4 conda pins kept (1 moved, 1 of them down)" in result.stdout
    assert "moved DOWNGRADE zlib 1.3.1 h0_0 -> 1.2.13 h0_0: environment.yml:6 `zlib <1.3` excludes it" in result.stdout
    (chan.root / "environment.yml").write_text(condalock_world.ENV)
    again = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="up")
    assert "linux-64: 4 of 4 conda pins kept" in again.stdout, again.stderr


def test_pins_from_a_lower_priority_channel_need_flexible_priority(chan: condalock_world.World) -> None:
    """conda's default (flexible) took `cudart 11.8` from otherchan (as conda-lock did from nvidia) although
    testchan, listed first, has cudart (12.0 only); `gpulib` needs `cudart >=11.8,<12`."""
    other = ChannelBuilder(chan.root / "mirror" / "otherchan", subdirs=("noarch", *PLATFORMS))
    cudart = other.add("cudart", "11.8", build="h0_0", subdir="linux-64")
    gpulib = other.add("gpulib", "1.0", build="h0_0", subdir="linux-64", depends=["cudart >=11.8,<12"])
    other.write()
    chan.channel.add("cudart", "12.0", build="h0_0", subdir="linux-64")
    chan.channel.write()
    env = condalock_world.ENV.replace("  - testchan\n", "  - testchan\n  - otherchan\n").replace(
        "  - zlib\n", "  - zlib\n  - gpulib\n"
    )
    (chan.root / "environment.yml").write_text(env)
    text = condalock_text(chan.channel, "testchan", {"linux-64": chan.old["linux-64"]})
    data = yaml.safe_load(text)
    data["package"] += [conda_entry(other, "otherchan", "linux-64", p) for p in (cudart, gpulib)]
    (chan.root / "conda-lock.yml").write_text(HEADER + yaml.dump(data, sort_keys=False))
    result = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="strict")
    assert result.returncode == 0, result.stderr
    assert "linux-64: 6 of 6 conda pins kept" in result.stdout  # kept while pinned...
    note = (
        "1 pins need --channel-priority flexible (conda's default, which your conda-lock used): cudart come from"
        " a channel listed after another that also has them"
    )
    assert note in result.stdout
    # ...the second solve: without the pins, lockgen's strict default cannot choose them again
    fresh = _lock(chan, "-p", "linux-64", run="fresh")
    assert fresh.returncode == 4, fresh.stdout
    flexible = _lock(chan, "-p", "linux-64", "--channel-priority", "flexible", run="flexible")
    assert flexible.returncode == 0, flexible.stderr
    assert "otherchan/linux-64/cudart-11.8-h0_0.tar.bz2" in (chan.root / "locks-flexible" / "linux-64.txt").read_text()


def test_a_failed_migration_names_the_pins_that_need_flexible_priority(tmp_path: Path) -> None:
    """When the strict solve fails, the pins conda's flexible priority chose are named with the fix."""
    from lockgen.conda import PinnedOffers
    from lockgen.config import LockOptions
    from lockgen.errors import SolveError
    from lockgen.lock import lock

    url = "https://conda.anaconda.org/nvidia/linux-64/cuda-cudart-11.8.89-0.tar.bz2"
    (tmp_path / "environment.yml").write_text(
        "channels: [conda-forge, nvidia]\ndependencies: [pytorch-cuda=11.8]\nplatforms: [linux-64]\n"
    )
    (tmp_path / "spec.txt").write_text(f"# platform: linux-64\n@EXPLICIT\n{url}#{'0' * 32}\n")
    forge, nvidia = "https://conda.anaconda.org/conda-forge", "https://conda.anaconda.org/nvidia"

    class Solver:
        def __init__(self, offered_by: tuple[str, ...]) -> None:
            self.offers = {"linux-64": PinnedOffers((), (("cuda-cudart", offered_by),))}

        def solve(self, requests: object) -> dict[str, object]:
            raise SolveError("linux-64: cannot solve: nothing provides cuda-cudart >=11.8,<12", ("linux-64",))

    options = LockOptions(
        files=(tmp_path / "environment.yml",),
        output_dir=tmp_path / "locks",
        chosen_cache_dir=tmp_path / "cache",
        from_lock=tmp_path / "spec.txt",
    )
    with pytest.raises(SolveError) as caught:
        lock(options, solver=Solver((forge, nvidia)))  # type: ignore[arg-type]
    assert "nothing provides cuda-cudart" in str(caught.value)
    assert "1 pins need --channel-priority flexible (conda's default, which your conda-lock used): cuda-cudart" in str(
        caught.value
    )
    with pytest.raises(SolveError) as plain:  # only nvidia has it: no note
        lock(options, solver=Solver((nvidia,)))  # type: ignore[arg-type]
    assert "flexible" not in str(plain.value)


# ------------------------------------------------------------------------- one platform cannot be solved


def test_a_migration_with_one_unsolvable_platform_still_summarizes_the_others_first(
    chan: condalock_world.World,
) -> None:
    for subdir, depends in (("linux-64", []), ("osx-64", ["libcore >=9"])):
        chan.channel.add("tool", "1.0", build="h0_0", subdir=subdir, depends=depends)
    chan.channel.write()
    (chan.root / "environment.yml").write_text(condalock_world.ENV.replace("  - zlib\n", "  - zlib\n  - tool\n"))
    _write_lock(chan)
    result = _lock(chan, "--from", "conda-lock.yml", run="one-fails")  # no -p: both listed platforms
    assert result.returncode == 4, result.stdout
    lines = result.stderr.splitlines()
    first = next(i for i, line in enumerate(lines) if "linux-64: 4 of 4 conda pins kept" in line)
    failed = next(i for i, line in enumerate(lines) if line == "nothing was written: osx-64 could not be solved:")
    assert first < failed  # the solvable platform's summary comes first
    assert "started from conda-lock.yml:" in result.stderr
    assert "libcore >=9" in result.stderr  # the failure itself is still explained
    assert len(lines) <= 60
    assert "add them to `platforms:`" not in result.stderr
    assert "not locked" not in result.stderr  # osx-64 is a target: it failed, it was not left out
    assert not (chan.root / "locks-one-fails").exists()
    # the second solve: without the platform that cannot be solved, the same pins lock
    alone = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="linux")
    assert alone.returncode == 0, alone.stderr
    assert "linux-64: 4 of 4 conda pins kept" in alone.stdout
    assert "not locked this run: osx-64 (listed in `platforms:`, but -p chose others)" in alone.stdout
    assert "add them to `platforms:`" not in alone.stdout


def test_an_unsolvable_platforms_explanation_is_kept_to_one_screen(tmp_path: Path) -> None:
    from lockgen.config import LockOptions
    from lockgen.errors import SolveError
    from lockgen.lock import lock
    from lockgen.models import LockedPackage

    url = "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-h0_0.conda"
    (tmp_path / "environment.yml").write_text("channels: [conda-forge]\ndependencies: [zlib]\n")
    (tmp_path / "spec.txt").write_text(f"# platform: linux-64\n@EXPLICIT\n{url}#{'0' * 32}\n")
    zlib = LockedPackage("zlib", "1.3.1", "h0_0", "linux-64", url, "0" * 32, None)

    class Solver:
        def __init__(self) -> None:
            self.solved = {"linux-64": (zlib,)}
            self.offers: dict[str, object] = {}

        def solve(self, requests: object) -> dict[str, object]:
            tree = "\n".join(f"  |-- package-{i} cannot be installed" for i in range(1400))
            raise SolveError(f"osx-64: no solution.\n{tree}", ("osx-64",))

    options = LockOptions(
        files=(tmp_path / "environment.yml",),
        output_dir=tmp_path / "locks",
        chosen_cache_dir=tmp_path / "cache",
        platforms=("linux-64", "osx-64"),
        from_lock=tmp_path / "spec.txt",
    )
    with pytest.raises(SolveError) as caught:
        lock(options, solver=Solver())  # type: ignore[arg-type]
    lines = str(caught.value).splitlines()
    assert lines[:2] == ["started from " + str(tmp_path / "spec.txt") + ":", "linux-64: 1 of 1 conda pins kept"]
    assert len(lines) < 50
    assert "osx-64: no pins" not in str(caught.value)  # it was not solved: nothing to say of its pins
    assert lines[-1] == "  ... 1361 more lines of the solver's explanation"


def test_a_pin_from_a_channel_the_environment_no_longer_lists(chan: condalock_world.World) -> None:
    other = ChannelBuilder(chan.root / "mirror" / "otherchan", subdirs=("noarch", *PLATFORMS))
    pinned = other.add("zlib", "1.2.13", build="h9_0", subdir="linux-64")
    other.write()
    data = yaml.safe_load(condalock_text(chan.channel, "testchan", {"linux-64": chan.old["linux-64"]}))
    data["package"] = [p for p in data["package"] if p["name"] != "zlib"]
    data["package"].append(conda_entry(other, "otherchan", "linux-64", pinned))
    (chan.root / "conda-lock.yml").write_text(HEADER + yaml.dump(data, sort_keys=False))
    result = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="unlisted")
    assert result.returncode == 0, result.stderr
    assert "moved zlib 1.2.13 h9_0 -> 1.3.1 h0_0: its channel otherchan is not among the environment's channels" in (
        result.stdout
    )
    # the second solve: with otherchan listed, the pin is kept
    env = condalock_world.ENV.replace("  - testchan\n", "  - testchan\n  - otherchan\n")
    (chan.root / "environment.yml").write_text(env)
    again = _lock(chan, "--from", "conda-lock.yml", "-p", "linux-64", run="listed")
    assert again.returncode == 0, again.stderr
    assert "linux-64: 4 of 4 conda pins kept" in again.stdout


def test_without_recorded_metadata_the_dependency_that_does_not_fit_is_named(chan: condalock_world.World) -> None:
    """An explicit file records no dependencies: the reason names the record's dependency that does not fit."""
    (chan.root / "spec.txt").write_text(explicit_text(chan.channel, "testchan", "linux-64", chan.old["linux-64"]))
    app = chan.find("app", "1.0", "linux-64")
    original = chan.channel.record(app)
    _edit_record(chan, "linux-64", app.file_name, lambda r: {**r, "depends": ["libcore <2", "pydata"]})
    result = _lock(chan, "--from", "spec.txt", "-p", "linux-64", run="explicit")
    assert result.returncode == 0, result.stderr
    assert "moved app 1.0 h2_0 -> 1.1 h2_0: its dependency `libcore <2` does not fit libcore 2.0 h1_0" in result.stdout
    _edit_record(chan, "linux-64", app.file_name, lambda r: {**r, "depends": original["depends"]})
    again = _lock(chan, "--from", "spec.txt", "-p", "linux-64", run="explicit-again")
    assert "linux-64: 4 of 4 conda pins kept" in again.stdout, again.stderr
