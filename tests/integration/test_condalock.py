"""Migrating from conda-lock: `lock --from`, `--conda-lock-file`, `install LOCKFILE`, and conda-lock's habits.

The channel offers an older and a newer build of most packages; the conda-lock files pin the
older ones, so a fresh solve would move them and only a kept pin stays put.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lockgen.lockfiles.condalock import parse_condalock
from tests.support.channel import ChannelBuilder, Package, Server, serve_directory
from tests.support.cli import invoke_lockgen, mirror_options
from tests.support.condalock import condalock_text, explicit_text, package_url

PLATFORMS = ("linux-64", "osx-64")
ENV = """\
name: migrate
channels:
  - testchan
dependencies:
  - app >=1.0
  - zlib
platforms:
  - linux-64
  - osx-64
"""


@dataclass
class World:
    root: Path
    channel: ChannelBuilder
    server: Server
    old: dict[str, list[Package]]
    """Per platform, what conda-lock pinned (every package at its older version)."""

    def lock(self, *args: str | Path, out: str = "locks") -> subprocess.CompletedProcess[str]:
        options = mirror_options(self.server.url, self.root / "cache")
        return invoke_lockgen("lock", *options, "-o", out, *args, cwd=self.root)

    def urls(self, platform: str, out: str = "locks") -> list[str]:
        lines = (self.root / out / f"{platform}.txt").read_text().splitlines()
        return sorted(line.split("#")[0] for line in lines if line and not line.startswith(("#", "@")))

    def find(self, name: str, version: str, subdir: str) -> Package:
        return next(
            p
            for p in self.channel.packages
            if (p.name, p.version) == (name, version) and p.subdir in (subdir, "noarch")
        )


def build_channel(root: Path) -> tuple[ChannelBuilder, dict[str, list[Package]]]:
    builder = ChannelBuilder(root / "testchan", subdirs=("noarch", *PLATFORMS))
    old: dict[str, list[Package]] = {p: [] for p in PLATFORMS}
    for subdir in PLATFORMS:
        old[subdir].append(builder.add("libcore", "2.0", build="h1_0", subdir=subdir))
        builder.add("libcore", "2.1", build="h1_0", subdir=subdir)
        old[subdir].append(builder.add("app", "1.0", build="h2_0", subdir=subdir, depends=["libcore >=2", "pydata"]))
        builder.add("app", "1.1", build="h2_0", subdir=subdir, depends=["libcore >=2", "pydata"], fmt=".conda")
        old[subdir].append(builder.add("zlib", "1.2.13", build="h0_0", subdir=subdir))
        builder.add("zlib", "1.3.1", build="h0_0", subdir=subdir)
        builder.add("devtool", "1.0", build="h0_0", subdir=subdir)
        builder.add("gpukit", "1.0", build="cuda_1", build_number=1, subdir=subdir, depends=["__cuda >=11"])
        builder.add("gpukit", "1.0", build="cpu_0", subdir=subdir)
    pydata = builder.add("pydata", "3.0", build="pyhd8ed1ab_0")
    builder.add("pydata", "3.1", build="pyhd8ed1ab_0")
    for subdir in PLATFORMS:
        old[subdir].append(pydata)
    builder.write()
    return builder, old


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    (tmp_path / "environment.yml").write_text(ENV)
    builder, old = build_channel(tmp_path / "mirror")
    with serve_directory(tmp_path / "mirror") as server:
        yield World(tmp_path, builder, server, old)


def _expected(world: World, platform: str) -> list[str]:
    return sorted(package_url("testchan", p) for p in world.old[platform])


def test_fresh_lock_would_move_every_pin(world: World) -> None:
    """The control: without --from the newest builds are chosen, so the tests below can fail."""
    result = world.lock()
    assert result.returncode == 0, result.stderr
    for platform in PLATFORMS:
        assert not set(world.urls(platform)) & set(_expected(world, platform))


def test_from_condalock_keeps_every_pin_of_an_unchanged_environment(world: World) -> None:
    devtool = {p: [world.find("devtool", "1.0", p)] for p in PLATFORMS}
    (world.root / "conda-lock.yml").write_text(condalock_text(world.channel, "testchan", world.old, optional=devtool))
    result = world.lock("--from", "conda-lock.yml")
    assert result.returncode == 0, result.stderr
    for platform in PLATFORMS:
        assert world.urls(platform) == _expected(world, platform)
        assert f"{platform}: 4 of 4 conda pins kept" in result.stdout
    assert "kept 8 of 8 pins (100%)" in result.stdout
    assert "devtool (dev)" in result.stdout  # optional pins are named, not silently ignored
    # the locks are now lockgen's own: the next run reuses them and keeps the pins
    again = world.lock()
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout


def test_from_moves_only_what_the_specs_force(world: World) -> None:
    (world.root / "conda-lock.yml").write_text(condalock_text(world.channel, "testchan", world.old))
    (world.root / "environment.yml").write_text(ENV.replace("app >=1.0", "app >=1.1"))
    result = world.lock("--from", "conda-lock.yml", "-p", "linux-64")
    assert result.returncode == 0, result.stderr
    urls = world.urls("linux-64")
    assert package_url("testchan", world.find("app", "1.1", "linux-64")) in urls
    for name, version in (("libcore", "2.0"), ("zlib", "1.2.13"), ("pydata", "3.0")):
        assert package_url("testchan", world.find(name, version, "linux-64")) in urls
    assert "linux-64: 3 of 4 conda pins kept (1 moved)" in result.stdout
    assert "moved app 1.0 h2_0 -> 1.1 h2_0: environment.yml:5 `app >=1.1` excludes it" in result.stdout
    assert "not locked this run: osx-64 (listed in `platforms:`, but -p chose others)" in result.stdout


def test_from_a_directory_of_rendered_explicit_locks(world: World) -> None:
    folder = world.root / "conda-lock-explicit"
    folder.mkdir()
    for platform in PLATFORMS:
        text = explicit_text(world.channel, "testchan", platform, world.old[platform])
        (folder / f"conda-{platform}.lock").write_text(text)
    (folder / "README.txt").write_text("not a lock\n")  # skipped: no @EXPLICIT
    result = world.lock("--from", folder)
    assert result.returncode == 0, result.stderr
    for platform in PLATFORMS:
        assert world.urls(platform) == _expected(world, platform)
    assert "kept 8 of 8 pins (100%)" in result.stdout


def test_from_hashless_explicit_file(world: World) -> None:
    """`conda list --explicit` output (no hashes, no platform line): its URLs are pins too."""
    body = "\n".join(package_url("testchan", p) for p in world.old["linux-64"])
    (world.root / "spec.txt").write_text(f"# This file may be used to create an environment\n@EXPLICIT\n{body}\n")
    result = world.lock("--from", "spec.txt", "-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert world.urls("linux-64") == _expected(world, "linux-64")


def test_from_rejects_a_file_that_is_not_a_lock(world: World) -> None:
    (world.root / "conda-lock.yml").write_text("version: 2\nmetadata: {}\npackage: []\n")
    result = world.lock("--from", "conda-lock.yml")
    assert result.returncode == 3, result.stderr
    assert "version 2 is not supported" in result.stderr
    assert not (world.root / "locks").exists()


def test_write_condalock_file_is_deterministic_and_round_trips(world: World) -> None:
    result = world.lock("--conda-lock-file", "conda-lock.yml")
    assert result.returncode == 0, result.stderr
    path = world.root / "conda-lock.yml"
    first = path.read_bytes()
    parsed = parse_condalock(first.decode())
    data = yaml.safe_load(first)
    assert data["version"] == 1
    assert data["metadata"]["platforms"] == list(PLATFORMS)
    assert data["metadata"]["channels"] == [{"url": "testchan", "used_env_vars": []}]
    assert data["metadata"]["sources"] == ["environment.yml"]
    keys = [(p["manager"], p["name"], p["platform"]) for p in data["package"]]
    assert keys == sorted(keys)
    for platform in PLATFORMS:
        urls = sorted(p.url for p in parsed.for_platform(platform, "conda"))
        assert urls == world.urls(platform)
        for entry in parsed.for_platform(platform, "conda"):
            package = next(p for p in world.channel.packages if entry.url == package_url("testchan", p))
            record = world.channel.record(package)
            assert (entry.md5, entry.sha256) == (record["md5"], record["sha256"])
    app = next(p for p in data["package"] if p["name"] == "app" and p["platform"] == "linux-64")
    assert app["dependencies"] == {"libcore": ">=2", "pydata": ""}
    assert app["category"] == "main" and app["optional"] is False
    # unchanged inputs: nothing is rewritten
    again = world.lock("--conda-lock-file", "conda-lock.yml")
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout
    assert path.read_bytes() == first
    # a fresh directory locked --from the written file keeps every pin
    back = world.lock("--from", "conda-lock.yml", out="locks2")
    assert back.returncode == 0, back.stderr
    assert "kept 8 of 8 pins (100%)" in back.stdout
    for platform in PLATFORMS:
        assert world.urls(platform, "locks2") == world.urls(platform)


def test_written_condalock_follows_a_changed_environment(world: World) -> None:
    assert world.lock("--conda-lock-file", "conda-lock.yml").returncode == 0
    (world.root / "environment.yml").write_text(ENV.replace("  - zlib\n", ""))
    result = world.lock("--conda-lock-file", "conda-lock.yml")
    assert result.returncode == 0, result.stderr
    parsed = parse_condalock((world.root / "conda-lock.yml").read_text())
    for platform in PLATFORMS:
        assert sorted(p.url for p in parsed.for_platform(platform, "conda")) == world.urls(platform)
        assert not any(p.name == "zlib" for p in parsed.for_platform(platform, "conda"))


def test_lockfile_alias_and_tool_setting(world: World) -> None:
    result = world.lock("--lockfile", "alias.yml")
    assert result.returncode == 0, result.stderr
    assert parse_condalock((world.root / "alias.yml").read_text()).platforms == PLATFORMS
    (world.root / "pyproject.toml").write_text('[tool.lockgen]\nconda-lock-file = "from-tool.yml"\n')
    result = world.lock()
    assert result.returncode == 0, result.stderr
    assert parse_condalock((world.root / "from-tool.yml").read_text()).platforms == PLATFORMS
    (world.root / "pyproject.toml").write_text('[tool.lockgen]\nconda-lock-file = "../escape.yml"\n')
    result = world.lock()
    assert result.returncode == 2
    assert "relative path inside the project" in result.stderr


def test_refuses_to_overwrite_a_file_that_is_not_a_conda_lock_file(world: World) -> None:
    (world.root / "notes.yml").write_text("important: true\n")
    result = world.lock("--conda-lock-file", "notes.yml")
    assert result.returncode == 10, result.stderr
    assert "refusing to overwrite" in result.stderr
    assert (world.root / "notes.yml").read_text() == "important: true\n"
    assert not (world.root / "locks").exists()  # all or nothing


def test_condalock_file_in_the_output_directory_is_in_the_same_commit(world: World) -> None:
    result = world.lock("--conda-lock-file", "locks/conda-lock.yml")
    assert result.returncode == 0, result.stderr
    assert "conda-lock.yml" in result.stdout.splitlines()[-1]  # listed among the files of the one commit
    assert parse_condalock((world.root / "locks" / "conda-lock.yml").read_text()).platforms == PLATFORMS


def test_kind_explicit_is_a_no_op_with_a_note(world: World) -> None:
    result = world.lock("--kind", "explicit", "-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert "--kind explicit is what lockgen always writes" in result.stderr
    assert (world.root / "locks" / "linux-64.txt").is_file()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--kind", "lock"), "--conda-lock-file conda-lock.yml"),
        (("-k", "env"), "does not render environment files"),
        (("--micromamba",), "needs no conda, mamba or micromamba"),
        (("--mamba",), "needs no conda, mamba or micromamba"),
        (("--no-mamba",), "needs no conda, mamba or micromamba"),
        (("--conda", "/opt/conda/bin/conda"), "needs no conda"),
        (("--with-cuda", "12.0"), "use --cuda VERSION"),
        (("--virtual-package-spec", "vp.yml"), "--virtual-package PLATFORM:NAME=VERSION"),
        (("--check-input-hash",), "lockgen check"),
        (("--dev-dependencies",), "-f environment.yml -f dev.yml"),
        (("-c", "conda-forge"), "--mirror"),
        (("--pypi_to_conda_lookup_file", "m.yml"), "--pypi-mapping"),
    ],
)
def test_unsupported_conda_lock_habits_name_our_equivalent(world: World, args: tuple[str, ...], says: str) -> None:
    result = world.lock(*args)
    assert result.returncode == 2, result.stderr
    assert "is a conda-lock option" in result.stderr or "conda-lock's kinds" in result.stderr
    assert says in result.stderr
    assert not (world.root / "locks").exists()


def test_a_cuda_pin_moves_without_cuda_and_says_why(world: World) -> None:
    """conda-lock assumes __cuda 11.4 on linux and windows; lockgen does not unless asked."""
    (world.root / "environment.yml").write_text(ENV.replace("  - zlib\n", "  - zlib\n  - gpukit\n"))
    picks = {"linux-64": [*world.old["linux-64"], world.find("gpukit", "1.0", "linux-64")]}
    assert picks["linux-64"][-1].build == "cuda_1"
    (world.root / "conda-lock.yml").write_text(condalock_text(world.channel, "testchan", picks))
    result = world.lock("--from", "conda-lock.yml", "-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert "moved gpukit 1.0 cuda_1 -> 1.0 cpu_0: it needs __cuda, which lockgen does not assume" in result.stdout
    assert "--cuda VERSION" in result.stdout
    with_cuda = world.lock("--from", "conda-lock.yml", "-p", "linux-64", "--cuda", "12.0", out="cuda")
    assert with_cuda.returncode == 0, with_cuda.stderr
    assert "kept 5 of 5 pins (100%)" in with_cuda.stdout


def _docs_migration_command() -> list[str]:
    """The migration command of docs/from-conda-lock.md ("What the first pull request looks like"), verbatim."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "from-conda-lock.md"
    lines = [line.strip() for line in docs.read_text().splitlines()]
    command = next(line for line in lines if line.startswith("lockgen lock --from") and "--conda-lock-file" in line)
    words = command.split("#", 1)[0].split()
    assert words[:2] == ["lockgen", "lock"]
    return words[2:]


