"""What a channel serves is hostile (issue 12, items 10, 18 and 20): locks hold only URLs under the
channel's canonical URL, with records whose subdir and hashes are sound; a ``URL::pkg`` spec names
its URL channel; fetch errors say what really went wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lockgen.spec.document import parse_env_text
from tests.faults.figures import count
from tests.security.hostile import CANONICAL, env, lock, lock_texts, record, write_channel


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    return project


@pytest.mark.slow
def test_base_url_on_another_host_is_refused(tmp_path: Path) -> None:
    served = tmp_path / "served"
    write_channel(served, {"app-1.0-h0_0.tar.bz2": record("app")}, info={"base_url": "https://evil.example/pkgs"})
    project = _project(tmp_path)
    result = lock(project, served, env_text=env("app"))
    count("hostile channel cases")
    assert result.returncode == 5, result.stderr
    assert "channel hostchan" in result.stderr and "outside the channel" in result.stderr
    assert "evil.example" not in lock_texts(project)
    assert not (project / "locks").exists()


LIES: dict[str, tuple[dict[str, Any], str]] = {
    "subdir lies": ({"subdir": "osx-64"}, "claims subdir 'osx-64'"),
    "md5 zero": ({"md5": "0" * 32}, "md5 is missing or all zeros"),
    "md5 missing": ({"md5": None}, "md5 is missing or all zeros"),
    "sha256 zero": ({"sha256": "0" * 64}, "sha256 is all zeros"),
}


@pytest.mark.parametrize("case", sorted(LIES))
@pytest.mark.slow
def test_lying_record_is_refused_at_lock_time(tmp_path: Path, case: str) -> None:
    change, expected = LIES[case]
    rec = {k: v for k, v in {**record("app"), **change}.items() if v is not None}
    served = tmp_path / "served"
    write_channel(served, {"app-1.0-h0_0.tar.bz2": rec})
    project = _project(tmp_path)
    result = lock(project, served, "--hash", "sha256" if case == "md5 missing" else "md5", env_text=env("app"))
    count("hostile channel cases")
    assert result.returncode == 5, result.stderr
    assert "channel hostchan" in result.stderr and "app-1.0-h0_0.tar.bz2" in result.stderr
    assert expected in result.stderr
    assert not (project / "locks").exists()


@pytest.mark.slow
def test_sound_record_still_locks(tmp_path: Path) -> None:
    served = tmp_path / "served"
    write_channel(served, {"app-1.0-h0_0.tar.bz2": record("app")}, info={"base_url": f"{CANONICAL}/linux-64/"})
    project = _project(tmp_path)
    result = lock(project, served, env_text=env("app"))
    assert result.returncode == 0, result.stderr
    assert f"{CANONICAL}/linux-64/app-1.0-h0_0.tar.bz2#" in lock_texts(project)


@pytest.mark.slow
def test_json_error_mentioning_tar_bz2_is_reported_as_json(tmp_path: Path) -> None:
    """A file name with an escaped newline is invalid for rattler's parser: the reason is the JSON, not
    compression (the error text mentions ``.tar.bz2``), and the URL shown is clean."""
    served = tmp_path / "served"
    write_channel(served, {"app-1.0-h0_0\nx.tar.bz2": record("app")})
    project = _project(tmp_path)
    result = lock(project, served, env_text=env("app"))
    count("hostile channel cases")
    assert result.returncode == 5, result.stderr
    first = result.stderr.splitlines()[0]
    assert "not valid repodata JSON" in first, first
    assert "compressed" not in first
    assert first.split("cannot fetch ", 1)[1].split()[0].rstrip(":").endswith("/linux-64/repodata.json"), first


def test_url_channel_spec_is_parsed_as_url() -> None:
    spec = parse_env_text(
        "channels: [conda-forge]\ndependencies:\n  - https://host.example/path/chan::dep\n"
        "  - https://host.example/other/linux-64::dep2 >=1\n  - conda-forge/linux-64::dep3\n",
        "environment.yml",
    )
    channels = [d.channel for d in spec.dependencies]
    assert channels == ["https://host.example/path/chan", "https://host.example/other", "conda-forge"]


@pytest.mark.slow
def test_url_channel_spec_locks_through_mirror_without_credentials(tmp_path: Path) -> None:
    """``https://user:pw@conda.anaconda.org/hostchan::app``: mirrored like any channel, written canonical."""
    served = tmp_path / "served"
    write_channel(served, {"base-1.0-h0_0.tar.bz2": record("base")})
    write_channel(served, {"app-1.0-h0_0.tar.bz2": record("app")}, name="otherchan")
    project = _project(tmp_path)
    text = env("base", "https://u:secretpw1@conda.anaconda.org/otherchan::app")
    result = lock(project, served, env_text=text)
    assert result.returncode == 0, result.stderr
    locks = lock_texts(project)
    assert "https://conda.anaconda.org/otherchan/linux-64/app-1.0-h0_0.tar.bz2#" in locks
    assert f"{CANONICAL}/linux-64/base-1.0-h0_0.tar.bz2#" in locks
    assert "secretpw1" not in locks + result.stderr
