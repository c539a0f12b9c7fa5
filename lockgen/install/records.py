"""The conda-meta records ``lockgen install`` links with, and their canonical URLs.

Each package's record comes from the channel's repodata when its hashes agree with the verified
file, else from the package itself (:func:`record_for`); rattler writes each ``conda-meta`` record
from it. Records whose URL names a local file or the staging directory are rewritten afterwards
to the lock's URL (:func:`restore_canonical_urls`), in place and atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.errors import InstallError
from lockgen.install.download import Archive
from lockgen.install.staging import Extracted
from lockgen.lockfiles import ExplicitEntry
from lockgen.repodata.lookup import channel_of, hash_of

if TYPE_CHECKING:
    from rattler import RepoDataRecord

__all__ = ["canonical_ok", "record_edits", "record_for", "restore_canonical_urls"]


def canonical_ok(url: str) -> bool:
    """rattler may be given this URL: it would only ever fetch it through lockgen's client, which
    refuses (a ``file://`` URL it would read by itself, past lockgen's checks)."""
    return url.startswith(("https://", "http://"))


async def record_for(verified: Archive | Extracted, from_repodata: RepoDataRecord | None) -> RepoDataRecord:
    """The record to install: the channel's (if its hashes agree with the file), else the package's own."""
    from rattler import PackageRecord, RepoDataRecord

    entry = verified.entry
    record = from_repodata
    if record is not None:
        md5_agrees = (hash_of(record, "md5") or verified.md5) == verified.md5
        sha_agrees = (hash_of(record, "sha256") or verified.sha256) == verified.sha256
        if md5_agrees and not sha_agrees:
            raise InstallError(
                f"line {entry.line}: {entry.name} ({entry.url}): the file's md5 matches the lock but its sha256"
                f" {verified.sha256} is not the channel's {hash_of(record, 'sha256')}; refusing it"
                " (the prefix was not changed)"
            )
        record = record if md5_agrees and sha_agrees else None
    # rattler links from the staging directory; it would fetch this URL only if it rejected that copy:
    # the verified archive, or (for a package reused from the extracted cache) a path that never exists
    source = verified.path if isinstance(verified, Archive) else verified.directory.parent / entry.file_name
    if record is None:
        try:
            if isinstance(verified, Archive):
                record = await RepoDataRecord.from_package_archive(verified.path)
            else:
                package = PackageRecord.from_index_json(verified.directory / "info" / "index.json")
                record = RepoDataRecord(package, entry.file_name, source.as_uri(), channel_of(entry.url) + "/")
        except Exception as exc:
            raise InstallError(
                f"line {entry.line}: {entry.name} ({entry.url}): not a valid package ({exc});"
                " the prefix was not changed"
            ) from exc
        record.md5 = bytes.fromhex(verified.md5)
        record.sha256 = bytes.fromhex(verified.sha256)
        record.size = verified.size
    record.url = source.as_uri()
    record.file_name = entry.file_name
    record.channel = channel_of(entry.url) + "/"
    return record


def restore_canonical_urls(prefix: Path, entries: Sequence[ExplicitEntry]) -> None:
    """The installer records the local archive it linked from; conda-meta should say where it came from.

    The staging directory it linked through is deleted, so the record's ``extracted_package_dir``
    and ``link`` (optional for conda and rattler) are dropped rather than left naming it. The file
    is replaced atomically.
    """

    def one(entry: ExplicitEntry) -> None:
        path = prefix / "conda-meta" / f"{entry.package.stem}.json"
        try:
            original = path.read_bytes()
        except OSError:
            return
        url, channel = entry.url, channel_of(entry.url) + "/"
        pieces: Sequence[bytes | memoryview] | None = record_edits(original, url, channel)
        if pieces is None:  # not the layout rattler writes: parse and write it whole
            try:
                data = json.loads(original)
            except ValueError:
                return
            if not isinstance(data, dict):
                return
            data.update(url=url, channel=channel)
            data.pop("extracted_package_dir", None)
            data.pop("link", None)
            pieces = [(json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()]
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        with partial.open("wb") as handle:
            handle.writelines(pieces)
        os.replace(partial, path)

    if not entries:
        return
    with ThreadPoolExecutor(max_workers=4) as pool:  # replacing a file waits on the file system
        for _ in pool.map(one, entries):
            pass


def record_edits(record: bytes, url: str, channel: str) -> list[bytes | memoryview] | None:  # noqa: PLR0911
    """A conda-meta record as rattler writes it (``json.dumps(..., indent=2)``'s layout) with ``url``
    and ``channel`` set and ``extracted_package_dir`` and ``link`` removed, as pieces to write in
    order (slices of ``record`` and the new values): a record lists every file of its package, and
    parsing and re-encoding it costs ~1 s and ~60 MB for a 20k-file package. Top-level members are
    the lines that start with two spaces and a quote (a JSON string holds no raw newline); None
    when the record is not in that layout."""
    body = record.rstrip(b"\n")
    if not (body.startswith(b"{\n") and body.endswith(b"\n}")):
        return None
    cuts: list[tuple[int, int, bytes]] = []  # (start, end, replacement), positions in ``body``
    for key, value in ((b"url", url), (b"channel", channel)):
        marker = b'\n  "' + key + b'": '
        start = body.find(marker)
        if start < 0 or body.find(marker, start + 1) >= 0:
            return None
        begin, end = start + len(marker), body.find(b"\n", start + 1)
        end -= body[end - 1 : end] == b","
        cuts.append((begin, end, json.dumps(value, ensure_ascii=False).encode()))
    closing = len(body) - len(b"\n}")
    for key in (b"extracted_package_dir", b"link"):
        marker = b'\n  "' + key + b'": '
        start = body.find(marker)
        if start < 0:
            continue
        end = start + len(marker)
        if body.startswith(b"{\n", end):  # an object: up to its closing brace, at the same indentation
            end = body.find(b"\n  }", end)
            if end < 0:
                return None
        end = body.find(b"\n", end + 1)
        if end < 0 or body.find(marker, start + 1) >= 0:
            return None
        cuts.append((start, end, b""))
    cuts.sort()
    for index in range(len(cuts) - 1, -1, -1):  # the last members removed: drop the comma before them
        start, end, replacement = cuts[index]
        if replacement or end != closing:
            break
        closing = start
        if index == 0 or cuts[index - 1][1] != start or cuts[index - 1][2]:
            if body[start - 1 : start] != b",":
                return None
            cuts[index] = (start - 1, end, b"")
    view, position = memoryview(body), 0
    pieces: list[bytes | memoryview] = []
    for start, end, replacement in cuts:
        if start < position:
            return None
        pieces += [view[position:start], replacement]
        position = end
    pieces += [view[position:], b"\n"]
    return pieces