def test_the_docs_migration_command_replaces_condalocks_file(world: World) -> None:
    """`lockgen lock --from conda-lock.yml --conda-lock-file conda-lock.yml`: the file named by --from is the
    user's input; replacing it with lockgen's own is the point (it was refused after solving, exit 10)."""
    args = _docs_migration_command()
    assert args == ["--from", "conda-lock.yml", "--conda-lock-file", "conda-lock.yml"]
    (world.root / "conda-lock.yml").write_text(condalock_text(world.channel, "testchan", world.old))
    result = world.lock(*args)
    assert result.returncode == 0, result.stderr
    assert "kept 8 of 8 pins (100%)" in result.stdout
    written = (world.root / "conda-lock.yml").read_text()
    assert written.startswith("# Generated by lockgen")
    parsed = parse_condalock(written)
    for platform in PLATFORMS:
        assert sorted(p.url for p in parsed.for_platform(platform, "conda")) == _expected(world, platform)
    lines = result.stdout.splitlines()
    # the summary names where each file went: the locks in locks/, conda-lock.yml beside environment.yml
    assert "wrote linux-64.txt, osx-64.txt in locks" in lines
    assert "wrote conda-lock.yml" in lines
    # from now on the file is lockgen's: plain `--conda-lock-file` keeps it
    again = world.lock("--conda-lock-file", "conda-lock.yml")
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout


def test_a_condalock_file_that_is_not_the_from_file_is_refused_before_solving(world: World) -> None:
    original = condalock_text(world.channel, "testchan", world.old)
    (world.root / "conda-lock.yml").write_text(original)
    result = world.lock("--conda-lock-file", "conda-lock.yml")
    assert result.returncode == 10, result.stderr
    assert "lockgen lock --from conda-lock.yml --conda-lock-file conda-lock.yml" in result.stderr
    assert "-o" not in result.stderr  # -o does not move the conda-lock file: no such hint
    assert not any("repodata" in r for r in world.server.requests)  # decided before fetching or solving
    assert (world.root / "conda-lock.yml").read_text() == original
    assert not (world.root / "locks").exists()
