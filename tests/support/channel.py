"""Build small but real conda channels in a tmp dir, and serve directories on 127.0.0.1.

Packages are real archives (``.tar.bz2`` always; ``.conda`` when ``zstandard`` is importable) with
``info/index.json`` and ``info/paths.json``; ``repodata.json`` records carry their true md5,
sha256 and size, so installers and verifiers can check them.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

STANDARD_SUBDIRS = ("noarch", "linux-64", "osx-64", "win-64", "osx-arm64", "linux-aarch64")
# A fixed mtime for every tar member: archives are byte-identical from run to run.
_MTIME = 1_700_000_000


@dataclass
class Package:
    name: str
    version: str
    build: str = "0"
    build_number: int = 0
    subdir: str = "noarch"
    depends: Sequence[str] = ()
    constrains: Sequence[str] = ()
    noarch: str | None = None
    timestamp_ms: int | None = 1_700_000_000_000
    files: Mapping[str, bytes] = field(default_factory=dict)
    fmt: str = ".tar.bz2"
    license: str = "BSD-3-Clause"
    entry_points: Sequence[str] = ()
    """``name = module:function`` console scripts; written to ``info/link.json`` for ``noarch: python``."""
    symlinks: Mapping[str, str] = field(default_factory=dict)
    """Symbolic links the package ships: path → target (``softlink`` entries in ``paths.json``)."""
    paths_override: Sequence[Mapping[str, object]] | None = None
    """Hostile packages: ``info/paths.json`` entries written as given instead of derived from ``files``."""
    raw_members: Sequence[tuple[tarfile.TarInfo, bytes]] = ()
    """Hostile packages: tar members added as given (FIFOs, devices, set-uid files, ``../x``, hard
    links) to the package's payload tar (the ``pkg-*.tar.zst`` of a ``.conda``)."""

    @property
    def file_name(self) -> str:
        return f"{self.name}-{self.version}-{self.build}{self.fmt}"

    def index_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "build_number": self.build_number,
            "depends": list(self.depends),
            "constrains": list(self.constrains),
            "subdir": self.subdir,
            "license": self.license,
        }
        if self.noarch:
            data["noarch"] = self.noarch
        if self.timestamp_ms is not None:
            data["timestamp"] = self.timestamp_ms
        return data


def _tar_bytes(
    members: Mapping[str, bytes],
    compression: str,
    symlinks: Mapping[str, str] | None = None,
    raw: Sequence[tuple[tarfile.TarInfo, bytes]] = (),
) -> bytes:
    buffer = io.BytesIO()
    mode = "w:bz2" if compression == "bz2" else "w"
    with tarfile.open(fileobj=buffer, mode=mode) as tar:  # type: ignore[call-overload]
        for info, data in raw:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
        for name, target in sorted((symlinks or {}).items()):
            link = tarfile.TarInfo(name)
            link.type = tarfile.SYMTYPE
            link.linkname = target
            link.mtime = _MTIME
            tar.addfile(link)
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            info.mtime = _MTIME
            info.mode = 0o755 if name.startswith("bin/") else 0o644
            tar.addfile(info, io.BytesIO(members[name]))
    return buffer.getvalue()


def _info_members(package: Package) -> dict[str, bytes]:
    entries: list[dict[str, object]] = [
        {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(content).hexdigest(),
            "size_in_bytes": len(content),
        }
        for path, content in sorted(package.files.items())
    ]
    entries += [{"_path": path, "path_type": "softlink"} for path in sorted(package.symlinks)]
    if package.paths_override is not None:
        entries = [dict(entry) for entry in package.paths_override]
    paths = {"paths": entries, "paths_version": 1}
    members = {
        "info/index.json": json.dumps(package.index_json(), indent=2, sort_keys=True).encode(),
        "info/paths.json": json.dumps(paths, indent=2, sort_keys=True).encode(),
        "info/files": "".join(f"{entry['_path']}\n" for entry in entries).encode(),
    }
    if package.noarch == "python":
        link = {"noarch": {"type": "python", "entry_points": list(package.entry_points)}, "package_metadata_version": 1}
        members["info/link.json"] = json.dumps(link, indent=2, sort_keys=True).encode()
    return members


def _payload_tar(package: Package) -> bytes:
    return _tar_bytes(dict(package.files), "none", package.symlinks, package.raw_members)


