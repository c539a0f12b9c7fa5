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
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_pip_local_index import (
    SETUPTOOLS,
    WHEEL,
    World,
    pins,
    served_world,
)
from tests.support.projects import build_tool_files, legacy_sdist_bytes


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[World]:
    with served_world(tmp_path) as served:
        yield served


OLD_PYTHON_ONLY = (
    "import sys\nif sys.version_info >= (3, 10):\n"
    '    raise RuntimeError("oldpin\'s setup.py supports Python 3.6 to 3.9 only")\n'
)


def _offer(world: World, setuptools: str, name: str, *, uses_wheel: bool, prelude: str = "") -> str:
    """The stand-in build tools and one legacy sdist on the index; returns the sdist's sha256."""
    world.index.add("setuptools", setuptools, files=build_tool_files("setuptools"))
    world.index.add("wheel", WHEEL, files=build_tool_files("wheel"))
    world.conda.write()
    data = legacy_sdist_bytes(name, "1.0", ["colorama"], uses_wheel=uses_wheel, prelude=prelude)
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


def test_a_failed_build_names_the_interpreter_and_the_cause(legacy: World) -> None:
    """An old pin for a Python 3.8 environment whose setup.py cannot run on the interpreter lockgen
    builds metadata with (no python3.8 on PATH): the message says which Python built it, that it
    is not the target's, and the error the build printed."""
    path = "/usr/bin:/bin"
    if shutil.which("python3.8", path=path):
        pytest.skip("python3.8 is on PATH: the metadata would be built with the target's Python")
    legacy.conda.add("python", "3.8.18", build="h1_cpython", subdir="linux-64")
    _offer(legacy, SETUPTOOLS, "oldpin", uses_wheel=False, prelude=OLD_PYTHON_ONLY)
    legacy.write_env(["oldpin==1.0"], ("python=3.8", "pip"))
    result = legacy.lock("-p", "linux-64", env={"PATH": f"{Path(sys.executable).parent}:{path}"})
    assert result.returncode == 7, result.stderr
    host = ".".join(str(p) for p in sys.version_info[:3])
    assert "oldpin==1.0: building its sdist for metadata failed on this machine with" in result.stderr
    assert f"Python {host} ({sys.executable}), not the target's 3.8.18: no python3.8 on PATH" in result.stderr
    assert "RuntimeError: oldpin's setup.py supports Python 3.6 to 3.9 only" in result.stderr


def test_a_newer_sdist_only_release_that_cannot_be_built_keeps_the_wheel(legacy: World) -> None:
    """pip would pick oldpin 2.0 (sdist only) over 1.0 (a wheel); when its metadata cannot be built
    here, the lock keeps 1.0 and says why instead of failing."""
    wheel = legacy.index.add("oldpin", "1.0")
    legacy.index.add("setuptools", SETUPTOOLS, files=build_tool_files("setuptools"))
    legacy.index.add("wheel", WHEEL, files=build_tool_files("wheel"))
    legacy.index.add_sdist("oldpin", "2.0", legacy_sdist_bytes("oldpin", "2.0", prelude=OLD_PYTHON_ONLY))
    legacy.index.write()
    legacy.write_env(["oldpin"], ("python=3.11", "pip"))
    result = legacy.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    locked = [(n, v, h) for n, v, _, h in pins(legacy.requirements())]
    assert locked == [("oldpin", "1.0", [legacy.index.sha256(wheel)])]
    warning = next(line for line in result.stderr.splitlines() if "oldpin 2.0 has only an sdist" in line)
    assert "could not be locked (oldpin==2.0: building its sdist for metadata failed" in warning
    assert "kept 1.0, which has wheels" in warning
