"""``install``'s pip step is bounded (issue 18 item 11, the pip half): ``LOCKGEN_PIP_DEADLINE``.

lockgen's own conda downloads have a per-file deadline and a minimum rate; the pip step runs uv
(or pip), which downloads the wheels itself. A package index that drips its pages, or a local
project whose build never ends, once held ``install`` forever. Now the whole step must end within
``LOCKGEN_PIP_DEADLINE`` seconds: the installer and every process it started (its own process
group) are stopped, and one line names the index host and the setting (exit 9).

Both cases run against loopback servers: a PyPI-like index that drips one byte every 0.2 s once
asked to, and a local project whose in-tree build backend writes its process id and sleeps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.figures import count
from tests.integration.test_install_small_channel import served_pip_install
from tests.support.channel import QuietHandler, Server, send_dripping
from tests.support.cli import mapping_env, mirror_options, run_lockgen
from tests.support.processes import ends, kill_left
from tests.support.projects import make_project

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test channel is linux-64; /proc is read"),
    pytest.mark.slow,
]

HUNG_BUILD = """

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import os, time
    with open({pid_file!r}, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)  # longer than any deadline of these tests; bounded so a failing run leaves nothing for long
    raise SystemExit(1)
"""


class _DripIndex(QuietHandler):
    """Serves the index normally, or, once ``drip`` is set, every response one byte every 0.2 s."""

    drip = threading.Event()

    def do_GET(self) -> None:
        if not self.drip.is_set():
            super().do_GET()
            return
        self.server.requests_seen.append(self.path)  # type: ignore[attr-defined]
        local = Path(self.translate_path(self.path))
        local = local / "index.html" if local.is_dir() else local
        body = local.read_bytes() if local.is_file() else b"<html><body></body></html>\n"
        send_dripping(self, body, content_type="text/html")


@dataclass
class World:
    root: Path
    channel: Server
    index: Server
    mapping: Server
    handler: type[_DripIndex]

    @property
    def prefix(self) -> Path:
        return self.root / "env"

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return run_lockgen(
            *args,
            *mirror_options(self.channel.url, self.root / "cache"),
            cwd=self.root,
            env={
                **mapping_env(self.mapping.url),
                "UV_CACHE_DIR": str(self.root / "uv-cache"),  # uv must ask the index, not its cache
                **(env or {}),
            },
            timeout=timeout,
        )

    def environment(self, *pip_lines: str) -> None:
        lines = "".join(f"    - {line}\n" for line in (f"--index-url {self.index.url}/simple", *pip_lines))
        (self.root / "environment.yml").write_text(
            f"name: e\nchannels:\n  - testchan\ndependencies:\n  - python\n  - pip:\n{lines}"
        )

    def locked_with_python(self) -> None:
        """Lock, link the conda part, and skip unless the prefix's Python runs from the copy."""
        locked = self.run("lock", "-p", "linux-64")
        assert locked.returncode == 0, locked.stderr
        linked = self.run("install", "-p", "linux-64", "--prefix", str(self.prefix), "--no-pip")
        assert linked.returncode == 0, linked.stderr
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        probe = subprocess.run(
            [str(self.prefix / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
            capture_output=True, text=True, timeout=60, check=False, env=env,
        )  # fmt: skip
        if probe.returncode != 0 or Path(probe.stdout.strip()).resolve() != self.prefix.resolve():
            pytest.skip("this interpreter does not run from a copy (needs a shared libpython with an absolute runpath)")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    class Drip(_DripIndex):
        drip = threading.Event()  # this test's own switch

    handler = Drip
    with served_pip_install(tmp_path, handler) as (channel, index_server, mapping):
        yield World(tmp_path, channel, index_server, mapping, handler)
        handler.drip.clear()


def _running_with(text: str) -> list[str]:
    """Command lines of live (not zombie) processes that mention ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{proc.name}: {cmdline}")
    return found


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "did not finish within" in line]


def test_a_dripping_index_is_stopped_at_the_pip_deadline(world: World) -> None:
    world.environment("helper")
    world.locked_with_python()
    world.handler.drip.set()
    result = world.run(
        "install", "-p", "linux-64", "--prefix", str(world.prefix),
        env={"LOCKGEN_PIP_DEADLINE": "4"},
        timeout=120,  # far above the 4 s budget: before the fix this raised TimeoutExpired here
    )  # fmt: skip
    assert world.index.requests, "uv never asked the dripping index"
    assert result.returncode == 9, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    host = world.index.url.removeprefix("http://")
    [line] = _error_lines(result.stderr)  # one line says it all
    assert "`uv pip install -r locks/requirements.txt` did not finish within 4 s" in line, line
    assert f"the package index {host} may be stalled" in line, line
    assert "LOCKGEN_PIP_DEADLINE" in line and "conda packages are installed" in line, line
    assert _running_with(str(world.prefix)) == []  # uv (`--python PREFIX/bin/python`) is gone
    count("network faults injected")


def test_a_hung_build_is_stopped_with_everything_the_installer_started(world: World) -> None:
    pid_file = world.root / "build.pid"
    project = make_project(world.root / "slowproj", "slowproj", "0.1.0")
    with (project / "lockgen_test_backend.py").open("a") as backend:
        backend.write(HUNG_BUILD.format(pid_file=str(pid_file)))
    world.environment("helper", "./slowproj")
    world.locked_with_python()
    assert "./slowproj" in (world.root / "locks" / "requirements-unhashed.txt").read_text()
    try:
        result = world.run(
            "install", "-p", "linux-64", "--prefix", str(world.prefix),
            env={"LOCKGEN_PIP_DEADLINE": "20"},  # room for helper's install; the build then hangs
            timeout=150,
        )  # fmt: skip
        assert pid_file.is_file(), result.stdout + result.stderr  # the build backend did start
        assert ends(int(pid_file.read_text())), "the build backend uv started is still running"
        assert result.returncode == 9, result.stdout + result.stderr
        [line] = _error_lines(result.stderr)
        assert "install -r locks/requirements-unhashed.txt` did not finish within 20 s" in line, line
        assert "or a local project's build may be stalled" in line and "LOCKGEN_PIP_DEADLINE" in line, line
        assert _running_with(str(world.prefix)) == []
    finally:
        kill_left(pid_file)  # the process this test's backend started
    count("hostile input cases")


def test_a_dripping_index_is_cut_by_the_minimum_rate(world: World) -> None:
    """uv has only a read timeout (one byte every 0.2 s never trips it): lockgen's loopback proxy
    measures what the index sends and stops the step at LOCKGEN_DOWNLOAD_MIN_RATE, long before the deadline."""
    world.environment("helper")
    world.locked_with_python()
    world.handler.drip.set()
    result = world.run(
        "install", "-p", "linux-64", "--prefix", str(world.prefix),
        env={"LOCKGEN_DOWNLOAD_MIN_RATE": "1024", "LOCKGEN_DOWNLOAD_MIN_RATE_WINDOW": "1",
             "LOCKGEN_PIP_DEADLINE": "60"},
        timeout=150,
    )  # fmt: skip
    assert world.index.requests, "uv never asked the dripping index"
    assert result.returncode == 9, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "did not finish within" not in result.stderr, result.stderr
    host = world.index.url.removeprefix("http://")
    [line] = [line for line in result.stderr.splitlines() if "below the minimum" in line]
    assert "`uv pip install -r locks/requirements.txt` was stopped with everything it started" in line, line
    assert f"{host} sent" in line and "below the minimum of 1024 bytes/s" in line, line
    assert "LOCKGEN_DOWNLOAD_MIN_RATE" in line and "conda packages are installed" in line, line
    assert _running_with(str(world.prefix)) == []
    count("network faults injected")
