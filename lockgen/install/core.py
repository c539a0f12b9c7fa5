"""``lockgen install``: make a prefix hold exactly a lock's packages, without conda.

Order of work, so a bad lock or a bad mirror never half-changes an environment:

1. read the lock and ``<prefix>/conda-meta``; if they agree, nothing happens (conda part);
2. download every new or changed file in parallel into ``<cache>/archives`` and check each
   against the lock's hash; any failure stops here, the prefix untouched;
3. build each record from the channel's repodata (through the mirror), or from the archive;
4. link with rattler's installer (extracted packages live in ``<cache>/pkgs``), then write the
   canonical URL into each new ``conda-meta`` record;
5. install ``requirements.txt`` (when present) with the environment's Python.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.channels import Mirror
from lockgen.errors import InstallError
from lockgen.install.download import Archive, Downloader
from lockgen.install.pip import marker_environment, pip_command, requirements_satisfied, run_pip
from lockgen.install.prefix import PrefixPlan, plan_prefix, python_executable, read_conda_meta
from lockgen.install.records import ChannelLookup, channel_of, fetch_url, hash_of, make_gateway
from lockgen.lockfiles import ExplicitEntry, ExplicitLock, parse_explicit
from lockgen.reporting import NullReporter, Reporter
from lockgen.secrets import SecretRegistry

if TYPE_CHECKING:
    from rattler import RepoDataRecord

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

    @property
    def lock_path(self) -> Path:
        return self.lock_dir / self.filename_template.format(platform=self.platform)

    @property
    def requirements_path(self) -> Path:
        return self.lock_dir / "requirements.txt"


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

    @property
    def changed(self) -> bool:
        return bool(self.installed or self.removed) or self.pip in ("uv", "pip")


def host_platform() -> str:
    """This machine's conda subdir (``linux-64``, ``osx-arm64``, ...)."""
    from rattler import Subdir

    return str(Subdir.current())


