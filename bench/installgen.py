"""A synthetic conda channel with the shapes of a real deep-learning environment, for ``install``.

Not a committed blob: :func:`generate` writes it (deterministically, seed 11) into a directory:
``<root>/bench-install/{linux-64,noarch}/`` with the archives and ``repodata.json``, and
``<root>/locks/linux-64.txt``, an ``@EXPLICIT`` lock of every package (``URL#md5``, lockgen's
default) under the canonical ``https://conda.anaconda.org/bench-install``. At ``scale=1``:

- 121 packages, about 380 MB of archives, about 820 MB and 64k files unpacked;
- ``libbig``: one 300 MB shared library (compresses about 2:1), ``.conda``;
- ``bigtree``: a 20k-file package of small sources, ``.conda``;
- ``python`` 3.11: 4k files, a binary and text files carrying the build prefix (rewritten at link
  time, so the installer must copy them), ``.conda``;
- 60 ``noarch: python`` packages of 40 to 700 files, a quarter with console entry points, every
  fourth a ``.tar.bz2``;
- 58 native libraries of 0.2 to 9 MB (a versioned ``.so``, its symbolic link, headers, a pkg-config
  file with the prefix), every third a ``.tar.bz2``.

``scale`` multiplies every size and file count (at least one file each): ``--quick`` runs use 0.1.

    python bench/installgen.py OUT [--scale 0.1]
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import io
import json
import random
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

VERSION = 1
"""Bumped whenever the output changes (the bench caches generated channels by version and scale)."""
CHANNEL = "bench-install"
CANONICAL = f"https://conda.anaconda.org/{CHANNEL}"
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3" + "_" * 50
_MTIME = 1_700_000_000


@dataclass
class Pkg:
    name: str
    version: str
    build: str
    subdir: str
    fmt: str
    files: dict[str, bytes] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)
    prefix_files: dict[str, str] = field(default_factory=dict)
    """path → ``text`` or ``binary``: files holding the build prefix, rewritten at link time."""
    depends: list[str] = field(default_factory=list)
    noarch: str | None = None
    entry_points: list[str] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"


def _source(rng: random.Random, size: int) -> bytes:
    """Python-like text, about ``size`` bytes."""
    words = ("def", "return", "self", "import", "value", "class", "for", "in", "if", "None", "data", "x")
    lines, total = [], 0
    while total < size:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 10))) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()


def _binary(rng: random.Random, size: int) -> bytes:
    """Machine-code-like bytes that compress about 2:1 (fresh random halves, zero halves)."""
    half = 1 << 15
    chunks, total = [], 0
    while total < size:
        chunks.append(rng.randbytes(half) + bytes(half))
        total += 2 * half
    return b"".join(chunks)[:size]


def _count(n: float) -> int:
    return max(1, round(n))


def packages(scale: float) -> list[Pkg]:
    rng = random.Random(11)
    out: list[Pkg] = []
    big = Pkg("libbig", "2.4.1", "h1234567_0", "linux-64", ".conda")
    big.files["lib/libbig.so.2"] = _binary(rng, int(300e6 * scale))
    big.symlinks["lib/libbig.so"] = "libbig.so.2"
    out.append(big)
    tree = Pkg("bigtree", "1.0.0", "h89abcde_0", "linux-64", ".conda")
    for i in range(_count(20_000 * scale)):
        tree.files[f"share/bigtree/d{i // 200:03d}/m{i:05d}.py"] = _source(rng, rng.randint(300, 3000))
    out.append(tree)
    python = Pkg("python", "3.11.9", "hb806964_0_cpython", "linux-64", ".conda")
    python.files["bin/python3.11"] = _binary(rng, int(20e6 * scale)) + PLACEHOLDER.encode() + b"\0"
    python.prefix_files["bin/python3.11"] = "binary"
    python.symlinks["bin/python"] = "python3.11"
    python.symlinks["bin/python3"] = "python3.11"
    for i in range(_count(4_000 * scale)):
        python.files[f"lib/python3.11/m{i // 100:02d}/s{i:04d}.py"] = _source(rng, rng.randint(500, 8000))
    for i in range(_count(8 * scale)):
        path = f"lib/python3.11/config/sysconfig{i}.py"
        python.files[path] = f"PREFIX = '{PLACEHOLDER}'\n".encode() + _source(rng, 2000)
        python.prefix_files[path] = "text"
    out.append(python)
    for i in range(60):
        name = f"pylib{i:02d}"
        pkg = Pkg(name, f"1.{i}.0", "pyhd8ed1ab_0", "noarch", ".tar.bz2" if i % 4 == 3 else ".conda")
        pkg.noarch, pkg.depends = "python", ["python >=3.8"]
        for j in range(_count(rng.randint(40, 700) * scale)):
            pkg.files[f"site-packages/{name}/sub{j // 50}/f{j:03d}.py"] = _source(rng, rng.randint(200, 4000))
        pkg.files[f"site-packages/{name}-1.{i}.0.dist-info/METADATA"] = f"Name: {name}\n".encode()
        if i % 4 == 0:
            pkg.entry_points = [f"{name}-cli = {name}.sub0.f000:main", f"{name}-tool = {name}.sub0.f000:tool"]
        out.append(pkg)
    for i in range(58):
        name = f"libnat{i:02d}"
        pkg = Pkg(name, f"{i % 7}.{i}.1", f"h{i:07x}_0", "linux-64", ".tar.bz2" if i % 3 == 2 else ".conda")
        size = int(rng.uniform(0.2e6, 9e6) * scale)
        pkg.files[f"lib/{name}.so.{i % 7}"] = _binary(rng, size)
        pkg.symlinks[f"lib/{name}.so"] = f"{name}.so.{i % 7}"
        for j in range(_count(rng.randint(5, 80) * scale)):
            pkg.files[f"include/{name}/h{j:03d}.h"] = _source(rng, rng.randint(300, 6000))
        pc = f"lib/pkgconfig/{name}.pc"
        pkg.files[pc] = f"prefix={PLACEHOLDER}\nlibdir=${{prefix}}/lib\nName: {name}\n".encode()
        pkg.prefix_files[pc] = "text"
        out.append(pkg)
    return out


def _tar(files: dict[str, bytes], symlinks: dict[str, str]) -> Iterator[tuple[tarfile.TarInfo, bytes | None]]:
    for name, target in sorted(symlinks.items()):
        link = tarfile.TarInfo(name)
        link.type, link.linkname, link.mtime = tarfile.SYMTYPE, target, _MTIME
        yield link, None
    for name in sorted(files):
        info = tarfile.TarInfo(name)
        info.size, info.mtime = len(files[name]), _MTIME
        info.mode = 0o755 if name.startswith("bin/") or ".so" in name else 0o644
        yield info, files[name]


def _tar_bytes(files: dict[str, bytes], symlinks: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in _tar(files, symlinks):
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _info(pkg: Pkg) -> dict[str, bytes]:
    entries: list[dict[str, object]] = []
    for path in sorted({*pkg.files, *pkg.symlinks}):
        if path in pkg.symlinks:
            entries.append({"_path": path, "path_type": "softlink"})
            continue
        entry: dict[str, object] = {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(pkg.files[path]).hexdigest(),
            "size_in_bytes": len(pkg.files[path]),
        }
        if path in pkg.prefix_files:
            entry.update(file_mode=pkg.prefix_files[path], prefix_placeholder=PLACEHOLDER)
        entries.append(entry)
    index: dict[str, object] = {
        "name": pkg.name, "version": pkg.version, "build": pkg.build, "build_number": 0,
        "depends": pkg.depends, "subdir": pkg.subdir, "license": "BSD-3-Clause", "timestamp": 1_700_000_000_000,
    }  # fmt: skip
    if pkg.noarch:
        index["noarch"] = pkg.noarch
    info = {
        "info/index.json": json.dumps(index, indent=2, sort_keys=True).encode(),
        "info/paths.json": json.dumps({"paths": entries, "paths_version": 1}, indent=2).encode(),
        "info/files": "".join(f"{e['_path']}\n" for e in entries).encode(),
    }
    if pkg.noarch == "python":
        link = {"noarch": {"type": "python", "entry_points": pkg.entry_points}, "package_metadata_version": 1}
        info["info/link.json"] = json.dumps(link, indent=2).encode()
    return info


def write_archive(pkg: Pkg, target: Path) -> None:
    info = _info(pkg)
    if pkg.fmt == ".tar.bz2":
        with (
            target.open("wb") as raw,
            bz2.BZ2File(raw, "wb", compresslevel=9) as compressed,
            tarfile.open(fileobj=compressed, mode="w") as tar,
        ):
            for member, data in _tar({**info, **pkg.files}, pkg.symlinks):
                tar.addfile(member, io.BytesIO(data) if data is not None else None)
        return
    import zstandard

    compressor = zstandard.ZstdCompressor(level=3, threads=-1)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in (
            ("metadata.json", json.dumps({"conda_pkg_format_version": 2}).encode()),
            (f"info-{pkg.stem}.tar.zst", compressor.compress(_tar_bytes(info, {}))),
            (f"pkg-{pkg.stem}.tar.zst", compressor.compress(_tar_bytes(pkg.files, pkg.symlinks))),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2023, 11, 14, 0, 0, 0)), data)


def generate(root: Path | str, scale: float = 1.0) -> dict[str, object]:
    """Write the channel and its lock under ``root`` (once: a finished ``root`` is reused); a summary."""
    root = Path(root)
    summary_path = root / "summary.json"
    if summary_path.is_file():
        return dict(json.loads(summary_path.read_text()))
    started = time.time()
    repodata: dict[str, dict[str, dict[str, object]]] = {s: {} for s in ("linux-64", "noarch")}
    lines = ["# platform: linux-64", "@EXPLICIT"]
    files = archive_bytes = unpacked = 0
    for pkg in packages(scale):
        folder = root / CHANNEL / pkg.subdir
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{pkg.stem}{pkg.fmt}"
        write_archive(pkg, target)
        data = target.read_bytes()
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        record = json.loads(_info(pkg)["info/index.json"])
        record.update(md5=md5, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        repodata[pkg.subdir][target.name] = record
        lines.append(f"{CANONICAL}/{pkg.subdir}/{target.name}#{md5}")
        files += len(pkg.files) + len(pkg.symlinks)
        archive_bytes += len(data)
        unpacked += sum(len(v) for v in pkg.files.values())
    for subdir, records in repodata.items():
        body = {
            "info": {"subdir": subdir},
            "repodata_version": 1,
            "packages": {k: v for k, v in records.items() if k.endswith(".tar.bz2")},
            "packages.conda": {k: v for k, v in records.items() if k.endswith(".conda")},
        }
        (root / CHANNEL / subdir / "repodata.json").write_text(json.dumps(body, indent=1, sort_keys=True))
    (root / "locks").mkdir(exist_ok=True)
    (root / "locks" / "linux-64.txt").write_text("\n".join(lines) + "\n")
    summary = {
        "packages": len(lines) - 2,
        "files": files,
        "archive_mb": round(archive_bytes / 1e6, 1),
        "unpacked_mb": round(unpacked / 1e6, 1),
        "seconds": round(time.time() - started, 1),
        "scale": scale,
    }
    summary_path.write_text(json.dumps(summary))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    json.dump(generate(args.out, args.scale), sys.stdout)
    print()


if __name__ == "__main__":
    main()
