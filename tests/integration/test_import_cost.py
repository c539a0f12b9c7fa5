"""What the quick commands leave unloaded (docs/performance.md): a warm conda-only lock loads no pip
code, packaging, http.client or failure diagnosis; a no-op lock with a pip section loads no resolver
or conda solver and writes no stub; ``check`` loads no conda solver and none of the pip stage's
resolving modules. Behaviour, not timing: each command runs in a subprocess that lists
``sys.modules`` when it leaves."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from lockgen.digest import sha256
from tests.faults.test_install_cache import Cached
from tests.integration.test_lock_small_channel import ENV
from tests.integration.test_lock_small_channel import channel as channel  # noqa: PLC0414 - the fixture
from tests.integration.test_pip_local_index import World
from tests.integration.test_pip_local_index import world as world  # noqa: PLC0414 - the fixture
from tests.support.channel import CANONICAL, ChannelBuilder, QuietHandler, serve_directory, sharded_copy
from tests.support.cli import invoke_lockgen, mapping_env, mirror_options, run_lockgen

pytestmark = pytest.mark.slow

_LISTING = """\
import gc, json, os, sys
import lockgen.cli.app as app

def collections():
    return [s["collections"] for s in gc.get_stats()]

before = collections()

def finish(code):
    sys.stdout.flush()
    with open(os.environ["LOCKGEN_TEST_MODULES"], "w") as out:
        json.dump(sorted(sys.modules), out)
    with open(os.environ["LOCKGEN_TEST_MODULES"] + ".gc", "w") as out:
        json.dump([after - then for after, then in zip(collections(), before)], out)
    with open(os.environ["LOCKGEN_TEST_MODULES"] + ".collector", "w") as out:
        json.dump({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}, out)
    os._exit(code)

app.finish = finish
sys.argv = ["lockgen", *sys.argv[1:]]
app.main()
"""


def run_listing(
    tmp_path: Path, *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the CLI with ``args``; its output and the modules it had loaded when it exited."""
    listing = tmp_path / "modules.json"
    done = _run_script(_LISTING, args, cwd, {**(env or {}), "LOCKGEN_TEST_MODULES": str(listing)})
    return done, set(json.loads(listing.read_text()))


