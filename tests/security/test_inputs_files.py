"""Hostile project files and settings (issue 12, items 13, 15, 16 and 19): ``-r``/``-c`` confined to
the project's tree and bounded, YAML alias bombs, repodata decompression bombs, and bad settings
that used to end in an internal error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import zstandard

from lockgen.config import build_options
from lockgen.errors import InputError
from lockgen.pypi.requirements import EXCERPT_CHARS, MAX_INCLUDE_BYTES, parse_pip_entries
from lockgen.repodata.limit import RepodataTooLarge, zstd_size_bound
from lockgen.spec.document import MAX_EXPANDED_NODES, parse_env_text
from lockgen.spec.model import Location, PipEntry
from tests.faults.figures import count
from tests.faults.server import serve_faults
from tests.security.hostile import env, record, write_channel
from tests.support.channel import QuietHandler, serve_directory, sharded_copy
from tests.support.cli import invoke_lockgen, mirror_options, run_lockgen
from tests.support.options import flags

CANARY = "envcanary-93c1d7aa0f"


def _entries(project: Path, *lines: str) -> list[PipEntry]:
    env_file = project / "environment.yml"
    env_file.touch()
    return [PipEntry(text, None, Location(str(env_file), i + 5)) for i, text in enumerate(lines)]


def _problems(project: Path, *lines: str, allow: tuple[Path, ...] = ()) -> str:
    with pytest.raises(InputError) as info:
        parse_pip_entries(_entries(project, *lines), allow)
    count("hostile input cases")
    return info.value.message


# --- item 13: -r / -c stay in the project's tree, bounded, never echoed -------------------------


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ"])
@pytest.mark.parametrize("option", ["-r", "-c", "--requirement="])
def test_include_outside_the_project_is_refused_unread(tmp_path: Path, target: str, option: str) -> None:
    message = _problems(tmp_path, f"{option}{target}" if option.endswith("=") else f"{option} {target}")
    assert "outside the project" in message and "--allow-include" in message
    assert "root:" not in message and "PATH=" not in message
    assert message.count("\n") == 1  # one problem, not one per line of the file


def test_relative_escape_and_symlink_out_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOKEN=abcdef\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "link.txt").symlink_to(outside / "secret.txt")
    message = _problems(project, "-r ../outside/secret.txt", "-c link.txt")
    assert message.count("outside the project") == 2
    assert "abcdef" not in message


def test_repository_root_and_allowed_dirs_are_inside(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "common").mkdir()
    (repo / "common" / "base.txt").write_text("requests==2.31.0\n")
    project = repo / "envs" / "train"
    project.mkdir(parents=True)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "pins.txt").write_text("urllib3<3\n")
    assert "outside the project" in _problems(project, "-c ../../../shared/pins.txt")
    pip = parse_pip_entries(_entries(project, "-r ../../common/base.txt", "-c ../../../shared/pins.txt"), (shared,))
    assert pip.requirements == ("requests==2.31.0",)
    assert pip.constraints == ("urllib3<3",)


def test_allow_includes_from_tool_config_and_cli(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text("dependencies: []\n")
    (tmp_path / "pyproject.toml").write_text('[tool.lockgen]\nallow-includes = ["../shared"]\n')
    options = build_options([tmp_path / "environment.yml"], flags(writes_locks=True))  # lock
    assert options.allow_includes == (tmp_path / "../shared",)
    options = build_options([tmp_path / "environment.yml"], flags())  # check, diff, explain, install: not from a PR
    assert options.allow_includes == () and options.withheld_includes[0][0] == tmp_path / "../shared"
    for writes in (True, False):
        given = flags(allow_includes=(Path("/opt/reqs"),), writes_locks=writes)
        options = build_options([tmp_path / "environment.yml"], given)
        assert options.allow_includes == (Path("/opt/reqs"),)


def test_oversized_or_special_include_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x==1\n" * (MAX_INCLUDE_BYTES // 5 + 1))
    os.mkfifo(tmp_path / "pipe.txt")
    message = _problems(tmp_path, "-r big.txt", "-r pipe.txt")
    assert "larger than" in message
    assert "not a regular file" in message


def test_a_line_that_is_not_a_requirement_is_shown_only_as_an_excerpt(tmp_path: Path) -> None:
    secret = "s3cr3t-" + "z" * 60
    (tmp_path / "notes.txt").write_text(f"API_KEY={secret}\n")
    message = _problems(tmp_path, "-r notes.txt")
    assert "notes.txt:1" in message
    assert secret not in message and "z" * (EXCERPT_CHARS - 10) not in message


@pytest.mark.slow
def test_lock_never_prints_the_environment_of_ci(tmp_path: Path) -> None:
    served = tmp_path / "served"
    python = {"python-3.11.9-h0_0.tar.bz2": record("python", "3.11.9")}
    write_channel(served, {**python, "pip-24.2-h0_0.tar.bz2": record("pip", "24.2")})
    project = tmp_path / "project"
    project.mkdir()
    (project / "environment.yml").write_text(env("python=3.11", pip=("-r /proc/self/environ", "pipdep")))
    result = run_lockgen(
        "lock", "-v", "-p", "linux-64", "--mirror", f"https://conda.anaconda.org={served}",
        "--cache-dir", tmp_path / "cache", cwd=project, env={"CI_SECRET": CANARY}, timeout=120,
    )  # fmt: skip
    count("secret checks")
    assert result.returncode == 3, result.stderr
    assert "outside the project" in result.stderr
    assert CANARY not in result.stdout + result.stderr


# --- item 15: YAML aliases ----------------------------------------------------------------------


def test_alias_bomb_is_refused_with_file_and_line() -> None:
    block = "".join(f"    - pkg{i}>=1.0\n" for i in range(2000))
    text = "channels: [conda-forge]\ndependencies:\n  - python\n  - pip: &block\n" + block
    text += "".join("  - pip: *block\n" for _ in range(MAX_EXPANDED_NODES // 2000 + 5))
    with pytest.raises(InputError) as info:
        parse_env_text(text, "environment.yml")
    count("hostile input cases")
    (problem,) = info.value.problems
    assert "expands to more than" in problem.message
    assert problem.file == "environment.yml" and problem.line is not None


def test_recursive_alias_is_refused() -> None:
    text = "channels: [conda-forge]\ndependencies: &d\n  - python\n  - *d\n"
    with pytest.raises(InputError) as info:
        parse_env_text(text, "environment.yml")
    assert "environment.yml:" in info.value.message


@pytest.mark.slow
def test_check_exits_3_on_an_alias_bomb(tmp_path: Path) -> None:
    block = "".join(f"    - pkg{i}>=1.0\n" for i in range(3000))
    text = "channels: [conda-forge]\ndependencies:\n  - python\n  - pip: &block\n" + block
    text += "".join("  - pip: *block\n" for _ in range(40))
    (tmp_path / "environment.yml").write_text(text)
    result = run_lockgen("check", "-p", "linux-64", cwd=tmp_path, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "environment.yml:" in result.stderr and "expands to more than" in result.stderr


# --- item 16: repodata decompression bombs ------------------------------------------------------


def _bomb(size_mb: int, head: bytes = b'{"info": {}, "packages": {}, "pad": "') -> bytes:
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    parts = [compressor.compress(head)]
    block = b" " * (1 << 20)
    parts += [compressor.compress(block) for _ in range(size_mb)]
    parts += [compressor.compress(b'"}'), compressor.flush()]
    return b"".join(parts)


def test_zstd_bound_is_an_upper_bound_and_stops_early() -> None:
    data = b'{"packages": {' + b",".join(b'"p%d": {"v": "%d"}' % (i, i) for i in range(50_000)) + b"}}"
    for compressed in (zstandard.ZstdCompressor().compress(data), zstandard.ZstdCompressor(level=1).compress(data) * 2):
        bound = zstd_size_bound([compressed[i : i + 777] for i in range(0, len(compressed), 777)], 10**9)
        assert bound >= len(data) * compressed.count(b"\x28\xb5\x2f\xfd")
        assert bound < 2 * len(data) * compressed.count(b"\x28\xb5\x2f\xfd") + 256 * 1024
    bomb = _bomb(64)
    assert len(bomb) < 64 * 1024
    read: list[int] = []

    def chunks() -> object:
        for i in range(0, len(bomb), 1024):
            read.append(i)
            yield bomb[i : i + 1024]

    with pytest.raises(RepodataTooLarge):
        zstd_size_bound(chunks(), 8 * 2**20)  # type: ignore[arg-type]
    assert len(read) * 1024 < len(bomb)  # stopped reading early


def _lock_from_bomb(tmp_path: Path, size_mb: int, serve: Any) -> tuple[Path, Any]:
    """A channel whose linux-64 `.zst` expands to ``size_mb`` MB of JSON, locked
    through ``serve(directory)`` with a 50 MB limit: the project directory and the run's result."""
    served = tmp_path / "served"
    chan = write_channel(served, {"app-1.0-h0_0.tar.bz2": record("app")})
    plain = (chan / "linux-64" / "repodata.json").read_bytes()
    (chan / "linux-64" / "repodata.json.zst").write_bytes(_bomb(size_mb, plain[:-1] + b', "pad": "'))
    project = tmp_path / "project"
    project.mkdir()
    (project / "environment.yml").write_text(env("app"))
    with serve(served) as server:
        result = run_lockgen(
            "lock", "-p", "linux-64", "--mirror", f"https://conda.anaconda.org={server.url}",
            "--cache-dir", project / "cache", cwd=project, env={"LOCKGEN_REPODATA_MAX_MB": "50"}, timeout=120,
        )  # fmt: skip
    count("hostile channel cases")
    assert result.returncode == 5, result.stderr
    cached = sum(p.stat().st_size for p in (project / "cache").rglob("*") if p.is_file())
    assert cached < 10 * 2**20
    assert not (project / "locks").exists()
    return project, result


