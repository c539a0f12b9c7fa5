"""Find the channel's repodata record of every file a lock names, through the mirrors.

Locks carry only canonical URLs and hashes. Installing and verifying both need the full record
(depends, constrains, noarch, ...): this module groups a lock's entries by channel and subdir,
asks one rattler Gateway for exactly those names (sharded and ``.zst`` repodata work, the disk
cache is shared with ``lock``) and picks the record with the same file name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.channels import Mirror, resolve_channel
from lockgen.lockfiles import ExplicitEntry
from lockgen.secrets import SecretRegistry

if TYPE_CHECKING:
    from rattler import Gateway, RepoDataRecord

__all__ = ["ChannelLookup", "LookupResult", "channel_of", "fetch_url", "hash_of", "make_gateway"]


def channel_of(url: str) -> str:
    """The channel part of a package URL: everything before ``/<subdir>/<file>``."""
    return url.rsplit("/", 2)[0]


def fetch_url(url: str, mirrors: Sequence[Mirror]) -> str:
    """Where to download a canonical package URL from, mirrors applied (may carry credentials)."""
    channel, subdir, file_name = url.rsplit("/", 2)
    return f"{resolve_channel(channel, mirrors).fetch}/{subdir}/{file_name}"


def hash_of(record: RepoDataRecord, kind: str) -> str | None:
    """The record's md5 or sha256 as lowercase hex (None when the repodata has none)."""
    value = record.md5 if kind == "md5" else record.sha256
    return value.hex() if value else None


def make_gateway(cache_dir: Path, offline: bool = False, timeout_s: int = 60, retries: int = 3) -> Gateway:
    """A Gateway whose disk cache is ``cache_dir`` (the same one ``lockgen lock`` uses)."""
    from rattler import Client, Gateway, SourceConfig
    from rattler.networking.middleware import AuthenticationMiddleware, RetryMiddleware

    config = SourceConfig(cache_action="force-cache-only" if offline else "cache-or-fetch")
    client = Client([RetryMiddleware(retries), AuthenticationMiddleware()], timeout=timeout_s)
    cache_dir.mkdir(parents=True, exist_ok=True)
    return Gateway(cache_dir=cache_dir, default_config=config, client=client)


@dataclass(frozen=True, slots=True)
class LookupResult:
    """Records found for a lock's entries (by canonical URL) and the channels that failed."""

    records: dict[str, RepoDataRecord]
    failures: dict[tuple[str, str], str]
    """(canonical channel, subdir) → why its repodata could not be read (credentials masked)."""
    removed: frozenset[str] = frozenset()
    """Canonical URLs of entries the channel lists as removed (yanked)."""

    def failure_for(self, entry: ExplicitEntry) -> str | None:
        return self.failures.get((channel_of(entry.url), entry.subdir))


class ChannelLookup:
    """Reads repodata for lock entries; one instance per command run (one Gateway, one cache)."""

    def __init__(self, gateway: Gateway, mirrors: Sequence[Mirror], secrets: SecretRegistry | None = None) -> None:
        self.gateway = gateway
        self.mirrors = tuple(mirrors)
        self.secrets = secrets or SecretRegistry()

    async def lookup(self, entries: Iterable[ExplicitEntry]) -> LookupResult:
        groups: dict[tuple[str, str], list[ExplicitEntry]] = {}
        for entry in entries:
            groups.setdefault((channel_of(entry.url), entry.subdir), []).append(entry)
        keys = sorted(groups)
        results = await asyncio.gather(*(self._query(key, groups[key]) for key in keys), return_exceptions=True)
        records: dict[str, RepoDataRecord] = {}
        failures: dict[tuple[str, str], str] = {}
        removed: set[str] = set()
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, BaseException):
                failures[key] = self.secrets.redact(str(result).strip() or type(result).__name__)
            else:
                records.update(result[0])
                removed.update(result[1])
        return LookupResult(records, failures, frozenset(removed))

    async def _query(
        self, key: tuple[str, str], entries: list[ExplicitEntry]
    ) -> tuple[dict[str, RepoDataRecord], set[str]]:
        from rattler import Channel, Subdir

        channel, subdir = key
        fetch = resolve_channel(channel, self.mirrors).fetch
        self.secrets.add_url(fetch)
        names = sorted({entry.name for entry in entries})
        result = await self.gateway.query(
            [Channel(fetch)], [Subdir(subdir)], names, recursive=False, channel_relations="disabled"
        )
        by_file: dict[str, RepoDataRecord] = {}
        for group in result:
            for record in group:
                if record.subdir == subdir or record.url.rsplit("/", 2)[-2] == subdir:
                    by_file.setdefault(record.file_name, record)
        gone = {package.file_name for group in result.removed for package in group}
        found = {e.url: by_file[e.file_name] for e in entries if e.file_name in by_file}
        return found, {e.url for e in entries if e.file_name in gone and e.url not in found}
