"""The uv adapter: which uv, its arguments and environment, timeouts, and failure messages."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lockgen.errors import ChannelError, PypiResolutionError
from lockgen.pypi.stubs import ProvidedPackage
from lockgen.pypi.targets import PipTarget
from lockgen.pypi.uv import MAX_BUILD_ROUNDS, CompileJob, UvResolver, find_uv
from lockgen.pypi.uvstderr import explain_failure, needs_build
from lockgen.secrets import SecretRegistry

OSX = PipTarget("osx-64", "x86_64-apple-darwin", "3.11.9", "darwin", "x86_64", "11.0")
LINUX = PipTarget("linux-64", "x86_64-manylinux_2_28", "3.11.9", "linux", "x86_64")
TORCH = {"torch": ProvidedPackage("torch", "1.13.1", "pytorch", "1.13.1")}


def job(tmp_path: Path, target: PipTarget = OSX, **kwargs: object) -> CompileJob:
    (tmp_path / "requirements.in").write_text("accelerate\n")
    return CompileJob(
        target=target,
        requirements=tmp_path / "requirements.in",
        constraints=(tmp_path / "c.txt",),
        output=tmp_path / "out.txt",
        **kwargs,  # type: ignore[arg-type]
    )


def test_uv_is_the_venv_copy() -> None:
    path = Path(find_uv()).resolve()
    assert path.is_relative_to(Path(sys.prefix).resolve()), (path, sys.prefix)
    version = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("uv ")


def test_uv_found_without_it_on_path() -> None:
    code = "from lockgen.pypi.uv import find_uv; print(find_uv())"
    env = {"PATH": "/nonexistent", "HOME": os.environ.get("HOME", "/tmp")}
    assert shutil.which("uv", path="/nonexistent") is None
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert Path(done.stdout.strip()).resolve() == Path(find_uv()).resolve()


def test_arguments(tmp_path: Path) -> None:
    when = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
    resolver = UvResolver(tmp_path / "cache", uv_path="uv")
    argv = resolver.argv(
        job(
            tmp_path,
            find_links=("/stubs",),
            build_constraints=(tmp_path / "b.txt",),
            pre=True,
            exclude_newer=when,
            upgrade_packages=("wandb",),
        )
    )
    assert argv[:4] == ["uv", "pip", "compile", str(tmp_path / "requirements.in")]
    pairs = {(a, b) for a, b in itertools.pairwise(argv)}
    assert ("--python-platform", "x86_64-apple-darwin") in pairs
    assert ("--python-version", "3.11.9") in pairs
    assert ("--exclude-newer", "2026-09-01T00:00:00Z") in pairs
    assert ("--constraints", str(tmp_path / "c.txt")) in pairs
    assert ("--build-constraints", str(tmp_path / "b.txt")) in pairs  # keeps stubs out of sdist builds
    assert ("--find-links", "/stubs") in pairs
    assert ("--prerelease", "allow") in pairs
    assert ("--upgrade-package", "wandb") in pairs
    assert "--generate-hashes" in argv
    assert "--no-build" not in argv  # sdists are built for their metadata unless --only-binary
    assert ("--only-binary", ":all:") in pairs and "--no-binary" not in argv  # wheels first
    wider = resolver.argv(job(tmp_path), builds=("wandb", "wget"))
    assert [b for a, b in itertools.pairwise(wider) if a == "--no-binary"] == ["wandb", "wget"]
    refuse = resolver.argv(job(tmp_path, no_build=True), builds=("wandb",))
    assert "--no-build" in refuse and "--no-binary" not in refuse
    assert "--universal" not in argv


def test_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_INDEX_URL", "https://user-config.example/simple")
    monkeypatch.setenv("UV_CONSTRAINT", "/etc/whatever.txt")
    monkeypatch.setenv("UV_NATIVE_TLS", "1")
    resolver = UvResolver(tmp_path / "cache", uv_path="uv", offline=True)
    secret_job = job(
        tmp_path, index_url="https://u:tok3n@idx.example/simple", extra_index_urls=("https://a", "https://b")
    )
    env = resolver.environment(secret_job)
    assert env["UV_PYTHON_DOWNLOADS"] == "never" and env["UV_NO_CONFIG"] == "1" and env["UV_OFFLINE"] == "1"
    assert env["UV_CACHE_DIR"] == str(tmp_path / "cache" / "uv")
    assert env["UV_INDEX_URL"] == "https://u:tok3n@idx.example/simple"  # used, through the environment
    assert env["UV_EXTRA_INDEX_URL"] == "https://a https://b"
    assert env["MACOSX_DEPLOYMENT_TARGET"] == "11.0"
    assert "UV_CONSTRAINT" not in env and env["UV_NATIVE_TLS"] == "1"
    assert not any("tok3n" in a for a in resolver.argv(secret_job))  # never on the command line
    assert "MACOSX_DEPLOYMENT_TARGET" not in resolver.environment(job(tmp_path, target=LINUX))


def fake_uv(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-uv"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_timeout_is_an_error_not_a_hang(tmp_path: Path) -> None:
    resolver = UvResolver(tmp_path, uv_path=fake_uv(tmp_path, "time.sleep(60)"), timeout_s=0.3)
    with pytest.raises(PypiResolutionError, match=r"did not finish within 0\.3 s"):
        resolver.compile([job(tmp_path)])


def test_network_failures_are_channel_errors_with_secrets_masked(tmp_path: Path) -> None:
    stderr = (
        "error: Request failed after 3 retries\n  cause: Failed to fetch: https://u:tok3n@idx.example/simple/x/\n"
        "  cause: error sending request for url\n"
    )
    secrets = SecretRegistry()
    secrets.add_url("https://u:tok3n@idx.example/simple")
    uv = fake_uv(tmp_path, f"sys.stderr.write({stderr!r}); sys.exit(2)")
    with pytest.raises(ChannelError) as info:
        UvResolver(tmp_path, secrets, uv_path=uv).compile([job(tmp_path)])
    assert "osx-64: a Python package index could not be reached" in info.value.message
    assert "tok3n" not in info.value.message


def test_every_failing_platform_is_reported(tmp_path: Path) -> None:
    stderr = "error: No solution found when resolving dependencies\n  cause: Because x is unavailable\n"
    uv = fake_uv(tmp_path, f"sys.stderr.write({stderr!r}); sys.exit(1)")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(PypiResolutionError) as info:
        UvResolver(tmp_path, uv_path=uv).compile([job(tmp_path / "a"), job(tmp_path / "b", target=LINUX)])
    # the same failure is said once, for both platforms
    assert info.value.message.startswith("osx-64, linux-64: the pip section cannot be resolved")
    assert info.value.message.count("cannot be resolved") == 1


# stderr as uv 0.13 writes it (captured from real runs)
DEPENDS = """error: No solution found when resolving dependencies
  cause: Because accelerate>=1.5.0 depends on torch>=2.0.0 and torch==1.13.1+conda, we can conclude that \
