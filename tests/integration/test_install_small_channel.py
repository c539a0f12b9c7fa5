"""`lockgen install` end to end: a channel of real archives, locked with the CLI, installed into a prefix.

The channel has a `.tar.bz2` library, a `.conda` app with a script, a `noarch: python` package with
an entry point, and a `python` package made of a copy of the running interpreter plus a
``pyvenv.cfg`` (so the environment's Python really runs and the pip step can be exercised).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.channel import CANONICAL, ChannelBuilder, QuietHandler, Server, serve_directory
from tests.support.cli import mirror_options, run_lockgen
from tests.support.pypi_index import SimpleIndex

PLATFORM = "linux-64"
ENV = """\
name: small
channels:
  - testchan
dependencies:
  - app
  - tinypy
"""
HOST_IS_LINUX_64 = sys.platform.startswith("linux") and platform.machine() == "x86_64"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test channel is linux-64")


def _python_files() -> dict[str, bytes]:
    """A working interpreter for the prefix: the running Python's binary and a pyvenv.cfg."""
    binary = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    cfg = f"home = {binary.parent}\ninclude-system-site-packages = false\nversion = 3.11.0\n"
    data = binary.read_bytes()
    return {
        "bin/python": data,
        f"bin/python{sys.version_info[0]}.{sys.version_info[1]}": data,
        "pyvenv.cfg": cfg.encode(),
    }


@contextmanager
def served_pip_install(root: Path, index_handler: type[QuietHandler] = QuietHandler) -> Iterator[tuple[Server, ...]]:
    """The install channel (with pip), a PyPI-like index holding ``helper`` 1.0 and a conda→PyPI mapping,
    built under ``root`` and served on 127.0.0.1: (channel, index, mapping)."""
    build_install_channel(root / "channels", pip=True)  # lockgen adds pip for the pip section
    index = SimpleIndex(root / "index")
    index.add("helper", "1.0")
    index.write()
    (root / "mapping").mkdir()
    (root / "mapping" / "testchan.json").write_text(json.dumps({"python": None, "tinypy": ["tinypy"]}))
    with (
        serve_directory(root / "channels") as channel,
        serve_directory(root / "index", index_handler) as index_server,
        serve_directory(root / "mapping") as mapping,
    ):
        yield channel, index_server, mapping


def build_install_channel(root: Path, *, pip: bool = False) -> ChannelBuilder:
    """``pip``: also a (stand-in) pip, which lockgen adds to the conda side of an environment with a pip section."""
    builder = ChannelBuilder(root / "testchan", subdirs=("noarch", PLATFORM))
    pyver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    builder.add("python", f"{pyver}.0", build="h0_0", subdir=PLATFORM, files=_python_files())
    builder.add("libcore", "2.0", build="h1_0", subdir=PLATFORM, files={"lib/core.txt": b"core 2.0\n"})
    builder.add(
        "app",
        "1.1",
        build="h2_0",
        subdir=PLATFORM,
        depends=["libcore >=2"],
        files={"bin/app": b"#!/bin/sh\necho app 1.1\n"},
        fmt=".conda",
    )
    builder.add(
        "tinypy",
        "0.3",
        build="pyh0_0",
        noarch="python",
        depends=["python >=3.8"],
        files={"site-packages/tinypy/__init__.py": b"def main():\n    print('tinypy says hi')\n"},
        entry_points=["tinypy = tinypy:main"],
    )
    if pip:
        pip_files = {"site-packages/pip/__init__.py": b"__version__ = '24.2'\n"}
        builder.add("pip", "24.2", build="pyh0_0", noarch="python", depends=["python >=3.8"], files=pip_files)
    builder.write()
    return builder


