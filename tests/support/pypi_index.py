"""A small PyPI-like simple index built from wheels the tests make.

Wheels are real and byte-identical from run to run (fixed zip dates), with METADATA carrying
``Requires-Dist`` and ``Requires-Python``, so uv resolves against them exactly as against PyPI.
Each project page exists as PEP 503 HTML (sha256 fragments) and as PEP 691/700 JSON (with
``upload-time`` when a wheel has one). Serve the index directory with
:func:`tests.support.channel.serve_directory` (HTML only) or :func:`serve_index` (JSON to clients
that ask for it, as uv does); its URL is ``<server>/simple``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.channel import QuietHandler, Server, serve_directory

_DATE = (2024, 1, 1, 0, 0, 0)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Wheel:
    name: str
    version: str
    tag: str = "py3-none-any"
    requires: Sequence[str] = ()
    requires_python: str | None = None
    payload: bytes = b""
    """Extra bytes in the module, so two wheels of one name differ (and so do their hashes)."""
    upload_time: str | None = None
    """``2024-01-01T00:00:00Z``: listed in the JSON page (uv's --exclude-newer needs it)."""
    files: Mapping[str, str] = field(default_factory=dict)
    """The wheel's code, path → text; empty: one ``<module>/__init__.py`` with the version and payload."""
    yanked: str | None = None
    """The reason it is yanked (PEP 592), or None: not yanked."""

    @property
    def file_name(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-{self.tag}.whl"

    def metadata(self) -> str:
        lines = ["Metadata-Version: 2.1", f"Name: {self.name}", f"Version: {self.version}"]
        if self.requires_python:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines += [f"Requires-Dist: {r}" for r in self.requires]
        return "\n".join(lines) + "\n"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(wheel: Wheel) -> bytes:
    dist_info = f"{wheel.name.replace('-', '_')}-{wheel.version}.dist-info"
    module = wheel.name.replace("-", "_")
    purelib = "true" if wheel.tag.endswith("-none-any") else "false"
    code = {path: text.encode() for path, text in sorted(wheel.files.items())} or {
        f"{module}/__init__.py": f"__version__ = {wheel.version!r}\n".encode() + wheel.payload
    }
    files = {
        **code,
        f"{dist_info}/METADATA": wheel.metadata().encode(),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: {purelib}\nTag: {wheel.tag}\n"
        ).encode(),
    }
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in files.items()) + f"{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=_DATE), data)
    return buffer.getvalue()


@dataclass
class SimpleIndex:
    """A directory with ``files/`` (the wheels) and ``simple/<name>/index.html`` pages."""

    root: Path
    wheels: list[Wheel] = field(default_factory=list)
    sdists: dict[str, bytes] = field(default_factory=dict)
    """file name → bytes of source distributions (see :func:`tests.support.projects.sdist_bytes`)."""

    def add(self, name: str, version: str, **kwargs: object) -> Wheel:
        wheel = Wheel(name, version, **kwargs)  # type: ignore[arg-type]
        self.wheels.append(wheel)
        return wheel

    def add_sdist(self, name: str, version: str, data: bytes) -> str:
        file_name = f"{name.replace('-', '_')}-{version}.tar.gz"
        self.sdists[file_name] = data
        return file_name

    def path_of(self, wheel: Wheel) -> Path:
        return self.root / "files" / wheel.file_name

    def sha256(self, wheel: Wheel) -> str:
        return hashlib.sha256(self.path_of(wheel).read_bytes()).hexdigest()

    def write(self) -> None:
        files = self.root / "files"
        files.mkdir(parents=True, exist_ok=True)
        pages: dict[str, list[Wheel]] = {}
        for wheel in self.wheels:
            self.path_of(wheel).write_bytes(build_wheel(wheel))
            pages.setdefault(canonical(wheel.name), []).append(wheel)
        simple = self.root / "simple"
        simple.mkdir(parents=True, exist_ok=True)
        sdists: dict[str, list[str]] = {}
        for file_name, data in self.sdists.items():
            (files / file_name).write_bytes(data)
            sdists.setdefault(canonical(file_name.rsplit("-", 1)[0]), []).append(file_name)
            pages.setdefault(canonical(file_name.rsplit("-", 1)[0]), [])
        for name, unsorted in pages.items():
            page = simple / name
            page.mkdir(exist_ok=True)
            wheels = sorted(unsorted, key=lambda w: w.file_name)
            links = [self._link(w) for w in wheels]
            links += [self._sdist_link(f) for f in sorted(sdists.get(name, []))]
            (page / "index.html").write_text(
                "<!DOCTYPE html>\n<html><body>\n" + "\n".join(links) + "\n</body></html>\n"
            )
            json_page = self._json_page(name, wheels)
            for file_name in sorted(sdists.get(name, [])):
                digest = hashlib.sha256(self.sdists[file_name]).hexdigest()
                json_page["files"].append(
                    {"filename": file_name, "url": f"../../files/{file_name}", "hashes": {"sha256": digest}}
                )
                json_page["versions"] = sorted(
                    {*json_page["versions"], file_name.rsplit("-", 1)[1].removesuffix(".tar.gz")}
                )
            (page / "index.json").write_text(json.dumps(json_page, indent=1))
        index = "\n".join(f'<a href="{n}/">{n}</a><br/>' for n in sorted(pages))
        (simple / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{index}\n</body></html>\n")

    def _link(self, wheel: Wheel) -> str:
        attrs = f' data-requires-python="{html.escape(wheel.requires_python)}"' if wheel.requires_python else ""
        attrs += f' data-yanked="{html.escape(wheel.yanked)}"' if wheel.yanked is not None else ""
        href = f"../../files/{wheel.file_name}#sha256={self.sha256(wheel)}"
        return f'<a href="{href}"{attrs}>{wheel.file_name}</a><br/>'

    def _sdist_link(self, file_name: str) -> str:
        digest = hashlib.sha256(self.sdists[file_name]).hexdigest()
        return f'<a href="../../files/{file_name}#sha256={digest}">{file_name}</a><br/>'

    def _json_page(self, name: str, wheels: list[Wheel]) -> dict[str, Any]:
        entries = []
        for wheel in wheels:
            entry: dict[str, object] = {
                "filename": wheel.file_name,
                "url": f"../../files/{wheel.file_name}",
                "hashes": {"sha256": self.sha256(wheel)},
                "requires-python": wheel.requires_python,
            }
            if wheel.upload_time:
                entry["upload-time"] = wheel.upload_time
            if wheel.yanked is not None:
                entry["yanked"] = wheel.yanked or True
            entries.append(entry)
        versions = sorted({w.version for w in wheels})
        return {"meta": {"api-version": "1.1"}, "name": name, "versions": versions, "files": entries}


JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class _IndexHandler(QuietHandler):
    def do_GET(self) -> None:
        page = Path(self.directory) / self.path.lstrip("/").split("?")[0] / "index.json"
        if self.path.startswith("/simple/") and JSON_TYPE in self.headers.get("Accept", "") and page.is_file():
            self.server.requests_seen.append(self.path)  # type: ignore[attr-defined]
            body = page.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


@contextmanager
def serve_index(root: Path) -> Iterator[Server]:
    """Serve a :class:`SimpleIndex` directory on 127.0.0.1, JSON pages to clients that accept them."""
    with serve_directory(root, _IndexHandler) as server:
        yield server