accelerate>=1.5.0 cannot be used.
         And because you require accelerate>=1.5, we can conclude that your requirements are unsatisfiable.
"""
DIRECT = """error: No solution found when resolving dependencies
  cause: Because you require torch>=2 and torch==1.13.1+conda, we can conclude that your requirements are \
unsatisfiable.
"""
NO_WHEEL = """error: No solution found when resolving dependencies
  cause: Because tensorflow-io-gcs-filesystem==0.37.1 has no wheels with a matching platform tag (e.g., \
`win_amd64`) and you require tensorflow-io-gcs-filesystem==0.37.1, we can conclude that your requirements are \
unsatisfiable.
"""


def test_conflict_names_both_sides() -> None:
    message = explain_failure(DEPENDS, OSX, TORCH)
    assert "accelerate>=1.5.0 needs torch>=2.0.0; conda provides torch 1.13.1 (as pytorch) on osx-64" in message
    assert "uv says" in message and "accelerate>=1.5.0 cannot be used" in message


def test_direct_requirement_against_conda() -> None:
    message = explain_failure(DIRECT, OSX, TORCH)
    assert "pip: asks for torch>=2; conda provides torch 1.13.1 (as pytorch) on osx-64" in message
    assert "hint: add `pytorch>=2` to the conda dependencies" in message


def test_clash_hint_gives_the_conda_constraint_and_the_pip_line() -> None:
    message = explain_failure(DEPENDS, OSX, TORCH, {"accelerate": "environment.yml:14"})
    assert (
        "accelerate>=1.5.0 needs torch>=2.0.0; conda provides torch 1.13.1 (as pytorch) on osx-64\n"
        "    hint: add `pytorch>=2.0.0` to the conda dependencies, so conda installs a torch version"
        " the pip requirement accepts (pip requirement at environment.yml:14)"
    ) in message
    widgets = {"ipywidgets": ProvidedPackage("ipywidgets", "8.1.5", "ipywidgets", "8.1.5")}
    stderr = (
        "error: No solution found when resolving dependencies\n  cause: Because deepchecks==0.18.1 depends on"
        " ipywidgets>=7.6.5,<8 and ipywidgets==8.1.5+conda, we can conclude that deepchecks==0.18.1 cannot be used."
    )
    message = explain_failure(stderr, OSX, widgets, {"deepchecks": "environment.yml:20"})
    assert "hint: add `ipywidgets>=7.6.5,<8` to the conda dependencies" in message
    assert "(pip requirement at environment.yml:20)" in message


def test_no_wheel_names_package_and_platform() -> None:
    win = PipTarget("win-64", "x86_64-pc-windows-msvc", "3.12.1", "win32", "AMD64")
    message = explain_failure(NO_WHEEL, win, {})
    assert "tensorflow-io-gcs-filesystem==0.37.1 has no wheel for win-64 (x86_64-pc-windows-msvc, Python 3.12.1)" in (
        message
    )


def test_sdist_builds_use_an_interpreter_of_the_target_python_when_one_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lockgen.pypi.uv import build_python

    good, bad = tmp_path / "python3.97", tmp_path / "python3.98"
    good.write_text("#!/bin/sh\necho 3.97\n")
    bad.write_text("#!/bin/sh\necho 'pyenv: python3.98: command not found' >&2; exit 127\n")
    for script in (good, bad):
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert build_python("3.97") == str(good)
    assert build_python("3.98") == sys.executable  # a shim that does not run: lockgen's own Python
    assert build_python("3.99") == sys.executable  # none on PATH
    assert build_python(f"{sys.version_info[0]}.{sys.version_info[1]}") == sys.executable
    resolver = UvResolver(tmp_path / "cache", uv_path="uv")
    resolver.interpreters["3.11"] = str(good)
    argv = resolver.argv(job(tmp_path))
    assert argv[argv.index("--python") + 1] == str(good)


# uv 0.13's wheels-only failures, as recorded from runs against the loopback index (tests/support/uv_wording.py)
RECORDED = Path(__file__).resolve().parents[1] / "data" / "uv-output" / "0.13.9"
WHEELS_REQUIRED = (RECORDED / "wheels-required.txt").read_text(encoding="utf-8")
NO_SDIST = (RECORDED / "no-sdist.txt").read_text(encoding="utf-8")


def test_packages_that_need_a_build_are_read_from_uv_errors() -> None:
    assert needs_build(WHEELS_REQUIRED) == ["onlysd"]
    assert needs_build(NO_WHEEL) == ["tensorflow-io-gcs-filesystem"]
    assert needs_build(DEPENDS) == [] and needs_build(NO_SDIST) == []
    assert needs_build("hint: Wheels are required for `Tiny_Pkg[cli]` because building") == ["tiny-pkg"]


# A fake uv: fails like uv's wheels-only run for each package of NEEDS that is not yet allowed to
# build (--no-binary), one at a time; logs every argument list; succeeds once all are allowed.
ROUNDS = """
import json, pathlib
log = pathlib.Path(sys.argv[0]).with_suffix(".log")
log.open("a").write(json.dumps(sys.argv[1:]) + "\\n")
allowed = [b for a, b in zip(sys.argv, sys.argv[1:]) if a == "--no-binary"]
missing = [n for n in NEEDS if n not in allowed]
if missing:
    sys.stderr.write(f"error: No solution found\\nhint: Wheels are required for `{missing[0]}` because building "
                     "from source is disabled for all packages (i.e., with `--no-build`)\\n")
    sys.exit(1)