def _run_script(
    script: str, args: tuple[str | Path, ...], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """``python -c script`` with ``args``, in ``cwd``, the environment with ``env`` added."""
    return subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def collector_state(tmp_path: Path) -> dict[str, object]:
    """Whether the collector was on when the last :func:`run_listing` exited, and how many objects it had set aside."""
    return dict(json.loads((tmp_path / "modules.json.collector").read_text()))


def collections_run(tmp_path: Path) -> list[int]:
    """How many garbage collections of each generation the last :func:`run_listing` made after its imports."""
    return list(json.loads((tmp_path / "modules.json.gc").read_text()))


_CONSOLE = """\
import gc, json, os, runpy, sys
made = []

def seen(phase, info):
    if phase == "start" and "click" in sys.modules:
        made.append(info["generation"])

gc.callbacks.append(seen)

def leave(code, _exit=os._exit):
    sys.stdout.flush()
    with open(os.environ["LOCKGEN_TEST_COLLECTOR"], "w") as out:
        json.dump({"collections": made, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}, out)
    _exit(code)

os._exit = leave
sys.argv = ["lockgen", *sys.argv[1:]]
runpy.run_module("lockgen", run_name="__main__", alter_sys=True)
"""


def run_console(
    tmp_path: Path, *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    """Run the console script (``python -m lockgen``, from its first line) with ``args``; its output, the
    generation of each garbage collection made once click began to be imported, and the collector's state
    when it exited."""
    state = tmp_path / "collector.json"
    done = _run_script(_CONSOLE, args, cwd, {**(env or {}), "LOCKGEN_TEST_COLLECTOR": str(state)})
    return done, dict(json.loads(state.read_text()))


def test_warm_conda_only_lock_loads_no_pip_code(tmp_path: Path, channel: ChannelBuilder) -> None:
    (tmp_path / "environment.yml").write_text(ENV)
    with serve_directory(tmp_path / "mirror") as server:
        args = ("lock", "--mirror", f"https://conda.anaconda.org={server.url}", "--cache-dir", tmp_path / "cache")
        first = run_lockgen(*args, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        before = {p.name: p.read_bytes() for p in (tmp_path / "locks").iterdir()}
        done, modules = run_listing(tmp_path, *args, "--update-all", cwd=tmp_path)
        # a warm lock that writes its files: the commit's journal is removed without shutil (Round 7)
        wrote, wrote_modules = run_listing(tmp_path, *args, "-o", tmp_path / "fresh", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "rattler" in modules  # it did solve again
    assert {p.name: p.read_bytes() for p in (tmp_path / "locks").iterdir()} == before
    assert not {m for m in modules if m.split(".")[0] == "packaging" or m.startswith("lockgen.pypi")}
    assert not {"http.client", "httpx"} & modules  # the size check of never-fetched repodata had nothing to do
    assert "concurrent.futures.thread" not in modules  # ...so no thread was started for it (Round 7)
    assert not {"ssl", "_ssl"} & (modules | wrote_modules)  # asyncio imported without its TLS (Round 9)
    assert not {"lockgen.conda.diagnose", "lockgen.conda.explanation"} & modules  # nothing failed (Round 6)
    assert wrote.returncode == 0, wrote.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "fresh").iterdir()} == before  # every file written anew
    # nor the pip lock's reader (Round 7: lockdir names requirements.txt), nor, with no previous lock to hold
    # to its specs, lockspecs and matchspec
    unloaded = {"shutil", "lockgen.lockfiles.requirements", "lockgen.lockspecs", "lockgen.matchspec"}
    if sha256.__module__ != "_hashlib":  # the interpreter has its own sha256: the commit's seal loads no OpenSSL
        unloaded |= {"hmac", "hashlib", "_hashlib"}  # (Round 9: the warm lock's main thread)
    assert wrote_modules.isdisjoint(unloaded), wrote_modules & unloaded
    assert "lockgen.lockfiles.requirements" not in modules  # --update-all


def test_warm_lock_solves_with_what_its_imports_made_set_aside(tmp_path: Path, channel: ChannelBuilder) -> None:
    """``lock`` imports with the collector off; when its solve begins (rattler and asyncio imported), what
    the imports made is set aside (``gc.freeze``) and the collector is on again for the solve's objects:
    one young collection of those ~20 000 objects cost a warm lock ~4 ms (docs/performance.md, "Round 8:
    the warm lock"). A lock that solves nothing leaves the collector off until it exits."""
    (tmp_path / "environment.yml").write_text(ENV)
    with serve_directory(tmp_path / "mirror") as server:
        args = ("lock", "--mirror", f"https://conda.anaconda.org={server.url}", "--cache-dir", tmp_path / "cache")
        first = run_lockgen(*args, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        solved, modules = run_listing(tmp_path, *args, "--update-all", cwd=tmp_path)
        state = collector_state(tmp_path)
        noop, _ = run_listing(tmp_path, *args, cwd=tmp_path)
        noop_state = collector_state(tmp_path)
    assert solved.returncode == 0, solved.stderr
    assert "rattler" in modules  # it did solve again
    assert state["enabled"] is True
    assert isinstance(state["frozen"], int) and state["frozen"] > 10_000, state
    assert noop.returncode == 0, noop.stderr
    assert "nothing changed" in noop.stdout
    assert noop_state == {"enabled": False, "frozen": 0}
    assert collections_run(tmp_path) == [0, 0, 0]


class _Never304(QuietHandler):
    """Answers a conditional GET in full: rattler 0.28 fails a lock when its revalidation of a cached
    shard index is answered 304 Not Modified (tests/security/test_inputs_files.py)."""

    def do_GET(self) -> None:
        del self.headers["If-Modified-Since"]
        super().do_GET()


def test_warm_sharded_lock_starts_no_size_check_thread(tmp_path: Path, channel: ChannelBuilder) -> None:
    """A re-lock on a channel whose shard index rattler has cached checks no size (nothing is fetched
    whole), so it starts no thread for the check: the bench's warm sharded rows (Round 7)."""
    pytest.importorskip("msgpack", reason="bench/variants.py writes shards with msgpack (a dev dependency)")
    pytest.importorskip("zstandard", reason="bench/variants.py compresses shards with zstandard (a dev dependency)")
    (tmp_path / "environment.yml").write_text(ENV)
    sharded = sharded_copy(tmp_path / "mirror", tmp_path / "sharded")
    with serve_directory(sharded, _Never304) as server:
        args = ("lock", "--mirror", f"https://conda.anaconda.org={server.url}", "--cache-dir", tmp_path / "cache")
        first = run_lockgen(*args, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert any(r.endswith("repodata_shards.msgpack.zst") for r in server.requests)  # sharded: no flat file
        before = {p.name: p.read_bytes() for p in (tmp_path / "locks").iterdir()}
        done, modules = run_listing(tmp_path, *args, "--update-all", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "rattler" in modules  # it did solve again
    assert {p.name: p.read_bytes() for p in (tmp_path / "locks").iterdir()} == before
    assert "concurrent.futures.thread" not in modules


_SOLVER = {"lockgen.conda", "lockgen.conda.solve", "lockgen.conda.diagnose"}
"""Nothing is solved: the conda request type comes from lockgen.solverequest, not the solver package."""


_RESOLVING_ONLY = {"lockgen.pypi.resolve", "lockgen.pypi.jobs", "lockgen.pypi.direct", "lockgen.pypi.header"}
"""The pip stage's modules for a pip section that is resolved again: a no-op keeps requirements.txt (Round 7)."""


_NEVER_ON_SUCCESS = {"traceback", "textwrap", "shlex"}
"""Loaded only to word a failure: a traceback (-v), a symbolic link leading out of the project (Round 6)."""


def test_noop_lock_and_check_load_no_resolver(tmp_path: Path, world: World) -> None:
    world.write_env(["appa"])
    first = world.lock()
    assert first.returncode == 0, first.stderr
    assert "pip: 1 package on each of" in first.stdout  # written: summarised

    env = mapping_env(world.mapping_server.url)
    mirror = mirror_options(world.channel_server.url, world.root / "cache")
    done, modules = run_listing(tmp_path, "lock", *mirror, cwd=world.root, env=env)
    assert done.returncode == 0, done.stderr
    assert "nothing changed" in done.stdout
    unloaded = {"rattler", "asyncio", "zipfile", "lockgen.pypi.uv", "lockgen.pypi.uvstderr", "lockgen.pypi.render"}
    unloaded |= {"httpx", "ssl", *_SOLVER, *_NEVER_ON_SUCCESS, "lockgen.export"}  # export: no --conda-lock-file
    unloaded |= _RESOLVING_ONLY | {"gzip", "string"}  # the snapshot's gzip, string.Formatter (Round 7)
    unloaded |= {"packaging", "packaging.version"}  # plain versions are read without it (Round 8)
    unloaded |= {"lockgen.environments"}  # no [tool.lockgen.environments], no -e: one environment (Round 8)
    assert modules.isdisjoint(unloaded), modules & unloaded
    assert collections_run(tmp_path) == [0, 0, 0]  # nothing for the collector to do in a no-op (Round 7)

    # a cache folder given, as CI gives one: the user's default is looked up with platformdirs, which
    # loads tempfile and shutil (check reads the environment file's memo there, Round 9)
    done, modules = run_listing(tmp_path, "check", "--cache-dir", tmp_path / "user-cache", cwd=world.root)
    assert done.returncode == 0, done.stdout + done.stderr
    unloaded = {"lockgen.pypi.mapping", "lockgen.pypi.stubs", "lockgen.pypi.targets", "lockgen.pypi.uv", "zipfile"}
    unloaded |= {"lockgen.pypi.uvstderr", "lockgen.pypi.stage", "lockgen.pypi.resolve", "lockgen.pypi.jobs"} | _SOLVER
    unloaded |= {"httpx", "ssl", *_NEVER_ON_SUCCESS, "shutil", "signal", "hmac"}  # a commit's: check makes none
    unloaded |= {"lockgen.environments"}  # no [tool.lockgen.environments], no -e: one environment (Round 7)
    if sha256.__module__ != "_hashlib":  # the interpreter has its own sha256: check never loads OpenSSL (Round 8)
        unloaded |= {"_hashlib", "hashlib"}
    unloaded |= {"lockgen.lockfiles.commit"}  # check writes nothing: the journal is found by lockdir (Round 8)
    unloaded |= {"lockgen.repodata.gateway", "lockgen.cachedir"}  # no solve: no Gateway to keep (Round 8)
    assert modules.isdisjoint(unloaded), modules & unloaded


def test_the_console_script_imports_click_and_lockgen_with_the_collector_off(tmp_path: Path, world: World) -> None:
    """The objects click's and lockgen's imports make live until the process ends: the console script
    (``lockgen`` and ``python -m lockgen`` both run ``lockgen.cli.main``) holds the collector off while
    they are imported and sets them aside (``gc.freeze``), so ``check`` and a no-op ``lock`` make no
    collection at all (17 young and 2 older ones before, ~2 ms; docs/performance.md, "Round 9: what every
    command pays before it works"). ``check`` then runs with the collector on; a no-op ``lock`` leaves it
    off, as it did (Round 8)."""
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '\nlockgen = "lockgen.cli:main"\n' in pyproject  # [project.scripts]
    world.write_env(["appa"])
    first = world.lock()
    assert first.returncode == 0, first.stderr
    cache = world.root / "cache"
    done, state = run_console(tmp_path, "check", "--cache-dir", cache, cwd=world.root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date" in done.stdout
    assert state["collections"] == [], state
    assert state["enabled"] is True
    assert isinstance(state["frozen"], int) and state["frozen"] > 5_000, state

    mirror = mirror_options(world.channel_server.url, cache)
    done, state = run_console(tmp_path, "lock", *mirror, cwd=world.root, env=mapping_env(world.mapping_server.url))
    assert done.returncode == 0, done.stderr
    assert "nothing changed" in done.stdout
    assert state["collections"] == [], state
    assert state["enabled"] is False  # off until it exits: nothing solved (Round 8)


def test_noop_lock_finds_the_mappings_memo_without_openssl(
    tmp_path: Path, world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With lockgen's cache outside the project (where the mapping's memo is kept), a no-op lock finds
    the memo by the mapping's BLAKE2b and loads no OpenSSL (Round 8); a mapping that answers
    differently for a locked package is still seen: the pip lock is made again."""
    world.write_env(["appa"])
    cache = tmp_path_factory.mktemp("user-cache")
    env = mapping_env(world.mapping_server.url)
    mirror = mirror_options(world.channel_server.url, cache)
    for _ in range(2):  # the first run downloads the table, the second reads the cached copy and writes its memo
        first = invoke_lockgen("lock", *mirror, cwd=world.root, env=env)
        assert first.returncode == 0, first.stderr
    assert list((cache / "pypi-mapping").glob("memo-*/*.json"))

    done, modules = run_listing(tmp_path, "lock", *mirror, cwd=world.root, env=env)
    assert done.returncode == 0, done.stderr
    assert "nothing changed" in done.stdout
    assert modules.isdisjoint({"hashlib", "_hashlib"}), modules & {"hashlib", "_hashlib"}

    table = world.root / "mapping" / "testchan.json"
    table.write_text(table.read_text().replace('"py-appc"', '"py-appc-renamed"'))
    (cache / "pypi-mapping" / "testchan.json").unlink()  # the cached download: fetched again
    again = invoke_lockgen("lock", *mirror, cwd=world.root, env=env)
    assert again.returncode == 0, again.stderr
    assert "wrote requirements.txt" in again.stdout, again.stdout + again.stderr


_YAML_PARSER = {"yaml", "lockgen.spec.document", "lockgen.spec.yamlread", "lockgen.spec.condaspec"}
"""About 13 ms of imports: an environment file whose text lockgen parsed before is read from its memo in
lockgen's cache (docs/performance.md, "Round 9: the environment file's memo")."""


def test_an_unchanged_environment_file_is_read_without_yaml(
    tmp_path: Path, world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A no-op lock and ``check`` load no YAML parser for a text they have read before, with lockgen's cache
    outside the project (given, or the user's default); an edited file is parsed again, and a cache folder
    inside the project keeps no memo (tests/security/test_memo_in_project.py: a committed one is not read)."""
    world.write_env(["appa"])
    cache = tmp_path_factory.mktemp("user-cache")
    env = mapping_env(world.mapping_server.url)
    mirror = mirror_options(world.channel_server.url, cache)
    first = invoke_lockgen("lock", *mirror, cwd=world.root, env=env)
    assert first.returncode == 0, first.stderr
    assert len(list((cache / "envfile").glob("memo-*/*.json"))) == 1

    done, modules = run_listing(tmp_path, "lock", *mirror, cwd=world.root, env=env)
    assert "nothing changed" in done.stdout, done.stdout + done.stderr
    assert modules.isdisjoint(_YAML_PARSER), modules & _YAML_PARSER
    done, modules = run_listing(tmp_path, "check", "--cache-dir", cache, cwd=world.root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert modules.isdisjoint(_YAML_PARSER), modules & _YAML_PARSER
    for _ in range(2):  # the user's default cache folder: the first check keeps the memo, the second reads it
        done, modules = run_listing(tmp_path, "check", cwd=world.root, env={"LOCKGEN_CACHE_DIR": ""})
        assert done.returncode == 0, done.stdout + done.stderr
    assert modules.isdisjoint(_YAML_PARSER), modules & _YAML_PARSER
    if sys.platform == "linux":  # the folder made from XDG_CACHE_HOME without platformdirs (Round 9)
        assert modules.isdisjoint({"platformdirs", "tempfile", "shutil"}), modules & {"platformdirs", "tempfile"}

    world.write_env(["appa>=0.1"])
    done, modules = run_listing(tmp_path, "check", "--cache-dir", cache, cwd=world.root)
    assert done.returncode == 6, done.stdout + done.stderr
    assert modules >= _YAML_PARSER
    inside = world.root / "cache-in-project"
    for _ in range(2):
        done, modules = run_listing(tmp_path, "check", "--cache-dir", inside, cwd=world.root)
        assert done.returncode == 6, done.stdout + done.stderr
        assert modules >= _YAML_PARSER
    assert not (inside / "envfile").exists()


_PACKAGING_PARSERS = {"packaging.requirements", "packaging.markers", "packaging.utils", "packaging.tags"}
"""10-17 ms of imports (packaging.utils imports packaging.tags, logging, subprocess, sysconfig): the
pip lines and lockgen's own pins are read by lockgen.pipsyntax instead (docs/performance.md, "Round 4")."""


def test_noop_lock_and_check_read_pins_and_markers_without_packaging(tmp_path: Path, world: World) -> None:
    world.write_env(["appa", "native", 'colorama ; sys_platform == "win32"'])
    first = world.lock()
    assert first.returncode == 0, first.stderr
    written = world.requirements()
    assert '; sys_platform == "win32"' in written  # markers in the lock: they are read and evaluated too
    assert "versions differ between platforms" in first.stdout

    env = {"LOCKGEN_PYPI_MAPPING_URL": world.mapping_server.url + "/{channel}.json"}
    mirror = ("--mirror", f"https://conda.anaconda.org={world.channel_server.url}")
    done, modules = run_listing(tmp_path, "lock", *mirror, "--cache-dir", world.root / "cache", cwd=world.root, env=env)
    assert done.returncode == 0, done.stderr
    assert "nothing changed" in done.stdout
    assert "pin differs between platforms" in done.stdout or "pins differ between platforms" in done.stdout
    assert modules.isdisjoint(_PACKAGING_PARSERS), modules & _PACKAGING_PARSERS
    assert "packaging.version" not in modules  # divergent pins of plain versions ordered without it (Round 8)
    assert "lockgen.progress" not in modules  # the solve's and install's events (Round 5); pipprogress's are said
    assert world.requirements() == written

    # with -v (as the bench runs it) the pip lock's progress is worded without the solve's and install's classes
    done, modules = run_listing(
        tmp_path, "lock", "-v", *mirror, "--cache-dir", world.root / "cache", cwd=world.root, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "requirements.txt is up to date" in done.stderr
    assert "lockgen.progress" not in modules  # Round 6

    done, modules = run_listing(tmp_path, "check", cwd=world.root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert modules.isdisjoint(_PACKAGING_PARSERS), modules & _PACKAGING_PARSERS

    (world.root / "environment.yml").write_text(
        (world.root / "environment.yml").read_text().replace("- appa", "- appa>=1.0")
    )
    done, modules = run_listing(tmp_path, "check", cwd=world.root)
    assert done.returncode == 6, done.stdout + done.stderr  # still judged: the pip section changed
    assert "appa" in done.stderr


_SPECIFIERS = {"packaging.specifiers", "packaging.version"}
"""3-4 ms of imports: check holds each pin to its requirement's plain-number bounds with
lockgen.matchspec.plain_ranges_hold (docs/performance.md, "Round 5")."""


def test_check_holds_pins_to_plain_bounds_without_packaging(tmp_path: Path, world: World) -> None:
    world.write_env(["appa>=0.9, <2", "native!=0.1"])
    first = world.lock()
    assert first.returncode == 0, first.stderr
    done, modules = run_listing(tmp_path, "check", cwd=world.root, env={"LOCKGEN_CACHE_DIR": ""})  # no cache chosen
    assert done.returncode == 0, done.stdout + done.stderr
    assert modules.isdisjoint(_SPECIFIERS), modules & _SPECIFIERS
    assert "lockgen.progress" not in modules  # 15 event classes check never reports (Round 5)
    assert "lockgen.lockfiles.unhashed" not in modules  # no requirements-unhashed.txt to read

    # the verdict on a pin outside its bounds: tests/unit/test_review_check.py (plain and other shapes)


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() == "x86_64"),
    reason="installs a linux-64 lock, which only a linux-64 machine runs",
)
def test_install_makes_its_imports_with_the_collector_off(tmp_path: Path) -> None:
    """A warm install (docs/performance.md, "Round 7: install's fixed costs"): the objects its imports make
    (rattler's, asyncio's, lockgen's) are set aside, never examined by the collector, which is on again
    for the install's own objects; and it loads no ``tempfile`` (with ``--cache-dir``: the default cache
    folder's lookup, platformdirs, loads it)."""
    world = Cached(tmp_path / "world")
    mirror = f"{CANONICAL}={world.root / 'mirror'}"
    args: tuple[str | Path, ...] = ("install", "-q", "--no-pip", "-p", "linux-64", "-o", world.root / "locks")
    args += ("--cache-dir", world.cache, "--mirror", mirror)
    first = run_lockgen(*args, "--prefix", tmp_path / "first", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    done, modules = run_listing(tmp_path, *args, "--prefix", tmp_path / "second", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "second" / "lib" / "base.txt").read_bytes() == b"base\n"
    assert {"rattler", "asyncio"} <= modules
    assert "tempfile" not in modules  # no scratch folder without a LOCKFILE; the staging folder made by hand
    state = collector_state(tmp_path)
    assert state["enabled"] is True
    assert isinstance(state["frozen"], int) and state["frozen"] > 10_000, state
