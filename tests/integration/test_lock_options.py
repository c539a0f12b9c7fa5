"""Solve options end to end on channels the tests build: exclude-newer, virtual packages, priority,
channel-qualified specs through mirrors, credentials, hash kinds, file names, stale platforms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lockgen.lockfiles import parse_explicit
from tests.support.channel import ChannelBuilder, serve_directory
from tests.support.cli import invoke_lockgen

DAY_MS = 86_400_000
T0 = 1_750_000_000_000  # 2025-06-15


def _lock(tmp_path: Path, env_text: str, *args: str | Path) -> tuple[int, str, str]:
    env = tmp_path / "environment.yml"
    env.write_text(env_text)
    result = invoke_lockgen("lock", "-f", env, "--cache-dir", tmp_path / "cache", *args, cwd=tmp_path)
    return result.returncode, result.stdout, result.stderr


def _versions(path: Path) -> dict[str, str]:
    return {e.name: e.version for e in parse_explicit(path.read_text()).entries}


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A mirror root holding channels `main` and `extra`."""
    main = ChannelBuilder(tmp_path / "mirror" / "main")
    main.add("tool", "1.0", timestamp_ms=T0)
    main.add("tool", "2.0", timestamp_ms=T0 + 30 * DAY_MS)
    main.add("old", "0.1", timestamp_ms=None)  # conda-forge's oldest records have no timestamp
    main.add("gpu", "1.0", subdir="linux-64", depends=["__cuda >=12"])
    main.add("gpu", "1.0", subdir="win-64", depends=["__cuda >=12"])
    main.add("newglibc", "1.0", subdir="linux-64", depends=["__glibc >=2.34"])
    main.add("boostlike", "1.89", subdir="win-64")
    main.add("boostlike", "1.90", subdir="win-64", constrains=["__win >=10"])  # as conda-forge's libboost 1.90
    main.add("shared-name", "1.0")
    main.write()
    extra = ChannelBuilder(tmp_path / "mirror" / "extra")
    extra.add("shared-name", "9.0")
    extra.add("only-extra", "1.0")
    extra.write()
    return tmp_path / "mirror"


def _mirror_args(mirror: Path) -> tuple[str, str]:
    return ("--mirror", f"https://conda.anaconda.org={mirror}")


def test_exclude_newer_keeps_records_without_timestamp(tmp_path: Path, mirror: Path) -> None:
    env = "channels: [main]\ndependencies: [tool, old]\n"
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64", "--exclude-newer", "2025-07-01")
    assert code == 0, err
    assert _versions(tmp_path / "locks" / "linux-64.txt") == {"tool": "1.0", "old": "0.1"}
    # a plain re-lock keeps the cut-off the lock was made with; `--exclude-newer none` drops it
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64", "--update-all")
    assert code == 0, err
    assert _versions(tmp_path / "locks" / "linux-64.txt")["tool"] == "1.0"
    assert "as the locks were made: --exclude-newer 2025-07-01T00:00:00+00:00" in err
    drop = ("--update-all", "--exclude-newer", "none")
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64", *drop)
    assert code == 0, err
    assert _versions(tmp_path / "locks" / "linux-64.txt")["tool"] == "2.0"


def test_cuda_virtual_package_only_when_asked(tmp_path: Path, mirror: Path) -> None:
    env = "channels: [main]\ndependencies: [gpu]\n"
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64")
    assert code == 4
    assert "__cuda" in err and "--cuda" in err
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64", "-p", "win-64", "--cuda", "12.4")
    assert code == 0, err
    assert "gpu" in _versions(tmp_path / "locks" / "win-64.txt")


def test_windows_default_reports_a_real_windows_version(tmp_path: Path, mirror: Path) -> None:
    env = "channels: [main]\ndependencies: [boostlike]\n"
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "win-64")
    assert code == 0, err
    assert _versions(tmp_path / "locks" / "win-64.txt")["boostlike"] == "1.90"
    code, _, err = _lock(
        tmp_path, env, *_mirror_args(mirror), "-p", "win-64", "--virtual-package", "win-64:__win=6.1", "--update-all"
    )
    assert code == 0, err
    assert _versions(tmp_path / "locks" / "win-64.txt")["boostlike"] == "1.89"