@pytest.mark.slow
def test_repodata_bomb_is_refused_before_it_fills_the_cache(tmp_path: Path) -> None:
    _, result = _lock_from_bomb(tmp_path, 120, serve_faults)
    assert "channel hostchan, linux-64" in result.stderr and "LOCKGEN_REPODATA_MAX_MB" in result.stderr


class _TwoFaced(QuietHandler):
    """Tells lockgen's size check the channel is sharded (so it skips the flat file) and serves rattler
    the flat bomb: a server may tell the two apart, so the cache is checked after the fetch too."""

    def do_HEAD(self) -> None:
        if self.path.endswith("repodata_shards.msgpack.zst") and self.headers.get("User-Agent") == "lockgen":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_HEAD()


@pytest.mark.slow
def test_bomb_served_only_to_rattler_is_removed_from_the_cache(tmp_path: Path) -> None:
    _, result = _lock_from_bomb(tmp_path, 70, lambda served: serve_directory(served, _TwoFaced))
    assert "channel hostchan, linux-64" in result.stderr and "removed from the cache" in result.stderr


class _Counting(QuietHandler):
    """Records HEAD requests too, answers 404 for every path in ``withdrawn``, and never 304: rattler
    0.28 fails a lock when its revalidation of a cached shard index is answered 304 Not Modified."""

    withdrawn: set[str] = set()  # noqa: RUF012 - each test's subclass gives its own set

    def do_HEAD(self) -> None:
        self.server.requests_seen.append(f"HEAD {self.path}")  # type: ignore[attr-defined]
        if self.path in self.withdrawn:
            self.send_error(404)
            return
        super().do_HEAD()

    def do_GET(self) -> None:
        del self.headers["If-Modified-Since"]
        if self.path in self.withdrawn:
            self.server.requests_seen.append(self.path)  # type: ignore[attr-defined]
            self.send_error(404)
            return
        super().do_GET()


