"""`lockgen lock` with a pip: section, offline: a conda channel and a PyPI-like index built by the tests.

The conda side provides python 3.11.9 and numpy 1.26.4 (and py-appc, which the mapping names
`appc`), and, as real environments do, pip 24.2 with its dependencies setuptools 75.1.0 and wheel
0.44.0 (pip is added for the pip section); the index offers wheels that depend on them,
per-platform wheels, and a numpy wheel that must never be chosen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from lockgen.lockfiles.requirements import logical_lines
from tests.support.channel import ChannelBuilder, Server, serve_directory
from tests.support.cli import invoke_lockgen, mapping_env, mirror_options
from tests.support.projects import make_project
from tests.support.pypi_index import SimpleIndex, serve_index

PLATFORMS = ("linux-64", "osx-64", "win-64")
ENVIRONMENTS = {
    "linux-64": {"sys_platform": "linux", "platform_machine": "x86_64"},
    "osx-64": {"sys_platform": "darwin", "platform_machine": "x86_64"},
    "win-64": {"sys_platform": "win32", "platform_machine": "AMD64"},
}
TAGS = {
    "linux-64": "cp311-cp311-manylinux_2_17_x86_64",
    "osx-64": "cp311-cp311-macosx_10_9_x86_64",
    "win-64": "cp311-cp311-win_amd64",
}


SETUPTOOLS, WHEEL = "75.1.0", "0.44.0"
"""conda's setuptools and wheel: the stub wheels `75.1.0+conda` and `0.44.0+conda` outrank these
versions on an index (a local version sorts above its public one), as happens whenever conda has
the newest release."""
MAPPING = {
    "python": None, "numpy": ["numpy"], "py-appc": ["appc"],
    "pip": ["pip"], "setuptools": ["setuptools"], "wheel": ["wheel"],
}  # fmt: skip


def build_conda(root: Path, numpy: str = "1.26.4") -> ChannelBuilder:
    builder = ChannelBuilder(root / "testchan", subdirs=("noarch", *PLATFORMS))
    for subdir in PLATFORMS:
        builder.add("python", "3.11.9", build="h0_cpython", subdir=subdir)
        builder.add("numpy", numpy, build="py311h0_0", subdir=subdir, depends=["python >=3.11,<3.12"])
    builder.add("py-appc", "2.0", build="pyhd8ed1ab_0", noarch="python", depends=["python"])
    # as on conda-forge: pip pulls in setuptools and wheel, so almost every real environment has them
    builder.add("setuptools", SETUPTOOLS, build="pyhd8ed1ab_0", noarch="python", depends=["python >=3.8"])
    builder.add("wheel", WHEEL, build="pyhd8ed1ab_0", noarch="python", depends=["python >=3.8"])
    builder.add("pip", "24.2", build="pyh8b19718_1", noarch="python", depends=["python >=3.8", "setuptools", "wheel"])
    builder.write()
    return builder


def build_index(root: Path) -> SimpleIndex:
    index = SimpleIndex(root)
    index.add("appa", "1.0", requires=["numpy>=1.20"])
    index.add("numpy", "2.0.0")
    index.add("numpy", "1.26.4")
    index.add("appb", "1.0", requires=["numpy>=1.0"])
    index.add("appb", "2.0", requires=["numpy>=2.0"])
    index.add("appc", "1.0")
    index.add("appd", "1.0", requires=["appc>=3"])
    for platform, tag in TAGS.items():
        index.add("native", "1.0", tag=tag, payload=platform.encode())
        if platform != "osx-64":
            index.add("native", "1.1", tag=tag, payload=platform.encode())
    index.add("linuxonly", "1.0", tag=TAGS["linux-64"])
    index.add("colorama", "0.4.6")
    index.add("helper", "1.0", upload_time="2024-01-01T00:00:00Z")
    index.add("helper", "2.0", upload_time="2026-10-01T00:00:00Z")
    index.add("oldy", "1.0", yanked="broken upload")
    index.add("oldy", "0.9")
    index.write()
    return index


@dataclass
class World:
    root: Path
    index: SimpleIndex
    conda: ChannelBuilder
    channel_server: Server
    index_server: Server
    mapping_server: Server

    @property
    def index_url(self) -> str:
        return self.index_server.url + "/simple"

    def write_env(
        self, pip_lines: list[str], conda_lines: tuple[str, ...] = ("python=3.11", "numpy", "py-appc")
    ) -> Path:
        lines = ["name: piptest", "channels:", "  - testchan", "dependencies:"]
        lines += [f"  - {c}" for c in conda_lines]
        lines += ["  - pip:", f"    - --index-url {self.index_url}"]
        lines += [f"    - {p}" for p in pip_lines]
        path = self.root / "environment.yml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def lock(self, *args: str, out: str = "locks", env: dict[str, str] | None = None) -> CompletedProcess[str]:
        options = mirror_options(self.channel_server.url, self.root / "cache")
        environment = {**mapping_env(self.mapping_server.url), **(env or {})}
        return invoke_lockgen("lock", *options, "-o", out, *args, cwd=self.root, env=environment)

    def check(self, *args: str) -> CompletedProcess[str]:
        options = mirror_options(self.channel_server.url, self.root / "cache")
        return invoke_lockgen("check", *options, *args, cwd=self.root)

    def requirements(self, out: str = "locks") -> str:
        return (self.root / out / "requirements.txt").read_text()


@contextmanager
def served_world(root: Path) -> Iterator[World]:
    """The conda channel, the index and the mapping built under ``root`` and served on 127.0.0.1."""
    conda = build_conda(root / "channels")
    index = build_index(root / "index")
    mapping_dir = root / "mapping"
    mapping_dir.mkdir()
    (mapping_dir / "testchan.json").write_text(json.dumps(MAPPING))
    with (
        serve_directory(root / "channels") as channel_server,
        serve_index(root / "index") as index_server,
        serve_directory(mapping_dir) as mapping_server,
    ):
        yield World(root, index, conda, channel_server, index_server, mapping_server)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with served_world(tmp_path) as served:
        yield served


def pins(text: str) -> list[tuple[str, str, str | None, list[str]]]:
    """(name, version, marker, hashes) of every requirement line."""
    found = []
    for _, line in logical_lines(text):
        if line.startswith("-"):
            continue
        hashes = [t.split(":", 1)[1] for t in line.split() if t.startswith("--hash=")]
        requirement = Requirement(" ".join(t for t in line.split() if not t.startswith("--hash=")))
        version = next(iter(requirement.specifier)).version
        found.append((requirement.name, version, str(requirement.marker) if requirement.marker else None, hashes))
    return found


def pins_for(text: str, platform: str) -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) of the lines whose marker is true on ``platform``; one each."""
    selected: dict[str, tuple[str, list[str]]] = {}
    for name, version, marker, hashes in pins(text):
        if marker is None or Marker(marker).evaluate({**ENVIRONMENTS[platform], "python_version": "3.11"}):
            assert name not in selected, f"two pins of {name} apply to {platform}"
            selected[name] = (version, hashes)
    return selected


