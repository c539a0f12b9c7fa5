"""Python projects the tests build: a local folder, a git repository, an sdist.

Each project carries an in-tree PEP 517 backend (stdlib only, ``requires = []``), so uv and pip
build it without downloading anything: metadata, wheels, editable wheels (a ``.pth`` file) and
sdists. ``dynamic=True`` moves the dependencies out of ``pyproject.toml`` into ``deps.txt``, so a
resolver must run the backend to learn them (as for a ``setup.py`` project).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Sequence
from pathlib import Path

BACKEND = '''
"""A tiny PEP 517 backend for tests."""
import base64, hashlib, os, tarfile, tomllib, zipfile

def _project():
    with open("pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    deps = project.get("dependencies")
    if deps is None:
        with open("deps.txt") as f:
            deps = [line.strip() for line in f if line.strip()]
    return project["name"], project["version"], deps

def _dist_info():
    name, version, _ = _project()
    return f"{name.replace('-', '_')}-{version}.dist-info"

def _metadata():
    name, version, deps = _project()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {d}" for d in deps]
    return "\\n".join(lines) + "\\n"

def get_requires_for_build_wheel(config_settings=None):
    return []

get_requires_for_build_editable = get_requires_for_build_sdist = get_requires_for_build_wheel

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    folder = os.path.join(metadata_directory, _dist_info())
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "METADATA"), "w") as f:
        f.write(_metadata())
    return _dist_info()

prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel

def _wheel(wheel_directory, files):
    name, version, _ = _project()
    info = _dist_info()
    files[f"{info}/METADATA"] = _metadata().encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    record = ""
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(data)}\\n"
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\\n").encode()
    file_name = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, file_name), "w") as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return file_name

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    module = _project()[0].replace("-", "_")
    files = {}
    for root, _, names in os.walk(module):
        for n in sorted(names):
            if n.endswith(".py"):
                path = os.path.join(root, n)
                with open(path, "rb") as f:
                    files[path.replace(os.sep, "/")] = f.read()
    return _wheel(wheel_directory, files)

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    module = _project()[0].replace("-", "_")
    return _wheel(wheel_directory, {f"_{module}_editable.pth": (os.path.abspath(".") + "\\n").encode()})

def build_sdist(sdist_directory, config_settings=None):
    name, version, _ = _project()
    base = f"{name.replace('-', '_')}-{version}"
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as archive:
        for root, dirs, names in os.walk("."):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for n in names:
                archive.add(os.path.join(root, n), arcname=os.path.join(base, root, n))
    return base + ".tar.gz"
'''


def make_project(
    folder: Path, name: str, version: str, requires: Sequence[str] = (), *, dynamic: bool = False
) -> Path:
    """A project folder with a module, the backend and ``pyproject.toml``; returns ``folder``."""
    module = name.replace("-", "_")
    (folder / module).mkdir(parents=True, exist_ok=True)
    (folder / module / "__init__.py").write_text(f"VERSION = {version!r}\n")
    (folder / "lockgen_test_backend.py").write_text(BACKEND)
    deps = ", ".join(f'"{r}"' for r in requires)
    project = f'[project]\nname = "{name}"\nversion = "{version}"\n'
    if dynamic:
        project += 'dynamic = ["dependencies"]\n'
        (folder / "deps.txt").write_text("".join(f"{r}\n" for r in requires))
    else:
        project += f"dependencies = [{deps}]\n"
    build = '[build-system]\nrequires = []\nbuild-backend = "lockgen_test_backend"\nbackend-path = ["."]\n'
    (folder / "pyproject.toml").write_text(project + build)
    return folder


def git(folder: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z", "HOME": str(folder), "PATH": "/usr/bin:/bin",
    }  # fmt: skip
    done = subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_git_repo(folder: Path, name: str, version: str, requires: Sequence[str] = ()) -> str:
    """A git repository holding one project, committed with fixed dates; returns the commit."""
    make_project(folder, name, version, requires)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "project")
    return git(folder, "rev-parse", "HEAD")


def sdist_bytes(name: str, version: str, requires: Sequence[str] = ()) -> bytes:
    """A real sdist (``.tar.gz``) whose dependencies are dynamic: only a build tells them. Byte-stable."""
    base = f"{name.replace('-', '_')}-{version}"
    module = name.replace("-", "_")
    deps = "".join(f"{r}\n" for r in requires)
    files = {
        f"{base}/pyproject.toml": (
            f'[project]\nname = "{name}"\nversion = "{version}"\ndynamic = ["dependencies"]\n'
            '[build-system]\nrequires = []\nbuild-backend = "lockgen_test_backend"\nbackend-path = ["."]\n'
        ),
        f"{base}/deps.txt": deps,
        f"{base}/lockgen_test_backend.py": BACKEND,
        f"{base}/{module}/__init__.py": f"VERSION = {version!r}\n",
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    return _tar_gz(files)


# Legacy projects: a setup.py and nothing else, as on PyPI before PEP 517/518 (wget 3.2,
# scikit-learn 0.24). A frontend builds them with setuptools' legacy backend
# (`setuptools.build_meta:__legacy__`, requiring `setuptools>=40.8.0`), so the build environment
# needs a working setuptools from the index; setuptools before 70.1 also asked for `wheel`.
# The stand-ins below are just enough of both (stdlib only) for a metadata build; served by a
# test index they behave as the real ones do towards a frontend, and a stub wheel of the same
# name (metadata, no code) fails exactly as the real failure did: "No module named 'setuptools'".

SETUPTOOLS_INIT = '''
"""Test stand-in for setuptools: setup() records its keyword arguments."""
CALLS = []

def setup(**kwargs):
    CALLS.append(kwargs)

def find_packages(where=".", exclude=(), include=("*",)):
    return []
'''

SETUPTOOLS_BUILD_META = '''
"""Test stand-in for setuptools.build_meta: the legacy backend (runs setup.py)."""
import base64, hashlib, os, runpy, sys, zipfile
import setuptools

def _setup_kwargs():
    setuptools.CALLS.clear()
    sys.path.insert(0, os.getcwd())
    sys.argv = ["setup.py", "dist_info"]
    runpy.run_path("setup.py", run_name="__main__")
    return setuptools.CALLS[-1]

def _names(kwargs):
    name, version = kwargs["name"], kwargs["version"]
    return name, version, f"{name.replace('-', '_')}-{version}.dist-info"

def _metadata(kwargs):
    lines = ["Metadata-Version: 2.1", f"Name: {kwargs['name']}", f"Version: {kwargs['version']}"]
    lines += [f"Requires-Dist: {r}" for r in kwargs.get("install_requires", [])]
    return "\\n".join(lines) + "\\n"

class _Legacy:
    def get_requires_for_build_wheel(self, config_settings=None):
        return ["wheel"]  # as setuptools did before 70.1

    def get_requires_for_build_sdist(self, config_settings=None):
        return []

    def prepare_metadata_for_build_wheel(self, metadata_directory, config_settings=None):
        kwargs = _setup_kwargs()
        info = _names(kwargs)[2]
        os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
        with open(os.path.join(metadata_directory, info, "METADATA"), "w") as f:
            f.write(_metadata(kwargs))
        return info

    def build_wheel(self, wheel_directory, config_settings=None, metadata_directory=None):
        kwargs = _setup_kwargs()
        name, version, info = _names(kwargs)
        files = {f"{info}/METADATA": _metadata(kwargs).encode()}
        files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        record = ""
        for path, data in files.items():
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record += f"{path},sha256={digest},{len(data)}\\n"
        files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\\n").encode()
        file_name = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, file_name), "w") as archive:
            for path, data in files.items():
                archive.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0)), data)
        return file_name

__legacy__ = _Legacy()
get_requires_for_build_wheel = __legacy__.get_requires_for_build_wheel
get_requires_for_build_sdist = __legacy__.get_requires_for_build_sdist
prepare_metadata_for_build_wheel = __legacy__.prepare_metadata_for_build_wheel
build_wheel = __legacy__.build_wheel
'''

WHEEL_BDIST = '''
"""Test stand-in for wheel.bdist_wheel: the command class legacy setup.py files import."""
class bdist_wheel:
    description = "create a wheel distribution"
'''


def build_tool_files(name: str) -> dict[str, str]:
    """The code of the stand-in ``setuptools`` or ``wheel`` wheel (for :class:`tests.support.pypi_index.Wheel`)."""
    if name == "setuptools":
        return {"setuptools/__init__.py": SETUPTOOLS_INIT, "setuptools/build_meta.py": SETUPTOOLS_BUILD_META}
    if name == "wheel":
        return {"wheel/__init__.py": "", "wheel/bdist_wheel.py": WHEEL_BDIST}
    raise ValueError(name)


def legacy_sdist_bytes(
    name: str, version: str, requires: Sequence[str] = (), *, uses_wheel: bool = False, prelude: str = ""
) -> bytes:
    """A setup.py-only sdist that imports setuptools without declaring it (no pyproject.toml); with
    ``uses_wheel`` its setup.py also imports ``wheel.bdist_wheel``; ``prelude`` is code run first
    (an old project's version check). Byte-stable."""
    base = f"{name.replace('-', '_')}-{version}"
    head = prelude + "from setuptools import setup\n"
    if uses_wheel:
        head += "from wheel.bdist_wheel import bdist_wheel\n"
    cmdclass = ', cmdclass={"bdist_wheel": bdist_wheel}' if uses_wheel else ""
    setup_py = f"{head}\nsetup(name={name!r}, version={version!r}, install_requires={list(requires)!r}{cmdclass})\n"
    files = {
        f"{base}/setup.py": setup_py,
        f"{base}/PKG-INFO": f"Metadata-Version: 1.0\nName: {name}\nVersion: {version}\n",
        f"{base}/{name.replace('-', '_')}.py": f"VERSION = {version!r}\n",
    }
    return _tar_gz(files)


def _tar_gz(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 1704067200, 0o644
            archive.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    # gzip stores a timestamp too: fixed by rewriting the header's mtime field (bytes 4..8).
    return raw[:4] + b"\0\0\0\0" + raw[8:]
