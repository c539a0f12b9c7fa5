"""`lockgen install LOCKFILE [-n NAME | --prefix DIR]`: a conda-lock.yml (or an explicit file) as the lock to install.

Uses the install channel of test_install_small_channel (real archives, a working python).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.integration.test_install_small_channel import PLATFORM, _lock, scenario
from tests.support.channel import CANONICAL, ChannelBuilder
from tests.support.cli import invoke_lockgen

__all__ = ["scenario"]  # the fixture, shared

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test channel is linux-64")


def _condalock_for_install(tmp_path: Path, scenario: ChannelBuilder) -> Path:
    """A conda-lock.yml (conda-lock's v1 structure) pinning the whole install channel for linux-64."""
    from tests.support.condalock import condalock_text

    path = tmp_path / "conda-lock.yml"
    path.write_text(condalock_text(scenario, "testchan", {PLATFORM: list(scenario.packages)}))
    return path


def _install_file(tmp_path: Path, mirror: str, *args: str | Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return invoke_lockgen(
        "install",
        *args,
        "-p",
        PLATFORM,
        "--mirror",
        f"{CANONICAL}={mirror}",
        "--cache-dir",
        "cache",
        cwd=tmp_path,
        env={"CONDA_EXE": "", "MAMBA_EXE": "", "MAMBA_ROOT_PREFIX": "", **(env or {})},
    )


def test_install_a_condalock_file_into_a_prefix(tmp_path: Path, scenario: ChannelBuilder) -> None:
    lockfile = _condalock_for_install(tmp_path, scenario)
    prefix = tmp_path / "env"
    result = _install_file(tmp_path, str(tmp_path / "mirror"), lockfile, "--prefix", prefix)
    assert result.returncode == 0, result.stderr
    assert (prefix / "lib" / "core.txt").read_text() == "core 2.0\n"
    assert (prefix / "bin" / "app").read_text() == "#!/bin/sh\necho app 1.1\n"
    records = sorted(p.name for p in (prefix / "conda-meta").glob("*.json"))
    pyver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert records == [
        "app-1.1-h2_0.json",
        "libcore-2.0-h1_0.json",
        f"python-{pyver}.0-h0_0.json",
        "tinypy-0.3-pyh0_0.json",
    ]
    app = json.loads((prefix / "conda-meta" / "app-1.1-h2_0.json").read_text())
    assert app["url"] == f"{CANONICAL}/testchan/{PLATFORM}/app-1.1-h2_0.conda"
    assert not (tmp_path / "locks").exists()  # nothing written beside the lock file


def test_install_condalock_with_a_wrong_hash_changes_nothing(tmp_path: Path, scenario: ChannelBuilder) -> None:
    lockfile = _condalock_for_install(tmp_path, scenario)
    app_md5 = scenario.record(next(p for p in scenario.packages if p.name == "app"))["md5"]
    lockfile.write_text(lockfile.read_text().replace(str(app_md5), "0" * 32))
    prefix = tmp_path / "env"
    result = _install_file(tmp_path, str(tmp_path / "mirror"), lockfile, "--prefix", prefix)
    assert result.returncode == 9, result.stderr
    assert not (prefix / "conda-meta").exists()


def test_install_by_name_goes_into_the_conda_envs_directory(tmp_path: Path, scenario: ChannelBuilder) -> None:
    lockfile = _condalock_for_install(tmp_path, scenario)
    envs = tmp_path / "my-envs"
    result = _install_file(
        tmp_path, str(tmp_path / "mirror"), lockfile, "-n", "demo", env={"CONDA_ENVS_PATH": str(envs)}
    )
    assert result.returncode == 0, result.stderr
    assert (envs / "demo" / "conda-meta" / "app-1.1-h2_0.json").is_file()


def test_install_an_explicit_file_given_as_argument(tmp_path: Path, scenario: ChannelBuilder) -> None:
    mirror = str(tmp_path / "mirror")
    _lock(tmp_path, mirror)
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "my-lock.txt").write_bytes((tmp_path / "locks" / f"{PLATFORM}.txt").read_bytes())
    prefix = tmp_path / "env"
    result = _install_file(tmp_path, mirror, moved / "my-lock.txt", "--prefix", prefix)
    assert result.returncode == 0, result.stderr
    assert (prefix / "conda-meta" / "libcore-2.0-h1_0.json").is_file()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--micromamba",), "needs no conda, mamba or micromamba"),
        (("--dev",), "no dev category"),
        (("-E", "docs"), "no extras"),
        (("--copy",), "drop --copy"),
    ],
)
def test_install_refuses_conda_lock_habits_with_our_equivalent(
    tmp_path: Path, scenario: ChannelBuilder, args: tuple[str, ...], says: str
) -> None:
    lockfile = _condalock_for_install(tmp_path, scenario)
    result = _install_file(tmp_path, str(tmp_path / "mirror"), lockfile, "--prefix", tmp_path / "env", *args)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert not (tmp_path / "env").exists()


def test_install_dash_p_with_a_path_says_it_is_the_platform(tmp_path: Path, scenario: ChannelBuilder) -> None:
    lockfile = _condalock_for_install(tmp_path, scenario)
    result = invoke_lockgen("install", "-p", "./env", lockfile, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "-p is the platform" in result.stderr and "--prefix ./env" in result.stderr
    neither = invoke_lockgen("install", lockfile, cwd=tmp_path)
    assert neither.returncode == 2 and "-n NAME" in neither.stderr


def test_install_errors_name_the_condalock_file_not_its_temporary_copy(
    tmp_path: Path, scenario: ChannelBuilder
) -> None:
    lockfile = _condalock_for_install(tmp_path, scenario)
    app_md5 = scenario.record(next(p for p in scenario.packages if p.name == "app"))["md5"]
    lockfile.write_text(lockfile.read_text().replace(str(app_md5), "1" * 31 + "a"))
    result = _install_file(tmp_path, str(tmp_path / "mirror"), lockfile, "--prefix", tmp_path / "env")
    assert result.returncode == 9, result.stderr
    assert result.stderr.startswith(f"error: {lockfile}: 1 of "), result.stderr
    assert "lockgen-install-" not in result.stderr