def test_conda_packages_are_excluded_and_hashes_match(world: World) -> None:
    world.write_env(["appa", "appc"])
    result = world.lock()
    assert result.returncode == 0, result.stderr
    text = world.requirements()
    names = {name for name, *_ in pins(text)}
    assert names == {"appa"}, text  # numpy and appc are conda's (appc through the mapping's py-appc)
    for line in text.splitlines():
        assert not line.startswith(("numpy", "appc")), line
    wheel = next(w for w in world.index.wheels if w.name == "appa")
    assert pins(text) == [("appa", "1.0", None, [world.index.sha256(wheel)])]
    assert "# conda→PyPI names: digest " in text  # by content, not by source


def test_a_yanked_pin_and_an_unknown_extra_are_said_once_with_their_line(world: World) -> None:
    """Locked as pip installs them (a yanked version pinned with `==`; the extra ignored), but never
    silently: uv says both only when not --quiet, so lockgen shows them, once for all platforms."""
    world.write_env(["oldy==1.0", "appa[nosuch]"])
    result = world.lock("-p", "linux-64", "-p", "win-64")
    assert result.returncode == 0, result.stderr
    assert [(n, v) for n, v, *_ in pins(world.requirements())] == [("appa", "1.0"), ("oldy", "1.0")]
    yanked = "warning: environment.yml:10: oldy 1.0 is yanked on the index (reason: broken upload); the lock pins"
    extra = "warning: environment.yml:11: appa 1.0 has no extra `nosuch`: nothing is locked for it"
    assert result.stderr.count(yanked) == 1, result.stderr
    assert result.stderr.count(extra) == 1, result.stderr
    world.write_env(["oldy", "appa"])  # the earlier pin is kept (until --update), and still said
    result = world.lock("-p", "linux-64", "-p", "win-64")
    assert result.returncode == 0, result.stderr
    assert [(n, v) for n, v, *_ in pins(world.requirements())] == [("appa", "1.0"), ("oldy", "1.0")]
    assert "oldy 1.0 is yanked on the index" in result.stderr and "`--update oldy`" in result.stderr
    result = world.lock("-p", "linux-64", "-p", "win-64", out="fresh")
    assert result.returncode == 0, result.stderr
    assert [(n, v) for n, v, *_ in pins(world.requirements("fresh"))] == [("appa", "1.0"), ("oldy", "0.9")]
    assert "yanked" not in result.stderr and "extra" not in result.stderr, result.stderr


