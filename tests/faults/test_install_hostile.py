"""`lockgen install` against hostile packages, a poisoned cache, hostile servers and malformed locks.

Each test builds its own hostile input: a package whose ``info/paths.json`` or symbolic links
reach outside the prefix, an edited extracted package cache, a server that drips bytes, a lock
naming a URL twice, stray installer probes, an unreachable host, a foreign platform's lock.
What must hold every time: the prefix stays inside itself and is left unchanged when the install
is refused (exit 9, one clear message), and nothing is written outside it.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.faults.figures import count
from tests.support.channel import CANONICAL, ChannelBuilder, Package, send_dripping
from tests.support.cli import run_lockgen

PLATFORM = "linux-64"
DATA = b"payload\n"

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() == "x86_64"),
    reason="installs a linux-64 lock, which only a linux-64 machine runs",
)


def _entry(path: str, data: bytes = DATA) -> dict[str, object]:
    return {
        "_path": path,
        "path_type": "hardlink",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_in_bytes": len(data),
    }


class World:
    """A project (environment.yml, locks/) and a channel directory with ``base`` and, if asked, ``evil``."""

    def __init__(self, root: Path, more: dict[str, dict[str, object]] | None = None, **evil: object) -> None:
        self.root = root
        self.mirror = root / "mirror"
        self.channel = ChannelBuilder(self.mirror / "testchan", subdirs=("noarch", PLATFORM, "osx-64"))
        self.base = self.channel.add("base", "1.0", build="h0_0", subdir=PLATFORM, files={"lib/base.txt": b"base\n"})
        self.channel.add("base", "1.0", build="h0_0", subdir="osx-64", files={"lib/base.txt": b"base\n"})
        names = ["base"]
        self.evil: Package | None = None
        if evil:
            self.evil = self.channel.add("evil", "1.0", build="h0_0", subdir=PLATFORM, **evil)
            names.append("evil")
        for name, kwargs in (more or {}).items():
            self.channel.add(name, "1.0", build="h0_0", subdir=PLATFORM, **kwargs)
            names.append(name)
        self.channel.write()
        deps = "".join(f"  - {n}\n" for n in names)
        (root / "environment.yml").write_text(f"channels:\n  - testchan\ndependencies:\n{deps}")
        self.prefix = root / "envs" / "p"

    def lock(self, *platforms: str) -> None:
        args = [a for p in (platforms or (PLATFORM,)) for a in ("-p", p)]
        done = run_lockgen(
            "lock", *args, "--mirror", f"{CANONICAL}={self.mirror}", "--cache-dir", "cache", cwd=self.root
        )
        assert done.returncode == 0, done.stderr

    def install(
        self, *extra: str | Path, mirror: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run_lockgen(
            "install",
            "--prefix",
            self.prefix,
            "--mirror",
            f"{CANONICAL}={mirror or self.mirror}",
            "--cache-dir",
            "cache",
            "--no-pip",
            *extra,
            cwd=self.root,
            env={"CONDA_EXE": "", "MAMBA_EXE": "", "MAMBA_ROOT_PREFIX": "", **(env or {})},
            timeout=timeout,
        )


def _tree(root: Path) -> dict[str, bytes | str]:
    if not root.exists():
        return {}
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = f"-> {path.readlink()}"
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


def _refused(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 9, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "panicked" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    count("hostile inputs refused")


# --- 1, 2: paths.json entries that leave the prefix -------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "../evil-1.0-h0_0/share/f",  # one level up (the extracted package's own directory name)
        "share/../../../evil-1.0-h0_0/share/f",  # '..' hidden behind a real directory
    ],
)
def test_relative_escape_in_paths_json_is_refused(tmp_path: Path, path: str) -> None:
    world = World(tmp_path, files={"share/f": DATA}, paths_override=[_entry(path)])
    world.lock()
    result = world.install()
    _refused(result, "evil-1.0-h0_0", repr(path), "'..' segments are not allowed", "was not changed")
    assert not world.prefix.exists()
    outside = [p for p in tmp_path.rglob("f") if "mirror" not in p.parts and "cache" not in p.parts]
    assert outside == []  # nothing linked beside or above the prefix


def test_absolute_path_is_refused_before_the_linker_sees_it(tmp_path: Path) -> None:
    target = tmp_path / "victim" / "f"
    world = World(
        tmp_path,
        files={str(target).lstrip("/"): DATA},
        paths_override=[_entry(str(target).lstrip("/")), _entry(str(target))],
    )
    world.lock()
    result = world.install()
    _refused(result, "absolute paths are not allowed", str(target))
    assert not target.exists()
    assert not world.prefix.exists()  # no half-made prefix


def test_path_through_a_symlink_the_package_ships_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    world = World(tmp_path, files={"share/data/f": DATA}, symlinks={"share/data": str(victim)})
    world.lock()
    _refused(world.install(), "evil", "outside", "was not changed")  # the extraction itself refuses
    assert list(victim.iterdir()) == []
    assert not world.prefix.exists()


def test_path_through_a_symlink_another_package_ships_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    world = World(tmp_path, symlinks={"share/data": str(victim)}, more={"evil2": {"files": {"share/data/f": DATA}}})
    world.lock()
    _refused(
        world.install(),
        "evil2-1.0-h0_0",
        "'share/data/f'",
        f"symbolic link share/data -> {victim}",
        "leaves the prefix",
    )
    assert list(victim.iterdir()) == []
    assert not world.prefix.exists()


def test_relative_symlink_that_climbs_out_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path, symlinks={"lib/up": "../../.."}, more={"evil2": {"files": {"lib/up/f": DATA}}})
    world.lock()
    _refused(world.install(), "symbolic link lib/up -> ../../..")
    assert not (tmp_path / "f").exists() and not world.prefix.exists()


@pytest.mark.parametrize(
    ("links", "listed"),
    [
        ({"share/secret": "{secret}"}, "share/secret"),  # a "file" that is a link to a file outside
        ({"share/d": "{outside}"}, "share/d/secret"),  # a "file" reached through a linked directory
    ],
)
def test_a_listed_file_that_is_really_a_link_is_refused(tmp_path: Path, links: dict[str, str], listed: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("private key\n")
    targets = {k: v.format(secret=outside / "secret", outside=outside) for k, v in links.items()}
    world = World(tmp_path, symlinks=targets, paths_override=[_entry(listed, b"private key\n")])
    world.lock()
    _refused(world.install(), "evil-1.0-h0_0", f"{listed} is listed as a file but the package has no regular file")
    assert not world.prefix.exists()  # the secret was not copied into a prefix


def test_path_through_a_symlink_already_in_the_prefix_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path, files={"lib/ext/f": DATA})
    (tmp_path / "environment.yml").write_text("channels:\n  - testchan\ndependencies:\n  - base\n")
    world.lock()
    assert world.install().returncode == 0
    victim = tmp_path / "victim"
    victim.mkdir()
    (world.prefix / "lib" / "ext").symlink_to(victim)  # e.g. left by another tool
    (tmp_path / "environment.yml").write_text("channels:\n  - testchan\ndependencies:\n  - base\n  - evil\n")
    world.lock()
    before = _tree(world.prefix)
    _refused(world.install(), "lib/ext/f", "leaves the prefix")
    assert list(victim.iterdir()) == []
    assert _tree(world.prefix) == before


def test_safe_symlinks_inside_the_prefix_still_install(tmp_path: Path) -> None:
    world = World(tmp_path, files={"lib/real/f": DATA}, symlinks={"lib/alias": "real", "bin/tool": "../lib/real/f"})
    world.lock()
    result = world.install()
    assert result.returncode == 0, result.stderr
    assert (world.prefix / "lib" / "alias" / "f").read_bytes() == DATA
    assert (world.prefix / "bin" / "tool").read_bytes() == DATA


# --- 3: the extracted package cache is not trusted -----------------------------------------------


def test_edited_extracted_cache_does_not_reach_a_new_prefix(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.lock()
    assert world.install().returncode == 0
    pkgs = tmp_path / "cache" / "pkgs"
    planted = pkgs / "base-1.0-h0_0"
    if not planted.exists():  # plant what an earlier tool (or an older lockgen) would have extracted
        from rattler.package_streaming import extract

        extract(next((tmp_path / "cache" / "archives").glob("base-*")), planted)
    edited = list(pkgs.rglob("base.txt"))
    assert edited
    for path in edited:
        path.write_bytes(b"edited\n")  # same for every extracted copy
    world.prefix = tmp_path / "envs" / "second"
    result = world.install()
    assert result.returncode == 0, result.stderr
    assert (world.prefix / "lib" / "base.txt").read_bytes() == b"base\n"
    assert not list(pkgs.glob(".lockgen-stage-*"))  # the private extraction is gone
    count("cache faults injected", len(edited))


# --- 4: a server that drips bytes -----------------------------------------------------------------


class _Drip(http.server.SimpleHTTPRequestHandler):
    """Serves repodata normally and package archives one byte every 0.3 s."""

    def log_message(self, format: str, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        if not self.path.endswith((".tar.bz2", ".conda")):
            super().do_GET()
            return
        data = Path(self.translate_path(self.path)).read_bytes()
        send_dripping(self, data, every=0.3, stop=self.server.stopping)  # type: ignore[attr-defined]


@contextmanager
def _serve(root: Path, handler: type[http.server.SimpleHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(root)))
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopping.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_a_dripping_server_hits_the_per_file_deadline(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.lock()
    with _serve(world.mirror, _Drip) as url:
        started = time.monotonic()
        result = world.install(
            mirror=url, env={"LOCKGEN_DOWNLOAD_DEADLINE": "2", "LOCKGEN_HTTP_TIMEOUT": "5"}, timeout=90
        )
        elapsed = time.monotonic() - started
    _refused(result, "base", f"{url}/testchan/{PLATFORM}/base-1.0-h0_0.tar.bz2", "LOCKGEN_DOWNLOAD_DEADLINE")
    assert elapsed < 60  # far below the ~minutes the drip would take (not a timing check: a bound)
    assert not world.prefix.exists()
    assert not list((tmp_path / "cache" / "archives").glob(".*.part"))
    count("network faults injected")


@pytest.mark.slow
def test_a_dripping_server_is_dropped_by_the_minimum_rate_rule(tmp_path: Path) -> None:
    """Below LOCKGEN_DOWNLOAD_MIN_RATE bytes/s over the window, a download stops long before the deadline."""
    world = World(tmp_path)
    world.lock()
    env = {"LOCKGEN_DOWNLOAD_MIN_RATE": "64", "LOCKGEN_DOWNLOAD_MIN_RATE_WINDOW": "2", "LOCKGEN_HTTP_TIMEOUT": "30"}
    with _serve(world.mirror, _Drip) as url:
        result = world.install(mirror=url, env=env, timeout=90)  # the deadline stays 1800 s: not what stops it
    host = url.removeprefix("http://")
    _refused(result, f"{url}/testchan/{PLATFORM}/base-1.0-h0_0.tar.bz2", f"{host} sent", "below the minimum of 64")
    assert "LOCKGEN_DOWNLOAD_MIN_RATE" in result.stderr
    assert [line for line in result.stderr.splitlines() if f"{host} sent" in line] != []
    assert sum(f"{host} sent" in line for line in result.stderr.splitlines()) == 1  # one line, not one per retry
    assert not world.prefix.exists()
    assert not list((tmp_path / "cache" / "archives").glob(".*.part"))
    count("network faults injected")


def test_min_rate_settings_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from lockgen.config import read_limits
    from lockgen.errors import ConfigError

    monkeypatch.setenv("LOCKGEN_DOWNLOAD_MIN_RATE", "0")
    monkeypatch.setenv("LOCKGEN_DOWNLOAD_MIN_RATE_WINDOW", "5")
    limits = read_limits()
    assert (limits.download_min_rate, limits.download_min_rate_window_s) == (0, 5)
    monkeypatch.setenv("LOCKGEN_DOWNLOAD_MIN_RATE_WINDOW", "0")
    with pytest.raises(ConfigError, match="LOCKGEN_DOWNLOAD_MIN_RATE_WINDOW"):
        read_limits()


# --- 5: duplicate URLs, stray probes ----------------------------------------------------------------


def test_a_lock_naming_a_url_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.lock()
    lock = tmp_path / "locks" / f"{PLATFORM}.txt"
    lines = lock.read_text().splitlines()
    url_line = next(i for i, line in enumerate(lines) if "/base-1.0" in line)
    lines.insert(url_line + 1, lines[url_line])
    lock.write_text("\n".join(lines) + "\n")
    result = world.install()
    _refused(result, f"{lock.relative_to(tmp_path)}:{url_line + 2}: the same URL is already on line {url_line + 1}")
    assert not world.prefix.exists()


def test_a_lock_naming_a_package_twice_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.lock()
    lock = tmp_path / "locks" / f"{PLATFORM}.txt"
    text = lock.read_text()
    line = next(x for x in text.splitlines() if "/base-1.0" in x)
    lock.write_text(text + line.replace("/testchan/", "/otherchan/") + "\n")
    _refused(world.install(), "the package base is already on line")


def test_probes_left_by_a_killed_install_are_removed(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.lock()
    assert world.install().returncode == 0
    probe = world.prefix / "symtest_0f8e9c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
    probe.symlink_to("./")
    reflink = world.prefix / ".refprobe-Ab12Cd"
    reflink.mkdir()
    (reflink / "src").write_bytes(b"reflink probe")
    user_file = world.prefix / "symtest_notes.txt"
    user_file.write_text("mine")
    result = world.install()
    assert result.returncode == 0, result.stderr
    assert not probe.is_symlink() and not reflink.exists()
    assert user_file.read_text() == "mine"  # only the installer's own probe shapes are removed
    count("kill leftovers cleaned (install)", 2)


# --- issue 15: an unreachable host fails fast; a foreign platform is refused -----------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_host_stops_at_once_with_one_line(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.channel.add("extra", "1.0", build="h0_0", subdir=PLATFORM)
    world.channel.write()
    (tmp_path / "environment.yml").write_text("channels:\n  - testchan\ndependencies:\n  - base\n  - extra\n")
    world.lock()
    port = _closed_port()
    result = world.install(mirror=f"http://user:s3cret@127.0.0.1:{port}")
    assert result.returncode == 9, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # not one line per package
    assert f"127.0.0.1:{port} is unreachable" in lines[0]
    assert f"--mirror {CANONICAL}=" in lines[0]
    assert "s3cret" not in result.stderr
    assert not world.prefix.exists()
    count("network faults injected")


def test_a_foreign_platform_lock_is_refused_before_downloading(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.lock(PLATFORM, "osx-64")
    result = world.install("-p", "osx-64")
    _refused(result, "the lock is for osx-64 but this machine is linux-64", "--foreign-platform")
    assert not world.prefix.exists()
    assert not (tmp_path / "cache" / "archives").exists()  # nothing was downloaded
    forced = world.install("-p", "osx-64", "--foreign-platform")
    assert forced.returncode == 0, forced.stderr
    assert (world.prefix / "lib" / "base.txt").read_bytes() == b"base\n"


# --- item 19: platform, encoding and template of an install ---------------------------------------------


def test_platform_with_path_traversal_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.lock()
    (tmp_path / "x.txt").write_text((tmp_path / "locks" / f"{PLATFORM}.txt").read_text())
    result = world.install("-p", "../x")
    assert result.returncode == 2, result.stderr
    assert "-p ../x" in result.stderr  # a path-like -p is refused as the prefix confusion it usually is
    unknown = world.install("-p", "linux64")
    assert unknown.returncode == 2, unknown.stderr
    assert "-p/--platform: unknown platform 'linux64'" in unknown.stderr
    assert not world.prefix.exists()


def test_a_lock_that_is_not_utf8_is_a_clean_error(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.lock()
    lock = tmp_path / "locks" / f"{PLATFORM}.txt"
    lock.write_bytes(lock.read_bytes() + b"# \xff\xfe not text\n")
    lines = lock.read_bytes().count(b"\n")
    _refused(world.install(), f"{lock.relative_to(tmp_path)}:{lines}: not a lock file: the file is not UTF-8 text")


@pytest.mark.parametrize("template", ["../{platform}.txt", "{platform}{", "{platform}{x}"])
def test_filename_template_from_pyproject_is_validated(tmp_path: Path, template: str) -> None:
    world = World(tmp_path)
    world.lock()
    shutil.copy(tmp_path / "locks" / f"{PLATFORM}.txt", tmp_path / f"{PLATFORM}.txt")
    (tmp_path / "pyproject.toml").write_text(f"[tool.lockgen]\nfilename-template = {json.dumps(template)}\n")
    result = world.install()
    assert result.returncode == 2, result.stderr
    assert "[tool.lockgen] filename-template" in result.stderr
    assert "Traceback" not in result.stderr
    assert not world.prefix.exists()


# --- kills: no probe or staging directory survives, and the next install repairs the prefix ------------------


@pytest.mark.slow
def test_sigkill_during_install_leaves_no_stray_files(tmp_path: Path) -> None:
    import random
    import signal

    many = {f"lib/m{i}/f{j}.txt": f"{i}-{j}\n".encode() for i in range(30) for j in range(40)}
    world = World(tmp_path, more={"bulk": {"files": many}})
    world.lock()
    clean = world.install()
    assert clean.returncode == 0, clean.stderr
    expected = _tree(world.prefix)
    shutil.rmtree(world.prefix)
    started = time.monotonic()
    assert world.install().returncode == 0
    duration = time.monotonic() - started
    rng = random.Random(20261130)
    args = [sys.executable, "-m", "lockgen", "install", "--prefix", str(world.prefix), "--no-pip"]
    args += ["--mirror", f"{CANONICAL}={world.mirror}", "--cache-dir", "cache"]
    for _ in range(8):
        shutil.rmtree(world.prefix, ignore_errors=True)
        proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        count("kill trials (install)")
        again = world.install()
        assert again.returncode == 0, again.stderr
        leftovers = [p.name for p in world.prefix.iterdir() if p.name.startswith(("symtest_", ".refprobe-"))]
        assert leftovers == []
        assert not list((tmp_path / "cache" / "pkgs").glob(".lockgen-stage-*"))  # the killed run's staging is gone
        tree = {k: v for k, v in _tree(world.prefix).items() if k != "conda-meta/history"}
        assert tree == {k: v for k, v in expected.items() if k != "conda-meta/history"}
