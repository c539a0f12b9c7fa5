"""lockgen on each supported Python other than the one running the suite, when the machine has it.

pyproject.toml promises ``requires-python >=3.10``; the suite itself runs on one interpreter. For each
other minor version of 3.10-3.13 this module finds an interpreter already on the machine (uv's
``python find``, downloads off; a version manager's own install folders too, e.g. pyenv's), makes a
throwaway virtualenv with uv, installs the wheel of this working tree into it as a user gets it (its
declared dependencies only: an import lockgen does not declare fails here), plus pytest, and runs there:
``lockgen --version``, ``lockgen lock --help``, a real ``lock`` reading a pyproject.toml and an
environment.yml on a channel built in tmp (its locks must equal the running Python's byte for byte),
``check``, and the record-class tests (tests/unit/test_records*.py) against the installed lockgen.
A version skips, with the reason, only when uv says no such interpreter exists; any other failure to
find one fails. Installing needs PyPI: marked ``network`` (LOCKGEN_OFFLINE_TESTS=1 skips); uv's cache
makes later runs fast."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from packaging.specifiers import SpecifierSet

import lockgen
from tests.support.channel import ChannelBuilder
from tests.support.ci import ROOT, lockgen_snapshot, make_channel
from tests.support.cli import run_lockgen

pytestmark = [
    pytest.mark.network,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("LOCKGEN_OFFLINE_TESTS") == "1", reason="LOCKGEN_OFFLINE_TESTS=1: no PyPI"),
]

SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"
OTHERS = tuple(v for v in SUPPORTED if v != RUNNING)
RECORD_TESTS = ("tests/unit/test_records.py", "tests/unit/test_records_differential.py")
PYPROJECT = '[tool.lockgen]\nplatforms = ["linux-64", "win-64"]\n'
NOT_FOUND = "No interpreter found"
EXCLUDE_NEWER = "2026-11-15"
"""What uv may install from PyPI (the build backend, lockgen's dependencies, pytest): what was published by
then, so a later release cannot turn this test red (the live-PyPI tests' rule)."""


def _uv() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def _uv_env(search_path: str | None = None) -> dict[str, str]:
    """The environment of a uv child: never downloads a Python, reads no uv config, sees no active virtualenv;
    ``search_path`` as its PATH when given."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME")}
    env.update(UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1")
    if search_path is not None:
        env["PATH"] = search_path
    return env


def _search_path(version: str) -> str:
    """PATH without version managers' ``shims`` folders (a pyenv shim for a version pyenv has not selected
    exits 127, and uv stops at the first interpreter it cannot query), plus pyenv's own install folders of
    ``version`` (``$PYENV_ROOT/versions/3.12.1/bin``), where uv does not look itself."""
    folders = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).name != "shims"]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installs = sorted((pyenv_root / "versions").glob(f"{version}.*/bin")) + sorted(
        (pyenv_root / "versions").glob(f"{version}/bin")
    )
    return os.pathsep.join([*folders, *map(str, installs)])


def find_interpreter(version: str, cwd: Path) -> Path | None:
    """An interpreter of ``version`` on this machine (uv's choice), None when uv says there is none; any other
    failure of uv raises."""
    found = subprocess.run(
        [_uv(), "python", "find", "--system", "--no-python-downloads", version],
        cwd=cwd,
        env=_uv_env(_search_path(version)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if found.returncode != 0 and NOT_FOUND in found.stderr:
        return None
    assert found.returncode == 0, f"uv python find {version} failed:\n{found.stderr}"
    return Path(found.stdout.strip())


def _run(
    *args: str | Path, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**_uv_env(), **(env or {})}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_supported_versions_match_requires_python() -> None:
    """SUPPORTED starts where pyproject.toml's requires-python does (read as text: no TOML reader needed)."""
    line = next(s for s in (ROOT / "pyproject.toml").read_text().splitlines() if s.startswith("requires-python"))
    requires = SpecifierSet(line.split("=", 1)[1].strip().strip('"'))
    assert SUPPORTED[0] in requires
    assert "3.9" not in requires


def test_a_version_the_machine_lacks_is_none(tmp_path: Path) -> None:
    """The one answer that skips: uv's "no interpreter found" (its wording is what NOT_FOUND matches), for a
    version no machine has; a pyenv install of another version is not taken for it."""
    assert find_interpreter("3.99", tmp_path) is None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this working tree (tracked and untracked files git does not ignore), built by uv from a
    copy, so the build leaves nothing in the checkout."""
    root = tmp_path_factory.mktemp("wheel")
    tree, _ = lockgen_snapshot(root / "tree")
    build = (_uv(), "build", "--wheel", "--exclude-newer", EXCLUDE_NEWER, "--python", sys.executable)
    built = _run(*build, "--out-dir", root / "dist", tree, cwd=root)
    assert built.returncode == 0, built.stderr
    (found,) = (root / "dist").glob("lockgen-*.whl")
    return found


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> ChannelBuilder:
    return make_channel(tmp_path_factory.mktemp("channel") / "testchan")


def _project(root: Path, channel: ChannelBuilder) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    env = ["name: proj", "channels:", f"  - {channel.url}", "dependencies:", "  - app"]
    (root / "environment.yml").write_text("\n".join(env) + "\n")
    return root


@pytest.fixture(scope="module")
def reference_locks(tmp_path_factory: pytest.TempPathFactory, channel: ChannelBuilder) -> dict[str, bytes]:
    """The locks this checkout writes on the running Python for the project of the test below."""
    root = tmp_path_factory.mktemp("reference")
    project = _project(root / "project", channel)
    locked = run_lockgen("lock", "--cache-dir", root / "cache", "--quiet", cwd=project)
    assert locked.returncode == 0, locked.stderr
    return {p.name: p.read_bytes() for p in sorted((project / "locks").iterdir())}


class OtherPython(NamedTuple):
    venv: Path  # lockgen's wheel and its declared dependencies, nothing else
    pytest_dir: Path  # pytest and its own dependencies, put on PYTHONPATH only where the records tests run


@pytest.fixture(scope="module", params=OTHERS)
def other(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, wheel: Path
) -> Iterator[OtherPython]:
    """A virtualenv on another supported Python with this tree's wheel installed, and pytest in a folder of its
    own (on 3.10 pytest needs tomli: in the virtualenv it would hide lockgen not declaring it); skips when
    the machine has no interpreter of that version."""
    version: str = request.param
    root = tmp_path_factory.mktemp(f"py{version}")
    interpreter = find_interpreter(version, root)
    if interpreter is None:
        pytest.skip(f"no Python {version} on this machine (uv python find, downloads off)")
    venv = root / "venv"
    made = _run(_uv(), "venv", "--quiet", "--python", interpreter, venv, cwd=root)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    install = (_uv(), "pip", "install", "--quiet", "--exclude-newer", EXCLUDE_NEWER, "--python", python)
    installed = _run(*install, wheel, cwd=root)
    assert installed.returncode == 0, installed.stderr
    pytest_dir = root / "pytest"
    installed = _run(*install, "--target", pytest_dir, "pytest", cwd=root)
    assert installed.returncode == 0, installed.stderr
    told = _run(python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])", cwd=root)
    assert told.stdout.strip() == version, told.stdout + told.stderr
    yield OtherPython(venv, pytest_dir)
    shutil.rmtree(root, ignore_errors=True)


def test_commands_run(
    other: OtherPython, channel: ChannelBuilder, reference_locks: dict[str, bytes], tmp_path: Path
) -> None:
    """The console script on the other Python: --version, lock --help, then a lock that reads pyproject.toml
    (its platforms) and environment.yml and solves offline on the tmp channel, equal to the running Python's
    locks byte for byte, and check."""
    lockgen_bin = other.venv / "bin" / "lockgen"
    version = _run(lockgen_bin, "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"lockgen, version {lockgen.__version__}"
    helped = _run(lockgen_bin, "lock", "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "Usage: lockgen lock" in helped.stdout

    project = _project(tmp_path / "project", channel)
    locked = _run(lockgen_bin, "lock", "--cache-dir", tmp_path / "cache", "--quiet", cwd=project)
    assert locked.returncode == 0, locked.stderr
    written = {p.name: p.read_bytes() for p in sorted((project / "locks").iterdir())}
    assert {"linux-64.txt", "win-64.txt"} <= written.keys()
    assert "osx-64.txt" not in written  # pyproject.toml's platforms were read
    assert written == reference_locks
    checked = _run(lockgen_bin, "check", cwd=project)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_record_tests_pass(other: OtherPython, tmp_path: Path) -> None:
    """tests/unit/test_records*.py run by the other Python's pytest against the installed lockgen (from a copy
    of the tests without the source tree beside them, so ``import lockgen`` is the installed one)."""
    for name in ("pyproject.toml", "tests/__init__.py", "tests/conftest.py", "tests/unit/__init__.py", *RECORD_TESTS):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, tmp_path / name)
    python = other.venv / "bin" / "python"
    with_pytest = {"PYTHONPATH": str(other.pytest_dir)}
    where = _run(python, "-c", "import lockgen; print(lockgen.__file__)", cwd=tmp_path, env=with_pytest)
    assert Path(where.stdout.strip()).is_relative_to(other.venv), where.stdout + where.stderr
    pytest_args = ("-m", "pytest", "-q", "-p", "no:cacheprovider", *RECORD_TESTS)
    ran = _run(python, *pytest_args, cwd=tmp_path, env=with_pytest, timeout=900)
    assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-2000:]
    assert " passed" in ran.stdout
