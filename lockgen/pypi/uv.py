"""Run ``uv pip compile`` once per platform, concurrently, and explain its failures.

Wheels first, sdists only where needed (pip's ``--prefer-binary`` spirit, which uv lacks): each
platform is compiled with ``--only-binary :all:``. When that fails because some packages have no
usable wheel for the target, those packages (named in uv's error) may be built from source and
the platform is compiled again, every other package still wheel-only; a new package that then
needs a build joins them, for at most ``MAX_BUILD_ROUNDS`` extra runs. A package with a wheel
version that fits keeps that version even when a newer one is sdist-only; an environment without
sdist-only packages costs one run, as before. ``--only-binary`` (``CompileJob.no_build``) refuses
every sdist instead.

uv is a lockgen dependency, found with ``uv.find_uv_bin()`` (the venv's copy, never a global
one). Each run gets an argument list, a clean environment (no user uv config, no Python
downloads, lockgen's cache), index URLs through the environment (so credentials stay off the
command line), and a timeout. stderr is parsed (:mod:`.uvstderr`) into a message that names both
sides of a conflict with conda; every message passes through the secret registry.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import field
from pathlib import Path
from typing import Protocol

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lockgen.config import DEFAULT_UV_TIMEOUT_S, UV_TIMEOUT_ENV
from lockgen.errors import ChannelError, ConfigError, LockgenError, Problem, PypiResolutionError
from lockgen.lockfiles.requirements import Pin, parse_compiled
from lockgen.pipprogress import PipResolved, PipResolving, PipRetrying
from lockgen.pypi.stubs import ProvidedPackage
from lockgen.pypi.targets import PipTarget
from lockgen.pypi.uvstderr import (
    NETWORK,
    NO_SDIST,
    NOT_FOUND,
    NOT_IN_REGISTRY,
    combine_failures,
    explain_failure,
    failure_said,
    indent,
    matched_names,
    needs_build,
    resolved_warnings,
)
from lockgen.records import dataclass
from lockgen.reporting import Notice, NullReporter, Reporter
from lockgen.secrets import SecretRegistry, strip_credentials

__all__ = ["CompileJob", "PipResolver", "UvResolver", "find_uv"]

MAX_WORKERS = 4
MAX_BUILD_ROUNDS = 8
"""Extra uv runs per platform that widen the set of packages allowed to build from source."""
# uv settings that only change how it connects, not what it resolves: passed through.
_KEEP_UV_ENV = {
    "UV_NATIVE_TLS", "UV_SYSTEM_CERTS", "UV_INSECURE_HOST", "UV_HTTP_TIMEOUT", "UV_HTTP_RETRIES",
    "UV_KEYRING_PROVIDER", "UV_CONCURRENT_DOWNLOADS", "UV_REQUEST_TIMEOUT",
}  # fmt: skip


def find_uv() -> str:
    """The uv executable installed with lockgen (the ``uv`` Python package)."""
    try:
        from uv import find_uv_bin
    except ImportError as exc:  # pragma: no cover - uv is a declared dependency
        raise ConfigError("the `uv` package is missing from lockgen's environment; reinstall lockgen") from exc
    try:
        return str(find_uv_bin())
    except FileNotFoundError as exc:  # pragma: no cover
        raise ConfigError("the `uv` package is installed but its executable is missing; reinstall it") from exc


@dataclass(frozen=True, slots=True)
class CompileJob:
    """One platform's ``uv pip compile``."""

    target: PipTarget
    requirements: Path
    constraints: tuple[Path, ...]
    output: Path
    """Pre-filled with earlier pins (uv keeps them where it can); uv writes the result here."""
    build_constraints: tuple[Path, ...] = ()
    """For sdist build environments only (``--build-constraints``): they keep the stubs out."""
    find_links: tuple[str, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    pre: bool = False
    no_index: bool = False
    exclude_newer: dt.datetime | None = None
    upgrade: bool = False
    no_build: bool = False
    """Refuse sdists (``--only-binary``): every package must have a wheel for the target."""
    upgrade_packages: tuple[str, ...] = ()
    newest_probe: Path | None = None
    """The named requirements alone (no URLs): asked for their newest release (pip's pick), see
    :meth:`UvResolver._sdist_only_releases`. None: not asked."""
    provided: Mapping[str, ProvidedPackage] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)
    """Canonical name of each pip requirement → where it is written (``environment.yml:12``), for messages."""