def build_archive(package: Package) -> bytes:
    info = _info_members(package)
    if package.fmt == ".tar.bz2":
        return _tar_bytes({**info, **package.files}, "bz2", package.symlinks, package.raw_members)
    import zstandard  # only needed for .conda

    stem = package.file_name.removesuffix(".conda")
    compressor = zstandard.ZstdCompressor(level=3)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in (
            ("metadata.json", json.dumps({"conda_pkg_format_version": 2}).encode()),
            (f"info-{stem}.tar.zst", compressor.compress(_tar_bytes(info, "none"))),
            (f"pkg-{stem}.tar.zst", compressor.compress(_payload_tar(package))),
        ):
            entry = zipfile.ZipInfo(name, date_time=(2023, 11, 14, 0, 0, 0))
            archive.writestr(entry, data)
    return buffer.getvalue()


class ChannelBuilder:
    """A channel directory: add packages, then :meth:`write` the repodata of every subdir."""

    def __init__(self, root: Path, subdirs: Sequence[str] = STANDARD_SUBDIRS) -> None:
        self.root = root
        self.subdirs = tuple(subdirs)
        self.packages: list[Package] = []
        root.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return self.root.resolve().as_uri()

    def add(self, name: str, version: str, **kwargs: object) -> Package:
        package = Package(name, version, **kwargs)  # type: ignore[arg-type]
        if package.subdir == "noarch" and package.noarch is None:
            package.noarch = "generic"
        self.packages.append(package)
        return package

    def path_of(self, package: Package) -> Path:
        return self.root / package.subdir / package.file_name

    def write(self) -> None:
        records: dict[str, dict[str, dict[str, dict[str, object]]]] = {
            s: {"packages": {}, "packages.conda": {}} for s in self.subdirs
        }
        for package in self.packages:
            data = build_archive(package)
            target = self.path_of(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            record = package.index_json()
            record.update(
                md5=hashlib.md5(data).hexdigest(),
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
            )
            key = "packages.conda" if package.fmt == ".conda" else "packages"
            records.setdefault(package.subdir, {"packages": {}, "packages.conda": {}})[key][package.file_name] = record
        for subdir, body in records.items():
            folder = self.root / subdir
            folder.mkdir(parents=True, exist_ok=True)
            repodata = {"info": {"subdir": subdir}, "repodata_version": 1, **body}
            (folder / "repodata.json").write_text(json.dumps(repodata, indent=1, sort_keys=True))

    def record(self, package: Package) -> dict[str, object]:
        repodata = json.loads((self.root / package.subdir / "repodata.json").read_text())
        key = "packages.conda" if package.fmt == ".conda" else "packages"
        return dict(repodata[key][package.file_name])


CANONICAL = "https://conda.anaconda.org"
"""Where conda-forge's packages live; tests send it to a channel of their own with ``--mirror``."""


def send_dripping(
    handler: http.server.BaseHTTPRequestHandler,
    body: bytes,
    *,
    content_type: str | None = None,
    every: float = 0.2,
    stop: threading.Event | None = None,
) -> None:
    """Answer 200 with ``body``, one byte every ``every`` seconds (a server too slow for any deadline, whose
    reads never time out), until the client hangs up or ``stop`` is set."""
    handler.send_response(200)
    if content_type is not None:
        handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    try:
        for byte in body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            if stop is not None and stop.wait(every):
                return
            if stop is None:
                time.sleep(every)
    except OSError:
        return


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging, and records every path asked for."""

    requests_seen: list[str]

    def log_message(self, format: str, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        self.server.requests_seen.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()


@dataclass
class Server:
    url: str
    requests: list[str]


def sharded_copy(flat: Path, target: Path) -> Path:
    """The channels under ``flat`` as CEP-16 shards only (no repodata.json), written under ``target``
    by bench/variants.py (needs msgpack and zstandard, dev dependencies)."""
    bench = str(Path(__file__).resolve().parents[2] / "bench")
    sys.path.insert(0, bench)
    try:
        import variants  # type: ignore[import-not-found]  # bench/ is put on sys.path just above
    finally:
        sys.path.remove(bench)
    for channel, subdir, repodata in variants.subdirs(flat):
        out = target / channel / subdir
        variants.write_shards(repodata, out, subdir)
        for package in repodata.parent.iterdir():
            if package.name.endswith((".conda", ".tar.bz2")):
                (out / package.name).write_bytes(package.read_bytes())
    return target


@contextmanager
def serve_directory(root: Path, handler_class: type[QuietHandler] | None = None) -> Iterator[Server]:
    """Serve ``root`` over HTTP on 127.0.0.1 (a free port) for the duration of the block."""
    cls = handler_class or QuietHandler

    def handler(*args: object, **kwargs: object) -> QuietHandler:
        return cls(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests_seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{server.server_address[1]}", server.requests_seen)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