out = sys.argv[sys.argv.index("--output-file") + 1]
pathlib.Path(out).write_text("ok==1\\n")
"""


def rounds_uv(tmp_path: Path, needs: list[str]) -> tuple[str, Path]:
    return fake_uv(tmp_path, f"NEEDS = {needs!r}\n{ROUNDS}"), tmp_path / "fake-uv.log"


def test_wheels_only_first_then_builds_only_for_the_packages_that_need_one(tmp_path: Path) -> None:
    import json

    from lockgen.pipprogress import PipRetrying
    from lockgen.reporting import RecordingReporter

    uv, log = rounds_uv(tmp_path, [])
    assert UvResolver(tmp_path, uv_path=uv).compile([job(tmp_path)]) == {"osx-64": "ok==1\n"}
    assert len(log.read_text().splitlines()) == 1  # nothing sdist-only: one run, as before
    log.unlink()
    uv, log = rounds_uv(tmp_path, ["wget", "sdep"])  # wget's sdist needs sdep, sdist-only too
    reporter = RecordingReporter()
    assert UvResolver(tmp_path, reporter=reporter, uv_path=uv).compile([job(tmp_path)]) == {"osx-64": "ok==1\n"}
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert [[b for a, b in itertools.pairwise(r) if a == "--no-binary"] for r in runs] == [
        [],
        ["wget"],
        ["wget", "sdep"],
    ]
    assert all(("--only-binary", ":all:") in set(itertools.pairwise(r)) for r in runs)
    retries = [e for e in reporter.events if isinstance(e, PipRetrying)]
    assert retries == [PipRetrying("osx-64", ("wget",), ("wget",)), PipRetrying("osx-64", ("sdep",), ("wget", "sdep"))]


def test_only_binary_never_retries(tmp_path: Path) -> None:
    uv, log = rounds_uv(tmp_path, ["wget"])
    with pytest.raises(PypiResolutionError, match="wget"):
        UvResolver(tmp_path, uv_path=uv).compile([job(tmp_path, no_build=True)])
    assert len(log.read_text().splitlines()) == 1


def test_build_rounds_are_bounded(tmp_path: Path) -> None:
    needs = [f"p{i}" for i in range(MAX_BUILD_ROUNDS + 3)]
    uv, log = rounds_uv(tmp_path, needs)
    with pytest.raises(PypiResolutionError, match=f"after {MAX_BUILD_ROUNDS} extra uv runs"):
        UvResolver(tmp_path, uv_path=uv).compile([job(tmp_path)])
    assert len(log.read_text().splitlines()) == MAX_BUILD_ROUNDS + 1


def test_the_timeout_covers_every_round(tmp_path: Path) -> None:
    # Each round fits in the limit, the MAX_BUILD_ROUNDS + 1 rounds it would take do not: a limit per
    # round would end in "after 8 extra uv runs" instead.
    uv = fake_uv(tmp_path, f"time.sleep(0.1)\nNEEDS = {[f'p{i}' for i in range(20)]!r}\n{ROUNDS}")
    with pytest.raises(PypiResolutionError, match=r"did not finish within 0\.5 s"):
        UvResolver(tmp_path, uv_path=uv, timeout_s=0.5).compile([job(tmp_path)])


def test_a_failed_build_names_its_interpreter_and_the_error_it_printed() -> None:
    stderr = (
        "error: Failed to build `oldpkg==1.0`\n  cause: The build backend returned an error\n"
        "  cause: Call to `setuptools.build_meta:__legacy__.prepare_metadata_for_build_wheel` failed (exit status: 1)\n"
        "\n         [stderr]\n         Traceback (most recent call last):\n"
        '           File "<string>", line 14, in <module>\n'
        "         ModuleNotFoundError: No module named 'distutils'\n\n  hint: This usually indicates a problem\n"
    )
    message = explain_failure(stderr, LINUX, {}, builder="Python 3.12.1 (/opt/py/bin/python3.12)")
    assert (
        "oldpkg==1.0: building its sdist for metadata failed on this machine with Python 3.12.1"
        " (/opt/py/bin/python3.12): ModuleNotFoundError: No module named 'distutils' (uv's output below)"
    ) in message
    resolver = UvResolver(Path("/nonexistent"), uv_path="uv")
    other = f"{sys.version_info[0]}.{sys.version_info[1] - 1}.4"
    target = PipTarget("linux-64", "x86_64-manylinux_2_28", other, "linux", "x86_64")
    said = resolver.builder(target)
    assert said.startswith(f"Python {'.'.join(map(str, sys.version_info[:3]))} ({sys.executable}), not the target's")
    assert f"no python{other.rsplit('.', 1)[0]} on PATH" in said


PROBE_BESIDE = """
from pathlib import Path
args = sys.argv[1:]
out = Path(args[args.index("--output-file") + 1])
marker = out.parent / "probe-started"
if "--no-deps" in args:  # a probe of the newest releases
    marker.touch()
    out.write_text("")
    sys.exit(0)