@pytest.mark.slow
def test_warm_sharded_lock_sends_no_size_check_and_a_bomb_is_still_refused(tmp_path: Path) -> None:
    """Issue 21: a re-lock on a cached sharded channel makes no HEAD request for the size check (the
    shard index rattler cached says the subdir is sharded); when the channel later withdraws its
    shards and serves a flat bomb, rattler's fetch of it is refused and removed from the cache."""
    pytest.importorskip("msgpack", reason="bench/variants.py writes shards with msgpack (a dev dependency)")
    flat = tmp_path / "flat"
    chan = write_channel(flat, {"app-1.0-h0_0.tar.bz2": record("app")})
    served = sharded_copy(flat, tmp_path / "served")
    project = tmp_path / "project"
    project.mkdir()
    (project / "environment.yml").write_text(env("app"))

    class Handler(_Counting):
        withdrawn: set[str] = set()  # noqa: RUF012

    with serve_directory(served, Handler) as server:
        args = ("lock", "-p", "linux-64", *mirror_options(server.url, project / "cache"))
        limit = {"LOCKGEN_REPODATA_MAX_MB": "50"}
        cold = run_lockgen(*args, cwd=project, env=limit, timeout=120)
        assert cold.returncode == 0, cold.stderr
        heads = [r for r in server.requests if r.startswith("HEAD ")]
        assert sorted(heads) == [f"HEAD /hostchan/{s}/repodata_shards.msgpack.zst" for s in ("linux-64", "noarch")]
        first = (project / "locks" / "linux-64.txt").read_bytes()

        (project / "locks" / "linux-64.txt").unlink()
        server.requests.clear()
        warm = run_lockgen(*args, cwd=project, env=limit, timeout=120)
        assert warm.returncode == 0, warm.stderr
        assert [r for r in server.requests if r.startswith("HEAD ")] == []
        assert (project / "locks" / "linux-64.txt").read_bytes() == first

        # the channel now serves no shards for linux-64, and a flat repodata that expands to 70 MB
        plain = (chan / "linux-64" / "repodata.json").read_bytes()
        (served / "hostchan" / "linux-64" / "repodata.json.zst").write_bytes(_bomb(70, plain[:-1] + b', "pad": "'))
        Handler.withdrawn.add("/hostchan/linux-64/repodata_shards.msgpack.zst")
        (project / "locks" / "linux-64.txt").unlink()
        hostile = run_lockgen(*args, cwd=project, env=limit, timeout=120)
    assert hostile.returncode == 5, hostile.stderr
    assert "channel hostchan, linux-64" in hostile.stderr and "LOCKGEN_REPODATA_MAX_MB" in hostile.stderr
    cached = sum(p.stat().st_size for p in (project / "cache").rglob("*") if p.is_file())
    assert cached < 10 * 2**20
    assert not (project / "locks" / "linux-64.txt").exists()


