"""A loopback HTTP server for conda channels that counts what it sends.

One server serves several *modes* of the same channels under a path prefix, so every fetch path
of rattler's Gateway runs for real:

``/json/<channel>/<subdir>/repodata.json``
    only the uncompressed file (rattler's HEAD for ``.zst`` and ``.bz2`` gets 404);
``/zst/...``
    also ``repodata.json.zst`` (what conda.anaconda.org serves today; rattler takes it);
``/sharded/...``
    also ``repodata_shards.msgpack.zst`` and ``shards/<sha256>.msgpack.zst`` (CEP-16), which
    rattler tries first.

Each mode is a list of directories searched in order, so generated variants (compressed files,
shards) live in a scratch directory and the source snapshot is read in place, never copied.
Responses carry ``Last-Modified`` and an ``ETag`` and answer conditional requests with 304, like
a CDN; no ``Cache-Control``, so a warm cache revalidates every index with a small request.
"""

from __future__ import annotations

import email.utils
import http.server
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Counters:
    requests: int = 0
    bytes_sent: int = 0
    not_modified: int = 0
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests = self.bytes_sent = self.not_modified = 0
            self.paths.clear()

    def add(self, path: str, sent: int, not_modified: bool) -> None:
        with self.lock:
            self.requests += 1
            self.bytes_sent += sent
            self.not_modified += not_modified
            self.paths.append(path)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    modes: Mapping[str, Sequence[Path]] = {}
    counters: Counters

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _find(self) -> Path | None:
        path = self.path.split("?", 1)[0]
        mode, _, rest = path.lstrip("/").partition("/")
        if ".." in rest.split("/") or mode not in self.modes:
            return None
        for root in self.modes[mode]:
            candidate = root / rest
            if candidate.is_file():
                return candidate
        return None

    def _send(self, head_only: bool) -> None:
        found = self._find()
        if found is None:
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head_only:
                self.wfile.write(body)
            self.counters.add(self.path, 0 if head_only else len(body), False)
            return
        stat = found.stat()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in self.headers and self.headers.get("If-Modified-Since") == modified
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.counters.add(self.path, 0, True)
            return
        self.send_response(200)
        kind = "application/json" if found.suffix == ".json" else "application/octet-stream"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(stat.st_size))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.end_headers()
        sent = 0
        if not head_only:
            with found.open("rb") as f:
                while chunk := f.read(1 << 20):
                    self.wfile.write(chunk)
                    sent += len(chunk)
        self.counters.add(self.path, sent, False)

    def do_GET(self) -> None:
        self._send(head_only=False)

    def do_HEAD(self) -> None:
        self._send(head_only=True)


@dataclass
class Server:
    url: str
    counters: Counters


class _Quiet(http.server.ThreadingHTTPServer):
    """A client that hangs up mid-body (a failed run, a cancelled request) is not the server's error:
    no traceback for it in the bench's output."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@contextmanager
def serve(modes: Mapping[str, Sequence[Path]]) -> Iterator[Server]:
    """Serve ``modes`` (prefix → directories searched in order) on 127.0.0.1, a free port."""
    counters = Counters()
    handler = type("Handler", (_Handler,), {"modes": modes, "counters": counters})  # live: modes may be added
    server = _Quiet(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{server.server_address[1]}", counters)
    finally:
        server.shutdown()
        server.server_close()
