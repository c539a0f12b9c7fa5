"""Linking checked packages into a prefix with rattler's installer.

Every package is in lockgen's extracted cache (or the staging directory) and was checked by
lockgen: rattler is given link options up front (so it probes nothing in the prefix), skips
validating each file again, looks each package up in its own entry only, and gets a client that
refuses every request.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InstallError
from lockgen.install.prefix import PrefixPlan, remove_stray_probes
from lockgen.progress import LinkingPackage
from lockgen.reporting import Reporter

if TYPE_CHECKING:
    from rattler import Client, Config, PackageCache, RepoDataRecord

__all__ = ["link_packages", "refusing_client"]


def _refuse_fetch(host: str, path: str) -> dict[str, str] | None:
    """rattler's client hook: every package was checked by lockgen and is in the cache rattler links
    from; a request means one vanished since, and rattler may not fetch it past lockgen's checks."""
    raise RuntimeError(f"lockgen fetches and checks every package itself; refusing {host}{path}")


def refusing_client() -> Client:
    """A client for rattler that sends nothing: every archive lockgen hands rattler is a local file it
    verified, and a request would mean rattler fetches something past lockgen's checks."""
    from rattler import Client
    from rattler.networking.middleware import AddHeadersMiddleware

    return Client([AddHeadersMiddleware(_refuse_fetch)])


class _LinkProgress:
    """Forwards rattler's installer callbacks (link, unlink) to lockgen's reporter."""

    def __init__(self, reporter: Reporter, platform: str) -> None:
        self.reporter = reporter
        self.platform = platform

    def on_link_start(self, operation: int, package_name: str) -> int:
        self.reporter.report(LinkingPackage(self.platform, package_name))
        return operation

    def on_unlink_start(self, operation: int, package_name: str) -> int:
        self.reporter.report(LinkingPackage(self.platform, package_name, removing=True))
        return operation


def _link_config(prefix: Path, cache: Path) -> Config:
    """Link options given up front, so rattler writes no probe files into the prefix
    (a killed install would leave them behind). Hard links when the package cache and the prefix
    share a file system (rattler copies every file it rewrites for the prefix; an entry edited
    through a hard link fails its next check and is extracted again), copies otherwise."""
    from rattler import Config

    config = Config()
    config.set("allow-ref-links", "false")
    probe = prefix if prefix.exists() else next((p for p in prefix.parents if p.exists()), prefix)
    try:
        same_device = probe.stat().st_dev == cache.stat().st_dev
    except OSError:
        same_device = False
    config.set("allow-hard-links", "true" if same_device else "false")
    if os.name != "nt":
        config.set("allow-symbolic-links", "true")
    return config


def _package_cache(layers: Sequence[tuple[Path, str | None]]) -> PackageCache:
    """The package cache rattler links from: ``layers`` in order, each (directory, the name of the one
    package it serves, or None for a directory that serves several).

    rattler looks a package up in each layer in turn, one ``stat`` of ``<layer>/<segment>`` a layer,
    until one holds it: with one layer per extracted cache entry, n packages cost about n²/2 failed
    ``stat`` calls (7 k for 121 packages). A layer that serves one package is filtered to that package's
    name (a lock names each package once), so rattler looks for a package in its own entry only, and
    never takes it from a directory that lockgen checked for another package."""
    from rattler import MatchSpec, PackageCache
    from rattler.package_cache import PackageCacheLayer, ValidationMode

    skip = ValidationMode.skip()
    built = []
    for directory, name in layers:
        layer = PackageCacheLayer(directory).with_validation_mode(skip)
        if name is not None:  # a package name (rattler checked it) is a spec matching that name exactly
            layer = layer.with_filter(MatchSpec(name))
        built.append(layer)
    return PackageCache.from_layers(built)


async def link_packages(  # noqa: PLR0917
    platform: str,
    prefix: Path,
    plan: PrefixPlan,
    new: Sequence[RepoDataRecord],
    reporter: Reporter,
    layers: Sequence[tuple[Path, str | None]],
    client: Client,
) -> None:
    from rattler import PrefixRecord, Subdir, install

    installed = [PrefixRecord.from_path(p.meta_path) for p in plan.installed.values()]
    keep = {e.name for e in plan.unchanged}
    records: list[RepoDataRecord] = [r for r in installed if r.name.normalized in keep]
    records += list(new)
    remove_stray_probes(prefix)
    # every package in these layers was checked by lockgen (extracted from a verified archive just now,
    # or an extracted cache entry whose every file still matches its manifest): rattler need not look
    # at each file again, and may fetch nothing (a package gone since is an error, not a download)
    cache = _package_cache(layers)
    try:
        await install(
            records,
            prefix,
            installed_packages=installed,
            platform=Subdir(platform),
            execute_link_scripts=False,
            show_progress=False,
            package_cache=cache,
            reporter=_LinkProgress(reporter, platform),  # type: ignore[arg-type]
            config=_link_config(prefix, layers[0][0]),
            client=client,
        )
    except Exception as exc:
        raise InstallError(
            f"linking into {prefix} failed after every file was verified; the environment may be incomplete,"
            f" run the same command again: {exc}"
        ) from exc
