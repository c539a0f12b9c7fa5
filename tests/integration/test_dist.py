"""`make dist`'s wheel installs into a fresh virtualenv and locks a project (its data files included)."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import lockgen
from tests.support.ci import ROOT, lockgen_snapshot, make_channel, make_project

pytestmark = pytest.mark.network  # the fresh virtualenv installs lockgen's dependencies from PyPI


def test_wheel_installs_and_runs_on_a_fresh_venv(tmp_path: Path) -> None:
    tree, _ = lockgen_snapshot(tmp_path / "tree")
    venv_dir = ROOT / ".venv"  # this checkout's tools (build); `-o` keeps make from reinstalling it from the copy
    done = subprocess.run(
        ["make", "-C", str(tree), "-o", str(venv_dir / ".installed"), "dist", f"VENV={venv_dir}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tree / "dist").glob("*.whl")
    assert wheel.name == f"lockgen-{lockgen.__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert "lockgen/py.typed" in names
    assert any(n.startswith("lockgen/data/") and n.endswith(".json.gz") for n in names)
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert len(list((tree / "dist").glob("*.tar.gz"))) == 1

    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, timeout=900)
    version = subprocess.run(
        [str(env_dir / "bin" / "lockgen"), "--version"], capture_output=True, text=True, check=False
    )
    assert version.stdout.strip() == f"lockgen, version {lockgen.__version__}"

    channel = make_channel(tmp_path / "channel" / "testchan")
    project = make_project(tmp_path / "proj", channel, tmp_path / "cache")  # locked by this checkout
    checked = subprocess.run(
        [str(env_dir / "bin" / "lockgen"), "check"], cwd=project, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert sys.prefix != str(env_dir)