def test_version_conflict_with_conda_is_explained(world: World) -> None:
    world.write_env(["appb>=2"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 7, result.stderr
    assert "appb>=2.0 needs numpy>=2.0; conda provides numpy 1.26.4 on linux-64" in result.stderr
    assert "hint: add `numpy>=2.0` to the conda dependencies" in result.stderr
    assert "(pip requirement at environment.yml:10)" in result.stderr
    assert not (world.root / "locks" / "requirements.txt").exists()
    assert not (world.root / "locks" / "linux-64.txt").exists()  # all or nothing


def test_a_local_project_built_for_its_metadata_gets_no_no_wheel_warning(world: World) -> None:
    """A local project is always built (its metadata has no other source): uv's wheels-only run says
    its build is disabled, the next run builds it, and nothing tells to "pin a version that has a
    wheel" (which a warm uv cache never said either)."""
    make_project(world.root / "proj", "proj", "0.1", ["appa"], dynamic=True)
    world.write_env(["-e ./proj"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert [(n, v) for n, v, *_ in pins(world.requirements())] == [("appa", "1.0")]
    assert "locked from sdist" not in result.stderr, result.stderr


def test_a_version_the_index_does_not_have_is_named_with_its_line(world: World) -> None:
    world.write_env(["appa==9.0"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 7, result.stderr
    assert (
        "- appa==9.0: no version on the index matches; pin a version it has (`pip index versions appa` lists"
        " them) (pip requirement at environment.yml:10)"
    ) in result.stderr
    world.write_env(["appb>=3"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 7, result.stderr
    assert "- appb>=3: no version on the index matches (the index has appb<=2.0); pin a version" in result.stderr


def test_resolver_backtracks_to_a_version_that_fits_conda(world: World) -> None:
    world.write_env(["appb"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert [(n, v) for n, v, *_ in pins(world.requirements())] == [("appb", "1.0")]


def test_pip_requirement_that_conda_contradicts(world: World) -> None:
    world.write_env(["appd"])  # appd needs appc>=3; conda's py-appc is 2.0
    result = world.lock("-p", "osx-64")
    assert result.returncode == 7
    assert "needs appc>=3; conda provides appc 2.0 (as py-appc) on osx-64" in result.stderr, result.stderr


def test_per_platform_wheels_get_markers_and_their_hashes(world: World) -> None:
    world.write_env(["native", "appa"])
    result = world.lock()
    assert result.returncode == 0, result.stderr
    text = world.requirements()
    for platform in PLATFORMS:
        chosen = pins_for(text, platform)
        assert set(chosen) == {"native", "appa"}
        version, hashes = chosen["native"]
        assert version == ("1.0" if platform == "osx-64" else "1.1")
        files = [w for w in world.index.wheels if w.name == "native" and w.version == version]
        assert set(hashes) == {world.index.sha256(w) for w in files}
    markers = {(name, version): marker for name, version, marker, _ in pins(text)}
    assert markers[("native", "1.0")] == 'sys_platform == "darwin"'
    assert markers[("native", "1.1")] == 'sys_platform == "linux" or sys_platform == "win32"'
    assert markers[("appa", "1.0")] is None
    # the summary says so: counts per platform and the divergent pin
    assert "pip: 2 packages on each of linux-64, osx-64, win-64" in result.stdout
    assert "    native: 1.1 on linux-64, win-64; 1.0 on osx-64 (osx-64 is resolved for macOS" in result.stdout


def test_requirements_file_include_and_markers(world: World) -> None:
    (world.root / "reqs").mkdir()
    (world.root / "reqs" / "more.txt").write_text("# helpers\nhelper<2  # pinned low\n")
    world.write_env(["-r reqs/more.txt", 'colorama ; sys_platform == "win32"'])
    result = world.lock()
    assert result.returncode == 0, result.stderr
    found = {(name, version, marker) for name, version, marker, _ in pins(world.requirements())}
    assert found == {("helper", "1.0", None), ("colorama", "0.4.6", 'sys_platform == "win32"')}


def test_missing_wheel_names_package_and_platform(world: World) -> None:
    world.write_env(["linuxonly"])
    result = world.lock()
    assert result.returncode == 7
    assert "linuxonly" in result.stderr
    assert "no wheel for osx-64" in result.stderr and "no wheel for win-64" in result.stderr


def test_second_run_is_a_no_op_without_uv(world: World) -> None:
    world.write_env(["appa", "native"])
    assert world.lock().returncode == 0
    first = world.requirements()
    seen = len(world.index_server.requests)
    again = world.lock()
    assert again.returncode == 0, again.stderr
    assert world.requirements() == first
    assert len(world.index_server.requests) == seen  # the index was not asked again
    assert "nothing changed" in again.stdout


def test_fresh_run_is_byte_identical(world: World) -> None:
    world.write_env(["appa", "native", 'colorama ; sys_platform == "win32"'])
    assert world.lock(out="one").returncode == 0
    assert world.lock(out="two").returncode == 0
    assert world.requirements("one") == world.requirements("two")
    assert "\r" not in world.requirements("one")


def test_earlier_pins_are_kept_until_updated(world: World) -> None:
    world.write_env(["helper"])
    assert world.lock("-p", "linux-64").returncode == 0
    assert pins(world.requirements())[0][:2] == ("helper", "2.0")
    world.write_env(["helper<2"])
    assert world.lock("-p", "linux-64").returncode == 0
    assert pins(world.requirements())[0][:2] == ("helper", "1.0")
    world.write_env(["helper", "appa"])  # input changes: uv runs again, with the old pins preferred
    assert world.lock("-p", "linux-64").returncode == 0
    assert ("helper", "1.0") in [p[:2] for p in pins(world.requirements())]  # kept
    assert world.lock("-p", "linux-64", "--update", "helper").returncode == 0
    assert ("helper", "2.0") in [p[:2] for p in pins(world.requirements())]


def test_update_all_drops_earlier_pins(world: World) -> None:
    world.write_env(["helper<2"])
    assert world.lock("-p", "linux-64").returncode == 0
    world.write_env(["helper"])
    assert world.lock("-p", "linux-64", "--update-all").returncode == 0
    assert pins(world.requirements())[0][:2] == ("helper", "2.0")


def test_editable_line_that_is_no_project_is_refused_with_its_line(world: World) -> None:
    world.write_env(["appa", "-e ."])  # the tmp dir holds no pyproject.toml / setup.py
    result = world.lock("-p", "linux-64")
    assert result.returncode == 3, result.stderr
    assert "environment.yml:11: `-e .`" in result.stderr and "has no pyproject.toml" in result.stderr


def test_package_in_conda_and_pip_warns(world: World) -> None:
    world.write_env(["numpy", "appa"])
    result = world.lock("-p", "win-64")
    assert result.returncode == 0, result.stderr
    assert "numpy is listed under pip: and as conda dependency `numpy`" in result.stderr
    assert [n for n, *_ in pins(world.requirements())] == ["appa"]
    assert world.lock("-p", "win-64", "--strict", out="strict").returncode == 3


def test_a_package_in_conda_and_pip_is_said_once_when_conda_versions_differ(world: World) -> None:
    world.conda.add("numpy", "1.26.5", build="py311h0_0", subdir="osx-64", depends=["python >=3.11,<3.12"])
    world.conda.write()
    world.write_env(["numpy", "appa"])
    result = world.lock()
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "numpy is listed under pip:" in line]
    assert warnings == [
        "warning: environment.yml:10: numpy is listed under pip: and as conda dependency `numpy` (environment.yml:6);"
        " conda's numpy (1.26.4 on linux-64, win-64; 1.26.5 on osx-64) is kept and pip does not install it"
    ], result.stderr


def test_index_credentials_are_used_but_never_written(world: World) -> None:
    port_url = world.index_url.replace("http://", "http://alice:s3cretpass@")
    env = world.write_env(["appa"])
    env.write_text(env.read_text().replace(world.index_url, port_url))
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    text = world.requirements()
    assert "s3cretpass" not in text and "alice" not in text
    assert f"--index-url {world.index_url}" in text
    assert "s3cretpass" not in result.stderr + result.stdout


def test_a_pip_section_alone_gets_pip_and_with_it_python(world: World) -> None:
    """No conda dependency at all: pip is added (as conda-lock does), and pip brings python."""
    world.write_env(["helper<2"], conda_lines=())
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert "environment.yml:6: note: the pip: section is installed with pip" in result.stderr
    linux = (world.root / "locks" / "linux-64.txt").read_text()
    assert '# specs: ["pip"]' in linux and "/python-3.11.9-" in linux and "/pip-24.2-" in linux
    assert [p[:2] for p in pins(world.requirements())] == [("helper", "1.0")]


def test_conda_python_is_required(world: World) -> None:
    """A channel whose pip does not bring python (and no python listed): the pip lock cannot be made."""
    world.conda.add("pip", "25.0", build="nopython_0", noarch="generic")
    world.conda.write()
    world.write_env(["appa"], conda_lines=("pip=25.0",))
    result = world.lock("-p", "linux-64")
    assert result.returncode == 7
    assert "linux-64: the pip section needs Python" in result.stderr


def test_no_pip_section_no_file_and_stale_one_removed(world: World) -> None:
    world.write_env(["appa"])
    assert world.lock("-p", "linux-64").returncode == 0
    assert (world.root / "locks" / "requirements.txt").is_file()
    (world.root / "environment.yml").write_text(
        "name: piptest\nchannels:\n  - testchan\ndependencies:\n  - python=3.11\n"
    )
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert not (world.root / "locks" / "requirements.txt").exists()


def test_direct_url_with_hash(world: World) -> None:
    wheel = next(w for w in world.index.wheels if w.name == "colorama")
    digest = world.index.sha256(wheel)
    url = f"{world.index_server.url}/files/{wheel.file_name}#sha256={digest}"
    world.write_env([f"colorama @ {url}"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    lines = [line for _, line in logical_lines(world.requirements()) if line.startswith("colorama")]
    assert len(lines) == 1
    assert lines[0].startswith(f"colorama @ {world.index_server.url}/files/{wheel.file_name}")
    assert f"--hash=sha256:{digest}" in lines[0]
    assert hashlib.sha256(world.index.path_of(wheel).read_bytes()).hexdigest() == digest
    checked = world.check("-p", "linux-64")
    assert checked.returncode == 0, checked.stdout + checked.stderr  # the URL pin is the one the section names


def test_a_bare_wheel_url_is_locked_and_then_checked_up_to_date(world: World) -> None:
    """pip's `https://host/name-1.0-py3-none-any.whl` line (no `name @`): check read no name from it and
    found its pin's `# via pip: section` unlisted, right after lock wrote it."""
    wheel = next(w for w in world.index.wheels if w.name == "colorama")
    world.write_env([f"{world.index_server.url}/files/{wheel.file_name}"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert world.requirements().count(f"colorama @ {world.index_server.url}/files/{wheel.file_name}") == 1
    checked = world.check("-p", "linux-64")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_without_a_mapping_the_fallback_is_used_and_said(world: World) -> None:
    (world.root / "mapping" / "testchan.json").unlink()  # the mapping server now answers 404
    world.write_env(["appa"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert "used lockgen's built-in table of common renames" in result.stderr
    text = world.requirements()
    assert "# conda→PyPI names: digest " in text
    assert [n for n, *_ in pins(text)] == ["appa"]  # numpy is still conda's


def test_mapping_is_cached_between_runs(world: World) -> None:
    world.write_env(["appa"])
    assert world.lock("-p", "linux-64").returncode == 0
    assert world.lock("-p", "linux-64", "--update-all").returncode == 0
    assert world.mapping_server.requests == ["/testchan.json"]
    assert (world.root / "cache" / "pypi-mapping" / "testchan.json").is_file()


def test_find_links_directory_relative_to_the_env_file(world: World) -> None:
    local = SimpleIndex(world.root / "wheelhouse")
    wheel = local.add("localonly", "1.0")
    local.write()
    world.write_env(["-f wheelhouse/files", "localonly"])
    result = world.lock("-p", "win-64")
    assert result.returncode == 0, result.stderr
    assert pins(world.requirements()) == [("localonly", "1.0", None, [local.sha256(wheel)])]


def test_unreachable_index_is_a_network_error(world: World) -> None:
    env = world.write_env(["appa"])
    env.write_text(env.read_text().replace(world.index_url, "http://127.0.0.1:9/simple"))
    result = invoke_lockgen(
        "lock",
        "-p",
        "linux-64",
        *mirror_options(world.channel_server.url, world.root / "cache"),
        cwd=world.root,
        env={**mapping_env(world.mapping_server.url), "UV_HTTP_RETRIES": "0"},
    )
    assert result.returncode == 5, result.stderr
    assert "linux-64: a Python package index could not be reached" in result.stderr


def test_exclude_newer_applies_to_the_index(world: World) -> None:
    world.write_env(["helper"])
    result = world.lock("-p", "linux-64", "--exclude-newer", "2026-09-01")
    assert result.returncode == 0, result.stderr
    assert [p[:2] for p in pins(world.requirements())] == [("helper", "1.0")]  # 2.0 was uploaded later
    assert world.lock("-p", "linux-64", out="later").returncode == 0
    assert [p[:2] for p in pins(world.requirements("later"))] == [("helper", "2.0")]


def test_relocking_one_platform_keeps_the_others_in_requirements(world: World) -> None:
    world.write_env(["native", "appa"])
    result = world.lock()
    assert result.returncode == 0, result.stderr
    before = world.requirements()
    assert 'native==1.0 ; sys_platform == "darwin"' in before
    result = world.lock("-p", "linux-64", "--update-all")
    assert result.returncode == 0, result.stderr
    after = world.requirements()
    assert "# platforms: linux-64, osx-64, win-64" in after
    assert after == before
    check = invoke_lockgen("check", "-p", "linux-64", cwd=world.root)
    assert check.returncode == 0, check.stderr + check.stdout
