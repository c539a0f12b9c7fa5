"""Compressed and sharded variants of a channel's repodata, written beside (not into) the source.

``write_zst`` writes ``<channel>/<subdir>/repodata.json.zst``; ``write_shards`` writes the CEP-16
layout rattler's Gateway reads: ``repodata_shards.msgpack.zst`` (``{"info": {...}, "shards":
{name: sha256}}``) and ``shards/<sha256>.msgpack.zst`` (``{"packages": ..., "packages.conda":
...}``), with each shard named by the sha256 of its compressed bytes and digests as raw bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import msgpack
import zstandard

_DIGESTS = ("md5", "sha256", "legacy_bz2_md5")


def subdirs(channels: Path) -> Iterator[tuple[str, str, Path]]:
    """(channel, subdir, repodata.json) for every subdir under ``channels``."""
    for repodata in sorted(channels.glob("*/*/repodata.json")):
        yield repodata.parent.parent.name, repodata.parent.name, repodata


def _stamp(source: Path) -> str:
    stat = source.stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def _fresh(target: Path, source: Path) -> bool:
    marker = target.with_name(target.name + ".source")
    return target.is_file() and marker.is_file() and marker.read_text() == _stamp(source)


def _mark(target: Path, source: Path) -> None:
    target.with_name(target.name + ".source").write_text(_stamp(source))


def write_zst(source: Path, target_dir: Path, level: int = 3) -> Path:
    target = target_dir / "repodata.json.zst"
    if _fresh(target, source):
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    compressor = zstandard.ZstdCompressor(level=level, threads=-1)
    with source.open("rb") as src, target.open("wb") as dst:
        compressor.copy_stream(src, dst)
    _mark(target, source)
    return target


def _packed(record: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for key in _DIGESTS:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = bytes.fromhex(value)
    return out


def shard_records(repodata: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Group a repodata document's records by package name: {name: {key: {file: record}}}."""
    shards: dict[str, dict[str, dict[str, Any]]] = {}
    for key in ("packages", "packages.conda"):
        for file_name, record in repodata.get(key, {}).items():
            shard = shards.setdefault(record["name"], {"packages": {}, "packages.conda": {}})
            shard[key][file_name] = _packed(record)
    return shards


def write_shard_set(
    shards: Iterable[tuple[str, Mapping[str, Any]]], subdir: str, target_dir: Path, level: int = 3
) -> int:
    """Write every (name, shard) and the index; return the number of shards."""
    shard_dir = target_dir / "shards"
    shard_dir.mkdir(parents=True, exist_ok=True)
    compressor = zstandard.ZstdCompressor(level=level)
    index: dict[str, bytes] = {}
    for name, shard in shards:
        blob = compressor.compress(msgpack.packb(shard, use_bin_type=True))
        digest = hashlib.sha256(blob).digest()
        (shard_dir / f"{digest.hex()}.msgpack.zst").write_bytes(blob)
        index[name] = digest
    document = {
        "version": 1,
        "info": {"subdir": subdir, "base_url": "./", "shards_base_url": "./shards/"},
        "shards": index,
    }
    (target_dir / "repodata_shards.msgpack.zst").write_bytes(
        compressor.compress(msgpack.packb(document, use_bin_type=True))
    )
    return len(index)


def write_shards(source: Path, target_dir: Path, subdir: str) -> Path:
    target = target_dir / "repodata_shards.msgpack.zst"
    if _fresh(target, source):
        return target
    repodata = json.loads(source.read_bytes())
    write_shard_set(sorted(shard_records(repodata).items()), subdir, target_dir)
    _mark(target, source)
    return target


def prepare_channels(channels: Path, scratch: Path) -> tuple[Path, Path]:
    """Write the ``.zst`` and sharded variants of every subdir once; return (zst_root, shard_root)."""
    zst_root, shard_root = scratch / "zst", scratch / "sharded"
    for channel, subdir, repodata in subdirs(channels):
        write_zst(repodata, zst_root / channel / subdir)
        write_shards(repodata, shard_root / channel / subdir, subdir)
    return zst_root, shard_root
