"""Legacy sdists (a setup.py that imports setuptools, or wheel, without declaring it) lock in an
environment whose conda side provides pip, setuptools and wheel, as real ones do.

uv builds an sdist's metadata in an isolated environment whose build requirements come from the
same indexes and find-links as the main resolution: without lockgen's build constraints it would
install the metadata-only stub `setuptools-75.1.0+conda` (which outranks 75.1.0 on the index) and
the build would fail with "No module named 'setuptools'". Offline: the conda channel and index of
test_pip_local_index, plus stand-in setuptools and wheel wheels and legacy sdists
(tests.support.projects).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_pip_local_index import MAPPING, SETUPTOOLS, WHEEL, World, build_conda, build_index, pins
from tests.support.channel import serve_directory
from tests.support.projects import build_tool_files, legacy_sdist_bytes
from tests.support.pypi_index import serve_index


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[World]:
    conda = build_conda(tmp_path / "channels")
    index = build_index(tmp_path / "index")
    (tmp_path / "mapping").mkdir()
    (tmp_path / "mapping" / "testchan.json").write_text(json.dumps(MAPPING))
    with (
        serve_directory(tmp_path / "channels") as channel_server,
        serve_index(tmp_path / "index") as index_server,
        serve_directory(tmp_path / "mapping") as mapping_server,
    ):
        yield World(tmp_path, index, conda, channel_server, index_server, mapping_server)


def _offer(world: World, setuptools: str, name: str, *, uses_wheel: bool) -> str:
    """The stand-in build tools and one legacy sdist on the index; returns the sdist's sha256."""
    world.index.add("setuptools", setuptools, files=build_tool_files("setuptools"))
    world.index.add("wheel", WHEEL, files=build_tool_files("wheel"))
    data = legacy_sdist_bytes(name, "1.0", ["colorama"], uses_wheel=uses_wheel)
    world.index.add_sdist(name, "1.0", data)
    world.index.write()
    return hashlib.sha256(data).hexdigest()


def _check_locked(world: World, name: str, digest: str) -> None:
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    linux = (world.root / "locks" / "linux-64.txt").read_text()
    assert f"/setuptools-{SETUPTOOLS}-" in linux and f"/wheel-{WHEEL}-" in linux and "/pip-24.2-" in linux
    found = {n: (v, hashes) for n, v, _, hashes in pins(world.requirements())}
    assert found[name] == ("1.0", [digest])
    assert "colorama" in found  # known only from running its setup.py
    assert "setuptools" not in found and "wheel" not in found  # conda's, not pip's
    assert f"`{name}` locked from sdist" in result.stderr


def test_setup_py_importing_setuptools_builds_with_the_index_setuptools(legacy: World) -> None:
    digest = _offer(legacy, SETUPTOOLS, "oldsetup", uses_wheel=False)
    legacy.write_env(["oldsetup"], ("python=3.11", "pip"))
    _check_locked(legacy, "oldsetup", digest)


def test_setup_py_importing_wheel_builds_with_the_index_wheel(legacy: World) -> None:
    """The `wheel` stub alone (setuptools on the index is newer than conda's): `bdist_wheel` missing."""
    digest = _offer(legacy, "75.2.0", "oldwheel", uses_wheel=True)
    legacy.write_env(["oldwheel"], ("python=3.11", "pip"))
    _check_locked(legacy, "oldwheel", digest)
