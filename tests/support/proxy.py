"""A small HTTP proxy on 127.0.0.1 that records what passes through it.

``http://`` requests come in absolute form (``GET http://host:port/path``) and are forwarded with
the standard library's client; ``https://`` ones open a ``CONNECT host:port`` tunnel whose bytes are
relayed untouched. Each request is recorded as ``(method, target, user agent)``: the target is the
absolute URL, or ``host:port`` for a tunnel (what is inside it is encrypted). Every response closes
its connection, so one request is one record.
"""

from __future__ import annotations

import http.client
import http.server
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class Proxy:
    url: str
    seen: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, absolute URL or ``host:port`` of a CONNECT, User-Agent) of every request, in order."""

    def targets(self, method: str | None = None) -> list[str]:
        return [target for m, target, _ in self.seen if method is None or m == method]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: Proxy

    def log_message(self, format: str, *args: object) -> None:
        return None

    def _record(self) -> None:
        self.proxy.seen.append((self.command, self.path, self.headers.get("User-Agent", "")))

    def do_CONNECT(self) -> None:
        self._record()
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 10)
                if not ready:
                    break
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()
            self.close_connection = True

    def _forward(self) -> None:
        self._record()
        parts = urlsplit(self.path)
        if parts.scheme != "http" or not parts.hostname:
            self.send_error(400, "absolute http:// URL expected")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            upstream.request(self.command, path, body=body or None, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:
            self.send_error(502)
        finally:
            upstream.close()
            self.close_connection = True

    do_GET = _forward
    do_HEAD = _forward


@contextmanager
def serve_proxy() -> Iterator[Proxy]:
    """A recording proxy on 127.0.0.1 (a free port) for the duration of the block."""
    proxy = Proxy("")
    handler = type("Handler", (_Handler,), {"proxy": proxy})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
