"""A channel that cannot be reached is named as the environment file lists it (`defaults`, with its
line), with the `--mirror` / `nodefaults` fix; `defaults` expands per platform as conda does."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run_lockgen

ENV = "name: t\nchannels:\n  - conda-forge\n  - defaults\ndependencies:\n  - numpy\n"
# .invalid never resolves (RFC 2606): Anaconda's host is sent there, conda-forge to an empty directory
FAST = {"LOCKGEN_HTTP_RETRIES": "0", "LOCKGEN_HTTP_TIMEOUT": "5"}


def _lock(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = tmp_path / "environment.yml"
    env.write_text(ENV)
    (tmp_path / "cf").mkdir(exist_ok=True)
    # a process per run, as users run lockgen: in one process a second lookup of a dead host name can
    # time out instead of failing at once (rattler's resolver, seen under pytest), not what users meet
    result = run_lockgen(
        "lock",
        "-f",
        "environment.yml",
        "--cache-dir",
        tmp_path / "cache",
        "--mirror",
        f"https://conda.anaconda.org={tmp_path / 'cf'}",
        "--mirror",
        "https://repo.anaconda.com=https://repo.anaconda.invalid",
        *args,
        cwd=tmp_path,
        env=FAST,
    )
    return result.returncode, result.stderr


def test_unreachable_defaults_is_named_with_its_line_and_fix(tmp_path: Path) -> None:
    outputs = set()
    for _ in range(2):
        code, err = _lock(tmp_path)
        assert code == 5, err
        outputs.add(err)
    assert len(outputs) == 1, outputs  # the same error every run, whichever download failed first
    (err,) = outputs
    assert "linux-64, osx-64, win-64: cannot reach https://repo.anaconda.invalid" in err
    assert "channel `defaults` (environment.yml:4)" in err
    assert "--mirror https://repo.anaconda.com=" in err and "`nodefaults`" in err
    assert "Traceback" not in err


def test_offline_names_each_missing_url_once_and_msys2_only_for_windows(tmp_path: Path) -> None:
    code, err = _lock(tmp_path, "--offline", "-p", "linux-64", "-p", "win-64")
    assert code == 5, err
    lines = [line for line in err.splitlines() if "offline" in line]
    linux = next(line for line in lines if "linux-64: offline" in line)
    win = next(line for line in lines if "win-64: offline" in line)
    assert "channel `defaults` (environment.yml:4): https://repo.anaconda.invalid/pkgs/main/linux-64," in linux
    assert "msys2" not in linux and "pkgs/msys2/win-64" in win
    for line in lines:
        urls = [w.strip(",;") for w in line.split() if "://" in w]
        assert len(urls) == len(set(urls)), line  # no URL printed twice


def test_refused_connections_name_the_first_channel_in_order(tmp_path: Path) -> None:
    import socket

    ports = []
    for _ in range(2):
        with socket.socket() as probe:  # ports nothing listens on
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    env = tmp_path / "environment.yml"
    first, second = (f"http://127.0.0.1:{port}" for port in ports)
    env.write_text(f"channels:\n  - {first}/a\n  - {second}/b\ndependencies:\n  - x\n")
    seen = set()
    for _ in range(3):
        result = run_lockgen(  # a process per run, as in _lock
            "lock", "-f", "environment.yml", "--cache-dir", tmp_path / "cache", "-p", "linux-64", cwd=tmp_path, env=FAST
        )
        assert result.returncode == 5, result.stderr
        seen.add(result.stderr)
    assert len(seen) == 1, seen
    (err,) = seen
    assert f"cannot reach {first} for channel `{first}/a` (environment.yml:2)" in err
    assert "connection refused" in err and f"--mirror {first}=" in err
