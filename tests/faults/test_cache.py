"""Cache faults and concurrent processes: a damaged repodata cache is refetched; two processes
sharing a cache both succeed; two processes writing one output directory never mix their files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.conftest import ENV, FAST_NET, Project, snapshot
from tests.faults.figures import count
from tests.faults.server import FaultServer


def _cache_files(cache: Path, suffix: str) -> list[Path]:
    """Repodata cache files rattler keeps: ``<hash>.json`` (the repodata) and ``<hash>.info.json`` (its state)."""
    found = [p for p in cache.rglob("*") if p.is_file() and p.name.endswith(suffix)]
    if suffix == ".json":
        found = [p for p in found if not p.name.endswith(".info.json")]
    return sorted(found)


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(b"\x00\xffnot json at all" * 8)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "html":
        path.write_bytes(b"<html><body>Sign in</body></html>")
    elif how == "same-size-and-mtime":  # a bit flip on disk: only a content check can see it
        stat = path.stat()
        path.write_bytes(b"X" * len(data))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.mark.parametrize("suffix", [".json", ".info.json"])
@pytest.mark.parametrize("how", ["truncate", "garbage", "empty", "html", "same-size-and-mtime"])
def test_damaged_cache_is_refetched(how: str, suffix: str, locked_project: Project, server: FaultServer) -> None:
    first = locked_project.lock(server.url, "--update-all", env=FAST_NET)
    assert first.returncode == 0, first.stderr
    good = snapshot(locked_project.locks)
    damaged = _cache_files(locked_project.cache, suffix)
    assert damaged, sorted(p.name for p in locked_project.cache.rglob("*"))
    for path in damaged:
        _damage(path, how)
    count("cache faults injected", len(damaged))
    server.clear()
    again = locked_project.lock(server.url, "--update-all", env=FAST_NET)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert snapshot(locked_project.locks) == good
    assert _full_downloads(server) == 2  # linux-64 and noarch refetched, not read from the damaged files


def test_intact_cache_is_revalidated_not_refetched(locked_project: Project, server: FaultServer) -> None:
    """The control for the test above: with an intact cache the server answers 304, no full download."""
    first = locked_project.lock(server.url, "--update-all", env=FAST_NET)
    assert first.returncode == 0, first.stderr
    server.clear()
    again = locked_project.lock(server.url, "--update-all", env=FAST_NET)
    assert again.returncode == 0, again.stderr
    assert _full_downloads(server) == 0


def _full_downloads(server: FaultServer) -> int:
    """rattler's full repodata downloads (lockgen's size check of a subdir it has no cache entry for is not one)."""
    return sum(
        1
        for h in server.hits
        if h.method == "GET" and h.status == 200 and "/repodata.json" in h.path and h.agent != "lockgen"
    )


def _popen_lock(project: Project, mirror: str, out: Path, cache: Path, env_file: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "lockgen", "lock", "-f", str(env_file), "-p", "linux-64", "-p", "osx-64",
            "--mirror", f"https://conda.anaconda.org={mirror}", "--cache-dir", str(cache), "-o", str(out),
        ],
        cwd=project.root,
        env={**os.environ, **FAST_NET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def test_two_processes_share_one_cache(project: Project, server: FaultServer) -> None:
    env_file = project.root / "environment.yml"
    procs = [_popen_lock(project, server.url, project.root / f"out{i}", project.cache, env_file) for i in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    count("concurrent runs", 2)
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    assert snapshot(project.root / "out0") == snapshot(project.root / "out1")


def test_two_writers_never_interleave(project: Project, channel_root: Path) -> None:
    """Two processes with different environments lock into one directory, three rounds: the final
    set always comes whole from one of them (same input across platforms), never a mix."""
    env_a = project.root / "a.yml"
    env_b = project.root / "b.yml"
    env_a.write_text(ENV)
    env_b.write_text(ENV.replace("app >=1.0", "app >=1.0\n  - pydata"))
    out = project.root / "shared-out"
    for _ in range(3):
        procs = [
            _popen_lock(project, channel_root.as_uri(), out, project.root / f"cache-{env.stem}", env)
            for env in (env_a, env_b)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        count("concurrent runs", 2)
        files = snapshot(out)
        assert sorted(files) == ["linux-64.txt", "osx-64.txt"], sorted(files)
        sources = {text.decode().splitlines()[0] for text in files.values()}
        assert len(sources) == 1, sources  # "Generated by lockgen from a.yml" or "... b.yml", not both


def test_output_dir_that_is_a_file_is_refused_before_the_solve(project: Project, channel_root: Path) -> None:
    """An output "directory" that is a regular file is a bad option, found before anything is solved or
    written (exit 2), the file untouched (tests/unit/test_lock_folder_is_a_file.py has the other commands)."""
    (project.root / "locks").write_text("not a directory\n")
    result = project.lock(channel_root.as_uri(), env=FAST_NET)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "is a file, not a folder" in result.stderr
    assert (project.root / "locks").read_text() == "not a directory\n"


def test_a_lock_path_that_is_a_folder_is_exit_10(project: Project, channel_root: Path) -> None:
    """A write fault (here: a lock's path is taken by a folder, which the commit cannot replace) is exit
    10, nothing changed: the folder and what it holds stay."""
    (project.root / "locks" / "linux-64.txt").mkdir(parents=True)
    (project.root / "locks" / "linux-64.txt" / "keep").write_text("mine\n")
    result = project.lock(channel_root.as_uri(), env=FAST_NET)
    count("write faults injected")
    assert result.returncode == 10, result.stderr
    assert "Traceback" not in result.stderr and "linux-64.txt" in result.stderr
    assert (project.root / "locks" / "linux-64.txt" / "keep").read_text() == "mine\n"
    assert sorted(p.name for p in (project.root / "locks").iterdir()) == ["linux-64.txt"]
