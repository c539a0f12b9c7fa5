"""Canary credentials never leave lockgen: not in lock files, stdout, stderr, -v output or errors.

A loopback server requires the canary (HTTP basic auth, or a ``/t/<token>/`` path prefix), so each
successful run proves the credential was used; failures (wrong path, server errors, unknown
packages) prove error messages mask it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.conftest import CHANNEL, FAST_NET, build_pip_world, snapshot
from tests.faults.figures import count
from tests.faults.server import FaultServer, serve_faults
from tests.support.cli import run_lockgen

TOKEN = "canarytok-8f3a2c1e9b77"
USER = "canaryuser"
PASSWORD = "canarypw-51d7e0aa"
CANARIES = (TOKEN, PASSWORD, USER)


@dataclass
class World:
    root: Path
    server: FaultServer

    def run(self, env_text: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        (self.root / "environment.yml").write_text(env_text)
        return run_lockgen(
            "lock", "-v", "-p", "linux-64", "--cache-dir", self.root / "cache", *args,
            cwd=self.root, env={**FAST_NET, **(env or {})}, timeout=180,
        )  # fmt: skip

    def assert_no_canary(self, result: subprocess.CompletedProcess[str]) -> None:
        count("secret checks")
        seen = {
            "stdout": result.stdout,
            "stderr": result.stderr,
            **{f"locks/{k}": v.decode("utf-8", "replace") for k, v in snapshot(self.root / "locks").items()},
        }
        for where, text in seen.items():
            for canary in CANARIES:
                assert canary not in text, f"{canary!r} leaked into {where}:\n{text}"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    served = tmp_path / "served"
    build_pip_world(served, {"python": None})
    with serve_faults(served) as server:
        yield World(tmp_path, server)


def _env(channel: str, pip_index: str | None = None) -> str:
    text = f"channels:\n  - {channel}\ndependencies:\n  - app\n"
    if pip_index:
        text += f"  - python=3.11\n  - pip:\n    - --index-url {pip_index}\n    - pipdep\n"
    return text


def _auth(world: World) -> None:
    world.server.fault("/channels/*", "basic", user=USER, password=PASSWORD)
    world.server.fault("/index/*", "basic", user=USER, password=PASSWORD)


def test_basic_auth_in_channel_url(world: World) -> None:
    _auth(world)
    host = world.server.url.removeprefix("http://")
    result = world.run(_env(f"http://{USER}:{PASSWORD}@{host}/channels/{CHANNEL}"))
    assert result.returncode == 0, result.stderr
    world.assert_no_canary(result)
    lock = (world.root / "locks" / "linux-64.txt").read_text()
    assert f"{world.server.url}/channels/{CHANNEL}/linux-64/app-1.1-h2_0.tar.bz2" in lock


def test_token_in_channel_url(world: World) -> None:
    world.server.fault("*", "token", token=TOKEN)
    result = world.run(_env(f"{world.server.url}/t/{TOKEN}/channels/{CHANNEL}"))
    assert result.returncode == 0, result.stderr
    world.assert_no_canary(result)
    assert f"{world.server.url}/channels/{CHANNEL}/" in (world.root / "locks" / "linux-64.txt").read_text()


@pytest.mark.parametrize("kind", ["basic", "token"])
def test_credentials_in_mirror_url(world: World, kind: str) -> None:
    if kind == "basic":
        _auth(world)
        mirror = world.server.url.replace("http://", f"http://{USER}:{PASSWORD}@") + "/channels"
    else:
        world.server.fault("*", "token", token=TOKEN)
        mirror = f"{world.server.url}/t/{TOKEN}/channels"
    result = world.run(_env(CHANNEL), "--mirror", f"https://conda.anaconda.org={mirror}")
    assert result.returncode == 0, result.stderr
    world.assert_no_canary(result)
    assert f"https://conda.anaconda.org/{CHANNEL}/linux-64/" in (world.root / "locks" / "linux-64.txt").read_text()


@pytest.mark.parametrize("fault", ["status-500", "wrong-path", "refused", "unknown-package", "html"])
@pytest.mark.parametrize("kind", ["basic", "token"])
def test_errors_mask_credentials(world: World, kind: str, fault: str) -> None:
    host = world.server.url.removeprefix("http://")
    if fault == "refused":
        host = "127.0.0.1:9"  # discard port: nothing listens
    if kind == "basic":
        _auth(world)
        channel = f"http://{USER}:{PASSWORD}@{host}/channels/{CHANNEL}"
    else:
        world.server.fault("*", "token", token=TOKEN)
        channel = f"http://{host}/t/{TOKEN}/channels/{CHANNEL}"
    spec = "app"
    if fault == "status-500":
        world.server.clear()
        world.server.fault("*/linux-64/*", "status", status=500)
    elif fault == "html":
        world.server.clear()
        world.server.fault("*/linux-64/*", "html")
    elif fault == "wrong-path":
        channel = channel.replace(f"/channels/{CHANNEL}", "/channels/nosuchchannel")
    elif fault == "unknown-package":
        spec = "nosuchpackage"
    result = world.run(_env(channel).replace("  - app\n", f"  - {spec}\n"))
    assert result.returncode in (4, 5), result.stderr
    assert "error:" in result.stderr  # with -v the traceback is shown too, and checked for canaries
    assert "internal error" not in result.stderr
    world.assert_no_canary(result)


def test_pip_index_credentials(world: World) -> None:
    """The pip section's --index-url with user:password: used by uv, masked everywhere (lockgen/pypi)."""
    _auth(world)
    with_auth = world.server.url.replace("http://", f"http://{USER}:{PASSWORD}@")
    result = world.run(
        _env(f"{with_auth}/channels/{CHANNEL}", f"{with_auth}/index/simple"),
        env={"LOCKGEN_PYPI_MAPPING_URL": world.server.url + "/mapping/{channel}.json"},
    )
    assert result.returncode == 0, result.stderr
    world.assert_no_canary(result)
    assert "pipdep==1.0" in (world.root / "locks" / "requirements.txt").read_text()
    assert world.server.count("/index/simple/pipdep/*", status=200) >= 1  # uv used the credentials