def test_every_unknown_name_at_once_with_line_and_closest_names(tmp_path: Path, mirror: Path) -> None:
    env = "channels: [main]\ndependencies:\n  - tol\n  - old\n  - shared-nmae>=1\n"
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64", "-p", "win-64")
    assert code == 4, err
    assert err.count("unknown package names") == 1, err  # once: both platforms agree
    assert "linux-64, win-64: unknown package names (not in main):" in err
    assert "environment.yml:3: no package named `tol`; did you mean `tool`?" in err
    assert "environment.yml:5: no package named `shared-nmae` (in `shared-nmae>=1`); did you mean `shared-name`?" in err
    assert "No candidates" not in err
    # newglibc exists for linux-64 only: the platforms disagree, each says what it lacks; win-64 says
    # where newglibc exists and the selector that fits, not "no package named"
    env = "channels: [main]\ndependencies:\n  - tol\n  - newglibc\n"
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64", "-p", "win-64")
    assert code == 4, err
    linux, win = err.split("\n\n")
    assert "linux-64: unknown package name (not in main)" in linux and "newglibc" not in linux
    assert "win-64: unknown package names" in win and "no package named `newglibc`" not in win
    assert "environment.yml:4: `newglibc` has no win-64 build in main (it has builds for linux-64): add the" in win
    assert "selector `- newglibc  # [linux]`, or drop win-64 from the target platforms" in win


def test_virtual_package_override(tmp_path: Path, mirror: Path) -> None:
    env = "channels: [main]\ndependencies: [newglibc]\n"
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64")
    assert code == 4 and "__glibc" in err and "2.28" in err
    code, _, err = _lock(
        tmp_path, env, *_mirror_args(mirror), "-p", "linux-64", "--virtual-package", "linux-64:__glibc=2.35"
    )
    assert code == 0, err


def test_channel_priority(tmp_path: Path, mirror: Path) -> None:
    env = "channels: [main, extra]\ndependencies: [shared-name, only-extra]\n"
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64")
    assert code == 0, err
    lock = (tmp_path / "locks" / "linux-64.txt").read_text()
    assert "https://conda.anaconda.org/main/noarch/shared-name-1.0-0.tar.bz2#" in lock
    assert "https://conda.anaconda.org/extra/noarch/only-extra-1.0-0.tar.bz2#" in lock
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "linux-64", "--channel-priority", "disabled")
    assert code == 0, err  # the existing pin still satisfies the specs: minimal update keeps it
    assert "main/noarch/shared-name-1.0" in (tmp_path / "locks" / "linux-64.txt").read_text()
    code, _, err = _lock(
        tmp_path,
        env,
        *_mirror_args(mirror),
        "-p",
        "linux-64",
        "--channel-priority",
        "disabled",
        "--update",
        "shared-name",
    )
    assert code == 0, err
    assert (
        "https://conda.anaconda.org/extra/noarch/shared-name-9.0-0.tar.bz2#"
        in (tmp_path / "locks" / "linux-64.txt").read_text()
    )


def test_channel_qualified_spec_goes_through_the_mirror(tmp_path: Path, mirror: Path) -> None:
    env = "channels: [main]\ndependencies:\n  - tool\n  - extra::shared-name>=2\n"
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "osx-64")
    assert code == 0, err
    text = (tmp_path / "locks" / "osx-64.txt").read_text()
    assert "https://conda.anaconda.org/extra/noarch/shared-name-9.0-0.tar.bz2#" in text
    assert str(mirror) not in text


def test_bracket_channel_spec_locks_as_the_double_colon_form(tmp_path: Path, mirror: Path) -> None:
    """`name[channel=...]` is conda's other spelling of `channel::name`: the same lock, from the named channel."""
    written = {}
    forms = ("extra::shared-name>=2", "shared-name>=2[channel=extra]", "shared-name[channel='extra', version='>=2']")
    for form in forms:
        env = f'channels: [main]\ndependencies:\n  - tool\n  - "{form}"\n'
        code, _, err = _lock(tmp_path, env, *_mirror_args(mirror), "-p", "osx-64")
        assert code == 0, (form, err)
        text = (tmp_path / "locks" / "osx-64.txt").read_text()
        assert "https://conda.anaconda.org/extra/noarch/shared-name-9.0-0.tar.bz2#" in text, form
        written[form] = [line for line in text.splitlines() if not line.startswith(("# specs:", "# input-hash:"))]
        check = invoke_lockgen("check", "-p", "osx-64", "-f", tmp_path / "environment.yml", cwd=tmp_path)
        assert check.returncode == 0, (form, check.stdout + check.stderr)
    assert len({tuple(lines) for lines in written.values()}) == 1


