"""`lock --offline`: only the cache is read (the server sees no request), and a miss names exactly
which channel/subdir is absent."""

from __future__ import annotations

import re

from tests.faults.conftest import CHANNEL, Project, snapshot
from tests.faults.figures import count
from tests.faults.server import FaultServer


def test_offline_uses_only_the_cache(project: Project, server: FaultServer) -> None:
    online = project.lock(server.url)
    assert online.returncode == 0, online.stderr
    before = snapshot(project.locks)
    server.clear()
    result = project.lock(server.url, "--offline", "--update-all")
    count("offline runs")
    assert result.returncode == 0, result.stderr
    assert server.hits == []
    assert snapshot(project.locks) == before


def test_offline_with_empty_cache_names_every_missing_subdir(project: Project, server: FaultServer) -> None:
    result = project.lock(server.url, "--offline")
    count("offline runs")
    assert result.returncode == 5, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{CHANNEL}/linux-64 ({server.url}/{CHANNEL}/linux-64)" in result.stderr
    assert f"{CHANNEL}/noarch ({server.url}/{CHANNEL}/noarch)" in result.stderr
    assert "without --offline" in result.stderr
    assert server.hits == []
    assert not (project.locks / "linux-64.txt").exists()


def test_offline_partial_cache_names_only_what_is_missing(project: Project, server: FaultServer) -> None:
    online = project.lock(server.url)  # caches linux-64 and noarch
    assert online.returncode == 0, online.stderr
    before = snapshot(project.locks)
    server.clear()
    result = project.lock(server.url, "--offline", "-p", "osx-64")
    count("offline runs")
    assert result.returncode == 5, result.stderr
    assert f"{CHANNEL}/osx-64 ({server.url}/{CHANNEL}/osx-64)" in result.stderr
    assert not re.search(rf"{CHANNEL}/noarch \(", result.stderr), result.stderr
    assert server.hits == []
    assert snapshot(project.locks) == before
