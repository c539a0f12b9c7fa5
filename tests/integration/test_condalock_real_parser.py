"""A conda-lock.yml written by lockgen, read by conda-lock itself (installed from PyPI into a throwaway venv).

conda-lock's loader (``conda_lock.lockfile.parse_conda_lock_file``: pydantic models of format v1,
then its conversion to its in-memory v2 model) must accept the file and see the same packages,
and conda-lock's own ``render --kind explicit`` of it must round-trip through ``lockgen lock --from``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lockgen.lockfiles.condalock import parse_condalock
from tests.integration.test_condalock import PLATFORMS, World, world

__all__ = ["world"]  # the fixture, shared

CONDA_LOCK = "conda-lock==4.0.3"

pytestmark = [
    pytest.mark.network,
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("LOCKGEN_OFFLINE_TESTS")), reason="needs PyPI (LOCKGEN_OFFLINE_TESTS)"),
]


@pytest.fixture(scope="session")
def conda_lock_python(request: pytest.FixtureRequest) -> Path:
    """A venv with conda-lock from PyPI, kept in pytest's cache between runs."""
    from uv import find_uv_bin

    root = Path(request.config.cache.mkdir("conda-lock-venv"))
    venv = root / CONDA_LOCK.replace("==", "-")
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    marker = venv / ".installed"
    if not marker.is_file():
        uv = str(find_uv_bin())
        env = {**os.environ, "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True, env=env)
        done = subprocess.run(
            [uv, "pip", "install", "-q", "-p", str(python), CONDA_LOCK],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"cannot install {CONDA_LOCK} from PyPI: {done.stderr.strip()[-300:]}")
        marker.write_text(CONDA_LOCK)
    return python


READ = """
import json, pathlib, sys
from conda_lock.lockfile import parse_conda_lock_file
lock = parse_conda_lock_file(pathlib.Path(sys.argv[1]))
print(json.dumps({
    "platforms": list(lock.metadata.platforms),
    "channels": [c.url for c in lock.metadata.channels],
    "content_hash": dict(lock.metadata.content_hash),
    "package": sorted(
        [p.manager, p.name, p.version, p.platform, p.url, p.hash.md5, p.hash.sha256, sorted(p.categories)]
        for p in lock.package
    ),
}))
"""


def test_conda_lock_reads_what_lockgen_writes(world: World, conda_lock_python: Path) -> None:
    result = world.lock("--conda-lock-file", "conda-lock.yml")
    assert result.returncode == 0, result.stderr
    path = world.root / "conda-lock.yml"
    done = subprocess.run([str(conda_lock_python), "-c", READ, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout)
    ours = parse_condalock(path.read_text())
    assert theirs["platforms"] == list(PLATFORMS)
    assert theirs["channels"] == ["testchan"]
    assert theirs["content_hash"] == dict(ours.content_hash)
    expected = sorted(
        [p.manager, p.name, p.version, p.platform, p.url, p.md5, p.sha256, ["main"]] for p in ours.packages
    )
    assert theirs["package"] == expected
    for platform in PLATFORMS:
        assert sorted(p[4] for p in theirs["package"] if p[3] == platform) == world.urls(platform)


def test_conda_lock_rendering_round_trips_through_from(world: World, conda_lock_python: Path) -> None:
    assert world.lock("--conda-lock-file", "conda-lock.yml").returncode == 0
    rendered = world.root / "rendered"
    rendered.mkdir()
    cli = [str(conda_lock_python), "-m", "conda_lock", "render", "--kind", "explicit"]
    cli += [arg for p in PLATFORMS for arg in ("-p", p)]
    done = subprocess.run(
        [*cli, "--filename-template", "conda-{platform}.lock", str(world.root / "conda-lock.yml")],
        cwd=rendered,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert sorted(p.name for p in rendered.iterdir()) == [f"conda-{p}.lock" for p in PLATFORMS]
    back = world.lock("--from", rendered, out="locks2")
    assert back.returncode == 0, back.stderr
    assert "kept 8 of 8 pins (100%)" in back.stdout
    for platform in PLATFORMS:
        assert world.urls(platform, "locks2") == world.urls(platform)


HASH = """
import json, pathlib, sys
from conda_lock.content_hash import compute_content_hashes
from conda_lock.src_parser import make_lock_spec
from conda_lock.virtual_package import default_virtual_package_repodata
path, platforms, cuda = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
spec = make_lock_spec(src_files=[pathlib.Path(path)], platform_overrides=platforms, mapping_url="unused")
print(json.dumps(compute_content_hashes(spec, default_virtual_package_repodata(cuda_version=cuda))))
"""


def _their_hashes(python: Path, env: Path, platforms: tuple[str, ...], cuda: str = "default") -> dict[str, str]:
    done = subprocess.run(
        [str(python), "-c", HASH, str(env), ",".join(platforms), cuda], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_written_content_hash_is_conda_locks_own(world: World, conda_lock_python: Path) -> None:
    """`conda-lock lock --check-input-hash` computes the same hash, so it sees the file as current."""
    assert world.lock("--conda-lock-file", "conda-lock.yml").returncode == 0
    ours = dict(parse_condalock((world.root / "conda-lock.yml").read_text()).content_hash)
    assert ours == _their_hashes(conda_lock_python, world.root / "environment.yml", PLATFORMS)


SPEC_FORMS = """\
name: forms
channels:
  - conda-forge
  - nodefaults
  - https://conda.anaconda.org/pytorch/
dependencies:
  - python=3.11
  - Numpy >=1.20,<2
  - scipy 1.10.*
  - pytorch::pytorch>=2
  - zlib==1.3.1
  - libblas=3.9.0=20_linux64_openblas  # [linux]
  - openssl 3.2.1 hd590300_0  # [linux]
  - pywin32  # [win]
  - pandas=2
  - mkl !=2024.1
"""


@pytest.mark.parametrize("cuda", [None, "12.4"])
def test_content_hash_matches_conda_lock_for_plain_spec_forms(
    tmp_path: Path, conda_lock_python: Path, cuda: str | None
) -> None:
    from lockgen.condalockhash import conda_lock_content_hash
    from lockgen.spec.envfile import load_env_specs

    env = tmp_path / "environment.yml"
    env.write_text(SPEC_FORMS)
    platforms = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")
    theirs = _their_hashes(conda_lock_python, env, platforms, cuda or "default")
    spec = load_env_specs([env])
    for platform in platforms:
        deps = [d.spec for d in spec.conda_dependencies(platform)]
        assert conda_lock_content_hash(platform, spec.channels, deps, cuda) == theirs[platform], platform