def _lock(tmp_path: Path, mirror: str, *extra: str) -> None:
    result = run_lockgen("lock", "-p", PLATFORM, *mirror_options(mirror, tmp_path / "cache"), *extra, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def _install(tmp_path: Path, mirror: str, prefix: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    platform_args = () if HOST_IS_LINUX_64 else ("-p", PLATFORM)  # on linux-64 the default platform is used
    return run_lockgen(
        "install",
        *platform_args,
        "--prefix",
        prefix,
        *mirror_options(mirror, "cache"),  # the cache relative to cwd, as users write it
        *extra,
        cwd=tmp_path,
        env={"CONDA_EXE": "", "MAMBA_EXE": "", "MAMBA_ROOT_PREFIX": ""},
    )


def _tree(prefix: Path) -> dict[str, bytes]:
    return {str(p.relative_to(prefix)): p.read_bytes() for p in sorted(prefix.rglob("*")) if p.is_file()}


@pytest.fixture
def scenario(tmp_path: Path) -> ChannelBuilder:
    (tmp_path / "environment.yml").write_text(ENV)
    return build_install_channel(tmp_path / "mirror")


def _python_runs(prefix: Path) -> bool:
    try:
        done = subprocess.run(
            [str(prefix / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and Path(done.stdout.strip()).resolve() == prefix.resolve()


def test_install_from_local_directory_mirror(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    prefix = tmp_path / "env"
    result = _install(tmp_path, mirror, prefix)
    assert result.returncode == 0, result.stderr
    assert (prefix / "lib" / "core.txt").read_text() == "core 2.0\n"
    assert (prefix / "bin" / "app").read_text() == "#!/bin/sh\necho app 1.1\n"
    pyver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert (prefix / "lib" / f"python{pyver}" / "site-packages" / "tinypy" / "__init__.py").is_file()
    assert (prefix / "bin" / "tinypy").is_file()  # the entry point
    records = {p.name: json.loads(p.read_text()) for p in (prefix / "conda-meta").glob("*.json")}
    assert sorted(records) == [
        "app-1.1-h2_0.json",
        "libcore-2.0-h1_0.json",
        f"python-{pyver}.0-h0_0.json",
        "tinypy-0.3-pyh0_0.json",
    ]
    app = records["app-1.1-h2_0.json"]
    assert app["url"] == f"{CANONICAL}/testchan/{PLATFORM}/app-1.1-h2_0.conda"  # canonical, not the mirror
    assert app["md5"] == scenario.record(next(p for p in scenario.packages if p.name == "app"))["md5"]
    assert f"To activate: conda activate {prefix.resolve()}" in result.stdout


def test_installed_entry_point_runs(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    prefix = tmp_path / "env"
    assert _install(tmp_path, mirror, prefix).returncode == 0
    if not _python_runs(prefix):
        pytest.skip("this interpreter does not run from a copy (needs a shared libpython with an absolute runpath)")
    done = subprocess.run([str(prefix / "bin" / "tinypy")], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "tinypy says hi"


def test_rerun_is_a_no_op(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    prefix = tmp_path / "env"
    assert _install(tmp_path, mirror, prefix).returncode == 0
    before = {p: p.stat().st_mtime_ns for p in (prefix / "conda-meta").iterdir()}
    shutil.rmtree(tmp_path / "mirror")  # nothing may be fetched: the channel is gone
    again = _install(tmp_path, mirror, prefix)
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in (prefix / "conda-meta").iterdir()} == before


def test_install_over_http_with_sha256_lock(tmp_path: Path, scenario: ChannelBuilder) -> None:
    with serve_directory(tmp_path / "mirror") as server:
        _lock(tmp_path, server.url, "--hash", "sha256")
        prefix = tmp_path / "env"
        with_credentials = server.url.replace("http://", "http://mirroruser:Pa55word-xyz@")
        result = _install(tmp_path, with_credentials, prefix, "-v")
        assert result.returncode == 0, result.stderr
        assert any(r.endswith("/app-1.1-h2_0.conda") for r in server.requests)
    assert (prefix / "conda-meta" / "app-1.1-h2_0.json").is_file()
    written = "".join(p.read_text() for p in (prefix / "conda-meta").iterdir() if p.is_file())
    for secret in ("Pa55word-xyz", "mirroruser", "127.0.0.1"):
        assert secret not in written  # records name the canonical URL only
        assert secret not in result.stdout
    assert "Pa55word-xyz" not in result.stderr


def test_records_from_archives_when_repodata_is_gone(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    for repodata in (tmp_path / "mirror").rglob("repodata.json"):
        repodata.unlink()
    prefix = tmp_path / "env"
    result = _install(tmp_path, mirror, prefix, "-v")
    assert result.returncode == 0, result.stderr
    assert "records read from the package files" in result.stderr
    assert "\nnote: repodata unavailable for " in result.stderr  # labelled like every other note
    assert f"[{PLATFORM}] linking app" in result.stderr  # the installer's progress reaches -v
    app = json.loads((prefix / "conda-meta" / "app-1.1-h2_0.json").read_text())
    assert app["depends"] == ["libcore >=2"]
    assert app["url"] == f"{CANONICAL}/testchan/{PLATFORM}/app-1.1-h2_0.conda"


def test_tampered_file_is_refused_and_new_prefix_not_created(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    app = next(p for p in scenario.packages if p.name == "app")
    path = scenario.path_of(app)
    path.write_bytes(path.read_bytes() + b"tampered")
    prefix = tmp_path / "env"
    result = _install(tmp_path, mirror, prefix)
    assert result.returncode == 9, result.stderr
    assert "app" in result.stderr
    assert f"{mirror}/testchan/{PLATFORM}/app-1.1-h2_0.conda" in result.stderr.replace("file://", "")
    assert "hash mismatch" in result.stderr
    assert "was not changed" in result.stderr
    assert not (prefix / "conda-meta").exists()


def test_update_with_a_tampered_new_version_leaves_prefix_unchanged(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    prefix = tmp_path / "env"
    assert _install(tmp_path, mirror, prefix).returncode == 0
    before = _tree(prefix)
    new = scenario.add("app", "1.2", build="h2_0", subdir=PLATFORM, depends=["libcore >=2"], files={"bin/app": b"new"})
    scenario.write()
    _lock(tmp_path, mirror, "--update", "app")
    assert "app-1.2-h2_0" in (tmp_path / "locks" / f"{PLATFORM}.txt").read_text()
    scenario.path_of(new).write_bytes(b"not a package")
    result = _install(tmp_path, mirror, prefix)
    assert result.returncode == 9
    assert "app" in result.stderr and "app-1.2-h2_0.tar.bz2" in result.stderr
    assert _tree(prefix) == before


def test_update_replaces_changed_and_removes_dropped_packages(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    prefix = tmp_path / "env"
    assert _install(tmp_path, mirror, prefix).returncode == 0
    scenario.add("app", "1.2", build="h2_0", subdir=PLATFORM, files={"bin/app": b"#!/bin/sh\necho app 1.2\n"})
    scenario.write()
    _lock(tmp_path, mirror, "--update", "app")
    result = _install(tmp_path, mirror, prefix)
    assert result.returncode == 0, result.stderr
    assert (prefix / "bin" / "app").read_text() == "#!/bin/sh\necho app 1.2\n"
    names = sorted(p.name for p in (prefix / "conda-meta").glob("*.json"))
    assert "app-1.2-h2_0.json" in names
    assert "app-1.1-h2_0.json" not in names
    assert not any(n.startswith("libcore-") for n in names)  # app 1.2 no longer needs it
    assert not (prefix / "lib" / "core.txt").exists()


def test_missing_file_and_unreachable_url_are_reported(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    libcore = next(p for p in scenario.packages if p.name == "libcore")
    scenario.path_of(libcore).unlink()
    result = _install(tmp_path, mirror, tmp_path / "env")
    assert result.returncode == 9
    assert "libcore" in result.stderr and "libcore-2.0-h1_0.tar.bz2" in result.stderr
    assert not (tmp_path / "env" / "conda-meta").exists()
    unreachable = _install(tmp_path, "http://user:s3cretpass@127.0.0.1:9", tmp_path / "env2")
    assert unreachable.returncode == 9
    assert "unreachable" in unreachable.stderr
    assert "s3cretpass" not in unreachable.stderr + unreachable.stdout
    assert not (tmp_path / "env2" / "conda-meta").exists()


def test_wrong_platform_lock_is_refused(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    (tmp_path / "locks" / "osx-64.txt").write_text((tmp_path / "locks" / f"{PLATFORM}.txt").read_text())
    result = run_lockgen("install", "-p", "osx-64", "--prefix", tmp_path / "env", cwd=tmp_path)
    assert result.returncode == 9
    assert "is a lock for linux-64, not osx-64" in result.stderr
    missing = run_lockgen("install", "-p", "win-64", "--prefix", tmp_path / "env", cwd=tmp_path)
    assert missing.returncode == 9
    assert "win-64.txt does not exist" in missing.stderr


def _wheel(directory: Path, name: str, version: str) -> Path:
    """A minimal pure-Python wheel (one module) written to ``directory``."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record_lines = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record_lines.append(f"{path},sha256={digest},{len(data)}")
    record_lines.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record_lines) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0)), data)
    target = directory / f"{name}-{version}-py3-none-any.whl"
    directory.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buffer.getvalue())
    return target


def test_pip_requirements_installed_with_env_python(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    wheel = _wheel(tmp_path / "wheels", "tinywheel", "1.0")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (tmp_path / "locks" / "requirements.txt").write_text(
        f"--no-index\n--find-links {wheel.parent}\ntinywheel==1.0 \\\n    --hash=sha256:{digest}\n"
    )
    prefix = tmp_path / "env"
    result = _install(tmp_path, mirror, prefix, "--no-pip")
    assert result.returncode == 0, result.stderr
    if not _python_runs(prefix):
        pytest.skip("this interpreter does not run from a copy (needs a shared libpython with an absolute runpath)")
    result = _install(tmp_path, mirror, prefix)
    assert result.returncode == 0, result.stderr
    assert "installed" in result.stdout and "with uv" in result.stdout
    check = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import tinywheel; print(tinywheel.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    assert check.returncode == 0, check.stderr
    assert Path(check.stdout.strip()).resolve().is_relative_to(prefix.resolve())
    again = _install(tmp_path, mirror, prefix)
    assert again.returncode == 0, again.stderr
    assert "already installed" in again.stdout


def test_pip_refuses_requirement_with_wrong_hash(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    wheel = _wheel(tmp_path / "wheels", "tinywheel", "1.0")
    (tmp_path / "locks" / "requirements.txt").write_text(
        f"--no-index\n--find-links {wheel.parent}\ntinywheel==1.0 --hash=sha256:{'0' * 64}\n"
    )
    prefix = tmp_path / "env"
    assert _install(tmp_path, mirror, prefix, "--no-pip").returncode == 0
    if not _python_runs(prefix):
        pytest.skip("this interpreter does not run from a copy (needs a shared libpython with an absolute runpath)")
    result = _install(tmp_path, mirror, prefix)
    assert result.returncode == 9
    assert "requirements.txt" in result.stderr and "hash" in result.stderr.lower()


def test_non_empty_directory_that_is_not_an_environment_is_refused(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("keep me")
    result = _install(tmp_path, mirror, home)
    assert result.returncode == 9
    assert "is not empty and is not a conda environment" in result.stderr
    assert sorted(p.name for p in home.iterdir()) == ["notes.txt"]
