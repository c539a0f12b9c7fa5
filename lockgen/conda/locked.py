"""A solved record as lockgen's package: :func:`to_locked` turns rattler's ``RepoDataRecord`` into a
:class:`~lockgen.models.LockedPackage` with its canonical URL, and refuses (``ChannelError``) a record
whose repodata lies: a file name that is not a package's, a URL outside its channel or naming another
file, a subdir it is not listed in, a missing or zeroed digest. Each field is read from rattler once
(about 11 µs a record, most of it py-rattler's per-field wrappers: docs/performance.md, "Round 7: the
warm sharded lock")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lockgen.channels import ResolvedChannel, to_canonical_url
from lockgen.errors import ChannelError
from lockgen.models import PACKAGE_EXTENSIONS, LockedPackage
from lockgen.secrets import strip_credentials

if TYPE_CHECKING:
    from rattler import RepoDataRecord

__all__ = ["owning_channel", "to_locked"]


_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!-]*(?:" + "|".join(map(re.escape, PACKAGE_EXTENSIONS)) + ")")


def _record_problem(  # noqa: PLR0917 - the record's fields, each read from rattler once (_to_locked)
    file: str,
    subdir: str,
    md5: bytes | None,
    sha256: bytes | None,
    url: str,
    channel: ResolvedChannel | None,
    platform: str,
) -> str | None:
    """Why a solved record (its file name, subdir and digests) must not be written to a lock (its
    repodata lies), or None."""
    if not _FILE_NAME.fullmatch(file):
        return "its file name is not a package file name"
    if channel is None or not url.startswith(channel.canonical + "/"):
        where = urlsplit(url).netloc or url.split(":", 1)[0]
        return f"its URL points outside the channel (to {where}; repodata `base_url`?)"
    served_from, _, file_name = url[len(channel.canonical) + 1 :].rpartition("/")
    problem = None  # each message is worded only for the record that has that problem
    if file_name != file:
        problem = f"its URL names another file ({file_name!r})"
    elif subdir not in (platform, "noarch") or served_from.rsplit("/", 1)[-1] != subdir:
        problem = f"it claims subdir {subdir!r} but is listed in {served_from or 'the channel root'!r}"
    elif not md5 or not any(md5):
        problem = "its md5 is missing or all zeros"
    elif sha256 is not None and not any(sha256):
        problem = "its sha256 is all zeros"
    return problem


def owning_channel(record: RepoDataRecord, channels: Sequence[ResolvedChannel]) -> ResolvedChannel | None:
    """The channel of ``channels`` that served ``record`` (its fetch URL, with or without credentials,
    or its canonical one), or None."""
    served = (record.channel or "").rstrip("/")  # rattler masks a password here: compare without credentials
    bare = strip_credentials(served)
    return next((c for c in channels if served == c.fetch or bare in (strip_credentials(c.fetch), c.canonical)), None)


def to_locked(
    record: RepoDataRecord,
    channels: Sequence[ResolvedChannel],
    platform: str,
    owners: dict[str | None, ResolvedChannel | None] | None = None,
) -> LockedPackage:
    """``record`` as lockgen's package, or ChannelError when its repodata lies. ``owners`` memoises
    :func:`owning_channel` by the record's channel string across one solve's records."""
    url = to_canonical_url(record.url, channels)
    served = record.channel
    if owners is None:
        channel = owning_channel(record, channels)
    elif served in owners:
        channel = owners[served]
    else:
        channel = owners[served] = owning_channel(record, channels)
    file, subdir, md5, sha256 = record.file_name, record.subdir, record.md5, record.sha256  # each read once
    problem = _record_problem(file, subdir, md5, sha256, url, channel, platform)
    if problem is not None:
        name = channel.name if channel else strip_credentials(served or "?")
        raise ChannelError(
            f"channel {name}: refusing {file!r} ({subdir}): {problem}; the channel's"
            " repodata is wrong or was tampered with, and nothing was written"
        )
    timestamp = record.timestamp
    return LockedPackage(
        name=record.name.normalized,
        version=str(record.version),
        build=str(record.build),
        subdir=subdir,
        url=url,
        md5=md5.hex() if md5 else None,
        sha256=sha256.hex() if sha256 else None,
        depends=tuple(record.depends),
        constrains=tuple(record.constrains),
        build_number=record.build_number,
        timestamp_ms=int(timestamp.timestamp() * 1000) if timestamp else None,
        size=record.size,
    )