for _ in range(100):  # the compile finishes once a probe has started, or after 5 s
    if marker.exists():
        break
    time.sleep(0.05)
out.write_text("ok==1\\n" if marker.exists() else "probe-after-compile==1\\n")
"""


def test_the_newest_release_probes_run_beside_the_compile(tmp_path: Path) -> None:
    """With an extra index (whose pages the compile may not leave in uv's cache), the ``--no-deps``
    probe does not wait for the compile (it does not need its result): a compile that ends only once
    a probe has begun ends with ``ok`` (with the probe after it, it would give up waiting and say so)."""
    probe = tmp_path / "named.in"
    probe.write_text("accelerate\n")
    uv = fake_uv(tmp_path, PROBE_BESIDE)
    beside = job(tmp_path, newest_probe=probe, extra_index_urls=("https://extra.example/simple",))
    assert UvResolver(tmp_path / "cache", uv_path=uv).compile([beside]) == {"osx-64": "ok==1\n"}


PROBE_AFTER = """
import os
from pathlib import Path
args = sys.argv[1:]
out = Path(args[args.index("--output-file") + 1])
kind = "compile" if "--no-deps" not in args else "offline-probe" if os.environ.get("UV_OFFLINE") else "probe"
with open(out.parent / "calls.log", "a") as log:
    log.write(kind + "\\n")
if kind == "offline-probe" and CACHED is None:  # a page the compile did not fetch: uv fails offline
    sys.stderr.write("error: accelerate was not found in the cache\\n")
    sys.exit(2)
one = " \\\\\\n    --hash=sha256:" + "a" * 64 + "\\n"
newest = {"compile": "1.0", "offline-probe": CACHED, "probe": "2.0"}[kind]
out.write_text("accelerate==" + newest + one)
"""


@pytest.mark.parametrize(("cached", "calls"), [("1.0", ["compile", "offline-probe"]),
                                               (None, ["compile", "offline-probe", "probe"])])  # fmt: skip
def test_the_probe_reads_the_pages_the_compile_fetched_offline_first(
    tmp_path: Path, cached: str | None, calls: list[str]
) -> None:
    """One index, no remote find-links: the compile has just fetched every index page the probe
    reads, so the probe runs after it with ``UV_OFFLINE=1`` (from uv's cache: no download, no second
    copy of the largest pages on the wire while the compiles run). When that fails (a page the compile
    did not fetch), the probe runs again online, so the answer is the one it had before."""
    probe = tmp_path / "named.in"
    probe.write_text("accelerate\n")
    uv = fake_uv(tmp_path, f"CACHED = {cached!r}\n{PROBE_AFTER}")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    local = job(tmp_path, newest_probe=probe, find_links=(str(stubs),))
    texts = UvResolver(tmp_path / "cache", uv_path=uv).compile([local])
    assert (tmp_path / "calls.log").read_text().split()[: len(calls)] == calls
    assert texts["osx-64"].startswith("accelerate==1.0")


def test_a_remote_find_links_page_keeps_the_probe_online(tmp_path: Path) -> None:
    probe = tmp_path / "named.in"
    probe.write_text("accelerate\n")
    uv = fake_uv(tmp_path, f"CACHED = '1.0'\n{PROBE_AFTER}")
    remote = job(tmp_path, newest_probe=probe, find_links=("https://links.example/wheels/",))
    UvResolver(tmp_path / "cache", uv_path=uv).compile([remote])
    assert sorted((tmp_path / "calls.log").read_text().split())[:2] == ["compile", "probe"]


PROBES_LOGGED = """
from pathlib import Path
args = sys.argv[1:]
out = Path(args[args.index("--output-file") + 1])
with open(out.parent / "calls.log", "a") as log:
    probe = "--no-deps" in args
    log.write(("wheels-probe" if probe and "--only-binary" in args else "probe" if probe else "compile") + "\\n")
one = " \\\\\\n    --hash=sha256:" + "a" * 64 + "\\n"
if "--no-deps" in args:
    out.write_text("accelerate==" + ("1.0" if "--only-binary" in args else NEWEST) + one)
else:
    out.write_text("accelerate==" + ("2.0" if "--no-binary" in args else "1.0") + one)
"""


@pytest.mark.parametrize(
    ("newest", "probes", "locked"), [("1.0", ["probe"], "1.0"), ("2.0", ["probe", "wheels-probe"], "2.0")]
)
def test_the_wheels_only_probe_runs_only_for_a_newer_sdist_only_release(
    tmp_path: Path, newest: str, probes: list[str], locked: str
) -> None:
    """The newest release of a named requirement is the one locked (no candidate): the wheels-only probe,
    which only tells whether a newer sdist-only release also has wheels, is not run (one uv run per
    platform fewer on every pip lock). A candidate: it runs, and decides as before."""
    probe = tmp_path / "named.in"
    probe.write_text("accelerate\n")
    uv = fake_uv(tmp_path, f"NEWEST = {newest!r}\n{PROBES_LOGGED}")
    texts = UvResolver(tmp_path / "cache", uv_path=uv).compile([job(tmp_path, newest_probe=probe)])
    calls = (tmp_path / "calls.log").read_text().split()
    assert sorted(c for c in calls if c != "compile") == probes
    assert texts["osx-64"].startswith(f"accelerate=={locked}")  # 2.0: sdist only (the fake's wheels stop at 1.0)