def test_pip_index_credentials_in_errors(world: World) -> None:
    _auth(world)
    world.server.fault("/index/*", "status", status=500)
    with_auth = world.server.url.replace("http://", f"http://{USER}:{PASSWORD}@")
    result = world.run(
        _env(f"{with_auth}/channels/{CHANNEL}", f"{with_auth}/index/simple"),
        env={"LOCKGEN_PYPI_MAPPING_URL": world.server.url + "/mapping/{channel}.json"},
    )
    assert result.returncode != 0
    world.assert_no_canary(result)


def test_credentials_from_rattler_auth_file_env(world: World) -> None:
    """Credentials given through the environment (RATTLER_AUTH_FILE) work and never show."""
    _auth(world)
    auth = world.root / "auth.json"
    host = world.server.url.removeprefix("http://")
    auth.write_text(json.dumps({host.split(":")[0]: {"BasicHTTP": {"username": USER, "password": PASSWORD}}}))
    ok = world.run(_env(f"{world.server.url}/channels/{CHANNEL}"), env={"RATTLER_AUTH_FILE": str(auth)})
    world.assert_no_canary(ok)
    assert ok.returncode == 0, ok.stderr
    world.server.fault("*/linux-64/*", "status", status=503)
    failed = world.run(
        _env(f"{world.server.url}/channels/{CHANNEL}"), "--update-all", env={"RATTLER_AUTH_FILE": str(auth)}
    )
    assert failed.returncode == 5, failed.stderr
    world.assert_no_canary(failed)


@pytest.mark.parametrize("error", ["RuntimeError", "ChannelError"])
def test_unexpected_errors_and_tracebacks_are_masked(error: str) -> None:
    """The CLI's last line of defence: an error text (and its -v traceback, causes included) that
    carries a URL credential nobody registered is masked before it is printed."""
    code = f"""
from lockgen.cli.runner import run_core
from lockgen.errors import ChannelError

def action():
    try:
        raise OSError("fetching http://{USER}:{PASSWORD}@127.0.0.1:9/t/{TOKEN}/chan failed")
    except OSError as exc:
        raise {error}("while reading http://{USER}:{PASSWORD}@127.0.0.1:9/t/{TOKEN}/chan") from exc

run_core(True, action)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    count("secret checks")
    assert result.returncode in (1, 5), result.stderr
    assert "Traceback" in result.stderr and "OSError" in result.stderr  # the cause is shown, masked
    for canary in CANARIES:
        assert canary not in result.stderr + result.stdout


def test_credentials_in_environment_variables(world: World) -> None:
    """Credentials that reach lockgen through environment variables (a mapping URL with user:password,
    uv's own index variables) are masked in notes, warnings and errors alike."""
    _auth(world)
    world.server.fault("/mapping/*", "status", status=500)  # the note names the mapping URL
    world.server.fault("/index/*", "status", status=503)  # the error names the index
    with_auth = world.server.url.replace("http://", f"http://{USER}:{PASSWORD}@")
    result = world.run(
        _env(f"{with_auth}/channels/{CHANNEL}", f"{with_auth}/index/simple"),
        env={
            "LOCKGEN_PYPI_MAPPING_URL": with_auth + "/mapping/{channel}.json",
            "UV_INDEX_URL": f"{with_auth}/index/simple",
            "UV_EXTRA_INDEX_URL": f"{world.server.url}/t/{TOKEN}/index/simple",
        },
    )
    assert result.returncode != 0
    assert "mapping" in result.stderr  # the failed mapping download was reported...
    world.assert_no_canary(result)  # ...without its credentials
