"""The CLI turns bad input into one clear message per problem and a documented exit code."""

from __future__ import annotations

from pathlib import Path

from tests.support.channel import ChannelBuilder
from tests.support.cli import invoke_lockgen


def test_missing_default_file(tmp_path: Path) -> None:
    result = invoke_lockgen("lock", cwd=tmp_path)
    assert result.returncode == 3
    assert "environment.yml: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_all_problems_with_file_line(tmp_path: Path) -> None:
    (tmp_path / "env.yml").write_text(
        "name: x\nchannels:\n  - 7\nplatforms: [linux-64, mars-64]\ndependencies:\n  - num$py\n  - pip: rich\n"
    )
    result = invoke_lockgen("lock", "-f", "env.yml", cwd=tmp_path)
    assert result.returncode == 3
    err = result.stderr
    assert "4 problems" in err
    for where in ("env.yml:3:", "env.yml:4:", "env.yml:6:", "env.yml:7:"):
        assert where in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "locks").exists()


def test_warnings_for_unknown_keys_are_shown(tmp_path: Path) -> None:
    channel = ChannelBuilder(tmp_path / "chan")
    channel.add("tool", "1.0")
    channel.write()
    (tmp_path / "environment.yml").write_text("channels: [./chan]\nprefix: /x\ncolour: blue\ndependencies: [tool]\n")
    result = invoke_lockgen("lock", "-p", "linux-64", "--cache-dir", tmp_path / "cache", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "environment.yml:2: note: `prefix:` is ignored" in result.stderr
    assert "environment.yml:3: warning: unknown top-level key `colour`" in result.stderr
    assert (tmp_path / "chan").as_uri() + "/noarch/tool-1.0-0.tar.bz2#" in (
        tmp_path / "locks" / "linux-64.txt"
    ).read_text()


def test_bad_options_exit_2(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text("channels: [c]\ndependencies: [python]\n")
    for args in (
        ["-p", "linux-64/../../etc"],
        ["--exclude-newer", "soon"],
        ["--mirror", "nonsense"],
        ["--virtual-package", "linux-64:glibc"],
        ["--filename-template", "../x-{platform}"],
    ):
        result = invoke_lockgen("lock", *args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr
    result = invoke_lockgen("lock", "--channel-priority", "loose", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
