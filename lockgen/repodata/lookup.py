"""Find the channel's repodata record of every file a lock names, through the mirrors.

Locks carry only canonical URLs and hashes. Installing, verifying and explaining need the full
record (depends, constrains, noarch, ...): this module groups a lock's entries by channel and subdir,
asks one rattler Gateway for exactly those names (sharded and ``.zst`` repodata work, the disk
cache is shared with ``lock``) and picks the record with the same file name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from lockgen.channels import Mirror, ResolvedChannel, resolve_channel
from lockgen.lockfiles import ExplicitEntry
from lockgen.models import PackageUrl
from lockgen.records import dataclass
from lockgen.secrets import SecretRegistry

if TYPE_CHECKING:
    from rattler import Gateway, RepoDataRecord

__all__ = ["ChannelLookup", "LookupResult", "channel_of", "fetch_url", "hash_of"]


def channel_of(url: str) -> str:
    """The channel part of a package URL: everything before ``/<subdir>/<file>``."""
    return PackageUrl.parse(url).channel


def fetch_url(url: str, mirrors: Sequence[Mirror]) -> str:
    """Where to download a canonical package URL from, mirrors applied (may carry credentials)."""
    package = PackageUrl.parse(url)
    return package.with_channel(resolve_channel(package.channel, mirrors).fetch)


def hash_of(record: RepoDataRecord, kind: str) -> str | None:
    """The record's md5 or sha256 as lowercase hex (None when the repodata has none)."""
    value = record.md5 if kind == "md5" else record.sha256
    return value.hex() if value else None


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
    """Reads repodata for lock entries; one instance per command run (one Gateway, one cache).

    A lock's channel is fetched from the first of ``channels`` with the same canonical URL (the
    environment's, which may carry credentials), else from where ``mirrors`` send it."""

    def __init__(
        self,
        gateway: Gateway,
        mirrors: Sequence[Mirror],
        secrets: SecretRegistry | None = None,
        channels: Sequence[ResolvedChannel] = (),
    ) -> None:
        self.gateway = gateway
        self.mirrors = tuple(mirrors)
        self.secrets = secrets or SecretRegistry()
        self.known = {c.canonical: c for c in reversed(channels)}

    def channel(self, canonical: str) -> ResolvedChannel:
        """The channel a lock's canonical channel URL is read from."""
        return self.known.get(canonical) or resolve_channel(canonical, self.mirrors)

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
        fetch = self.channel(channel).fetch
        self.secrets.add_url(fetch)
        names = sorted({entry.name for entry in entries})
        result = await self.gateway.query(
            [Channel(fetch)], [Subdir(subdir)], names, recursive=False, channel_relations="disabled"
        )
        by_file: dict[str, RepoDataRecord] = {}
        for group in result:
            for record in group:
                if record.subdir == subdir or PackageUrl.parse(record.url).subdir == subdir:
                    by_file.setdefault(record.file_name, record)
        gone = {package.file_name for group in result.removed for package in group}
        found = {e.url: by_file[e.file_name] for e in entries if e.file_name in by_file}
        return found, {e.url for e in entries if e.file_name in gone and e.url not in found}