class PipResolver(Protocol):
    def compile(self, jobs: Sequence[CompileJob]) -> dict[str, str]:
        """platform → the requirements text uv wrote. Raises a LockgenError naming every failure."""


class UvResolver:
    def __init__(
        self,
        cache_dir: Path,
        secrets: SecretRegistry | None = None,
        reporter: Reporter | None = None,
        *,
        offline: bool = False,
        timeout_s: float = DEFAULT_UV_TIMEOUT_S,
        uv_path: str | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.secrets = secrets or SecretRegistry()
        self.reporter = reporter or NullReporter()
        self.offline = offline
        self.timeout_s = timeout_s
        self.uv = uv_path
        self.interpreters: dict[str, str] = {}
        """``X.Y`` → the interpreter that builds sdist metadata for that target Python (see :func:`build_python`)."""
        self._warned: dict[str, list[str]] = {}
        """platform → what its last successful uv run warned about (:func:`resolved_warnings`)."""
        self._said: set[str] = set()
        """The warnings already shown: each once for all platforms."""
        self._said_lock = threading.Lock()

    def argv(self, job: CompileJob, builds: Sequence[str] = ()) -> list[str]:
        """uv's arguments; ``builds`` are the packages that may come from an sdist (all others: wheels only)."""
        args = self._common(job, job.requirements, job.output)
        args.remove("--quiet")  # a run that succeeds prints its warnings (yanked, unknown extra): _run shows them
        if job.no_build:
            args.append("--no-build")
        else:
            args += ["--only-binary", ":all:"]
            for name in builds:
                args += ["--no-binary", name]
        if job.upgrade:
            args.append("--upgrade")
        for name in job.upgrade_packages:
            args += ["--upgrade-package", name]
        return args

    def probe_argv(self, job: CompileJob, probe: Path, output: Path, *, wheels_only: bool) -> list[str]:
        """The newest version of each named requirement on its own (``--no-deps``: nothing is built),
        sdists allowed or ``wheels_only``: see :meth:`_sdist_only_releases`."""
        args = [*self._common(job, probe, output), "--no-deps"]
        return [*args, "--only-binary", ":all:"] if wheels_only else args

    def _common(self, job: CompileJob, requirements: Path, output: Path) -> list[str]:
        args = [
            self.uv or find_uv(), "pip", "compile", str(requirements),
            "--output-file", str(output),
            "--python", self.interpreters.get(_short(job.target.python_version), sys.executable),
            "--python-platform", job.target.python_platform,
            "--python-version", job.target.python_version,
            "--generate-hashes", "--no-header", "--annotation-style", "split", "--quiet",
            "--color", "never",
        ]  # fmt: skip
        for constraint in job.constraints:
            args += ["--constraints", str(constraint)]
        for constraint in job.build_constraints:
            args += ["--build-constraints", str(constraint)]
        for link in job.find_links:
            args += ["--find-links", link]
        if job.no_index:
            args.append("--no-index")
        if job.pre:
            args += ["--prerelease", "allow"]
        if job.exclude_newer is not None:
            args += ["--exclude-newer", job.exclude_newer.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")]
        return args

    def environment(self, job: CompileJob) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("UV_") or k in _KEEP_UV_ENV}
        env.pop("MACOSX_DEPLOYMENT_TARGET", None)
        env.update(
            UV_PYTHON_DOWNLOADS="never",
            UV_NO_CONFIG="1",
            UV_CACHE_DIR=str(self.cache_dir / "uv"),
            UV_NO_PROGRESS="1",
            NO_COLOR="1",
        )
        if self.offline:
            env["UV_OFFLINE"] = "1"
        if job.index_url:
            env["UV_INDEX_URL"] = job.index_url
        if job.extra_index_urls:
            env["UV_EXTRA_INDEX_URL"] = " ".join(job.extra_index_urls)
        if job.target.macos_target:
            env["MACOSX_DEPLOYMENT_TARGET"] = job.target.macos_target
        return env

    def _run(self, job: CompileJob) -> str:
        platform = job.target.platform
        self.reporter.report(PipResolving(platform, job.target.python_platform))
        deadline = time.monotonic() + self.timeout_s
        earlier = job.output.read_text(encoding="utf-8") if job.output.is_file() else ""
        kept = {p.name for p in parse_compiled(earlier)} - set(job.upgrade_packages)
        probing = job.newest_probe is not None and not job.no_build
        if probing and not _compile_caches_probe(job):  # the probe needs nothing of the compile: run beside it
            with ThreadPoolExecutor(max_workers=1) as pool:
                compiled = pool.submit(self._rounds, job, [], deadline)  # submitted first: the compile is the long one
                newest = self._probe(job, deadline, wheels_only=False)
                builds = compiled.result()
        else:  # after it, from the index pages it has just fetched into uv's cache (no download, a third the CPU)
            builds = self._rounds(job, [], deadline)
            newest = self._probe(job, deadline, wheels_only=False, cached=True) if probing else {}
        text = job.output.read_text(encoding="utf-8")
        newer = self._sdist_only_releases(text, kept, newest, {})  # candidates, before asking which have wheels
        if newer:  # rare: only then does the wheels-only probe decide (one uv run per platform saved otherwise)
            wheels = self._probe(job, deadline, wheels_only=True, cached=_compile_caches_probe(job))
            newer = self._sdist_only_releases(text, kept, newest, wheels)
        if newer:
            names = [name for name, _, _ in newer]
            try:
                builds = self._rounds(job, [*builds, *names], deadline)
                text = job.output.read_text(encoding="utf-8")
                for name, old, new in newer:
                    self.reporter.report(Notice(_newer_sdist_note(platform, name, old, new), platform))
            except PypiResolutionError as exc:
                job.output.write_text(text, encoding="utf-8")
                for name, old, new in newer:
                    self.reporter.report(Notice(_newer_sdist_failed(platform, name, old, new, exc), platform))
        self.reporter.report(PipResolved(platform))
        for warning in self._warned.pop(platform, []):  # the last successful run's: the one whose pins are kept
            with self._said_lock:  # once for all platforms: the platforms' runs end in any order
                said = warning in self._said
                self._said.add(warning)
            if not said:
                self.reporter.report(Notice(Problem(warning, severity="warning"), platform))
        indexed = {canonicalize_name(p.name) for p in parse_compiled(text) if p.url is None}  # not local, VCS, URL:
        from_index = [name for name in builds if name in indexed]  # those are always built, wheel or not
        if from_index:
            self.reporter.report(Notice(sdist_warning(platform, from_index), platform))
        return text

    def _rounds(self, job: CompileJob, builds: list[str], deadline: float) -> list[str]:
        """Run uv until it succeeds, widening ``builds`` by the packages no wheel fits; the final
        ``builds``. Raises PypiResolutionError explaining the failure."""
        platform = job.target.platform
        builds = list(builds)
        first: str | None = None
        stderr = ""
        for round_ in range(MAX_BUILD_ROUNDS + 1):
            failed = self._invoke(job, builds, deadline)
            if failed is None:
                return builds
            stderr = failed
            first = first if first is not None else stderr
            needed = [] if job.no_build else [n for n in needs_build(stderr) if n not in builds]
            if not needed:
                break
            if round_ == MAX_BUILD_ROUNDS:
                raise PypiResolutionError(
                    f"{platform}: more packages kept needing a build from source after {MAX_BUILD_ROUNDS} extra"
                    f" uv runs ({', '.join(builds + needed)}); pin versions that have wheels for {platform}"
                )
            builds += needed
            self.reporter.report(PipRetrying(platform, tuple(needed), tuple(builds)))
        if first is not None and builds and set(matched_names(NO_SDIST, stderr)) & set(builds):
            stderr = first  # no wheel fits and there is no sdist either: the wheels-only run says which wheels exist
        message = explain_failure(
            stderr, job.target, job.provided, job.origins, only_binary=job.no_build, builder=self.builder(job.target)
        )
        if NOT_FOUND.search(" ".join(stderr.split())):
            message += "\n" + _where_searched(job)
        raise PypiResolutionError(message, tuple(matched_names(NOT_IN_REGISTRY, stderr)))

    def builder(self, target: PipTarget) -> str:
        """The interpreter that builds sdist metadata for ``target``, and whether it is the target's Python."""
        short = _short(target.python_version)
        path = self.interpreters.get(short, sys.executable)
        if path != sys.executable:
            return f"Python {short} ({path})"
        host = ".".join(str(p) for p in sys.version_info[:3])
        if _short(host) == short:
            return f"Python {host} ({path})"
        return (
            f"Python {host} ({path}), not the target's {target.python_version}: no python{short} on PATH"
            " (uv downloads none), so a setup.py that works only on the target's Python fails here"
        )

    @staticmethod
    def _sdist_only_releases(
        text: str, kept: set[str], newest: Mapping[str, Pin], wheels: Mapping[str, Pin]
    ) -> list[tuple[str, str, str]]:
        """(name, locked version, newer version) of the named requirements whose newest release has
        only an sdist while an older one has a wheel: pip installs the newest (it prefers a newer
        version to a wheel), so lockgen takes it too. A release with wheels for other platforms only
        (wandb on macOS x86_64) is not one: the wheels-first pick stands (pip's ``--prefer-binary``).
        Pins of the previous lock (``kept``) stay. ``newest`` and ``wheels``: the two quick ``--no-deps``
        uv runs (:meth:`_probe`; any failure: none): the first after the compile, offline from the pages
        it fetched (beside it when :func:`_compile_caches_probe` says the cache may lack one), the
        wheels-only one only when the first names a candidate (``wheels`` empty gives every candidate).
        """
        locked = {p.name: p for p in parse_compiled(text)}
        found = []
        for name, pin in newest.items():
            main = locked.get(name)
            if name in kept or main is None or pin.url is not None or len(pin.hashes) != 1:
                continue  # more than one file: wheels exist for some platform (or two sdists): wheels first
            try:
                new, old = Version(pin.version), Version(main.version)
                best_wheel = Version(wheels[name].version) if name in wheels else None
            except InvalidVersion:
                continue
            if new > old and (best_wheel is None or new > best_wheel):
                found.append((name, main.version, pin.version))
        return found

    def _probe(self, job: CompileJob, deadline: float, *, wheels_only: bool, cached: bool = False) -> dict[str, Pin]:
        """One ``--no-deps`` probe (:meth:`_sdist_only_releases`). ``cached``: the compile has just
        fetched every index page it reads (:func:`_compile_caches_probe`), so it runs offline first,
        from uv's cache, and again online only if that fails (a page the compile did not fetch)."""
        assert job.newest_probe is not None
        output = job.newest_probe.with_suffix(".wheels.txt" if wheels_only else ".any.txt")
        argv = self.probe_argv(job, job.newest_probe, output, wheels_only=wheels_only)
        env = self.environment(job)
        tries = [{**env, "UV_OFFLINE": "1"}, env] if cached and not self.offline else [env]
        for environment in tries:
            output.unlink(missing_ok=True)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {}
            try:
                done = subprocess.run(
                    argv, env=environment, capture_output=True, timeout=remaining, check=False,
                    stdin=subprocess.DEVNULL,
                )  # fmt: skip
            except (OSError, subprocess.TimeoutExpired):
                return {}
            if done.returncode == 0 and output.is_file():
                return {p.name: p for p in parse_compiled(output.read_text(encoding="utf-8"))}
        return {}

    def _invoke(self, job: CompileJob, builds: Sequence[str], deadline: float) -> str | None:
        """One uv run: None when it succeeded, else its stderr (secrets masked). Network failures raise."""
        searched = (job.index_url or "https://pypi.org/simple", *job.extra_index_urls)
        indexes = ", ".join(strip_credentials(u) for u in searched)
        late = PypiResolutionError(
            f"{job.target.platform}: uv pip compile did not finish within {self.timeout_s} s; a package index"
            f" ({indexes}) or a find-links location may be stalled or answering very slowly"
            f" (set {UV_TIMEOUT_ENV} to wait longer)"
        )
        remaining = deadline - time.monotonic()  # one budget for every run of this platform
        if remaining <= 0:
            raise late
        try:
            done = subprocess.run(
                self.argv(job, builds),
                env=self.environment(job),
                capture_output=True,
                timeout=remaining,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise late from exc
        if done.returncode == 0:
            said = self.secrets.redact(done.stderr.decode("utf-8", "replace"))  # uv writes UTF-8, whatever the locale
            self._warned[job.target.platform] = resolved_warnings(said, job.origins)
            return None
        stderr = self.secrets.redact(failure_said(done.stderr.decode("utf-8", "replace")))  # uv writes UTF-8
        if NETWORK.search(stderr) and "No solution found" not in stderr:
            raise ChannelError(
                f"{job.target.platform}: a Python package index could not be reached:\n{indent(stderr)}"
            )
        return stderr

    def compile(self, jobs: Sequence[CompileJob]) -> dict[str, str]:
        if not jobs:
            return {}
        self.uv = self.uv or find_uv()  # before the threads: uv's finder reads sysconfig, which is not thread-safe
        for short in sorted({_short(job.target.python_version) for job in jobs} - set(self.interpreters)):
            self.interpreters[short] = build_python(short)
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(jobs))) as pool:
            futures = {job.target.platform: pool.submit(self._run, job) for job in jobs}
        results: dict[str, str] = {}
        failures: list[LockgenError] = []
        for platform, future in futures.items():
            error = future.exception()
            if error is None:
                results[platform] = future.result()
            elif isinstance(error, LockgenError):
                failures.append(error)
            else:
                raise error
        if failures:
            raise combine_failures(failures)
        return results


