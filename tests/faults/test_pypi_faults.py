"""Faults on the pip side: the package index (read by uv) and the conda→PyPI mapping download.

Each ends in a documented exit code (5: the index or mapping could not be fetched; 7: the pip
section could not be resolved), a message naming the URL, no traceback, and the locks untouched.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.conftest import CHANNEL, build_pip_world, snapshot
from tests.faults.figures import count
from tests.faults.server import FaultServer, serve_faults
from tests.support.cli import run_lockgen

FAST_UV = {"UV_HTTP_TIMEOUT": "2", "UV_HTTP_RETRIES": "1", "LOCKGEN_HTTP_TIMEOUT": "1", "LOCKGEN_HTTP_RETRIES": "1"}


@dataclass
class PipWorld:
    root: Path
    server: FaultServer

    def lock(self, *args: str, cache: str = "cache") -> subprocess.CompletedProcess[str]:
        env = {**FAST_UV, "LOCKGEN_PYPI_MAPPING_URL": self.server.url + "/mapping/{channel}.json"}
        return run_lockgen(
            "lock", "-p", "linux-64", "--mirror", f"https://conda.anaconda.org={self.server.url}/channels",
            "--cache-dir", self.root / cache, *args, cwd=self.root, env=env, timeout=240,
        )  # fmt: skip


@pytest.fixture
def pip_world(tmp_path: Path) -> Iterator[PipWorld]:
    served = tmp_path / "served"
    build_pip_world(served, {"python": None, "app": ["app"]})
    with serve_faults(served) as server:
        world = PipWorld(tmp_path, server)
        (tmp_path / "environment.yml").write_text(
            f"channels: [{CHANNEL}]\ndependencies:\n  - app\n  - python=3.11\n"
            f"  - pip:\n    - --index-url {server.url}/index/simple\n    - pipdep\n"
        )
        first = world.lock()
        assert first.returncode == 0, first.stderr
        assert "pipdep==1.0" in (tmp_path / "locks" / "requirements.txt").read_text()
        server.clear()
        yield world


def _lock_with_fault(world: PipWorld, pattern: str, spec: Mapping[str, object]) -> subprocess.CompletedProcess[str]:
    """Inject ``spec`` (``kind`` plus its arguments) on ``pattern``, then lock from scratch with a new cache."""
    fault = dict(spec)
    kind = str(fault.pop("kind"))
    world.server.fault(pattern, kind, **fault)
    result = world.lock("--update-all", cache="fresh-cache")
    count("network faults injected")
    return result


INDEX_FAULTS: dict[str, dict[str, object]] = {
    "http-500": {"kind": "status", "status": 500},
    "http-503": {"kind": "status", "status": 503},
    "stall": {"kind": "stall", "seconds": 30},
    "html-login": {"kind": "html"},
    "redirect-loop": {"kind": "redirect"},
    "truncated": {"kind": "truncate"},
}


@pytest.mark.parametrize("name", sorted(INDEX_FAULTS))
def test_index_fault(pip_world: PipWorld, name: str) -> None:
    before = snapshot(pip_world.root / "locks")
    result = _lock_with_fault(pip_world, "/index/*", INDEX_FAULTS[name])
    # A login page served as an index reads as "no files": uv cannot tell it from an empty project,
    # so that one is a resolution error (7) naming the index searched; the rest are fetch errors (5).
    assert result.returncode == (7 if name == "html-login" else 5), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert f"{pip_world.server.url}/index" in result.stderr, result.stderr
    assert snapshot(pip_world.root / "locks") == before


MAPPING_FAULTS: dict[str, dict[str, object]] = {
    "http-500": {"kind": "status", "status": 500},
    "stall": {"kind": "stall", "seconds": 30},
    "invalid-json": {"kind": "garbage", "body": b'{"python": [1,'},
    "html-login": {"kind": "html"},
}


@pytest.mark.parametrize("name", sorted(MAPPING_FAULTS))
def test_mapping_fault_without_cached_copy(pip_world: PipWorld, name: str) -> None:
    before = snapshot(pip_world.root / "locks")
    result = _lock_with_fault(pip_world, "/mapping/*", MAPPING_FAULTS[name])
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if result.returncode == 0:  # a documented fallback (no mapping: names taken as PyPI names) must say so
        assert re.search(r"mapping", result.stderr, re.IGNORECASE), result.stderr
        return
    assert result.returncode == 5, result.stderr
    assert f"{pip_world.server.url}/mapping" in result.stderr, result.stderr
    assert snapshot(pip_world.root / "locks") == before


def test_mapping_fault_with_cached_copy_uses_it(pip_world: PipWorld) -> None:
    """The first run cached the mapping: a later failing download falls back to that copy."""
    before = snapshot(pip_world.root / "locks")
    pip_world.server.fault("/mapping/*", "status", status=500)
    result = pip_world.lock("--update-all")
    count("network faults injected")
    assert result.returncode == 0, result.stderr
    assert snapshot(pip_world.root / "locks") == before