# --- item 19: documented exit codes, not internal errors ----------------------------------------


@pytest.mark.parametrize("template", ["{platform}{", "{platform}{x}", "{platform}{0}", "{platform}}"])
@pytest.mark.slow
def test_bad_filename_template_is_a_config_error(tmp_path: Path, template: str) -> None:
    (tmp_path / "environment.yml").write_text(env("app"))
    result = invoke_lockgen("lock", "--offline", "-p", "linux-64", "--filename-template", template, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--filename-template" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("how", ["option", "env"])
@pytest.mark.slow
def test_unusable_cache_dir_is_a_config_error(tmp_path: Path, how: str) -> None:
    served = tmp_path / "served"
    write_channel(served, {"app-1.0-h0_0.tar.bz2": record("app")})
    project = tmp_path / "project"
    project.mkdir()
    (project / "environment.yml").write_text(env("app"))
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    mirror = ("--mirror", f"https://conda.anaconda.org={served}")
    if how == "option":
        result = invoke_lockgen("lock", "-p", "linux-64", *mirror, "--cache-dir", "/proc/lockgen-cache", cwd=project)
    else:
        result = invoke_lockgen("lock", "-p", "linux-64", *mirror, cwd=project, env={"LOCKGEN_CACHE_DIR": str(a_file)})
    assert result.returncode == 2, result.stderr
    assert "internal error" not in result.stderr
    assert "cache" in result.stderr


@pytest.mark.parametrize("url", ["http://[::1x]/chan", "https://[fe80::1/chan", "https://host:99999/chan"])
@pytest.mark.slow
def test_malformed_url_host_is_an_input_error(tmp_path: Path, url: str) -> None:
    for text in (f"channels:\n  - {url}\ndependencies:\n  - app\n", f"channels: [x]\ndependencies:\n  - {url}::app\n"):
        (tmp_path / "environment.yml").write_text(text)
        result = invoke_lockgen("lock", "--offline", "-p", "linux-64", "--cache-dir", tmp_path / "c", cwd=tmp_path)
        assert result.returncode == 3, result.stderr
        assert "environment.yml:" in result.stderr and "internal error" not in result.stderr


@pytest.mark.slow
def test_malformed_mirror_url_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text(env("app"))
    for mirror in ("http://[::1x]/c=/tmp", "https://conda.anaconda.org=http://[::1x]/c"):
        result = invoke_lockgen(
            "lock", "--offline", "-p", "linux-64", "--mirror", mirror, "--cache-dir", tmp_path / "c", cwd=tmp_path
        )
        assert result.returncode == 2, result.stderr
        assert "internal error" not in result.stderr