def test_sha256_hashes_and_filename_template(tmp_path: Path, mirror: Path) -> None:
    env = "channels: [main]\ndependencies: [tool]\n"
    code, _, err = _lock(
        tmp_path,
        env,
        *_mirror_args(mirror),
        "-p",
        "linux-64",
        "--hash",
        "sha256",
        "--filename-template",
        "conda-{platform}.lock.txt",
        "-o",
        "out",
    )
    assert code == 0, err
    lines = (tmp_path / "out" / "conda-linux-64.lock.txt").read_text().splitlines()
    assert re.fullmatch(
        r"https://conda\.anaconda\.org/main/noarch/tool-2\.0-0\.tar\.bz2#sha256:[0-9a-f]{64}", lines[-1]
    )


def test_platforms_from_file_and_stale_platform_removed(tmp_path: Path, mirror: Path) -> None:
    code, _, err = _lock(tmp_path, "channels: [main]\ndependencies: [tool]\n", *_mirror_args(mirror))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "locks").glob("*.txt")) == ["linux-64.txt", "osx-64.txt", "win-64.txt"]
    (tmp_path / "locks" / "notes.txt").write_text("mine")
    env = "channels: [main]\nplatforms: [linux-64, osx-arm64]\ndependencies: [tool]\n"
    code, out, err = _lock(tmp_path, env, *_mirror_args(mirror))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "locks").glob("*.txt")) == ["linux-64.txt", "notes.txt", "osx-arm64.txt"]
    assert "osx-64.txt" in out and "win-64.txt" in out


def test_platform_removed_from_pyproject_platforms_is_removed_as_from_the_file(tmp_path: Path, mirror: Path) -> None:
    """[tool.lockgen] platforms set the targets as environment.yml's `platforms:` does: a platform taken
    out is stale for check, and lock removes its lock (only a lock lockgen wrote)."""
    env = "channels: [main]\ndependencies: [tool]\n"
    code, _, err = _lock(tmp_path, env, *_mirror_args(mirror))
    assert code == 0, err
    (tmp_path / "locks" / "notes.txt").write_text("mine")
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\nplatforms = ["linux-64", "osx-arm64"]\n')
    check = invoke_lockgen("check", "-f", tmp_path / "environment.yml", cwd=tmp_path)
    assert check.returncode == 6, check.stdout + check.stderr
    assert "platform removed" in check.stderr and "osx-64.txt" in check.stderr and "win-64.txt" in check.stderr
    code, out, err = _lock(tmp_path, env, *_mirror_args(mirror))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "locks").glob("*.txt")) == ["linux-64.txt", "notes.txt", "osx-arm64.txt"]
    assert "osx-64.txt" in out and "win-64.txt" in out
    check = invoke_lockgen("check", "-f", tmp_path / "environment.yml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_credentials_never_written_or_shown(tmp_path: Path) -> None:
    canary = "tk-CANARY-5f3a9c"
    root = tmp_path / "served"
    channel = ChannelBuilder(root / "t" / canary / "private")
    channel.add("tool", "1.0")
    channel.write()
    with serve_directory(root) as server:
        env = f"channels:\n  - {server.url}/t/{canary}/private\ndependencies: [tool, missing-pkg]\n"
        code, out, err = _lock(tmp_path, env, "-p", "linux-64", "-v")
        assert code == 4
        assert canary not in out + err
        env = f"channels:\n  - {server.url}/t/{canary}/private\ndependencies: [tool]\n"
        code, out, err = _lock(tmp_path, env, "-p", "linux-64", "-v")
        assert code == 0, err
    text = (tmp_path / "locks" / "linux-64.txt").read_text()
    assert canary not in out + err + text
    assert f"{server.url}/private/noarch/tool-1.0-0.tar.bz2#" in text


def test_offline_uses_the_cache_and_says_what_is_missing(tmp_path: Path, mirror: Path) -> None:
    env = "channels: [main]\ndependencies: [tool]\n"
    with serve_directory(mirror) as server:
        args = ("--mirror", f"https://conda.anaconda.org={server.url}", "-p", "linux-64")
        code, _, err = _lock(tmp_path, env, *args, "--offline")
        assert code == 5
        assert "offline" in err and "linux-64" in err and "main" in err
        assert "Traceback" not in err
        code, _, err = _lock(tmp_path, env, *args)  # fills the cache
        assert code == 0, err
        fetched = len(server.requests)
        code, _, err = _lock(tmp_path, env, *args, "--offline", "--update-all")
        assert code == 0, err
        assert len(server.requests) == fetched