def read_lock(path: Path, platform: str) -> ExplicitLock:
    """Read and sanity-check a lock for ``platform``; InstallError when missing or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InstallError(f"no lock for {platform}: {path} does not exist (run `lockgen lock -p {platform}`)") from exc
    except OSError as exc:
        raise InstallError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        lock = parse_explicit(text)
    except ValueError as exc:
        raise InstallError(f"{path}: {exc}") from exc
    if lock.platform and lock.platform != platform:
        raise InstallError(f"{path} is a lock for {lock.platform}, not {platform}")
    return lock


def install_lock(
    options: InstallOptions, reporter: Reporter | None = None, environ: Mapping[str, str] | None = None
) -> InstallResult:
    """Create or update ``options.prefix`` from the lock. Raises InstallError before any change on a bad file."""
    reporter = reporter or NullReporter()
    options = dataclasses.replace(options, cache_dir=options.cache_dir.resolve())
    lock = read_lock(options.lock_path, options.platform)
    prefix = options.prefix.resolve()
    _check_prefix(prefix)
    plan = plan_prefix(lock.entries, read_conda_meta(prefix))
    result = InstallResult(prefix, options.platform, options.lock_path, unchanged=len(plan.unchanged))
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
    reporter.event("fetch", options.platform, f"fetching {len(plan.to_install)} packages")
    downloader = Downloader(
        options.cache_dir / "archives", secrets, jobs=options.jobs, timeout_s=options.timeout_s, retries=options.retries
    )
    wanted = [(e, fetch_url(e.url, options.mirrors)) for e in plan.to_install]
    lookup = ChannelLookup(
        make_gateway(options.cache_dir, timeout_s=options.timeout_s, retries=options.retries), options.mirrors, secrets
    )
    (archives, failures), found = await asyncio.gather(downloader.fetch_all(wanted), lookup.lookup(plan.to_install))
    if failures:
        lines = "\n  ".join(str(f) for f in sorted(failures, key=lambda f: f.entry.line))
        raise InstallError(
            f"{options.lock_path}: {len(failures)} of {len(wanted)} packages could not be fetched or verified;"
            f" {prefix} was not changed:\n  {lines}"
        )
    by_url = {a.entry.url: a for a in archives}
    records = [await _record_for(by_url[e.url], found.records.get(e.url)) for e in plan.to_install]
    notes = tuple(
        f"repodata unavailable for {channel}/{subdir}; records read from the package files ({why})"
        for (channel, subdir), why in sorted(found.failures.items())
    )
    for note in notes:
        reporter.event("note", options.platform, note)
    reporter.event("link", options.platform, f"linking {len(records)} packages into {prefix}")
    await _link(options, prefix, plan, records, reporter)
    return InstallResult(
        prefix,
        options.platform,
        options.lock_path,
        installed=tuple(e.file_name.removesuffix(".conda").removesuffix(".tar.bz2") for e in plan.to_install),
        removed=tuple(p.file_name.removesuffix(".conda").removesuffix(".tar.bz2") for p in plan.to_remove),
        unchanged=len(plan.unchanged),
        downloaded=sum(1 for a in archives if not a.reused),
        notes=notes,
    )


async def _record_for(archive: Archive, from_repodata: RepoDataRecord | None) -> RepoDataRecord:
    """The record to install: the channel's (if its hashes agree with the file), else the archive's own."""
    from rattler import RepoDataRecord

    entry = archive.entry
    record = from_repodata
    if record is not None:
        md5_agrees = (hash_of(record, "md5") or archive.md5) == archive.md5
        sha_agrees = (hash_of(record, "sha256") or archive.sha256) == archive.sha256
        if md5_agrees and not sha_agrees:
            raise InstallError(
                f"line {entry.line}: {entry.name} ({entry.url}): the file's md5 matches the lock but its sha256"
                f" {archive.sha256} is not the channel's {hash_of(record, 'sha256')}; refusing it"
                " (the prefix was not changed)"
            )
        record = record if md5_agrees and sha_agrees else None
    if record is None:
        try:
            record = await RepoDataRecord.from_package_archive(archive.path)
        except Exception as exc:
            raise InstallError(
                f"line {entry.line}: {entry.name} ({entry.url}): not a valid package ({exc});"
                " the prefix was not changed"
            ) from exc
        record.md5 = bytes.fromhex(archive.md5)
        record.sha256 = bytes.fromhex(archive.sha256)
        record.size = archive.size
    record.url = archive.path.as_uri()
    record.file_name = entry.file_name
    record.channel = channel_of(entry.url) + "/"
    return record


class _LinkProgress:
    """Forwards rattler's installer callbacks (link, unlink) to lockgen's reporter."""

    def __init__(self, reporter: Reporter, platform: str) -> None:
        self.reporter = reporter
        self.platform = platform

    def on_link_start(self, operation: int, package_name: str) -> int:
        self.reporter.event("link", self.platform, f"linking {package_name}")
        return operation

    def on_unlink_start(self, operation: int, package_name: str) -> int:
        self.reporter.event("link", self.platform, f"removing {package_name}")
        return operation


async def _link(
    options: InstallOptions, prefix: Path, plan: PrefixPlan, new: Sequence[RepoDataRecord], reporter: Reporter
) -> None:
    from rattler import PackageCache, PrefixRecord, Subdir, install

    installed = [PrefixRecord.from_path(p.meta_path) for p in read_conda_meta(prefix).values()]
    keep = {e.name for e in plan.unchanged}
    records: list[RepoDataRecord] = [r for r in installed if r.name.normalized in keep]
    records += list(new)
    cache = PackageCache(options.cache_dir / "pkgs")
    try:
        await install(
            records,
            prefix,
            installed_packages=installed,
            platform=Subdir(options.platform),
            execute_link_scripts=False,
            show_progress=False,
            package_cache=cache,
            reporter=_LinkProgress(reporter, options.platform),  # type: ignore[arg-type]
        )
    except Exception as exc:
        raise InstallError(
            f"linking into {prefix} failed after every file was verified; the environment may be incomplete,"
            f" run the same command again: {exc}"
        ) from exc
    _restore_canonical_urls(prefix, plan.to_install)


def _restore_canonical_urls(prefix: Path, entries: Sequence[ExplicitEntry]) -> None:
    """The installer records the local archive it linked from; conda-meta should say where it came from."""
    from rattler import PrefixRecord

    for entry in entries:
        stem = entry.file_name.removesuffix(".conda").removesuffix(".tar.bz2")
        path = prefix / "conda-meta" / f"{stem}.json"
        if not path.is_file():
            continue
        record = PrefixRecord.from_path(path)
        record.url = entry.url
        record.channel = channel_of(entry.url) + "/"
        record.write_to_path(path, pretty=True)


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
    python = python_executable(prefix, options.platform)
    if not python.exists():
        raise InstallError(
            f"{requirements} lists pip packages, but {prefix} has no Python ({python}); add python to the conda part"
        )
    python_entry = lock.by_name().get("python")
    environment = marker_environment(options.platform, python_entry.version if python_entry else None)
    if requirements_satisfied(prefix, requirements, environment):
        return _replace(result, pip="up-to-date")
    command = pip_command(python, requirements, options.pip_installer)
    reporter.event("pip", options.platform, f"{command.tool}: installing {requirements}")
    secrets = SecretRegistry()
    for key in ("PIP_INDEX_URL", "UV_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"):
        value = (environ if environ is not None else os.environ).get(key)
        if value:
            secrets.add_url(value)
    run_pip(command, secrets)
    return _replace(result, pip=command.tool)


def _replace(result: InstallResult, **changes: object) -> InstallResult:
    return dataclasses.replace(result, **changes)  # type: ignore[arg-type]
