"""``lockgen install``: make a prefix hold exactly a lock's packages, without conda.

Order of work, so a bad lock or a bad mirror never half-changes an environment:

1. read the lock and ``<prefix>/conda-meta``; if they agree, nothing happens (conda part);
2. download every new or changed file in parallel into ``<cache>/archives`` and check each
   against the lock's hash; any failure stops the install once the downloads end, the prefix
   untouched;
3. build each record from the channel's repodata (through the mirror), or from the archive;
4. take each package from lockgen's extracted cache when its entry still checks, else extract the
   verified archive (:mod:`lockgen.install.staging`; other tools' extractions are never trusted) as
   soon as it is verified, while the other files download (rattler extracts a large archive on its
   own threads, a small one in the event loop's thread),
   and check every path each package would write (:mod:`lockgen.install.confine`): one path
   outside the prefix refuses the whole install, the prefix untouched;
5. link the packages with rattler's installer (link options set, so it probes nothing in
   the prefix; each package from its extracted cache entry, with its canonical URL and a client
   that refuses every request, so rattler writes each ``conda-meta`` record right and can fetch
   nothing lockgen did not check), correct the records of packages linked another way, drop the
   staging;
6. install ``requirements.txt`` (when present) with the environment's Python, then
   ``requirements-unhashed.txt`` (VCS URLs and local projects, ``-e`` kept; ``--no-deps``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.channels import Mirror, resolve_channel
from lockgen.errors import ConfigError, InstallError, Problem
from lockgen.httpclient import HttpSettings
from lockgen.install.confine import Confinement, UnsafePath, check_paths
from lockgen.install.download import Archive, Downloader, DownloadFailure, HostUnreachable
from lockgen.install.link import link_packages, refusing_client
from lockgen.install.prefix import (
    PrefixPlan,
    installed_files,
    plan_prefix,
    python_executable,
    read_conda_meta,
    remove_stray_probes,
)
from lockgen.install.records import canonical_ok, record_for, restore_canonical_urls
from lockgen.install.staging import (
    Extracted,
    ExtractedCache,
    Extractions,
    StagingError,
    cache_segment,
    drop_stale_staging,
    link_tree,
    staging_dir,
)
from lockgen.lockfiles import ExplicitEntry, ExplicitLock
from lockgen.lockfiles.lockdir import LINKED_FILE, REQUIREMENTS_NAME, UNHASHED_NAME, LockProblem, read_lock_file
from lockgen.models import PackageUrl
from lockgen.progress import Extracting, Fetching, Linking, PipInstalling
from lockgen.records import dataclass
from lockgen.repodata.gateway import make_gateway
from lockgen.repodata.lookup import ChannelLookup, channel_of, fetch_url
from lockgen.reporting import Notice, NullReporter, Reporter
from lockgen.secrets import SecretRegistry

if TYPE_CHECKING:
    from rattler import Client, RepoDataRecord

    from lockgen.repodata.lookup import LookupResult

__all__ = ["InstallOptions", "InstallResult", "host_platform", "install_lock", "read_lock"]


@dataclass(frozen=True, slots=True)
class InstallOptions:
    prefix: Path
    platform: str
    lock_dir: Path
    cache_dir: Path
    mirrors: tuple[Mirror, ...] = ()
    filename_template: str = "{platform}.txt"
    pip: bool = True
    pip_installer: str = "auto"
    jobs: int = 8
    timeout_s: int = 60
    retries: int = 3
    foreign_platform: bool = False
    """Link a lock for a platform this machine cannot run (the pip step is then skipped)."""
    download_deadline_s: float = 1800
    """Longest time one file may take to download (all attempts), whatever the server does."""
    download_min_rate: int = 1024
    """Bytes per second a download must average over ``download_min_rate_window_s`` (0: no rule)."""
    download_min_rate_window_s: float = 30
    pip_deadline_s: int = 3600
    """Longest the pip step may take, every installer run together (``LOCKGEN_PIP_DEADLINE``)."""
    http: HttpSettings | None = None
    """Proxies, ``.netrc`` and timeout of the downloads (``config``'s ``Limits.http``); None: ``timeout_s`` only."""
    project_dir: Path | None = None
    """The environment file's folder when installing the project's own locks: requirements-unhashed.txt's
    local paths must start there (None: a lock given by path; its ``paths-base`` is taken as written)."""

    shown_as: Path | None = None
    """The file the user named when ``lock_dir`` holds lockgen's copy of it (a conda-lock.yml made
    explicit in a scratch folder): messages name it, never the copy."""

    @property
    def lock_path(self) -> Path:
        return self.lock_dir / self.filename_template.format(platform=self.platform)

    @property
    def shown_path(self) -> Path:
        """The lock as messages name it: the user's file."""
        return self.shown_as or self.lock_path

    @property
    def requirements_path(self) -> Path:
        return self.lock_dir / REQUIREMENTS_NAME

    @property
    def unhashed_path(self) -> Path:
        return self.lock_dir / UNHASHED_NAME


@dataclass(frozen=True, slots=True)
class InstallResult:
    prefix: Path
    platform: str
    lock_path: Path
    installed: tuple[str, ...] = ()
    """``name-version-build`` of every package linked by this run."""
    removed: tuple[str, ...] = ()
    unchanged: int = 0
    downloaded: int = 0
    pip: str = "none"
    """``none`` (no requirements.txt or --no-pip), ``up-to-date``, ``uv`` or ``pip``."""
    notes: tuple[str, ...] = field(default=())
    reused: int = 0
    """Packages linked from lockgen's extracted cache (no download, no extraction)."""

    @property
    def changed(self) -> bool:
        return bool(self.installed or self.removed) or self.pip in ("uv", "pip")


def host_platform() -> str:
    """This machine's conda subdir (``linux-64``, ``osx-arm64``, ...)."""
    from rattler import Subdir

    return str(Subdir.current())


def read_lock(path: Path, platform: str) -> ExplicitLock:
    """Read and sanity-check a lock for ``platform``; InstallError when missing or malformed."""
    read = read_lock_file(path)
    if read.problem is LockProblem.NOT_UTF8:
        raise InstallError(f"{path}:{read.bad_line}: not a lock file: the file is not UTF-8 text")
    if read.problem is LockProblem.MISSING:
        raise InstallError(f"no lock for {platform}: {path} does not exist (run `lockgen lock -p {platform}`)")
    if isinstance(read.error, OSError):
        raise InstallError(f"cannot read {path}: {read.error.strerror or read.error}")
    if read.lock is None:
        raise InstallError(f"{path}: {read.error}")
    lock = read.lock
    if lock.platform and lock.platform != platform:
        raise InstallError(f"{path} is a lock for {lock.platform}, not {platform}")
    first: dict[str, ExplicitEntry] = {}
    for entry in lock.entries:
        for key, what in ((entry.url, "the same URL"), (f"name:{entry.name}", f"the package {entry.name}")):
            earlier = first.setdefault(key, entry)
            if earlier is not entry:
                raise InstallError(
                    f"{path}:{entry.line}: {what} is already on line {earlier.line}; a lock names each"
                    " package once (the lock is malformed: re-create it with `lockgen lock`)"
                )
    return lock


def check_platform_runs_here(platform: str, host: str) -> None:
    """Refuse a lock for a platform whose programs this machine cannot run."""
    if platform in (host, "noarch") or platform in _EMULATED.get(host, ()):
        return
    raise InstallError(
        f"the lock is for {platform} but this machine is {host}: its programs would not run here."
        f" Install it on a {platform} machine, or pass --foreign-platform to link it anyway"
        " (for example to prepare an environment for another machine; the pip step is then skipped)"
    )


# Platforms a host runs through emulation that conda users rely on.
_EMULATED = {"osx-arm64": ("osx-64",), "win-arm64": ("win-64",)}


def install_lock(
    options: InstallOptions, reporter: Reporter | None = None, environ: Mapping[str, str] | None = None
) -> InstallResult:
    """Create or update ``options.prefix`` from the lock. Raises InstallError before any change on a bad file.
    ``environ``: the variables pip's step follows (:func:`lockgen.config.read_environment`; None: none)."""
    reporter = reporter or NullReporter()
    options = dataclasses.replace(options, cache_dir=options.cache_dir.resolve())
    lock = read_lock(options.lock_path, options.platform)
    if not options.foreign_platform:
        check_platform_runs_here(options.platform, host_platform())
    if options.pip:  # before any change: a pull request can edit the pip locks
        from lockgen.install.pip import refuse_expansions, refuse_foreign_options

        for pip_lock in (options.requirements_path, options.unhashed_path):
            if pip_lock.is_symlink():
                raise InstallError(f"{pip_lock} {LINKED_FILE}")
            if pip_lock.is_file():
                refuse_expansions(pip_lock)
        if options.requirements_path.is_file():
            refuse_foreign_options(options.requirements_path)
    prefix = options.prefix.resolve()
    remove_stray_probes(prefix)  # left by a killed install (older versions let rattler probe the prefix)
    drop_stale_staging(options.cache_dir / "pkgs")  # left by a killed install, even one that had finished linking
    _check_prefix(prefix)
    plan = plan_prefix(lock.entries, read_conda_meta(prefix))
    result = InstallResult(prefix, options.platform, options.shown_path, unchanged=len(plan.unchanged))
    if not plan.up_to_date:
        result = asyncio.run(_apply_plan(options, prefix, plan, reporter))
    return _pip_step(options, lock, result, reporter, environ)


def _check_prefix(prefix: Path) -> None:
    """Refuse a directory that holds files but is not a conda environment (a mistyped --prefix)."""
    if prefix.exists() and not prefix.is_dir():
        raise InstallError(f"{prefix} exists and is not a directory")
    if prefix.is_dir() and not (prefix / "conda-meta").is_dir() and any(prefix.iterdir()):
        raise InstallError(f"{prefix} is not empty and is not a conda environment (no conda-meta); refusing to use it")


async def _apply_plan(options: InstallOptions, prefix: Path, plan: PrefixPlan, reporter: Reporter) -> InstallResult:
    secrets = SecretRegistry()
    for mirror in options.mirrors:
        secrets.add_url(mirror.replacement)
    reporter.report(Fetching(options.platform, len(plan.to_install)))
    cache = ExtractedCache(options.cache_dir / "pkgs")
    client = refusing_client()
    lookup = _channel_lookup(options, plan.to_install, client, secrets)
    looking_up = asyncio.create_task(lookup.lookup(plan.to_install))
    reused = await asyncio.to_thread(_reusable, cache, plan.to_install)
    wanted = [(e, fetch_url(e.url, options.mirrors)) for e in plan.to_install if e.url not in reused]
    with staging_dir(options.cache_dir / "pkgs") as staging:
        # each archive is extracted as soon as it is verified, while the others download
        extractions = Extractions(cache, staging, client, jobs=min(options.jobs, os.cpu_count() or 1))
        verified_records: dict[str, asyncio.Task[RepoDataRecord]] = {}

        async def record_of(archive: Archive) -> RepoDataRecord:
            found = await asyncio.shield(looking_up)
            return await record_for(archive, found.records.get(archive.entry.url))

        async def segment_of(record: asyncio.Task[RepoDataRecord]) -> str:
            return cache_segment(await record)

        def on_verified(archive: Archive) -> None:
            record = verified_records[archive.entry.url] = asyncio.create_task(record_of(archive))
            extractions.start(archive, segment_of(record))

        try:
            archives, failures = await _fetch(_downloader(options, secrets), wanted, on_verified, looking_up, prefix)
            found = await looking_up
            if failures:
                raise _fetch_failed(options, failures, len(wanted), prefix)
            records = [
                await verified_records[e.url] if e.url in verified_records
                else await record_for(reused[e.url], found.records.get(e.url))
                for e in plan.to_install
            ]  # fmt: skip
            notes = _repodata_notes(found, reporter, options.platform)
            fresh = [e.url for e in plan.to_install if e.url in verified_records]
            reporter.report(Extracting(options.platform, len(fresh), len(records)))
            try:
                segments = {r.file_name: cache_segment(r) for r in records}
                extracted = await extractions.results(fresh)
                packages = {x.entry.url: x for x in (*reused.values(), *extracted)}
                ordered = [packages[e.url] for e in plan.to_install]
                check_paths([x.files for x in ordered], _confinement(options, prefix, plan))
            except UnsafePath as exc:
                raise InstallError(
                    f"{options.shown_path}: {exc}; a package may only write inside the prefix,"
                    f" so nothing was installed ({prefix} was not changed)"
                ) from exc
            except StagingError as exc:
                raise InstallError(f"{options.shown_path}: {exc}; {prefix} was not changed") from exc
        finally:  # rattler's threads may still write into the staging directory: wait for them
            await extractions.stop()
            await asyncio.gather(*verified_records.values(), return_exceptions=True)
        layers, through_staging = link_tree(
            staging, [(segments[r.file_name], r.name.normalized, x) for r, x in zip(records, ordered, strict=True)]
        )
        # rattler writes each conda-meta record from its record: the canonical URL where it is http(s)
        # and the package links from its extracted cache entry (a directory that stays); only the other
        # records are rewritten afterwards (their URL names a local file, their directory the staging)
        rewrite = [e for e in plan.to_install if e.url in through_staging or not canonical_ok(e.url)]
        for entry, record in zip(plan.to_install, records, strict=True):
            if entry.url not in through_staging and canonical_ok(entry.url):
                record.url = entry.url
        reporter.report(Linking(options.platform, len(records), prefix))
        await link_packages(options.platform, prefix, plan, records, reporter, layers or [(staging, None)], client)
        # the records are rewritten (I/O-bound: one atomic replace each) while the staging goes
        restoring = asyncio.create_task(asyncio.to_thread(restore_canonical_urls, prefix, rewrite))
    await restoring
    return InstallResult(
        prefix,
        options.platform,
        options.shown_path,
        installed=tuple(e.package.stem for e in plan.to_install),
        removed=tuple(PackageUrl.parse(p.file_name).stem for p in plan.to_remove),
        unchanged=len(plan.unchanged),
        downloaded=sum(1 for a in archives if not a.reused),
        reused=len(reused),
        notes=notes,
    )


def _channel_lookup(
    options: InstallOptions, entries: Sequence[ExplicitEntry], client: Client, secrets: SecretRegistry
) -> ChannelLookup:
    """The repodata lookup of ``entries``. When every channel they come from is read from a local folder
    (a mirror), the lookup fetches no URL: it is given ``client`` (the install's, which refuses every
    request) rather than a client of its own, which costs ~4 ms to make (the system's certificates are read)."""
    try:
        channels = {channel_of(e.url) for e in entries}
        local = all(resolve_channel(c, options.mirrors).fetch.startswith("file://") for c in channels)
    except ConfigError:  # a channel the lookup cannot read either: it notes that, and reads the packages
        local = False
    gateway = make_gateway(
        options.cache_dir, timeout_s=options.timeout_s, retries=options.retries, client=client if local else None
    )
    return ChannelLookup(gateway, options.mirrors, secrets)


def _downloader(options: InstallOptions, secrets: SecretRegistry) -> Downloader:
    return Downloader(
        options.cache_dir / "archives",
        secrets,
        jobs=options.jobs,
        http=options.http or HttpSettings(options.timeout_s),
        retries=options.retries,
        deadline_s=options.download_deadline_s,
        min_rate=options.download_min_rate,
        min_rate_window_s=options.download_min_rate_window_s,
    )


async def _fetch(
    downloader: Downloader,
    wanted: Sequence[tuple[ExplicitEntry, str]],
    on_verified: Callable[[Archive], None],
    looking_up: asyncio.Task[LookupResult],
    prefix: Path,
) -> tuple[list[Archive], list[DownloadFailure]]:
    """Download and verify ``wanted``; InstallError naming a fix when a host is unreachable."""
    if not wanted:
        return [], []
    try:
        return await downloader.fetch_all(wanted, on_verified)
    except HostUnreachable as exc:
        looking_up.cancel()
        await asyncio.gather(looking_up, return_exceptions=True)
        canonical = next((e.url for e, url in wanted if url == exc.url or exc.host in url), wanted[0][0].url)
        origin = "/".join(canonical.split("/", 3)[:3])
        raise InstallError(
            f"{exc} (fetching {exc.url}); stopped before changing anything ({prefix} was not changed)."
            f" If the packages are reachable elsewhere, pass --mirror {origin}=<URL or local directory>"
        ) from exc


def _fetch_failed(
    options: InstallOptions, failures: Sequence[DownloadFailure], wanted: int, prefix: Path
) -> InstallError:
    from lockgen.install.failures import describe_failures

    lines = "\n  ".join(describe_failures(failures, wanted, options.mirrors))
    return InstallError(
        f"{options.shown_path}: {len(failures)} of {wanted} packages could not be fetched or verified;"
        f" {prefix} was not changed:\n  {lines}"
    )


def _repodata_notes(found: LookupResult, reporter: Reporter, platform: str) -> tuple[str, ...]:
    """A note (reported, and returned) per channel whose repodata could not be read."""
    notes = tuple(
        f"repodata unavailable for {channel}/{subdir}; records read from the package files ({why})"
        for (channel, subdir), why in sorted(found.failures.items())
    )
    for note in notes:
        reporter.report(Notice(Problem(note, severity="note"), platform))
    return notes


def _reusable(cache: ExtractedCache, entries: Sequence[ExplicitEntry]) -> dict[str, Extracted]:
    """Lock entries whose extracted cache entry is intact, by URL."""
    return cache.lookup_many(entries)


def _confinement(options: InstallOptions, prefix: Path, plan: PrefixPlan) -> Confinement:
    """Where this install writes: the prefix, its site-packages, and the paths it removes first."""
    python = next((e for e in (*plan.to_install, *plan.unchanged) if e.name == "python"), None)
    windows = options.platform.startswith("win-")
    site_packages = None
    if windows:
        site_packages = "Lib/site-packages"
    elif python is not None:
        site_packages = "lib/python{}/site-packages".format(".".join(python.version.split(".")[:2]))
    replaced = {e.name for e in plan.to_install} | {p.name for p in plan.to_remove}
    removed: set[str] = set()
    for name, installed in plan.installed.items():
        if name in replaced:
            removed.update(installed_files(installed.meta_path))
    return Confinement(prefix, site_packages, "Scripts" if windows else "bin", frozenset(removed))


def _pip_step(
    options: InstallOptions,
    lock: ExplicitLock,
    result: InstallResult,
    reporter: Reporter,
    environ: Mapping[str, str] | None,
) -> InstallResult:
    requirements, prefix = options.requirements_path, result.prefix
    if not options.pip or not requirements.is_file():
        return result
    from lockgen.install.pip import (
        PipBudget,
        marker_environment,
        pip_command,
        pip_hosts,
        requirements_satisfied,
        run_pip,
        unhashed_requirements,
    )

    if options.foreign_platform and options.platform != host_platform():
        note = f"{requirements} not installed: the environment's Python cannot run on this machine"
        reporter.report(Notice(Problem(note, severity="note"), options.platform))
        return _replace(result, notes=(*result.notes, note))
    python = python_executable(prefix, options.platform)
    if not python.exists():
        raise InstallError(
            f"{requirements} lists pip packages, but {prefix} has no Python ({python}); add python to the conda part"
        )
    python_entry = lock.by_name().get("python")
    environment = marker_environment(options.platform, python_entry.version if python_entry else None)
    secrets = SecretRegistry()
    for key in ("PIP_INDEX_URL", "UV_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"):
        value = (environ or {}).get(key)
        if value:
            secrets.add_url(value)
    unhashed = unhashed_requirements(
        options.unhashed_path, options.lock_dir, environment, requirements, project_dir=options.project_dir
    ) if options.unhashed_path.is_file() else ""  # fmt: skip
    budget = PipBudget.starting_now(
        options.pip_deadline_s,
        options.timeout_s,
        pip_hosts(requirements, unhashed, environ or {}),
        min_rate=options.download_min_rate,
        min_rate_window_s=options.download_min_rate_window_s,
    )
    tool = "up-to-date"
    if not requirements_satisfied(prefix, requirements, environment):
        command = pip_command(python, requirements, options.pip_installer)
        reporter.report(PipInstalling(options.platform, command.tool, requirements))
        run_pip(command, secrets, budget=budget, shown=str(requirements))
        tool = command.tool
    if unhashed:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="lockgen-unhashed-") as tmp:
            resolved = Path(tmp) / UNHASHED_NAME
            resolved.write_text(unhashed, encoding="utf-8")
            command = pip_command(python, resolved, options.pip_installer, require_hashes=False)
            reporter.report(PipInstalling(options.platform, command.tool, options.unhashed_path))
            run_pip(command, secrets, budget=budget, shown=str(options.unhashed_path))
        tool = command.tool
    return _replace(result, pip=tool)


def _replace(result: InstallResult, **changes: object) -> InstallResult:
    return dataclasses.replace(result, **changes)  # type: ignore[arg-type]
