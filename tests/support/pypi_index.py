"""A small PyPI-like simple index (PEP 503 HTML, sha256 fragments) built from wheels the tests make.

Wheels are real and byte-identical from run to run (fixed zip dates), with METADATA carrying
``Requires-Dist`` and ``Requires-Python``, so uv resolves against them exactly as against PyPI.
Serve the index directory with :func:`tests.support.channel.serve_directory`; its URL is
``<server>/simple``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
    files = {
        f"{module}/__init__.py": f"__version__ = {wheel.version!r}\n".encode() + wheel.payload,
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

    def add(self, name: str, version: str, **kwargs: object) -> Wheel:
        wheel = Wheel(name, version, **kwargs)  # type: ignore[arg-type]
        self.wheels.append(wheel)
        return wheel

    def path_of(self, wheel: Wheel) -> Path:
        return self.root / "files" / wheel.file_name

    def sha256(self, wheel: Wheel) -> str:
        return hashlib.sha256(self.path_of(wheel).read_bytes()).hexdigest()

    def write(self) -> None:
        files = self.root / "files"
        files.mkdir(parents=True, exist_ok=True)
        pages: dict[str, list[str]] = {}
        for wheel in self.wheels:
            data = build_wheel(wheel)
            self.path_of(wheel).write_bytes(data)
            digest = hashlib.sha256(data).hexdigest()
            attrs = f' data-requires-python="{html.escape(wheel.requires_python)}"' if wheel.requires_python else ""
            link = f'<a href="../../files/{wheel.file_name}#sha256={digest}"{attrs}>{wheel.file_name}</a><br/>'
            pages.setdefault(canonical(wheel.name), []).append(link)
        simple = self.root / "simple"
        simple.mkdir(parents=True, exist_ok=True)
        for name, links in pages.items():
            page = simple / name
            page.mkdir(exist_ok=True)
            body = "\n".join(sorted(links))
            (page / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n")
        index = "\n".join(f'<a href="{n}/">{n}</a><br/>' for n in sorted(pages))
        (simple / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{index}\n</body></html>\n")