def _compile_caches_probe(job: CompileJob) -> bool:
    """Whether the compile leaves in uv's cache every index page a probe of ``job`` reads: one index
    (with extra indexes, a page an earlier index did not have was never cached) and local find-links
    only (a remote find-links page may not be cached). The compile fetches the page of every named
    requirement it resolves, just before the probe reads it: the same page the probe would download."""
    return not job.extra_index_urls and all("://" not in link for link in job.find_links)


def _short(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _newer_sdist_note(platform: str, name: str, old: str, new: str) -> Problem:
    message = (
        f"{platform}: {name} {new} has only an sdist (older {old} has wheels): locked {new} from its"
        f" sdist, as pip installs the newest version; pin `{name}<{new}` to keep the wheel"
    )
    return Problem(message, severity="note")


def _newer_sdist_failed(platform: str, name: str, old: str, new: str, error: PypiResolutionError) -> Problem:
    lines = error.message.splitlines()
    reason = next((line.strip()[2:] for line in lines if line.strip().startswith("- ")), lines[0])
    message = (
        f"{platform}: {name} {new} has only an sdist and could not be locked ({reason}); kept {old},"
        " which has wheels (pip would try to build the newer one)"
    )
    return Problem(message, severity="warning")


def sdist_warning(platform: str, builds: Sequence[str]) -> Problem:
    """What a lock from sdists cannot promise: their metadata was built here, not on ``platform``."""
    import platform as host

    names = ", ".join(f"`{n}`" for n in builds)
    message = (
        f"{platform}: {names} locked from sdist (no wheel fits {platform}); the dependencies locked"
        f" for {'it' if len(builds) == 1 else 'them'} come from metadata built on this machine"
        f" ({host.system()} {host.machine()}), not on {platform}: if a setup.py picks dependencies by platform,"
        f" check them on {platform}, or pin a version that has a wheel"
    )
    return Problem(message, severity="warning")


def build_python(short: str) -> str:
    """An interpreter of Python ``short`` (``3.12``) on PATH, else the one lockgen runs on.

    uv resolves for the target's Python version whatever interpreter it is given, but builds an
    sdist's metadata by running that interpreter (uv downloads none here): a matching version
    gives the metadata a ``setup.py`` computes for it. A candidate must run and report the version.
    """
    import shutil

    if f"{sys.version_info[0]}.{sys.version_info[1]}" == short:
        return sys.executable
    found = shutil.which(f"python{short}")
    if found:
        try:
            done = subprocess.run(
                [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, timeout=10, check=False, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return sys.executable
        if done.returncode == 0 and done.stdout.decode("utf-8", "replace").strip() == short:
            return found
    return sys.executable



def _where_searched(job: CompileJob) -> str:
    """Which indexes uv searched: a package 'not found' may be a typo, or an index that wants a login."""
    indexes = [job.index_url or "https://pypi.org/simple", *job.extra_index_urls]
    shown = ", ".join(strip_credentials(u) for u in indexes)
    return (
        f"  searched: {shown} (check the name; an index that needs a login may answer with a page that lists no files)"
    )
