"""A conda-lock file lockgen cannot read: conda-lock's reader raises the project's MalformedLock,
and each command that reads one says so with the same words and exit code as ever (``--from``
exit 3, ``install`` its install error, ``--conda-lock-file`` its output error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from lockgen.config import build_options
from lockgen.errors import InputError, InstallError, OutputError
from lockgen.export import CondaLockTarget
from lockgen.install.envs import install_source
from lockgen.lockfiles import MalformedLock
from lockgen.lockfiles.condalock import read_condalock
from lockgen.migrate import load_pins
from tests.support.options import flags

NOT_A_LOCK = "not a conda-lock lock file (no `metadata` and `package`)"


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "conda-lock.yml"
    path.write_text("name: env\ndependencies: []\n")
    return path


def test_the_reader_raises_malformed_lock_naming_the_file(bad: Path) -> None:
    with pytest.raises(MalformedLock) as info:
        read_condalock(bad)
    assert str(info.value) == f"{bad}: {NOT_A_LOCK}"


def test_from_says_it_as_an_input_error(bad: Path) -> None:
    with pytest.raises(InputError) as info:
        load_pins(bad)
    assert info.value.message == f"invalid input (1 problem):\n  --from: {bad}: {NOT_A_LOCK}"
    assert info.value.exit_code == 3


def test_install_says_it_as_an_install_error(bad: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(InstallError) as info:
        install_source(bad, "linux-64", scratch)
    assert info.value.message == f"{bad}: {NOT_A_LOCK}"


def test_conda_lock_file_refuses_to_overwrite_it(bad: Path, tmp_path: Path) -> None:
    env = tmp_path / "environment.yml"
    env.write_text("channels: [conda-forge]\ndependencies: [python]\n")
    options = build_options([env], flags(conda_lock_file=bad, output_dir=tmp_path))
    with pytest.raises(OutputError) as info:
        CondaLockTarget.for_options(options, cast(Any, None), {})  # the file is read before the plan is used
    why = f"{bad}: {NOT_A_LOCK}"
    assert info.value.message == f"{bad} exists and is not a conda-lock lock file ({why}); refusing to overwrite it"
