"""Network faults against a channel server on 127.0.0.1: each ends in exit 5, a message naming the
URL and the reason, no traceback, and the existing locks untouched."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.faults.conftest import CHANNEL, FAST_NET, Project, snapshot
from tests.faults.figures import count
from tests.faults.server import FaultServer
from tests.support.cli import run_lockgen

LINUX = f"/{CHANNEL}/linux-64/"


@dataclass(frozen=True)
class Case:
    name: str
    inject: Callable[[FaultServer], object]
    reason: str
    """A regex the error message must match (case-insensitive)."""


def _only_plain_json(server: FaultServer, body: bytes) -> None:
    server.fault(f"{LINUX}repodata.json.*", "status", status=404)
    server.fault(f"{LINUX}repodata.json", "garbage", body=body)


CASES = [
    Case("http-500", lambda s: s.fault(f"{LINUX}*", "status", status=500), r"HTTP 500"),
    Case("http-502", lambda s: s.fault(f"{LINUX}*", "status", status=502), r"HTTP 502"),
    Case("http-503", lambda s: s.fault(f"{LINUX}*", "status", status=503), r"HTTP 503"),
    Case("stall", lambda s: s.fault(f"{LINUX}*", "stall", seconds=20), r"no answer within 1 s"),
    Case("truncated-zst", lambda s: s.fault(f"{LINUX}repodata.json.zst", "truncate"), r"cut off"),
    Case(
        "corrupt-zst",
        lambda s: s.fault(f"{LINUX}repodata.json.zst", "garbage", body=b"\x28\xb5\x2f\xfd" + b"\x00garbage" * 64),
        r"not valid compressed",
    ),
    Case("invalid-json", lambda s: _only_plain_json(s, b'{"info": {"subdir": "linux-64"}, "packages": [1,'), r"JSON"),
    Case("html-login", lambda s: s.fault(f"{LINUX}*", "html"), r"HTML"),
    Case("redirect-loop", lambda s: s.fault(f"{LINUX}*", "redirect"), r"redirect"),
    Case("auth-required", lambda s: s.fault(f"{LINUX}*", "status", status=401), r"HTTP 401.*credentials"),
]


def _assert_clean_failure(result_stderr: str, code: int, url_part: str, reason: str) -> None:
    assert code == 5, result_stderr
    assert "Traceback" not in result_stderr
    assert "internal error" not in result_stderr
    assert url_part in result_stderr, result_stderr
    assert re.search(reason, result_stderr, re.IGNORECASE | re.DOTALL), result_stderr


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_gives_clean_error_and_keeps_locks(case: Case, locked_project: Project, server: FaultServer) -> None:
    before = snapshot(locked_project.locks)
    case.inject(server)
    result = locked_project.lock(server.url, "--update-all", env=FAST_NET)
    count("network faults injected")
    _assert_clean_failure(result.stderr, result.returncode, f"{server.url}{LINUX}", case.reason)
    assert snapshot(locked_project.locks) == before
    # the fault did not poison the cache: once the server behaves, the same cache locks fine
    server.clear()
    again = locked_project.lock(server.url, "--update-all", env=FAST_NET)
    assert again.returncode == 0, again.stderr
    assert snapshot(locked_project.locks) == before  # same channel, same solution


def test_connection_refused(locked_project: Project) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = snapshot(locked_project.locks)
    url = f"http://127.0.0.1:{port}"
    result = locked_project.lock(url, "--update-all", env=FAST_NET)
    count("network faults injected")
    _assert_clean_failure(result.stderr, result.returncode, url, r"connection refused")
    assert snapshot(locked_project.locks) == before


def test_server_errors_are_retried_with_the_default_count(locked_project: Project, server: FaultServer) -> None:
    """503 on repodata.json: one attempt plus LOCKGEN_HTTP_RETRIES (default 3) retries, then exit 5."""
    server.fault(f"{LINUX}repodata.json.*", "status", status=404)
    server.fault(f"{LINUX}repodata.json", "status", status=503)
    result = locked_project.lock(server.url, "--update-all", env={"LOCKGEN_HTTP_TIMEOUT": "5"})
    count("network faults injected")
    _assert_clean_failure(result.stderr, result.returncode, f"{server.url}{LINUX}repodata.json", r"HTTP 503")
    assert server.count(f"{LINUX}repodata.json", status=503) == 4


def test_transient_error_recovers_by_retry(locked_project: Project, server: FaultServer) -> None:
    """Two 503s then success: the retry absorbs the fault and the lock succeeds."""
    server.fault(f"{LINUX}repodata.json.*", "status", status=404)
    server.fault(f"{LINUX}repodata.json", "status", status=503, times=2)
    before = snapshot(locked_project.locks)
    result = locked_project.lock(server.url, "--update-all", env={"LOCKGEN_HTTP_TIMEOUT": "5"})
    count("network faults injected")
    assert result.returncode == 0, result.stderr
    assert server.count(f"{LINUX}repodata.json", status=503) == 2
    assert server.count(f"{LINUX}repodata.json", status=200) == 1
    assert snapshot(locked_project.locks) == before


def test_missing_platform_subdir_is_named(locked_project: Project, server: FaultServer) -> None:
    """404 for linux-64 only: conda semantics treat a missing platform subdir as empty (noarch-only
    channels are legal), so this is a solve failure (exit 4) whose message names the missing URL."""
    server.fault(f"{LINUX}*", "status", status=404)
    before = snapshot(locked_project.locks)
    result = locked_project.lock(server.url, "--update-all", env=FAST_NET)
    count("network faults injected")
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{server.url}{LINUX}repodata.json" in result.stderr
    assert "404" in result.stderr or "missing" in result.stderr
    assert snapshot(locked_project.locks) == before


def test_missing_noarch_is_a_channel_error(locked_project: Project, server: FaultServer) -> None:
    server.fault(f"/{CHANNEL}/noarch/*", "status", status=404)
    before = snapshot(locked_project.locks)
    result = locked_project.lock(server.url, "--update-all", env=FAST_NET)
    count("network faults injected")
    _assert_clean_failure(result.stderr, result.returncode, f"{server.url}/{CHANNEL}/noarch/", r"404|not found")
    assert snapshot(locked_project.locks) == before


def test_noarch_failure_on_a_cold_multi_platform_lock_is_reported_once(project: Project, server: FaultServer) -> None:
    """With an empty cache lockgen fetches each channel's noarch first (flat or sharded decides how
    many platforms run at once). If that fails, every platform is reported failing from that one
    attempt: noarch is not fetched again by each platform's solve."""
    server.fault(f"/{CHANNEL}/noarch/*", "status", status=503)
    result = run_lockgen(
        "lock", "-p", "linux-64", "-p", "osx-64", "--mirror", f"https://conda.anaconda.org={server.url}",
        "--cache-dir", project.cache, cwd=project.root, env=FAST_NET,
    )  # fmt: skip
    count("network faults injected")
    _assert_clean_failure(result.stderr, result.returncode, f"{server.url}/{CHANNEL}/noarch/", r"HTTP 503")
    assert "linux-64, osx-64:" in result.stderr, result.stderr
    fetches = [h for h in server.hits if h.path.startswith(f"/{CHANNEL}/noarch/") and h.method == "GET"]
    assert len(fetches) == 2  # one attempt and LOCKGEN_HTTP_RETRIES=1 retry (the size check only HEADs)
    assert not project.locks.exists()
